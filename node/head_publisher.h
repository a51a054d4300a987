#pragma once
// Signs this node's sequence heads (sync/sequence_head.h; docs/security.md
// "Signed heads"), so that every node of an audience learns of a version
// dropped on the way even when it was the writer's last one. Every
// `interval` it looks at this node's sequences (one per audience it wrote
// to): a sequence that moved since its last head and has not moved since the
// previous look (it is idle) gets a new head. A busy sequence needs none yet:
// its next version reveals a hole. PublishNow() signs every head that is
// behind at once (on demand). The heads due at one look are signed in one
// transaction; only the newest head of a sequence stays in the change log.
//
// Thread safety: thread-safe. One thread of its own looks and writes;
// PublishNow may be called from any thread.

#include <cstddef>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/local_acts.h"
#include "node/periodic.h"

namespace steersync::node {

class HeadPublisher {
 public:
  struct Options {
    // Between two looks; a sequence is idle when it did not move in one.
    absl::Duration interval = absl::Seconds(10);
    // Heads signed in one transaction at most; the rest wait for the next look.
    size_t max_heads_per_look = 500;
  };

  // `local` must outlive the publisher. Starts its thread; the destructor
  // stops and joins it (a write in flight completes first).
  HeadPublisher(Options options, LocalActs& local);

  // Signs a head of every sequence whose head is behind, idle or not, now;
  // returns how many were signed.
  absl::StatusOr<size_t> PublishNow() ABSL_LOCKS_EXCLUDED(look_mu_);

 private:
  // One look of the thread: signs the heads of idle sequences; logs a failure once.
  void Look() ABSL_LOCKS_EXCLUDED(look_mu_);
  // Signs the heads that are behind (only those of idle sequences when
  // `idle_only`) and remembers each sequence's length for the next look.
  absl::StatusOr<size_t> Publish(bool idle_only) ABSL_EXCLUSIVE_LOCKS_REQUIRED(look_mu_);

  const Options options_;
  LocalActs& local_;

  absl::Mutex look_mu_;  // one look at a time: the thread's or PublishNow's
  // Audience key -> the sequence's length at the previous look.
  std::map<std::string, uint64_t> previous_ ABSL_GUARDED_BY(look_mu_);
  bool warned_ ABSL_GUARDED_BY(look_mu_) = false;  // a failure was logged; quiet until one succeeds

  Periodic looks_;  // last: starts once the members above exist
};

}  // namespace steersync::node
