#pragma once
// Reporting obligations (issue 12 item 3; DOMAIN-MODEL.md §1.10, P 12.2,
// C 10, Decree 09/2019 Art. 12) and what is late (item 6): issuing an
// obligation to the units below, listing those held, and the overdue view
// of this node: every unit below it that has not filed an obligation's
// period by its due date, or not acknowledged a directive by the next
// working day after its issue.
//
// Thread safety: thread-safe (acts go through LocalActs; reads take their
// own read transactions).

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "node/domain/calendar.h"
#include "node/domain/obligations.h"
#include "node/local_acts.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.pb.h"

namespace steersync::node {

class ObligationActs {
 public:
  // `local` must outlive this object.
  explicit ObligationActs(LocalActs& local);

  // Issues an obligation "<self>/o/<n>" to `to` (units directly below this
  // node; none: all of them), flowing down.
  absl::StatusOr<v1::WriteReply> Add(const v1::AddObligationRequest& request);

 private:
  LocalActs& local_;
  const std::string& self_;
};

// Every obligation held (issued here or above), in id order, filtered
// (since: issued on or after; from: the issuer; status: none).
absl::StatusOr<v1::ListObligationsReply> ListObligationsIn(const LmdbStore& store, std::string_view self,
                                                          const v1::ListFilter& filter = {});

// What the units directly below `self` (registered with `unit add`, or
// known by records of theirs held here) owe it and have not done by `today`:
// reports of the obligations `self` issued, tasks it assigned not DONE,
// acknowledgements of the directives it issued. Days late count working days of `calendar`;
// a report's due date is the one that applies to its unit (`granted` extensions).
absl::StatusOr<v1::ListOverdueReply> ListOverdueIn(const LmdbStore& store, std::string_view self,
                                                   absl::CivilDay today,
                                                   const domain::WorkingCalendar& calendar,
                                                   const domain::GrantedExtensions& granted = {});

// The overdue view's order: by unit (natural order), then tasks, reports,
// acks, then by reference and due date.
void SortOverdue(std::vector<v1::OverdueInfo>& late);

}  // namespace steersync::node
