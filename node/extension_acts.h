#pragma once
// Extension requests (issue 12 item 3; Decree 09/2019 Art. 12, P 12.2,
// C 10, DOMAIN-MODEL E2): a unit that owes a report asks the obligation's
// issuer (its parent) for more time for one period; the issuer grants or
// denies it. A granted extension moves that period's due date for that unit
// only (node/domain/obligations.h DueDateFor), and the overdue view follows.
//
//   "<unit>/x/<n>"                   the request, flowing up to the issuer
//   "<issuer>/xd/<request id>"       the decision, flowing down to the unit
//
// Thread safety: thread-safe (acts go through LocalActs; reads take their
// own read transactions).

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/domain/calendar_records.h"
#include "node/domain/obligations.h"
#include "node/local_acts.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.pb.h"

namespace steersync::node {

class ExtensionActs {
 public:
  // `local` must outlive this object.
  explicit ExtensionActs(LocalActs& local);

  // The obliged unit's request. NotFound when the obligation is not held
  // here; the rest (period of the cadence, until after the due date, a
  // printable reason, a unit the obligation asks) is the admission's, as on
  // every receiver: FailedPrecondition "refused: BAD_EXTENSION: ...".
  absl::StatusOr<v1::WriteReply> Ask(const v1::ExtensionAskRequest& request);
  // The issuer's decision (GRANTED or DENIED) on a request it holds.
  // NotFound for an unknown request, PermissionDenied when this node did
  // not issue the obligation. A later decision replaces an earlier one.
  absl::StatusOr<v1::WriteReply> Decide(const v1::ExtensionDecideRequest& request);

 private:
  LocalActs& local_;
  const std::string& self_;
  const LmdbStore* const store_;
};

// What deadlines are computed with at one node: the calendar in force and
// the extensions granted.
struct Deadlines {
  domain::WorkingCalendar calendar;
  domain::GrantedExtensions granted;
};
absl::StatusOr<Deadlines> DeadlinesIn(const LmdbStore& store, std::string_view self);

// Every request held (made here, or to this node), in id order, filtered.
absl::StatusOr<v1::ExtensionListReply> ListExtensionsIn(const LmdbStore& store, std::string_view self,
                                                        const v1::ListFilter& filter = {});

}  // namespace steersync::node
