#include "node/metrics.h"

#include "node/node.h"

namespace steersync::node {
namespace {

// A counter the node keeps elsewhere (an atomic), brought up to `value`:
// prometheus counters only increase, and ours never go back.
void CountUpTo(prometheus::Counter& counter, double value) {
  if (value > counter.Value()) counter.Increment(value - counter.Value());
}

}  // namespace

NodeMetrics::NodeMetrics(const Node& node)
    : node_(node),
      registry_(std::make_shared<prometheus::Registry>()),
      head_(prometheus::BuildGauge()
                .Name("steersync_log_head_seq")
                .Help("Highest sequence of this node's change log")
                .Register(*registry_)),
      records_(prometheus::BuildGauge()
                   .Name("steersync_records")
                   .Help("Records held (current versions)")
                   .Register(*registry_)),
      refused_(prometheus::BuildCounter()
                   .Name("steersync_refused_peers_total")
                   .Help("TLS handshakes and streams refused (wrong CA, revoked, not a neighbour)")
                   .Register(*registry_)),
      revoked_(prometheus::BuildGauge()
                   .Name("steersync_revoked_certificates")
                   .Help("Certificates in the revocation lists held")
                   .Register(*registry_)),
      cert_warnings_(prometheus::BuildGauge()
                         .Name("steersync_certificate_warnings")
                         .Help("Certificates (own, parent, children) expiring within 30 days")
                         .Register(*registry_)),
      connected_(prometheus::BuildGauge()
                     .Name("steersync_peer_connected")
                     .Help("1 when the link to the peer is up")
                     .Register(*registry_)),
      behind_(prometheus::BuildGauge()
                  .Name("steersync_peer_behind_records")
                  .Help("Entries of our log the peer has not acknowledged")
                  .Register(*registry_)),
      sent_(prometheus::BuildCounter()
                .Name("steersync_peer_records_sent_total")
                .Help("Records sent to the peer")
                .Register(*registry_)),
      received_(prometheus::BuildCounter()
                    .Name("steersync_peer_records_received_total")
                    .Help("Records received from the peer")
                    .Register(*registry_)),
      rejected_(prometheus::BuildCounter()
                    .Name("steersync_peer_records_rejected_total")
                    .Help("Records from the peer refused by admission (quarantined)")
                    .Register(*registry_)),
      protocol_errors_(prometheus::BuildCounter()
                           .Name("steersync_peer_protocol_errors_total")
                           .Help("Streams from the peer closed for protocol violations or flooding")
                           .Register(*registry_)),
      quarantined_(prometheus::BuildGauge()
                       .Name("steersync_quarantined_records")
                       .Help("Quarantined versions by reason code")
                       .Register(*registry_)),
      clock_offset_(prometheus::BuildGauge()
                        .Name("steersync_peer_clock_offset_seconds")
                        .Help("The peer's clock minus this node's, at the peer's last Hello")
                        .Register(*registry_)),
      storage_failures_(prometheus::BuildCounter()
                            .Name("steersync_store_write_failures_total")
                            .Help("Writes the store refused for lack of room (map full, disk full)")
                            .Register(*registry_)),
      bad_notices_(prometheus::BuildCounter()
                       .Name("steersync_peer_bad_notices_total")
                       .Help("Refusal notices from the peer ignored (malformed id, or a record not held)")
                       .Register(*registry_)),
      read_pauses_(prometheus::BuildCounter()
                       .Name("steersync_peer_read_pauses_total")
                       .Help("Times the peer's stream stopped reading at its memory bound")
                       .Register(*registry_)),
      peer_quarantined_(prometheus::BuildGauge()
                            .Name("steersync_peer_quarantined_records")
                            .Help("Versions from the peer held in the quarantine")
                            .Register(*registry_)),
      quarantine_evicted_(prometheus::BuildCounter()
                              .Name("steersync_peer_quarantine_evicted_total")
                              .Help("The peer's oldest quarantined versions evicted by its quota")
                              .Register(*registry_)) {}

void NodeMetrics::Refresh() const {
  const Node::Health health = node_.GetHealth();
  head_.Add({}).Set(static_cast<double>(health.head_seq));
  records_.Add({}).Set(static_cast<double>(health.record_count));
  CountUpTo(refused_.Add({}), static_cast<double>(health.refused_handshakes));
  revoked_.Add({}).Set(static_cast<double>(health.revoked_certificates));
  cert_warnings_.Add({}).Set(static_cast<double>(health.expiring_certificates));
  CountUpTo(storage_failures_.Add({}), static_cast<double>(health.storage_failures));
  const v1::PeersReply peers = node_.ListPeers();
  for (const auto& p : peers.peers()) {
    const std::map<std::string, std::string> l{{"peer", p.peer()}, {"relation", p.relation()}};
    connected_.Add(l).Set(p.connected() ? 1 : 0);
    behind_.Add(l).Set(static_cast<double>(p.behind()));
    clock_offset_.Add(l).Set(static_cast<double>(p.clock_offset_micros()) / 1e6);
    CountUpTo(sent_.Add(l), static_cast<double>(p.records_sent()));
    CountUpTo(received_.Add(l), static_cast<double>(p.records_received()));
    CountUpTo(rejected_.Add(l), static_cast<double>(p.rejected()));
    CountUpTo(protocol_errors_.Add(l), static_cast<double>(p.protocol_errors()));
    CountUpTo(bad_notices_.Add(l), static_cast<double>(p.bad_notices()));
    CountUpTo(read_pauses_.Add(l), static_cast<double>(p.read_pauses()));
    peer_quarantined_.Add(l).Set(static_cast<double>(p.quarantined()));
    CountUpTo(quarantine_evicted_.Add(l), static_cast<double>(p.quarantine_evicted()));
  }
  if (auto by_reason = node_.store().QuarantineByReason(); by_reason.ok()) {
    for (const auto& [reason, n] : *by_reason) quarantined_.Add({{"reason", reason}}).Set(static_cast<double>(n));
  }
}

std::vector<prometheus::MetricFamily> NodeMetrics::Collect() const {
  absl::MutexLock lock(&mu_);
  Refresh();
  return registry_->Collect();
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
