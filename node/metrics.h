#pragma once
// Prometheus metrics of a node, served at http://<[metrics] address>/metrics.
// Values are read from the node's own status at scrape time (no counters to
// keep in step): links, lag, refused peers, quarantine by reason.

#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include "absl/status/statusor.h"

namespace steersync::node {

class Node;

class NodeMetrics : public prometheus::Collectable {
 public:
  // `node` must outlive this object.
  explicit NodeMetrics(const Node& node) : node_(node) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Node& node_;
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
