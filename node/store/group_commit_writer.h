#pragma once
// The single writer of a node's store. Callers on any thread submit jobs;
// one thread runs as many queued jobs as fit in one durable LMDB transaction
// (group commit), then completes them in submission order.
//
// Thread safety: Submit() is thread-safe. Completions and the commit listener
// run on the writer thread and must not block.

#include <chrono>
#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/store/lmdb_store.h"
#include "sync/clock.h"

namespace steersync::node {

class GroupCommitWriter {
 public:
  // Runs inside the group's transaction, in a nested transaction of its
  // own: an error drops what this job wrote and fails this job alone.
  using Job = std::function<absl::Status(LmdbStore::View&)>;
  // Runs after the group committed (OK), or with the error of this job or of
  // the group's commit (disk full, ...).
  using Completion = std::function<void(absl::Status)>;

  // State kept outside the store that must follow its transactions (the
  // rosters of node/domain/admission.h). Called on the writer thread.
  class TxnObserver {
   public:
    virtual ~TxnObserver() = default;
    virtual size_t Savepoint() const = 0;
    // Everything since `savepoint` was not committed.
    virtual void RollbackTo(size_t savepoint) = 0;
    virtual void Commit() = 0;
  };

  struct Options {
    // Jobs per transaction at most.
    size_t max_jobs_per_txn = 256;
    // May be null; must outlive the writer.
    TxnObserver* observer = nullptr;
    // Stamps storage failures; may be null (then unstamped). Must outlive it.
    const sync::Clock* clock = nullptr;
    // Told, on the writer thread, how long each transaction took (its jobs
    // and the durable commit; failed ones too), measured on the steady
    // clock. May be empty; must not block (the node's commit histogram).
    std::function<void(std::chrono::steady_clock::duration)> on_txn_time;
  };

  // `store` must outlive the writer. `on_commit` runs after each successful
  // commit that grew the log (head sequence passed).
  GroupCommitWriter(LmdbStore& store, Options options,
                    std::function<void(uint64_t head_seq)> on_commit);
  ~GroupCommitWriter();  // drains the queue, then stops

  void Submit(Job job, Completion done) ABSL_LOCKS_EXCLUDED(mu_);

  // Number of transactions committed so far (for metrics and benchmarks).
  uint64_t commits() const ABSL_LOCKS_EXCLUDED(mu_);

  // Writes the store refused for lack of room (map full, disk full; a job's
  // or a whole transaction's): how many, and the last one.
  struct StorageFailures {
    uint64_t count = 0;
    absl::Status last;
    int64_t last_at_micros = 0;  // on Options::clock
  };
  StorageFailures storage_failures() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  LmdbStore& store_;
  const Options options_;
  const std::function<void(uint64_t)> on_commit_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // signalled when queue_ grows or stopping_ is set
  std::deque<std::pair<Job, Completion>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t commits_ ABSL_GUARDED_BY(mu_) = 0;
  StorageFailures storage_failures_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts after everything above is ready
};

}  // namespace steersync::node
