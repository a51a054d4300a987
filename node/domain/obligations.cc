#include "node/domain/obligations.h"

#include <algorithm>

#include "node/domain/documents.h"
#include "node/domain/record_checks.h"
#include "sync/node_path.h"
#include "sync/text.h"

namespace steersync::domain {
namespace {

struct CadenceInfo {
  v1::ReportingCadence cadence;
  std::string_view name;
  std::string_view form;
  int months;  // length of one period
};
constexpr CadenceInfo kCadences[] = {
    {v1::MONTHLY, "monthly", "2026-11", 1},
    {v1::QUARTERLY, "quarterly", "2026-Q4", 3},
    {v1::HALF_YEARLY, "half-yearly", "2026-H2", 6},
    {v1::YEARLY, "yearly", "2026", 12},
};

const CadenceInfo* InfoOf(v1::ReportingCadence cadence) {
  for (const auto& c : kCadences) {
    if (c.cadence == cadence) return &c;
  }
  return nullptr;
}

// The period of `cadence` holding month `month` (1-12) of `year`.
std::string PeriodName(v1::ReportingCadence cadence, int year, int month) {
  const std::string y = std::to_string(year);
  switch (cadence) {
    case v1::MONTHLY: return y + (month < 10 ? "-0" : "-") + std::to_string(month);
    case v1::QUARTERLY: return y + "-Q" + std::to_string((month - 1) / 3 + 1);
    case v1::HALF_YEARLY: return y + "-H" + std::to_string((month - 1) / 6 + 1);
    default: return y;
  }
}

// The first month of `period`, or nullopt when it is not of `cadence`.
std::optional<absl::CivilMonth> FirstMonthOf(std::string_view period, v1::ReportingCadence cadence) {
  if (!PeriodHasCadence(period, cadence)) return std::nullopt;
  const int year = std::stoi(std::string(period.substr(0, 4)));
  if (period.size() == 4) return absl::CivilMonth(year, 1);
  const char kind = period[5];
  const int n = kind == 'Q' || kind == 'H' ? period[6] - '0' : std::stoi(std::string(period.substr(5, 2)));
  const int first = kind == 'Q' ? (n - 1) * 3 + 1 : kind == 'H' ? (n - 1) * 6 + 1 : n;
  return absl::CivilMonth(year, first);
}

// Due day `due_day` of `month`, or its last day.
absl::CivilDay DayOfMonth(absl::CivilMonth month, int due_day) {
  const absl::CivilDay last = absl::CivilDay(month + 1) - 1;
  return std::min(absl::CivilDay(month.year(), month.month(), 1) + (due_day - 1), last);
}

}  // namespace

std::optional<v1::ReportingCadence> ParseCadence(std::string_view name) {
  for (const auto& c : kCadences) {
    if (c.name == name) return c.cadence;
  }
  return std::nullopt;
}

std::string_view CadenceName(v1::ReportingCadence cadence) {
  const CadenceInfo* info = InfoOf(cadence);
  return info == nullptr ? "?" : info->name;
}

std::string_view PeriodFormOf(v1::ReportingCadence cadence) {
  const CadenceInfo* info = InfoOf(cadence);
  return info == nullptr ? "?" : info->form;
}

bool PeriodHasCadence(std::string_view period, v1::ReportingCadence cadence) {
  if (!IsReportingPeriod(period)) return false;
  switch (cadence) {
    case v1::YEARLY: return period.size() == 4;
    case v1::HALF_YEARLY: return period.size() == 7 && period[5] == 'H';
    case v1::QUARTERLY: return period.size() == 7 && period[5] == 'Q';
    case v1::MONTHLY: return period.size() == 7 && period[5] != 'H' && period[5] != 'Q';
    default: return false;
  }
}

std::string CheckObligation(const v1::Obligation& o, std::string_view issuer) {
  if (o.title().empty()) return "an obligation needs a title";
  if (InfoOf(o.every()) == nullptr) return std::string("its cadence is not ") + kCadenceNames;
  if (o.due_day() < 1 || o.due_day() > 31) return "due day " + std::to_string(o.due_day()) + " is not 1-31";
  if (!ParseDate(o.from_date()).has_value()) {
    return "from date '" + sync::Printable(o.from_date(), 16) + "' is not YYYY-MM-DD";
  }
  if (o.issuer() != issuer) return "its issuer is not its writer";
  if (o.to_units_size() > 10000) return "it names more than 10,000 units";
  for (const std::string& unit : o.to_units()) {
    if (!sync::IsValidNodeId(unit) || sync::ParentOf(unit) != issuer) {
      return "'" + sync::Printable(unit, 80) + "' is not a unit directly below " + std::string(issuer);
    }
  }
  return "";
}

std::optional<absl::CivilDay> DueDate(const v1::Obligation& o, std::string_view period,
                                      const WorkingCalendar& calendar) {
  const CadenceInfo* info = InfoOf(o.every());
  const std::optional<absl::CivilMonth> first = FirstMonthOf(period, o.every());
  if (info == nullptr || !first.has_value()) return std::nullopt;
  const absl::CivilMonth after_end = *first + info->months;
  return calendar.OnOrNextWorkingDay(DayOfMonth(after_end, static_cast<int>(o.due_day())));
}

std::vector<DuePeriod> PeriodsDueBy(const v1::Obligation& o, absl::CivilDay until,
                                    const WorkingCalendar& calendar) {
  std::vector<DuePeriod> out;
  const CadenceInfo* info = InfoOf(o.every());
  const std::optional<absl::CivilDay> from = ParseDate(o.from_date());
  if (info == nullptr || !from.has_value()) return out;
  // The first month of the period holding from_date.
  const int first_month = (from->month() - 1) / info->months * info->months + 1;
  absl::CivilMonth month(from->year(), first_month);
  for (int i = 0; i < 1200; ++i, month += info->months) {
    const std::string period = PeriodName(o.every(), static_cast<int>(month.year()), month.month());
    const std::optional<absl::CivilDay> due = DueDate(o, period, calendar);
    if (!due.has_value() || *due > until) break;
    out.push_back({period, *due});
  }
  return out;
}

namespace {

// True when `text` is 1..max bytes that print as they are.
bool IsPrintableText(std::string_view text, size_t max_bytes) {
  return !text.empty() && text.size() <= max_bytes && sync::Printable(text, max_bytes) == text;
}

}  // namespace

std::string CheckExtensionRequest(const v1::ExtensionRequest& r, std::string_view unit) {
  if (r.unit() != unit) return "it names unit '" + sync::Printable(r.unit(), 80) + "', not its writer";
  const std::string issuer = OwnerOfId(v1::OBLIGATION, r.obligation_id());
  if (issuer.empty() || issuer != sync::ParentOf(unit)) {
    return "'" + sync::Printable(r.obligation_id(), 80) + "' is not an obligation of the unit directly above " +
           std::string(unit);
  }
  if (!IsReportingPeriod(r.period())) {
    return "period '" + sync::Printable(r.period(), 32) + "' is not " + kPeriodFormats;
  }
  if (!ParseDate(r.until()).has_value()) return "until '" + sync::Printable(r.until(), 16) + "' is not YYYY-MM-DD";
  if (!IsPrintableText(r.reason(), kMaxExtensionReasonBytes)) {
    return "a reason of 1 to " + std::to_string(kMaxExtensionReasonBytes) +
           " bytes of printable text is required (no line breaks or control characters)";
  }
  return "";
}

std::string CheckExtensionAgainst(const v1::Obligation& o, const v1::ExtensionRequest& r,
                                  const WorkingCalendar& calendar) {
  if (!o.to_units().empty() &&
      std::find(o.to_units().begin(), o.to_units().end(), r.unit()) == o.to_units().end()) {
    return "the obligation does not ask " + r.unit() + " to report";
  }
  if (!PeriodHasCadence(r.period(), o.every())) {
    return "period '" + sync::Printable(r.period(), 32) + "' is not a " + std::string(CadenceName(o.every())) +
           " period (" + std::string(PeriodFormOf(o.every())) + ")";
  }
  const std::optional<absl::CivilDay> due = DueDate(o, r.period(), calendar);
  const std::optional<absl::CivilDay> until = ParseDate(r.until());
  if (!due.has_value() || !until.has_value()) return "no due date for period " + r.period();
  if (*until <= *due) {
    return "until " + r.until() + " is not after the period's due date " + FormatDate(*due);
  }
  if (*until > *due + kMaxExtensionDays) {
    return "until " + r.until() + " is more than " + std::to_string(kMaxExtensionDays) +
           " days after the due date " + FormatDate(*due);
  }
  return "";
}

std::string CheckExtensionDecision(const v1::ExtensionDecision& d) {
  if (d.state() != "GRANTED" && d.state() != "DENIED") {
    return "decision '" + sync::Printable(d.state(), 16) + "' is not GRANTED or DENIED";
  }
  if (!d.reason().empty() && !IsPrintableText(d.reason(), kMaxExtensionReasonBytes)) {
    return "the reason is not printable text of at most " + std::to_string(kMaxExtensionReasonBytes) + " bytes";
  }
  return "";
}

void GrantedExtensions::Add(const v1::ExtensionRequest& r) {
  const std::optional<absl::CivilDay> until = ParseDate(r.until());
  if (!until.has_value()) return;
  auto [it, added] = until_.try_emplace({r.unit(), r.obligation_id(), r.period()}, *until);
  if (!added && it->second < *until) it->second = *until;
}

std::optional<absl::CivilDay> GrantedExtensions::UntilFor(std::string_view unit, std::string_view obligation_id,
                                                          std::string_view period) const {
  auto it = until_.find({std::string(unit), std::string(obligation_id), std::string(period)});
  if (it == until_.end()) return std::nullopt;
  return it->second;
}

std::optional<absl::CivilDay> DueDateFor(const v1::Obligation& o, std::string_view obligation_id,
                                         std::string_view period, std::string_view unit,
                                         const GrantedExtensions& granted, const WorkingCalendar& calendar) {
  const std::optional<absl::CivilDay> due = DueDate(o, period, calendar);
  if (!due.has_value()) return std::nullopt;
  const std::optional<absl::CivilDay> until = granted.UntilFor(unit, obligation_id, period);
  if (!until.has_value()) return due;
  return std::max(*due, calendar.OnOrNextWorkingDay(*until));
}

}  // namespace steersync::domain
