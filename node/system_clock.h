#pragma once
// The production sync::Clock: reads the system's real-time clock. This is
// the one place in the code that may read the wall clock; everything else
// receives a Clock.

#include <chrono>

#include "sync/clock.h"

namespace steersync::node {

class SystemClock final : public sync::Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())  // the injected clock itself
        .count();
  }
};

}  // namespace steersync::node
