#pragma once
// Reporting obligations (DOMAIN-MODEL.md §1.10; P 12.2, C 10; Decree 09/2019
// Art. 12): the cadence of the reports a unit asks of the units below it,
// the period forms each cadence takes, and when each period's report is due.
//
// A period's report is due on `due_day` of the month after the period ends
// (past that month's end: its last day), moved to the next working day
// (calendar.h). The periods start with the one holding `from_date`.

#include <map>
#include <optional>
#include <string>
#include <tuple>
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

// ---- Extensions (Decree 09/2019 Art. 12; P 12.2, C 10; DOMAIN-MODEL E2) ----
//
// An obliged unit asks the obligation's issuer to move one period's due date
// for itself; granted, the period is due for that unit on `until`, moved to
// the next working day. Nothing else moves: other periods, other units.

inline constexpr size_t kMaxExtensionReasonBytes = 1000;
// How far past the period's due date an extension may reach.
inline constexpr int kMaxExtensionDays = 366;

// What is wrong with a request on its own, written by `unit`, or "": it names
// an obligation of the unit directly above, a reporting period, a date, and
// a printable reason of 1..kMaxExtensionReasonBytes bytes.
std::string CheckExtensionRequest(const v1::ExtensionRequest& request, std::string_view unit);
// What is wrong with it against the obligation `obligation_id` it names, or
// "": the unit is one the obligation asks, the period has its cadence, and
// `until` is after the period's due date (on `calendar`) by at most
// kMaxExtensionDays.
std::string CheckExtensionAgainst(const v1::Obligation& obligation, const v1::ExtensionRequest& request,
                                  const WorkingCalendar& calendar);
// "GRANTED" or "DENIED", with a printable reason of at most
// kMaxExtensionReasonBytes: what is wrong with a decision, or "".
std::string CheckExtensionDecision(const v1::ExtensionDecision& decision);

// The extensions granted, by (unit, obligation id, period).
class GrantedExtensions {
 public:
  // Records a granted request (REQUIRES: well-formed, CheckExtensionRequest).
  void Add(const v1::ExtensionRequest& request);
  // The latest `until` granted to `unit` for `period` of `obligation_id`.
  std::optional<absl::CivilDay> UntilFor(std::string_view unit, std::string_view obligation_id,
                                         std::string_view period) const;

 private:
  std::map<std::tuple<std::string, std::string, std::string>, absl::CivilDay> until_;
};

// THE due date of `period` of obligation `obligation_id` for `unit`: the
// period's (DueDate), or, when an extension granted to that unit for that
// period reaches later, its `until` moved to the next working day.
std::optional<absl::CivilDay> DueDateFor(const v1::Obligation& obligation, std::string_view obligation_id,
                                         std::string_view period, std::string_view unit,
                                         const GrantedExtensions& granted, const WorkingCalendar& calendar);

}  // namespace steersync::domain
