#pragma once
// Reporting obligations (DOMAIN-MODEL.md §1.10; P 12.2, C 10; Decree 09/2019
// Art. 12): the cadence of the reports a unit asks of the units below it,
// the period forms each cadence takes, and when each period's report is due.
//
// A period's report is due on `due_day` of the month after the period ends
// (past that month's end: its last day), moved to the next working day
// (calendar.h). The periods start with the one holding `from_date`.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "node/domain/calendar.h"
#include "steersync/v1/record.pb.h"

namespace steersync::domain {

// "monthly", "quarterly", "half-yearly", "yearly".
std::optional<v1::ReportingCadence> ParseCadence(std::string_view name);
std::string_view CadenceName(v1::ReportingCadence cadence);
inline constexpr char kCadenceNames[] = "monthly, quarterly, half-yearly or yearly";

// The period form of `cadence`, for messages ("2026-Q4").
std::string_view PeriodFormOf(v1::ReportingCadence cadence);
// True when `period` is a period of `cadence`: 2026-11 (monthly), 2026-Q4,
// 2026-H2, 2026 (yearly).
bool PeriodHasCadence(std::string_view period, v1::ReportingCadence cadence);

// What is wrong with an obligation's own fields (issued by `issuer`), or ""
// when nothing is. Both the act and every receiver check it.
std::string CheckObligation(const v1::Obligation& obligation, std::string_view issuer);

// The due date of `period` (of the obligation's cadence), on a working day.
std::optional<absl::CivilDay> DueDate(const v1::Obligation& obligation, std::string_view period,
                                      const WorkingCalendar& calendar);

struct DuePeriod {
  std::string period;
  absl::CivilDay due;
};
// The obligation's periods, from the one holding from_date, whose due date
// is on or before `until`, oldest first (at most 1,200 periods).
std::vector<DuePeriod> PeriodsDueBy(const v1::Obligation& obligation, absl::CivilDay until,
                                    const WorkingCalendar& calendar);

}  // namespace steersync::domain
