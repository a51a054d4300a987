#include "node/calendar_acts.h"

#include <algorithm>

#include "node/domain/calendar.h"
#include "sync/status_macros.h"

namespace steersync::node {

CalendarActs::CalendarActs(LocalActs& local, bool is_top) : local_(local), self_(local.self()), is_top_(is_top) {}

absl::StatusOr<v1::WriteReply> CalendarActs::Set(const v1::CalendarSetRequest& request) {
  if (!is_top_) {
    return absl::FailedPreconditionError(
        "only the top node (the one with no parent) sets the working-day calendar; " + self_ +
        " has a parent, whose calendar it follows (see `steerctl calendar show`)");
  }
  v1::CalendarYear y;
  y.set_year(request.year());
  *y.mutable_holidays() = request.holidays();
  *y.mutable_workdays() = request.workdays();
  std::sort(y.mutable_holidays()->begin(), y.mutable_holidays()->end());
  std::sort(y.mutable_workdays()->begin(), y.mutable_workdays()->end());
  y.set_basis(request.basis());
  // The same check every receiver makes (node/domain/record_checks.cc).
  if (const std::string wrong = domain::CheckCalendarYear(y); !wrong.empty()) {
    return absl::InvalidArgumentError("calendar refused: " + wrong);
  }
  LocalAct act{domain::Act{domain::Action::kSetCalendar, ""}, request.act(), std::nullopt};
  SYNC_ASSIGN_OR_RETURN(
      Written w, local_.Write(act, [&](uint64_t, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
        body.set_kind(v1::CALENDAR);
        body.mutable_audience()->set_direction(v1::Audience::DOWN);
        body.mutable_audience()->set_root(self_);
        body.set_payload(y.SerializeAsString());
        return domain::CalendarId(self_, static_cast<int>(y.year()));
      }));
  v1::WriteReply reply;
  reply.set_id(w.id);
  reply.set_version(w.version);
  return reply;
}

absl::StatusOr<domain::CalendarInForce> CalendarInForceIn(const LmdbStore& store, std::string_view self) {
  domain::CalendarInForce in_force{std::string(self)};
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    if (body.kind() == v1::CALENDAR) in_force.Offer(body);
  }));
  return in_force;
}

absl::StatusOr<v1::CalendarShowReply> ShowCalendarIn(const LmdbStore& store, std::string_view self, uint32_t year) {
  if (year < domain::kMinCalendarYear || year > domain::kMaxCalendarYear) {
    return absl::InvalidArgumentError("--year " + std::to_string(year) + " is not " +
                                      std::to_string(domain::kMinCalendarYear) + "-" +
                                      std::to_string(domain::kMaxCalendarYear));
  }
  SYNC_ASSIGN_OR_RETURN(domain::CalendarInForce in_force, CalendarInForceIn(store, self));
  const int y = static_cast<int>(year);
  const domain::WorkingCalendar::YearExceptions days = in_force.Calendar().ExceptionsOf(y);
  v1::CalendarShowReply reply;
  reply.set_year(year);
  if (const std::optional<std::string> source = in_force.SourceOf(y)) {
    reply.set_source(*source);
    reply.set_basis(in_force.RecordOf(y)->basis());
  } else {
    reply.set_source(domain::WorkingCalendar::Vietnam().HasExceptionsIn(y) ? "shipped default" : "weekends only");
  }
  for (absl::CivilDay d : days.days_off) reply.add_holidays(domain::FormatDate(d));
  for (absl::CivilDay d : days.working_weekend_days) reply.add_workdays(domain::FormatDate(d));
  return reply;
}

}  // namespace steersync::node
