#include "node/metrics.h"

#include <CivetServer.h>
#include <civetweb.h>

#include <functional>
#include <sstream>

#include <prometheus/text_serializer.h>

#include "node/node.h"
#include "steersync/version.h"
#include "sync/meta_keys.h"
#include "sync/session.h"

namespace steersync::node {
namespace {

// A counter the node keeps elsewhere (an atomic), brought up to `value`:
// prometheus counters only increase, and ours never go back.
void CountUpTo(prometheus::Counter& counter, double value) {
  if (value > counter.Value()) counter.Increment(value - counter.Value());
}

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A group commit is one durable LMDB commit (an fsync, ~0.6 ms on the
// reference machine) plus its jobs; a batch adds its signature checks.
const prometheus::Histogram::BucketBoundaries kCommitBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                0.05,   0.1,   0.25,   0.5,   1,    2.5};
const prometheus::Histogram::BucketBoundaries kApplyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                               0.25,  0.5,    1,     2.5,  5,     10};

}  // namespace

LatencyMetrics::LatencyMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      commit_(prometheus::BuildHistogram()
                  .Name("steersync_store_commit_seconds")
                  .Help("Time of each transaction of the store's group-commit writer (its jobs and the durable commit)")
                  .Register(*registry_)
                  .Add({}, kCommitBuckets)),
      apply_(prometheus::BuildHistogram()
                 .Name("steersync_batch_apply_seconds")
                 .Help("Time from a peer's batch arriving to the commit that applied it")
                 .Register(*registry_)
                 .Add({}, kApplyBuckets)) {}

void LatencyMetrics::ObserveCommit(std::chrono::steady_clock::duration d) { commit_.Observe(Seconds(d)); }
void LatencyMetrics::ObserveApply(std::chrono::steady_clock::duration d) { apply_.Observe(Seconds(d)); }
std::vector<prometheus::MetricFamily> LatencyMetrics::Collect() const { return registry_->Collect(); }

NodeMetrics::NodeMetrics(const Node& node)
    : node_(node),
      registry_(std::make_shared<prometheus::Registry>()),
      build_info_(prometheus::BuildGauge()
                      .Name("steersync_build_info")
                      .Help("1, labelled with the release (steersyncd --version), store format and protocol")
                      .Register(*registry_)),
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
      sequence_holes_(prometheus::BuildGauge()
                          .Name("steersync_sequence_holes")
                          .Help("Versions of other writers known to exist (a later version or a signed head "
                                "names them) that never arrived: dropped or refused on the way")
                          .Register(*registry_)),
      sequence_forks_(prometheus::BuildGauge()
                          .Name("steersync_sequence_forks")
                          .Help("Positions of a writer's sequence that two different versions claim "
                                "(steerctl status names them)")
                          .Register(*registry_)),
      connected_(prometheus::BuildGauge()
                     .Name("steersync_peer_connected")
                     .Help("1 when the link to the peer is up")
                     .Register(*registry_)),
      behind_(prometheus::BuildGauge()
                  .Name("steersync_peer_behind_records")
                  .Help("Records of our log addressed to the peer it has not acknowledged, as last counted (steerctl peers, or the status written every status_interval_seconds)")
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
      catch_up_remaining_(prometheus::BuildGauge()
                              .Name("steersync_peer_catch_up_remaining_entries")
                              .Help("Entries of the peer's log still to apply in the catch-up under way (0: none)")
                              .Register(*registry_)),
      storage_failures_(prometheus::BuildCounter()
                            .Name("steersync_store_write_failures_total")
                            .Help("Writes the store refused for lack of room (map full, disk full)")
                            .Register(*registry_)),
      receipt_failures_(prometheus::BuildCounter()
                            .Name("steersync_receipt_registration_failures_total")
                            .Help("Receipts (a report RECEIVED, a directive's) whose registration failed to write")
                            .Register(*registry_)),
      receipt_retries_(prometheus::BuildCounter()
                           .Name("steersync_receipt_registration_retries_total")
                           .Help("Passes made to register the receipts whose registration failed")
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
                              .Register(*registry_)),
      map_bytes_(prometheus::BuildGauge()
                     .Name("steersync_store_map_bytes")
                     .Help("Size of the LMDB map: the most the store can hold ([node] map_size_mb)")
                     .Register(*registry_)),
      used_bytes_(prometheus::BuildGauge()
                      .Name("steersync_store_used_bytes")
                      .Help("Bytes of the LMDB map in use (pages up to the last one written)")
                      .Register(*registry_)),
      attachment_bytes_received_(prometheus::BuildCounter()
                                     .Name("steersync_peer_attachment_bytes_received_total")
                                     .Help("Bytes of attachment chunks received from the peer and stored")
                                     .Register(*registry_)),
      chunks_refused_(prometheus::BuildCounter()
                          .Name("steersync_peer_chunks_refused_total")
                          .Help("Attachment chunks from the peer refused: tampered, or asked by no one")
                          .Register(*registry_)),
      chunks_sent_(prometheus::BuildCounter()
                       .Name("steersync_peer_chunks_sent_total")
                       .Help("Attachment chunks sent to the peer")
                       .Register(*registry_)) {
  build_info_
      .Add({{"version", STEERSYNC_VERSION},
            {"store_format", std::to_string(LmdbStore::kStoreFormat)},
            {"protocol", std::to_string(sync::kProtocolVersion)}})
      .Set(1);
}

void NodeMetrics::Refresh() const {
  const Node::Health health = node_.GetHealth();
  head_.Add({}).Set(static_cast<double>(health.head_seq));
  records_.Add({}).Set(static_cast<double>(health.record_count));
  CountUpTo(refused_.Add({}), static_cast<double>(health.refused_handshakes));
  revoked_.Add({}).Set(static_cast<double>(health.revoked_certificates));
  cert_warnings_.Add({}).Set(static_cast<double>(health.expiring_certificates));
  CountUpTo(storage_failures_.Add({}), static_cast<double>(health.storage_failures));
  CountUpTo(receipt_failures_.Add({}), static_cast<double>(health.receipt_failures));
  CountUpTo(receipt_retries_.Add({}), static_cast<double>(health.receipt_retries));
  const v1::PeersReply peers = node_.ListPeers(Node::PeersBehind::kAsLastCounted);
  for (const auto& p : peers.peers()) {
    const std::map<std::string, std::string> l{{"peer", p.peer()}, {"relation", p.relation()}};
    connected_.Add(l).Set(p.connected() ? 1 : 0);
    behind_.Add(l).Set(static_cast<double>(p.behind()));
    clock_offset_.Add(l).Set(static_cast<double>(p.clock_offset_micros()) / 1e6);
    catch_up_remaining_.Add(l).Set(static_cast<double>(p.catch_up_remaining()));
    CountUpTo(sent_.Add(l), static_cast<double>(p.records_sent()));
    CountUpTo(received_.Add(l), static_cast<double>(p.records_received()));
    CountUpTo(rejected_.Add(l), static_cast<double>(p.rejected()));
    CountUpTo(protocol_errors_.Add(l), static_cast<double>(p.protocol_errors()));
    CountUpTo(bad_notices_.Add(l), static_cast<double>(p.bad_notices()));
    CountUpTo(read_pauses_.Add(l), static_cast<double>(p.read_pauses()));
    peer_quarantined_.Add(l).Set(static_cast<double>(p.quarantined()));
    CountUpTo(quarantine_evicted_.Add(l), static_cast<double>(p.quarantine_evicted()));
    CountUpTo(attachment_bytes_received_.Add(l), static_cast<double>(p.attachment_bytes_received()));
    CountUpTo(chunks_refused_.Add(l), static_cast<double>(p.chunks_refused()));
    CountUpTo(chunks_sent_.Add(l), static_cast<double>(p.chunks_sent()));
  }
  if (auto by_reason = node_.store().QuarantineByReason(); by_reason.ok()) {
    for (const auto& [reason, n] : *by_reason) quarantined_.Add({{"reason", reason}}).Set(static_cast<double>(n));
  }
  if (auto holes = node_.store().MetaScan(sync::meta::kAudienceGapPrefix); holes.ok()) {
    sequence_holes_.Add({}).Set(static_cast<double>(holes->size()));
  }
  if (auto forks = node_.store().MetaScan(sync::meta::kAudienceForkPrefix); forks.ok()) {
    sequence_forks_.Add({}).Set(static_cast<double>(forks->size()));
  }
  const lmdb::Env::Space space = node_.store().Space();
  map_bytes_.Add({}).Set(static_cast<double>(space.map_bytes));
  used_bytes_.Add({}).Set(static_cast<double>(space.used_bytes));
}

std::vector<prometheus::MetricFamily> NodeMetrics::Collect() const {
  absl::MutexLock lock(&mu_);
  Refresh();
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (auto& f : node_.latencies().Collect()) families.push_back(std::move(f));
  return families;
}

namespace {

struct Page {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// One page: `render` answers each GET, on a civetweb thread.
class PageHandler final : public CivetHandler {
 public:
  explicit PageHandler(std::function<Page()> render) : render_(std::move(render)) {}

  bool handleGet(CivetServer*, mg_connection* conn) override {
    const Page page = render_();
    const std::string length = std::to_string(page.body.size());
    mg_response_header_start(conn, page.status);
    mg_response_header_add(conn, "Content-Type", page.content_type.c_str(), -1);
    mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    mg_response_header_send(conn);
    mg_write(conn, page.body.data(), page.body.size());
    return true;
  }

 private:
  const std::function<Page()> render_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& address,
                                                                    const Node& node) {
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->metrics_ = std::make_shared<NodeMetrics>(node);
  MetricsServer* raw = server.get();
  auto metrics = std::make_unique<PageHandler>([raw] {
    std::vector<prometheus::MetricFamily> families = raw->metrics_->Collect();
    for (auto& f : raw->process_.Collect()) families.push_back(std::move(f));
    std::ostringstream text;
    prometheus::TextSerializer().Serialize(text, families);
    return Page{200, "text/plain; version=0.0.4; charset=utf-8", text.str()};
  });
  auto healthz = std::make_unique<PageHandler>([] { return Page{200, "text/plain; charset=utf-8", "ok\n"}; });
  auto readyz = std::make_unique<PageHandler>([&node] {
    const Node::Readiness r = node.GetReadiness();
    if (r.ready) return Page{200, "text/plain; charset=utf-8", "ready\n"};
    std::string line = "not ready: " + r.reason;
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return Page{503, "text/plain; charset=utf-8", line + "\n"};
  });
  try {
    server->server_ = std::make_unique<CivetServer>(
        std::vector<std::string>{"listening_ports", address, "num_threads", "2"});
  } catch (const std::exception& e) {
    return absl::UnavailableError("cannot serve metrics on " + address + ": " + e.what());
  }
  server->server_->addHandler("/metrics", metrics.get());
  server->server_->addHandler("/healthz", healthz.get());
  server->server_->addHandler("/readyz", readyz.get());
  server->pages_.push_back(std::move(metrics));
  server->pages_.push_back(std::move(healthz));
  server->pages_.push_back(std::move(readyz));
  const std::vector<int> ports = server->server_->getListeningPorts();
  server->port_ = ports.empty() ? 0 : ports.front();
  return server;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->close();  // joins civetweb's threads: no page is being served after
}

}  // namespace steersync::node
