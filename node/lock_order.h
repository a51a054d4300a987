#pragma once
// Whether a running process checks the order in which it takes locks.
//
// Debian's abseil is a debug build: every absl::Mutex acquisition records
// lock order to find cycles (absl's deadlock detection), which cost a
// province serving 1,000 communes about 10 % of its CPU (docs/performance.md,
// "(d)"). Tests keep abseil's default, abort on a cycle, and CI checks the
// locking statically (clang -Wthread-safety, deploy/check-thread-safety.sh).
// steersyncd and the benchmark skip the check unless the environment says
// STEERSYNC_CHECK_LOCK_ORDER=1, which makes a cycle a line in the log.

#include <cstdlib>
#include <string_view>

#include "absl/synchronization/mutex.h"

namespace steersync::node {

inline void SetLockOrderCheckFromEnvironment() {
  const char* check = std::getenv("STEERSYNC_CHECK_LOCK_ORDER");
  absl::SetMutexDeadlockDetectionMode(check != nullptr && std::string_view(check) == "1"
                                          ? absl::OnDeadlockCycle::kReport
                                          : absl::OnDeadlockCycle::kIgnore);
}

}  // namespace steersync::node
