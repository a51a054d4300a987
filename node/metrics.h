#pragma once
// A node's HTTP observation endpoints on its [metrics] address, served with
// civetweb (the server prometheus-cpp's Exposer is built on, used directly
// so that a page can answer with its own status code):
//
//   /metrics  Prometheus text format: NodeMetrics, LatencyMetrics and
//             ProcessMetrics (node/process_metrics.h)
//   /healthz  200 "ok" while the process serves HTTP at all
//   /readyz   200 "ready" when the node is started, not recovering and its
//             store accepts writes (Node::GetReadiness); else 503 and the
//             reason, one line
//
// A scrape reads only cheap state: the peers' counters (atomics), the log
// head and record count, the quarantine counts the store keeps by reason,
// the certificates' cached expiry, the LMDB meta page, /proc/self. It never
// rescans the quarantine nor re-reads a certificate file.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "node/process_metrics.h"

class CivetServer;
class CivetHandler;

namespace steersync::node {

class Node;

// Durations the node measures as it works, kept whether or not /metrics is
// served (the Node owns one and feeds it; NodeMetrics exports it):
//   steersync_store_commit_seconds  each transaction of the group-commit
//                                   writer (its jobs and the durable commit)
//   steersync_batch_apply_seconds   a peer's batch, from its arrival to the
//                                   commit that applied it
// Measured on the steady clock by the writer and the links.
//
// Thread safety: thread-safe (prometheus::Histogram is).
class LatencyMetrics : public prometheus::Collectable {
 public:
  LatencyMetrics();
  void ObserveCommit(std::chrono::steady_clock::duration d);
  void ObserveApply(std::chrono::steady_clock::duration d);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Histogram& commit_;
  prometheus::Histogram& apply_;
};

// The node's own metrics (steersync_*), its latencies included.
//
// Thread safety: thread-safe; one scrape at a time.
class NodeMetrics : public prometheus::Collectable {
 public:
  // `node` must outlive this object.
  explicit NodeMetrics(const Node& node);
  // Brings the registry's values up to date, then collects it.
  std::vector<prometheus::MetricFamily> Collect() const override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Refresh() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Node& node_;
  mutable absl::Mutex mu_;  // one scrape at a time
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Family<prometheus::Gauge>& head_;
  prometheus::Family<prometheus::Gauge>& records_;
  prometheus::Family<prometheus::Counter>& refused_;
  prometheus::Family<prometheus::Gauge>& revoked_;
  prometheus::Family<prometheus::Gauge>& cert_warnings_;
  prometheus::Family<prometheus::Gauge>& sequence_holes_;
  prometheus::Family<prometheus::Gauge>& sequence_forks_;
  prometheus::Family<prometheus::Gauge>& connected_;
  prometheus::Family<prometheus::Gauge>& behind_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Counter>& received_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Family<prometheus::Counter>& protocol_errors_;
  prometheus::Family<prometheus::Gauge>& quarantined_;
  prometheus::Family<prometheus::Gauge>& clock_offset_;
  prometheus::Family<prometheus::Gauge>& catch_up_remaining_;
  prometheus::Family<prometheus::Counter>& storage_failures_;
  prometheus::Family<prometheus::Counter>& receipt_failures_;
  prometheus::Family<prometheus::Counter>& receipt_retries_;
  prometheus::Family<prometheus::Counter>& bad_notices_;
  prometheus::Family<prometheus::Counter>& read_pauses_;
  prometheus::Family<prometheus::Gauge>& peer_quarantined_;
  prometheus::Family<prometheus::Counter>& quarantine_evicted_;
  prometheus::Family<prometheus::Gauge>& map_bytes_;
  prometheus::Family<prometheus::Gauge>& used_bytes_;
  // Attachments (issue 12 item 1), per peer.
  prometheus::Family<prometheus::Counter>& attachment_bytes_received_;
  prometheus::Family<prometheus::Counter>& chunks_refused_;
  prometheus::Family<prometheus::Counter>& chunks_sent_;
};

// Serves /metrics, /healthz and /readyz of `node` on `address` (host:port;
// port 0 picks one).
//
// Thread safety: the pages are served on civetweb's threads; destruction
// stops them (and waits for a page being served) before the handlers go.
class MetricsServer {
 public:
  // `node` must outlive the server. kUnavailable when it cannot listen.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address,
                                                              const Node& node);
  ~MetricsServer();
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::shared_ptr<NodeMetrics> metrics_;
  ProcessMetrics process_;
  // The pages; declared before server_, so they outlive it.
  std::vector<std::unique_ptr<CivetHandler>> pages_;
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
};

}  // namespace steersync::node
