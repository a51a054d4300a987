#pragma once
// Prometheus metrics of a node, served at http://<[metrics] address>/metrics
// with prometheus-cpp. A scrape reads only cheap state: the peers' counters
// (atomics), the log head and record count, the quarantine counts the store
// keeps by reason, the certificates' cached expiry. It never rescans the
// quarantine nor re-reads a certificate file.

#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace steersync::node {

class Node;

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
  prometheus::Family<prometheus::Gauge>& head_;
  prometheus::Family<prometheus::Gauge>& records_;
  prometheus::Family<prometheus::Counter>& refused_;
  prometheus::Family<prometheus::Gauge>& revoked_;
  prometheus::Family<prometheus::Gauge>& cert_warnings_;
  prometheus::Family<prometheus::Gauge>& connected_;
  prometheus::Family<prometheus::Gauge>& behind_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Counter>& received_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Family<prometheus::Counter>& protocol_errors_;
  prometheus::Family<prometheus::Gauge>& quarantined_;
  prometheus::Family<prometheus::Gauge>& clock_offset_;
  prometheus::Family<prometheus::Counter>& storage_failures_;
  prometheus::Family<prometheus::Counter>& bad_notices_;
  prometheus::Family<prometheus::Counter>& read_pauses_;
  prometheus::Family<prometheus::Gauge>& peer_quarantined_;
  prometheus::Family<prometheus::Counter>& quarantine_evicted_;
};

// Serves `node`'s metrics on `address` (host:port; port 0 picks one).
class MetricsServer {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address,
                                                              const Node& node);
  int port() const;

 private:
  MetricsServer() = default;
  std::shared_ptr<NodeMetrics> metrics_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace steersync::node
