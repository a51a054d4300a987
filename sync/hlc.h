#pragma once
// Hybrid logical clock (Kulkarni et al.): timestamps that follow physical time
// but never go backwards and always move past every timestamp observed.

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "steersync/v1/record.pb.h"
#include "sync/clock.h"

namespace steersync::sync {

// Total order on HLC timestamps: wall time, then logical counter.
int CompareHlc(const v1::Hlc& a, const v1::Hlc& b);

// Thread safety: thread-safe.
// Invariant: every timestamp returned by Now() is greater than every
// timestamp previously returned or passed to Observe().
class HybridClock {
 public:
  explicit HybridClock(const Clock& clock) : clock_(clock) {}

  // A fresh timestamp for a local event.
  v1::Hlc Now() ABSL_LOCKS_EXCLUDED(mu_);
  // Moves the clock past a timestamp received from another node.
  void Observe(const v1::Hlc& remote) ABSL_LOCKS_EXCLUDED(mu_);
  // Restores the last timestamp persisted before a restart.
  void Restore(const v1::Hlc& last) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const Clock& clock_;
  absl::Mutex mu_;
  uint64_t last_wall_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t last_logical_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace steersync::sync
