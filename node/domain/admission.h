#pragma once
// The committee's admission: the one entry point through which every
// version, local or from a peer, is judged (DOMAIN-MODEL.md §5), in this
// order:
//   alone (any thread):   id grammar, owner, payload, direction, addressing
//                         (record_checks.h); the replica core then checks the
//                         signature and the clock bound (sync/replica.h)
//   in context (writer):  one id one kind, legal date, capacity, power,
//                         delegation, authority, relations, immutability,
//                         lifecycle order (act_checks.h)
// It also keeps the rosters acts are judged by, in step with the store, and
// writes the document indexes (document_index.h) with each admitted version.
//
// Thread safety: thread-safe. CheckAlone() runs on any thread; the other
// sync::AdmissionPolicy methods and the transaction bookkeeping run on the
// store's writer. Readers (ReadRoster) see the roster as of the last
// admitted version, committed or not.

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "node/domain/roster.h"
#include "sync/replica.h"

namespace steersync::domain {

class CommitteeAdmission : public sync::AdmissionPolicy {
 public:
  explicit CommitteeAdmission(std::string self_id) : self_(std::move(self_id)) {}

  // sync::AdmissionPolicy
  sync::Admission CheckAlone(std::string_view from_peer, const v1::RecordBody& body) const override;
  absl::StatusOr<sync::Admission> CheckInContext(sync::WriteView& view, const v1::RecordBody& body,
                                                 std::string_view body_bytes) override;
  absl::Status OnAdmitted(sync::WriteView& view, const v1::RecordBody& body) override;
  // A unit's status (unit_status.h): only its newest version matters.
  bool KeepsNewestOnly(const v1::RecordBody& body) const override { return body.kind() == v1::UNIT_STATUS; }

  // Replaces the rosters with `roster` (at start-up, from the store).
  void Reset(Roster roster);

  // Transaction bookkeeping, called by whoever runs transactions: a point to
  // roll back to, rolling back to it (the writes after it were not
  // committed), and forgetting the undo log once the transaction committed.
  size_t Savepoint() const;
  void RollbackTo(size_t savepoint);
  void Commit();

  // Runs `f(const Roster&)` under the lock and returns its result.
  template <typename F>
  auto ReadRoster(F&& f) const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return f(roster_);
  }

 private:
  const std::string self_;
  mutable absl::Mutex mu_;
  Roster roster_ ABSL_GUARDED_BY(mu_);
  // Undo log of the open transaction: a roster id and its version before.
  std::vector<std::pair<std::string, std::optional<v1::RecordBody>>> undo_ ABSL_GUARDED_BY(mu_);
};

}  // namespace steersync::domain
