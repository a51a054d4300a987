#pragma once
// The node's copy of every roster it holds (sync::Roster), kept in step with
// the store: loaded at start, updated by the writer thread as roster records
// are admitted, and re-read from the store after each commit so a failed
// commit or a roster version that lost its merge never lingers.
//
// Thread safety: thread-safe. Mutated only on the writer thread.

#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "node/store/lmdb_store.h"
#include "sync/roster.h"
#include "sync/store.h"

namespace steersync::node {

class RosterCache {
 public:
  // Replaces the cache with the roster records current in `store`.
  absl::Status Load(const LmdbStore& store);
  // Applies one roster version (writer thread, inside a transaction).
  void Put(const v1::RecordBody& body);
  // Takes the current version of roster record `id` in `view`, the merge
  // winner, after a version of it was merged there (writer thread).
  void PutCurrent(sync::WriteView& view, const std::string& id);
  // Re-reads records `ids` from the committed store (writer thread).
  void Refresh(const LmdbStore& store, const std::vector<std::string>& ids);

  // Runs `f(const sync::Roster&)` under the lock and returns its result.
  template <typename F>
  auto Read(F&& f) const {
    std::lock_guard<std::mutex> lock(mu_);
    return f(roster_);
  }

 private:
  mutable std::mutex mu_;
  sync::Roster roster_;
};

}  // namespace steersync::node
