#pragma once
// The working-day calendar as a record (issue 12 item 2; DOMAIN-MODEL §7):
// the top node (the one with no parent) issues CALENDAR records
// "<writer>/calendar/<year>", each one year's weekdays off and weekend days
// worked; they flow down its whole subtree and replace the shipped default
// of that year (WorkingCalendar::Vietnam()) at every node.
//
// Which record is in force for a year at node N: the one written by the
// topmost unit among N and its ancestors (CalendarInForce). A node cannot
// tell by itself whether an ancestor has a parent: the issuing node refuses
// the act when it has one, and a receiver refuses (NOT_TOP) a calendar of a
// year for which it holds one from a unit above the writer.
//
// Thread safety: pure functions; CalendarInForce is not thread-safe.

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "node/domain/calendar.h"
#include "steersync/v1/record.pb.h"

namespace steersync::domain {

inline constexpr int kMinCalendarYear = 2000;
inline constexpr int kMaxCalendarYear = 2199;
// More exceptions than a year ever has (Tết plus every holiday and exchange).
inline constexpr int kMaxCalendarDays = 60;
inline constexpr size_t kMaxCalendarBasisBytes = 500;

// "<writer>/calendar/<year>".
std::string CalendarId(std::string_view writer, int year);
// What is wrong with one year's calendar, or "": the year in range, every
// holiday a weekday of that year, every workday a Saturday or Sunday of it,
// no day twice, at most kMaxCalendarDays of each, a printable basis.
std::string CheckCalendarYear(const v1::CalendarYear& year);
// The exceptions a valid CalendarYear states.
WorkingCalendar::YearExceptions ExceptionsOf(const v1::CalendarYear& year);
// The ids a CALENDAR of `year` may have at `self`, topmost unit first
// (the root of `self`'s path, ..., `self`).
std::vector<std::string> CalendarIdsFor(std::string_view self, int year);

// The calendar in force at one node: the shipped defaults, each year for
// which a CALENDAR record of the node or an ancestor is held replaced by
// the topmost one.
class CalendarInForce {
 public:
  explicit CalendarInForce(std::string self);
  // Offers a held record; kept when it is a valid CALENDAR written by self
  // or an ancestor, above any kept for its year. Others are ignored.
  void Offer(const v1::RecordBody& body);
  // The shipped defaults with the kept years replaced.
  WorkingCalendar Calendar() const;
  // The record id in force for `year`, or nullopt (the shipped default).
  std::optional<std::string> SourceOf(int year) const;
  // The kept record of `year`, if any.
  const v1::CalendarYear* RecordOf(int year) const;

 private:
  struct Kept {
    std::string id;
    int depth;
    v1::CalendarYear year;
  };
  const std::string self_;
  std::map<int, Kept> years_;
};

// The calendar in force at `self` for deadlines in `years`, reading each
// candidate CALENDAR record (CalendarIdsFor) with `get(id)`, which returns
// absl::StatusOr<std::optional<v1::RecordBody>>: a store or a write view.
template <typename Get>
absl::StatusOr<WorkingCalendar> CalendarForYears(std::string_view self, std::initializer_list<int> years, Get get) {
  CalendarInForce in_force{std::string(self)};
  for (int year : years) {
    for (const std::string& id : CalendarIdsFor(self, year)) {
      absl::StatusOr<std::optional<v1::RecordBody>> held = get(id);
      if (!held.ok()) return held.status();
      if (held->has_value()) in_force.Offer(**held);
    }
  }
  return in_force.Calendar();
}

}  // namespace steersync::domain
