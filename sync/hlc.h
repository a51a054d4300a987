#pragma once
// Hybrid logical clock (Kulkarni et al.): timestamps that follow physical time
// but never go backwards and always move past every timestamp observed.

#include <cstdint>
#include <mutex>

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
  v1::Hlc Now();
  // Moves the clock past a timestamp received from another node.
  void Observe(const v1::Hlc& remote);
  // Restores the last timestamp persisted before a restart.
  void Restore(const v1::Hlc& last);

 private:
  const Clock& clock_;
  std::mutex mu_;
  uint64_t last_wall_ = 0;  // guarded by mu_
  uint32_t last_logical_ = 0;  // guarded by mu_
};

}  // namespace steersync::sync
