#include "sync/hlc.h"

#include <algorithm>

namespace steersync::sync {

int CompareHlc(const v1::Hlc& a, const v1::Hlc& b) {
  if (a.wall_micros() != b.wall_micros()) return a.wall_micros() < b.wall_micros() ? -1 : 1;
  if (a.logical() != b.logical()) return a.logical() < b.logical() ? -1 : 1;
  return 0;
}

v1::Hlc HybridClock::Now() {
  const uint64_t physical = static_cast<uint64_t>(std::max<int64_t>(clock_.NowMicros(), 0));
  absl::MutexLock lock(&mu_);
  if (physical > last_wall_) {
    last_wall_ = physical;
    last_logical_ = 0;
  } else {
    ++last_logical_;
  }
  v1::Hlc out;
  out.set_wall_micros(last_wall_);
  out.set_logical(last_logical_);
  return out;
}

void HybridClock::Observe(const v1::Hlc& remote) {
  absl::MutexLock lock(&mu_);
  if (remote.wall_micros() > last_wall_ ||
      (remote.wall_micros() == last_wall_ && remote.logical() > last_logical_)) {
    last_wall_ = remote.wall_micros();
    last_logical_ = remote.logical();
  }
}

void HybridClock::Restore(const v1::Hlc& last) { Observe(last); }

}  // namespace steersync::sync
