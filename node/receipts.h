#pragma once
// D30 Art. 21.2c, S23: what arrives verified is registered received the same
// day, automatically: a child's report RECEIVED, a directive from above
// addressed to this unit ACKNOWLEDGED.
//
// A registration whose write fails (disk or map full, an I/O error) is not
// lost: it is retried while the node runs, by a pass over the store that
// registers whatever is still unregistered, after a bounded backoff (1 s,
// doubling, at most 5 min by default), logged and counted. A registration
// refused because the node recovers or stops is redone when the recovery
// ends or at the next start, not here.
//
// Thread safety: thread-safe. OnAdmitted and RegisterPending may be called
// from any thread; the completions run on the writer thread; retries run on
// a thread of the registrar's own.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/directive_acts.h"
#include "node/report_acts.h"
#include "node/store/lmdb_store.h"

namespace steersync::node {

class ReceiptRegistrar {
 public:
  struct Options {
    // The wait before the first retry after a failure; doubled at each
    // failed retry, up to `max_retry_delay`.
    absl::Duration first_retry_delay = absl::Seconds(1);
    absl::Duration max_retry_delay = absl::Minutes(5);
    // Tests: asked before each registration is submitted, with the id of
    // the directive or report received; a non-OK status fails that
    // registration as a refused write would. Empty: none fails.
    std::function<absl::Status(const std::string& id)> fault;
  };
  struct Counts {
    uint64_t failed = 0;   // registrations whose write failed
    uint64_t retries = 0;  // passes over the store made to retry them
  };

  // Everything borrowed must outlive the registrar and every completion of
  // the writes it submits. Starts its retry thread.
  ReceiptRegistrar(Options options, const LmdbStore& store, std::string self, DirectiveActs& directive_acts,
                   ReportActs& report_acts);
  // Stop()s.
  ~ReceiptRegistrar();
  // Joins the retry thread; no retry starts after. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // For the versions just admitted from a peer (ids and kinds). Does not wait.
  void OnAdmitted(const std::vector<std::pair<std::string, v1::RecordKind>>& admitted);
  // Whatever arrived and is still unregistered (at start-up, after a
  // recovery, and for each retry). Does not wait for the writes.
  absl::Status RegisterPending();

  Counts counts() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Register(std::vector<std::string> reports, std::vector<std::string> directives);
  // The outcome of one registration's write (writer thread).
  void Done(const std::string& id, const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  bool RetryScheduledOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const LmdbStore& store_;
  const std::string self_;
  DirectiveActs& directive_acts_;
  ReportActs& report_acts_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The wait before the retry scheduled; none when no retry is.
  std::optional<absl::Duration> retry_delay_ ABSL_GUARDED_BY(mu_);
  // Retries made since a registration last succeeded while none was
  // scheduled: what the backoff doubles with.
  int failed_retries_ ABSL_GUARDED_BY(mu_) = 0;
  Counts counts_ ABSL_GUARDED_BY(mu_);
  bool joined_ = false;  // Stop() joined the thread (the owner's thread only)
  std::thread thread_;   // last: starts once the members above exist
};

// The wait before a retry after `failed_retries` retries that failed:
// `first_retry_delay` doubled that many times, at most `max_retry_delay`.
absl::Duration ReceiptRetryDelay(const ReceiptRegistrar::Options& options, int failed_retries);

}  // namespace steersync::node
