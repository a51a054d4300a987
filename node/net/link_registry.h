#pragma once
// The node's live links and per-peer counters.
//
// Thread safety: thread-safe.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "node/link.h"

namespace steersync::node {

class LinkRegistry {
 public:
  // Counters of `peer`, created on first use; they survive reconnections.
  std::shared_ptr<PeerStats> StatsFor(const std::string& peer, Relation relation)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Registers a new live link. An older link to the same peer is closed:
  // the newest stream wins (the old one is usually a dead connection).
  void Add(const std::shared_ptr<Link>& link) ABSL_LOCKS_EXCLUDED(mu_);
  void Remove(const Link* link) ABSL_LOCKS_EXCLUDED(mu_);

  std::vector<std::shared_ptr<Link>> Live() const ABSL_LOCKS_EXCLUDED(mu_);

  struct PeerView {
    std::string peer;
    Relation relation;
    std::shared_ptr<PeerStats> stats;
  };
  std::vector<PeerView> Peers() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::weak_ptr<Link>> live_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, PeerView> peers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace steersync::node
