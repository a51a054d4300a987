#pragma once
// Tasks (issue 12 item 4; P 3.1, 5.2, 6.6; C 4.5, 5.2; DOMAIN-MODEL.md §4):
// a unit assigns work with a deadline to a unit directly below it; the
// assignee reports progress and DONE; the assigner accepts or returns it.
// The task "<assigner>/t/<n>" flows down to the assignee; its status
// "<assignee>/ts/<task id>" is one record both sides write, so concurrent
// edits are decided by R1..R5 (the assigner's unit is the higher).
//
// Thread safety: thread-safe (acts go through LocalActs).

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/local_acts.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.pb.h"

namespace steersync::node {

class TaskActs {
 public:
  // `local` must outlive this object.
  explicit TaskActs(LocalActs& local);

  absl::StatusOr<v1::WriteReply> Assign(const v1::AssignTaskRequest& request);
  // OPEN (progress) or DONE by the assignee; ACCEPTED or RETURNED by the assigner.
  absl::StatusOr<v1::WriteReply> SetStatus(const v1::SetTaskStatusRequest& request);

 private:
  // The progress a status in `state` records: `reported` for OPEN, 100 for
  // DONE and ACCEPTED, and for RETURNED the progress of the status now held
  // as `status_id` (0 if none): returning work does not undo it.
  absl::StatusOr<uint32_t> ProgressAfter(std::string_view state, uint32_t reported,
                                         const std::string& status_id) const;

  LocalActs& local_;
  const std::string& self_;
  const LmdbStore* const store_;
};

// Every task held (assigned here, or to this unit), with its current state,
// in id order, filtered (since: assigned on or after; status: its state;
// from: the assigner).
absl::StatusOr<v1::ListTasksReply> ListTasksIn(const LmdbStore& store, const v1::ListFilter& filter = {});

}  // namespace steersync::node
