#pragma once
// Runs a task every `period` on a thread of its own until destroyed.
//
// Thread safety: thread-safe. The task runs on the object's thread only; the
// destructor waits for a run in progress and joins.
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace steersync::node {

class Periodic {
 public:
  Periodic(absl::Duration period, std::function<void()> task)
      : period_(period), task_(std::move(task)), thread_([this] { Run(); }) {}
  ~Periodic() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_) {
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        // Waits for the period or for the destructor; not a test sleep.
        if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), period_)) return;
      }
      task_();
    }
  }

  const absl::Duration period_;
  const std::function<void()> task_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace steersync::node
