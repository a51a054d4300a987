#pragma once
// The working-day calendar as a record (issue 12 item 2; DOMAIN-MODEL §7):
// the top node sets one year's exceptions (`steerctl calendar set`), which
// flow down the whole federation and replace the shipped default of that
// year at every node; `calendar show` says which days and where from. The
// rules live in node/domain/calendar_records.h.
//
// Thread safety: thread-safe (acts go through LocalActs; reads take their
// own read transactions).

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/domain/calendar_records.h"
#include "node/local_acts.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.pb.h"

namespace steersync::node {

class CalendarActs {
 public:
  // `local` must outlive this object. `is_top`: this node has no parent.
  CalendarActs(LocalActs& local, bool is_top);

  // Writes "<self>/calendar/<year>" (a new version when one exists),
  // flowing down the whole subtree. FailedPrecondition on a node with a
  // parent; InvalidArgument for days that do not fit the year.
  absl::StatusOr<v1::WriteReply> Set(const v1::CalendarSetRequest& request);

 private:
  LocalActs& local_;
  const std::string& self_;
  const bool is_top_;
};

// The calendar in force at `self`: every CALENDAR record held offered to it.
absl::StatusOr<domain::CalendarInForce> CalendarInForceIn(const LmdbStore& store, std::string_view self);

// One year as in force at `self`: its exceptions and where they come from.
absl::StatusOr<v1::CalendarShowReply> ShowCalendarIn(const LmdbStore& store, std::string_view self, uint32_t year);

}  // namespace steersync::node
