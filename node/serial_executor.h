#pragma once
// One thread running posted tasks in order (a pipeline stage). Links verify
// signatures here, then hand the batch to the store writer, so verification
// of one batch overlaps the durable commit of the previous one while batch
// order is kept.
//
// Thread safety: Post() is thread-safe. The destructor runs every task
// already posted, then joins.

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace steersync::node {

class SerialExecutor {
 public:
  SerialExecutor() : thread_([this] { Run(); }) {}
  ~SerialExecutor() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    cv_.SignalAll();
    thread_.join();
  }
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  void Post(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.Signal();
  }

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_) {
    for (;;) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu_);
        while (!stopping_ && tasks_.empty()) cv_.Wait(&mu_);
        if (tasks_.empty()) return;  // stopping and drained
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  absl::Mutex mu_;
  absl::CondVar cv_;  // signalled when tasks_ grows or stopping_ is set
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after the members above
};

}  // namespace steersync::node
