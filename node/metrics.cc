#include "node/metrics.h"

#include <map>

#include "node/node.h"

namespace steersync::node {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void Add(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) m.counter.value = value;
  else m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

}  // namespace

std::vector<MetricFamily> NodeMetrics::Collect() const {
  const v1::StatusReply status = node_.GetStatus();
  const v1::PeersReply peers = node_.ListPeers();
  std::vector<MetricFamily> out;

  auto head = Family("steersync_log_head_seq", "Highest sequence of this node's change log",
                     MetricType::Gauge);
  Add(head, static_cast<double>(status.head_seq()));
  auto records = Family("steersync_records", "Records held (current versions)", MetricType::Gauge);
  Add(records, static_cast<double>(status.record_count()));
  auto refused = Family("steersync_refused_peers_total",
                        "TLS handshakes and streams refused (wrong CA, revoked, not a neighbour)",
                        MetricType::Counter);
  Add(refused, static_cast<double>(status.refused_handshakes()));
  auto revoked = Family("steersync_revoked_certificates", "Certificates in the revocation lists held",
                        MetricType::Gauge);
  Add(revoked, static_cast<double>(status.revoked_certificates()));
  auto warnings = Family("steersync_certificate_warnings",
                         "Certificates (own, parent, children) expiring within 30 days",
                         MetricType::Gauge);
  Add(warnings, static_cast<double>(status.warnings_size()));

  auto connected = Family("steersync_peer_connected", "1 when the link to the peer is up",
                          MetricType::Gauge);
  auto behind = Family("steersync_peer_behind_records",
                       "Entries of our log the peer has not acknowledged", MetricType::Gauge);
  auto sent = Family("steersync_peer_records_sent_total", "Records sent to the peer",
                     MetricType::Counter);
  auto received = Family("steersync_peer_records_received_total", "Records received from the peer",
                         MetricType::Counter);
  auto rejected = Family("steersync_peer_records_rejected_total",
                         "Records from the peer refused by admission (quarantined)",
                         MetricType::Counter);
  auto protocol = Family("steersync_peer_protocol_errors_total",
                         "Streams from the peer closed for protocol violations or flooding",
                         MetricType::Counter);
  for (const auto& p : peers.peers()) {
    std::vector<ClientMetric::Label> l{{"peer", p.peer()}, {"relation", p.relation()}};
    Add(connected, p.connected() ? 1 : 0, l);
    Add(behind, static_cast<double>(p.behind()), l);
    Add(sent, static_cast<double>(p.records_sent()), l);
    Add(received, static_cast<double>(p.records_received()), l);
    Add(rejected, static_cast<double>(p.rejected()), l);
    Add(protocol, static_cast<double>(p.protocol_errors()), l);
  }

  auto quarantined = Family("steersync_quarantined_records", "Quarantined versions by reason code",
                            MetricType::Gauge);
  if (auto q = node_.ListQuarantine(); q.ok()) {
    std::map<std::string, int> by_reason;
    for (const auto& e : q->entries()) ++by_reason[e.reason_code()];
    for (const auto& [reason, n] : by_reason) Add(quarantined, n, {{"reason", reason}});
  }
  for (auto* f : {&head, &records, &refused, &revoked, &warnings, &connected, &behind, &sent,
                  &received, &rejected, &protocol, &quarantined}) {
    out.push_back(std::move(*f));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& address,
                                                                    const Node& node) {
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  try {
    server->exposer_ = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return absl::UnavailableError("cannot serve metrics on " + address + ": " + e.what());
  }
  server->metrics_ = std::make_shared<NodeMetrics>(node);
  server->exposer_->RegisterCollectable(server->metrics_);
  return server;
}

int MetricsServer::port() const {
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace steersync::node
