#include "node/domain/calendar_records.h"

#include <set>

#include "sync/node_path.h"
#include "sync/text.h"

namespace steersync::domain {
namespace {

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday w = absl::GetWeekday(day);
  return w == absl::Weekday::saturday || w == absl::Weekday::sunday;
}

// What is wrong with the days of one list, or ""; adds them to `seen`.
std::string CheckDays(const google::protobuf::RepeatedPtrField<std::string>& days, int year, bool weekend,
                      const char* what, std::set<absl::CivilDay>& seen) {
  if (days.size() > kMaxCalendarDays) {
    return std::string("more than ") + std::to_string(kMaxCalendarDays) + " " + what + "s";
  }
  for (const std::string& text : days) {
    const std::optional<absl::CivilDay> day = ParseDate(text);
    if (!day.has_value()) return std::string(what) + " '" + sync::Printable(text, 16) + "' is not YYYY-MM-DD";
    if (day->year() != year) return std::string(what) + " " + text + " is not in " + std::to_string(year);
    if (IsWeekend(*day) != weekend) {
      return std::string(what) + " " + text + (weekend ? " is not a Saturday or Sunday" : " is a Saturday or Sunday");
    }
    if (!seen.insert(*day).second) return text + " is given twice";
  }
  return "";
}

}  // namespace

std::string CalendarId(std::string_view writer, int year) {
  return std::string(writer) + "/calendar/" + std::to_string(year);
}

std::string CheckCalendarYear(const v1::CalendarYear& y) {
  if (y.year() < kMinCalendarYear || y.year() > kMaxCalendarYear) {
    return "year " + std::to_string(y.year()) + " is not " + std::to_string(kMinCalendarYear) + "-" +
           std::to_string(kMaxCalendarYear);
  }
  const int year = static_cast<int>(y.year());
  std::set<absl::CivilDay> seen;
  if (std::string wrong = CheckDays(y.holidays(), year, /*weekend=*/false, "holiday", seen); !wrong.empty()) {
    return wrong;
  }
  if (std::string wrong = CheckDays(y.workdays(), year, /*weekend=*/true, "workday", seen); !wrong.empty()) {
    return wrong;
  }
  if (y.basis().size() > kMaxCalendarBasisBytes || sync::Printable(y.basis(), kMaxCalendarBasisBytes) != y.basis()) {
    return "its basis is not printable text of at most " + std::to_string(kMaxCalendarBasisBytes) + " bytes";
  }
  return "";
}

WorkingCalendar::YearExceptions ExceptionsOf(const v1::CalendarYear& y) {
  WorkingCalendar::YearExceptions e;
  for (const std::string& d : y.holidays()) {
    if (auto day = ParseDate(d)) e.days_off.insert(*day);
  }
  for (const std::string& d : y.workdays()) {
    if (auto day = ParseDate(d)) e.working_weekend_days.insert(*day);
  }
  return e;
}

std::vector<std::string> CalendarIdsFor(std::string_view self, int year) {
  std::vector<std::string> path;
  for (std::string unit(self); !unit.empty(); unit = sync::ParentOf(unit)) path.push_back(unit);
  std::vector<std::string> ids;
  for (auto it = path.rbegin(); it != path.rend(); ++it) ids.push_back(CalendarId(*it, year));
  return ids;
}

CalendarInForce::CalendarInForce(std::string self) : self_(std::move(self)) {}

void CalendarInForce::Offer(const v1::RecordBody& body) {
  if (body.kind() != v1::CALENDAR || body.tombstone()) return;
  const std::string& writer = body.version().writer();
  if (!sync::IsSelfOrAncestor(writer, self_)) return;
  v1::CalendarYear y;
  if (!y.ParseFromString(body.payload()) || !CheckCalendarYear(y).empty()) return;
  if (body.id() != CalendarId(writer, static_cast<int>(y.year()))) return;
  const int depth = sync::DepthOf(writer);
  const int year = static_cast<int>(y.year());
  auto it = years_.find(year);
  if (it != years_.end() && it->second.depth <= depth) return;
  years_.insert_or_assign(year, Kept{body.id(), depth, std::move(y)});
}

WorkingCalendar CalendarInForce::Calendar() const {
  WorkingCalendar calendar = WorkingCalendar::Vietnam();
  for (const auto& [year, kept] : years_) calendar = calendar.WithYear(year, ExceptionsOf(kept.year));
  return calendar;
}

std::optional<std::string> CalendarInForce::SourceOf(int year) const {
  auto it = years_.find(year);
  if (it == years_.end()) return std::nullopt;
  return it->second.id;
}

const v1::CalendarYear* CalendarInForce::RecordOf(int year) const {
  auto it = years_.find(year);
  return it == years_.end() ? nullptr : &it->second.year;
}

}  // namespace steersync::domain
