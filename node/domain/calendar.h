#pragma once
// Working days of Vietnam's public administration (Asia/Ho_Chi_Minh dates):
// Monday to Friday, less the public holidays (Labour Code 2019 Art. 112) and
// the weekdays given off in exchange for them, plus the Saturdays worked in
// exchange. Deadlines that fall on a day off move to the next working day
// (Decree 30/2020 Art. 4.2c; Decree 09/2019 Art. 12).
//
// WorkingCalendar::Vietnam() holds the shipped defaults for 2025-2027, as
// announced for civil servants; years outside them count Monday to Friday
// only. See docs/committee.md.
//
// Thread safety: immutable after construction.

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/time/civil_time.h"

namespace steersync::domain {

// "YYYY-MM-DD" -> the day; nullopt when it is not a real date in that form.
std::optional<absl::CivilDay> ParseDate(std::string_view text);
std::string FormatDate(absl::CivilDay day);

class WorkingCalendar {
 public:
  // Mondays to Fridays only.
  WorkingCalendar() = default;
  WorkingCalendar(std::set<absl::CivilDay> days_off, std::set<absl::CivilDay> working_weekend_days)
      : days_off_(std::move(days_off)), working_weekend_days_(std::move(working_weekend_days)) {}

  // The shipped defaults: Vietnam's holidays and exchanged days, 2025-2027.
  static const WorkingCalendar& Vietnam();

  bool IsWorkingDay(absl::CivilDay day) const;
  // `day` if it is a working day, else the first working day after it.
  absl::CivilDay OnOrNextWorkingDay(absl::CivilDay day) const;
  // The first working day strictly after `day`.
  absl::CivilDay NextWorkingDay(absl::CivilDay day) const;
  // Working days in (from, to]; 0 when to <= from.
  int WorkingDaysAfter(absl::CivilDay from, absl::CivilDay to) const;

  // The exceptions of one year: weekdays off and weekend days worked.
  struct YearExceptions {
    std::set<absl::CivilDay> days_off;
    std::set<absl::CivilDay> working_weekend_days;
  };
  YearExceptions ExceptionsOf(int year) const;
  // True when the calendar holds any exception in `year`.
  bool HasExceptionsIn(int year) const;
  // This calendar with `year`'s exceptions replaced whole by `exceptions`
  // (a CALENDAR record, calendar_records.h). REQUIRES: every day of
  // `exceptions` is in `year`.
  WorkingCalendar WithYear(int year, YearExceptions exceptions) const;

 private:
  std::set<absl::CivilDay> days_off_;              // weekdays off
  std::set<absl::CivilDay> working_weekend_days_;  // Saturdays worked in exchange
};

}  // namespace steersync::domain
