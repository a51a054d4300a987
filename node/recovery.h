#pragma once
// Recovery from neighbours (issue 11, docs/operations.md): a node that starts
// on an empty store (a lost disk), or is told to (`--recover`, a restored
// backup), or learns from a neighbour's Hello that the neighbour holds a
// version of its own newer than any it has, makes no act until its
// neighbours have returned the versions it wrote. Until then every local act
// waits a little, then fails with a clear error; ids, vector entries and
// audience positions continue after everything returned (sync/replica.cc),
// so no id is ever given twice.
//
// Thread safety: thread-safe.

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace steersync::node {

// Meta key of the store: present while a recovery is under way (the value
// says why it began), so that a node stopped or killed while it recovers
// resumes recovering when it starts again, instead of acting (and
// registering receipts) on a store that lacks versions of its own. Written
// in the transaction that begins the recovery (or at start-up, before any
// act), deleted in the one that completes it (Link::MaybeCompleteRecovery).
inline constexpr char kRecoveryPendingKey[] = "recovery_pending";

class RecoveryGate {
 public:
  // Called (without the lock) each time the gate closes; the node closes
  // every link so that each reconnects asking for its versions. Set once,
  // before any link starts.
  void SetOnBegin(std::function<void()> on_begin) { on_begin_ = std::move(on_begin); }
  // This node has no parent: a unit below completes its recovery, not the
  // parent's log (for status). Set once, before any link starts.
  void SetTopNode(bool top_node) { top_node_ = top_node; }
  // Closes the gate (no local act) for `why`; idempotent.
  void Begin(std::string why) ABSL_LOCKS_EXCLUDED(mu_);
  // Opens it: `from` returned what it held of this node.
  void Complete(const std::string& from) ABSL_LOCKS_EXCLUDED(mu_);
  // Counts versions returned so far (for status).
  void NoteReturned(uint64_t n) ABSL_LOCKS_EXCLUDED(mu_);

  bool recovering() const ABSL_LOCKS_EXCLUDED(mu_);
  // "" when open; else what it waits for and the progress, for status.
  std::string Describe() const ABSL_LOCKS_EXCLUDED(mu_);
  // Waits up to `timeout` for the gate to open; true if open.
  bool WaitOpen(absl::Duration timeout) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  std::function<void()> on_begin_;
  bool top_node_ = false;
  mutable absl::Mutex mu_;
  bool recovering_ ABSL_GUARDED_BY(mu_) = false;
  std::string why_ ABSL_GUARDED_BY(mu_);
  uint64_t returned_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace steersync::node
