#pragma once
// The node's live links and per-peer counters.
//
// Thread safety: thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "node/link.h"

namespace steersync::node {

class LinkRegistry {
 public:
  // Counters of `peer`, created on first use; they survive reconnections.
  std::shared_ptr<PeerStats> StatsFor(const std::string& peer, Relation relation);

  // Registers a new live link. An older link to the same peer is closed:
  // the newest stream wins (the old one is usually a dead connection).
  void Add(const std::shared_ptr<Link>& link);
  void Remove(const Link* link);

  std::vector<std::shared_ptr<Link>> Live() const;

  struct PeerView {
    std::string peer;
    Relation relation;
    std::shared_ptr<PeerStats> stats;
  };
  std::vector<PeerView> Peers() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::weak_ptr<Link>> live_;  // guarded by mu_
  std::map<std::string, PeerView> peers_;            // guarded by mu_
};

}  // namespace steersync::node
