#include "node/roster_cache.h"

namespace steersync::node {

absl::Status RosterCache::Load(const LmdbStore& store) {
  sync::Roster fresh;
  absl::Status s = store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    if (sync::Roster::IsRosterKind(body.kind())) fresh.Put(body);
  });
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  roster_ = std::move(fresh);
  return absl::OkStatus();
}

void RosterCache::Put(const v1::RecordBody& body) {
  std::lock_guard<std::mutex> lock(mu_);
  roster_.Put(body);
}

void RosterCache::PutCurrent(sync::WriteView& view, const std::string& id) {
  auto current = view.Get(id);
  v1::RecordBody body;
  if (current.ok() && current->has_value() && body.ParseFromString((*current)->body())) Put(body);
}

void RosterCache::Refresh(const LmdbStore& store, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    auto record = store.GetRecord(id);
    v1::RecordBody body;
    if (!record.ok() || !record->has_value() || !body.ParseFromString((*record)->body())) continue;
    Put(body);
  }
}

}  // namespace steersync::node
