#include "node/domain/calendar.h"

#include <cstdio>
#include <initializer_list>

namespace steersync::domain {
namespace {

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

int ToInt(std::string_view digits) {
  int n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

std::set<absl::CivilDay> Days(std::initializer_list<absl::CivilDay> days) { return std::set<absl::CivilDay>(days); }

// Upper bound of the days any deadline search walks (a run of days off is
// never this long); keeps every loop bounded.
constexpr int kMaxDaysOff = 60;

}  // namespace

std::optional<absl::CivilDay> ParseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !AllDigits(text.substr(0, 4)) ||
      !AllDigits(text.substr(5, 2)) || !AllDigits(text.substr(8, 2))) {
    return std::nullopt;
  }
  const int year = ToInt(text.substr(0, 4)), month = ToInt(text.substr(5, 2)), day = ToInt(text.substr(8, 2));
  const absl::CivilDay parsed(year, month, day);
  // CivilDay normalises 2026-02-30 to March: such a text is no date.
  if (parsed.year() != year || parsed.month() != month || parsed.day() != day) return std::nullopt;
  return parsed;
}

std::string FormatDate(absl::CivilDay day) {
  char out[16];
  std::snprintf(out, sizeof(out), "%04d-%02d-%02d", static_cast<int>(day.year()), day.month(), day.day());
  return out;
}

const WorkingCalendar& WorkingCalendar::Vietnam() {
  using D = absl::CivilDay;
  static const WorkingCalendar calendar(
      Days({
          // 2025: New Year; Tết 25 Jan - 2 Feb; Hùng Kings (10/3 lunar);
          // 30 April, 1 May and 2 May (worked on Sat 26 April); National Day
          // 1-2 September.
          D(2025, 1, 1), D(2025, 1, 27), D(2025, 1, 28), D(2025, 1, 29), D(2025, 1, 30), D(2025, 1, 31),
          D(2025, 4, 7), D(2025, 4, 30), D(2025, 5, 1), D(2025, 5, 2), D(2025, 9, 1), D(2025, 9, 2),
          // 2026: New Year; Tết 14-22 February; Hùng Kings on Sunday 26 April,
          // taken Monday 27 April; 30 April, 1 May; National Day 1-2 September.
          D(2026, 1, 1), D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18), D(2026, 2, 19), D(2026, 2, 20),
          D(2026, 4, 27), D(2026, 4, 30), D(2026, 5, 1), D(2026, 9, 1), D(2026, 9, 2),
          // 2027: New Year; Tết 5-11 February; Hùng Kings 16 April; 30 April;
          // 1 May on a Saturday, taken Monday 3 May; National Day 2-3 September.
          D(2027, 1, 1), D(2027, 2, 5), D(2027, 2, 8), D(2027, 2, 9), D(2027, 2, 10), D(2027, 2, 11),
          D(2027, 4, 16), D(2027, 4, 30), D(2027, 5, 3), D(2027, 9, 2), D(2027, 9, 3),
      }),
      Days({D(2025, 4, 26)}));
  return calendar;
}

bool WorkingCalendar::IsWorkingDay(absl::CivilDay day) const {
  if (working_weekend_days_.contains(day)) return true;
  const absl::Weekday w = absl::GetWeekday(day);
  if (w == absl::Weekday::saturday || w == absl::Weekday::sunday) return false;
  return !days_off_.contains(day);
}

absl::CivilDay WorkingCalendar::OnOrNextWorkingDay(absl::CivilDay day) const {
  for (int i = 0; i < kMaxDaysOff && !IsWorkingDay(day); ++i) ++day;
  return day;
}

absl::CivilDay WorkingCalendar::NextWorkingDay(absl::CivilDay day) const { return OnOrNextWorkingDay(day + 1); }

int WorkingCalendar::WorkingDaysAfter(absl::CivilDay from, absl::CivilDay to) const {
  int n = 0;
  // Bounded by the span itself (callers pass dates a few years apart at most).
  for (absl::CivilDay d = from + 1; d <= to; ++d) n += IsWorkingDay(d) ? 1 : 0;
  return n;
}

namespace {

// The days of `days` in `year`, and `days` without them.
std::set<absl::CivilDay> DaysIn(const std::set<absl::CivilDay>& days, int year) {
  return {days.lower_bound(absl::CivilDay(year, 1, 1)), days.lower_bound(absl::CivilDay(year + 1, 1, 1))};
}
void EraseYear(std::set<absl::CivilDay>& days, int year) {
  days.erase(days.lower_bound(absl::CivilDay(year, 1, 1)), days.lower_bound(absl::CivilDay(year + 1, 1, 1)));
}

}  // namespace

WorkingCalendar::YearExceptions WorkingCalendar::ExceptionsOf(int year) const {
  return {DaysIn(days_off_, year), DaysIn(working_weekend_days_, year)};
}

bool WorkingCalendar::HasExceptionsIn(int year) const {
  const YearExceptions e = ExceptionsOf(year);
  return !e.days_off.empty() || !e.working_weekend_days.empty();
}

WorkingCalendar WorkingCalendar::WithYear(int year, YearExceptions exceptions) const {
  WorkingCalendar out = *this;
  EraseYear(out.days_off_, year);
  EraseYear(out.working_weekend_days_, year);
  out.days_off_.merge(exceptions.days_off);
  out.working_weekend_days_.merge(exceptions.working_weekend_days);
  return out;
}

}  // namespace steersync::domain
