#include "node/store/group_commit_writer.h"

#include <vector>

namespace steersync::node {

GroupCommitWriter::GroupCommitWriter(LmdbStore& store, Options options,
                                     std::function<void(uint64_t)> on_commit)
    : store_(store),
      options_(options),
      on_commit_(std::move(on_commit)),
      thread_([this] { Run(); }) {}

GroupCommitWriter::~GroupCommitWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

void GroupCommitWriter::Submit(Job job, Completion done) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      done(absl::UnavailableError("store writer is shutting down"));
      return;
    }
    queue_.emplace_back(std::move(job), std::move(done));
  }
  cv_.Signal();
}

uint64_t GroupCommitWriter::commits() const {
  absl::MutexLock lock(&mu_);
  return commits_;
}

void GroupCommitWriter::Run() {
  for (;;) {
    std::vector<std::pair<Job, Completion>> group;
    {
      absl::MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && group.size() < options_.max_jobs_per_txn) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const uint64_t head_before = store_.HeadSeq();
    TxnObserver* observer = options_.observer;
    const size_t txn_start = observer ? observer->Savepoint() : 0;
    std::vector<absl::Status> results(group.size());
    const auto began = std::chrono::steady_clock::now();
    absl::Status status = store_.Write([&](LmdbStore::View& view) -> absl::Status {
      for (size_t i = 0; i < group.size(); ++i) {
        const size_t savepoint = observer ? observer->Savepoint() : 0;
        results[i] = view.Nested(group[i].first);
        if (!results[i].ok() && observer) observer->RollbackTo(savepoint);
      }
      return absl::OkStatus();
    });
    if (options_.on_txn_time) options_.on_txn_time(std::chrono::steady_clock::now() - began);
    if (status.ok()) {
      if (observer) observer->Commit();
      absl::MutexLock lock(&mu_);
      ++commits_;
    } else if (observer) {
      observer->RollbackTo(txn_start);
    }
    {
      // Named once here for status and metrics: the completions only see
      // their own job's error.
      absl::MutexLock lock(&mu_);
      for (size_t i = 0; i < group.size(); ++i) {
        const absl::Status& s = status.ok() ? results[i] : status;
        if (absl::IsResourceExhausted(s)) {
          ++storage_failures_.count;
          storage_failures_.last = s;
          storage_failures_.last_at_micros = options_.clock ? options_.clock->NowMicros() : 0;
        }
      }
    }
    for (size_t i = 0; i < group.size(); ++i) {
      group[i].second(status.ok() ? results[i] : status);
    }
    if (status.ok() && store_.HeadSeq() != head_before && on_commit_) {
      on_commit_(store_.HeadSeq());
    }
  }
}

GroupCommitWriter::StorageFailures GroupCommitWriter::storage_failures() const {
  absl::MutexLock lock(&mu_);
  return storage_failures_;
}

}  // namespace steersync::node
