#include "node/net/link_registry.h"

namespace steersync::node {

std::shared_ptr<PeerStats> LinkRegistry::StatsFor(const std::string& peer, Relation relation) {
  absl::MutexLock lock(&mu_);
  auto& view = peers_[peer];
  if (!view.stats) {
    view.peer = peer;
    view.relation = relation;
    view.stats = std::make_shared<PeerStats>();
  }
  return view.stats;
}

void LinkRegistry::Add(const std::shared_ptr<Link>& link) {
  std::shared_ptr<Link> old;
  {
    absl::MutexLock lock(&mu_);
    auto& slot = live_[link->peer_id()];
    old = slot.lock();
    slot = link;
  }
  if (old) old->OnReplaced();
}

void LinkRegistry::Remove(const Link* link) {
  absl::MutexLock lock(&mu_);
  auto it = live_.find(link->peer_id());
  if (it == live_.end()) return;
  auto current = it->second.lock();
  if (!current || current.get() == link) {
    live_.erase(it);
    auto p = peers_.find(link->peer_id());
    if (p != peers_.end()) {
      PeerStats& stats = *p->second.stats;
      stats.connected = false;
      stats.catch_up_remaining = 0;  // a catch-up lasts one session
      stats.catch_up_records_per_second = 0;
      stats.catch_up_eta_seconds = -1;
    }
  }
}

std::vector<std::shared_ptr<Link>> LinkRegistry::Live() const {
  std::vector<std::shared_ptr<Link>> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [peer, weak] : live_) {
    if (auto l = weak.lock()) out.push_back(std::move(l));
  }
  return out;
}

std::vector<LinkRegistry::PeerView> LinkRegistry::Peers() const {
  std::vector<PeerView> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [peer, view] : peers_) out.push_back(view);
  return out;
}

}  // namespace steersync::node
