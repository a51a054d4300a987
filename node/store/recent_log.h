#pragma once
// The newest change-log entries this store has read, parsed once and shared
// by every reader (LmdbStore::ReadParsedLog): a province's sessions to its
// communes all scan each new entry, and without it each would parse it.
//
// A committed log entry never changes and its sequence is never reused
// (appends only go past the head; ForgetLogEntry never removes the head), so
// a kept copy stays right for as long as the entry exists; whether it still
// exists is the log's to say (readers walk the log's keys, then look here).
// A fixed ring of slots by sequence: the newest entries stay, older ones are
// overwritten, memory is bounded (kSlots entries).
//
// Thread safety: thread-safe.

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sync/store.h"

namespace steersync::node {

class RecentLogEntries {
 public:
  static constexpr size_t kSlots = 4096;

  // The kept entry `seq`, or null.
  sync::SharedLogEntry Find(uint64_t seq) const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    const sync::SharedLogEntry& slot = slots_[seq % kSlots];
    return slot != nullptr && slot->seq == seq ? slot : nullptr;
  }
  // REQUIRES: `entry` is committed in the log.
  void Keep(sync::SharedLogEntry entry) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    slots_[entry->seq % kSlots] = std::move(entry);
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<sync::SharedLogEntry> slots_ ABSL_GUARDED_BY(mu_) = std::vector<sync::SharedLogEntry>(kSlots);
};

}  // namespace steersync::node
