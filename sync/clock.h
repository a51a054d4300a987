#pragma once
// Time is injected: protocol code never reads the wall clock directly.

#include <cstdint>

namespace steersync::sync {

// Thread safety: implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch.
  virtual int64_t NowMicros() const = 0;
};

}  // namespace steersync::sync
