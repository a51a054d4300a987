#include "node/domain/powers.h"

#include <algorithm>
#include <initializer_list>

#include "sync/node_path.h"

namespace steersync::domain {
namespace {

enum class Levels { kAny, kProvinceOrAbove, kCommune };
enum class Types { kAny, kOffice };

struct PowerRow {
  Action action;
  Types types;
  Levels levels;
  std::initializer_list<v1::Role> roles;
  std::string_view basis;
};

// DOMAIN-MODEL.md §4. First matching row with the role wins; no row: no power.
const PowerRow kPowers[] = {
    {Action::kIssueDirective, Types::kAny, Levels::kAny, {v1::HEAD}, "P 3.1, C 3.1, S14"},
    {Action::kIssueDirective, Types::kOffice, Levels::kProvinceOrAbove, {v1::STANDING_AGENCY}, "P 6.4, S14"},
    {Action::kIssueDirective, Types::kOffice, Levels::kCommune, {v1::DEPUTY_HEAD}, "C 4.4, S14"},
    // Recalling a document is issuing its recall (D30 Art. 18.4): the same powers.
    {Action::kRecallDirective, Types::kAny, Levels::kAny, {v1::HEAD}, "P 3.1, C 3.1, D30 Art. 18.4"},
    {Action::kRecallDirective, Types::kOffice, Levels::kProvinceOrAbove, {v1::STANDING_AGENCY}, "P 6.4, D30 Art. 18.4"},
    {Action::kRecallDirective, Types::kOffice, Levels::kCommune, {v1::DEPUTY_HEAD}, "C 4.4, D30 Art. 18.4"},
    {Action::kSubmitReport, Types::kAny, Levels::kAny, {v1::HEAD}, "P 12.2, S18"},
    // The Committee's requests for reports (P 12.2; C 10.2), made by the
    // Head, a Deputy Head or, at a province, the Standing Agency (S11).
    {Action::kIssueObligation, Types::kAny, Levels::kAny,
     {v1::HEAD, v1::STANDING_DEPUTY_HEAD, v1::DEPUTY_HEAD}, "P 12.2, C 10.2, S11"},
    {Action::kIssueObligation, Types::kAny, Levels::kProvinceOrAbove, {v1::STANDING_AGENCY}, "P 12.2, S11"},
    // Tasks (§4): assigned by the Standing Agency (P 6.6), the Head or the
    // Deputies (P 8.9; C 4.5); closed by the assigner or a higher rank.
    {Action::kAssignTask, Types::kAny, Levels::kAny,
     {v1::HEAD, v1::STANDING_DEPUTY_HEAD, v1::DEPUTY_HEAD, v1::STANDING_AGENCY}, "P 6.6, 8.9, C 4.5"},
    // Tasks to Members (§4): the Head (P 3.1, C 3.1); "other tasks" the
    // Head or the Deputies (P 5.2, 7.7; C 5.5). The Standing Agency tasks
    // the Team (P 6.6), not members.
    {Action::kAssignMemberTask, Types::kAny, Levels::kAny,
     {v1::HEAD, v1::STANDING_DEPUTY_HEAD, v1::DEPUTY_HEAD}, "P 3.1, 5.2, 7.7; C 3.1, 5.5"},
    {Action::kReviewTask, Types::kAny, Levels::kAny,
     {v1::HEAD, v1::STANDING_DEPUTY_HEAD, v1::DEPUTY_HEAD, v1::STANDING_AGENCY}, "§4 task closure"},
    // Extensions (DOMAIN-MODEL E2): the unit that owes the report asks, in
    // the capacity that submits it (P 12.2, S18); whoever may issue the
    // obligation decides (P 12.2, C 10.2, S11).
    {Action::kRequestExtension, Types::kAny, Levels::kAny, {v1::HEAD}, "P 12.2, S18, E2"},
    {Action::kDecideExtension, Types::kAny, Levels::kAny,
     {v1::HEAD, v1::STANDING_DEPUTY_HEAD, v1::DEPUTY_HEAD}, "P 12.2, C 10.2, E2"},
    {Action::kDecideExtension, Types::kAny, Levels::kProvinceOrAbove, {v1::STANDING_AGENCY}, "P 12.2, S11, E2"},
    // The working-day calendar (§7) sets everyone's deadlines: the Head, a
    // Deputy, or the Standing Agency, which organises the committee's work
    // (P 6.4).
    {Action::kSetCalendar, Types::kAny, Levels::kAny, {v1::HEAD, v1::STANDING_DEPUTY_HEAD, v1::DEPUTY_HEAD},
     "§7, P 3.1"},
    {Action::kSetCalendar, Types::kAny, Levels::kProvinceOrAbove, {v1::STANDING_AGENCY}, "§7, P 6.4"},
    {Action::kWithdrawReport, Types::kAny, Levels::kAny, {v1::HEAD}, "S18, §1.10"},
    {Action::kReviewReport, Types::kAny, Levels::kAny,
     {v1::HEAD, v1::STANDING_DEPUTY_HEAD, v1::DEPUTY_HEAD, v1::STANDING_AGENCY}, "P 6.1, 8.3"},
    {Action::kConveneMeeting, Types::kAny, Levels::kAny,
     {v1::HEAD, v1::STANDING_DEPUTY_HEAD, v1::DEPUTY_HEAD}, "P 9.1, C 7.1"},
    {Action::kSetWorkingGroup, Types::kAny, Levels::kAny, {v1::HEAD, v1::DEPUTY_HEAD, v1::TEAM_LEADER},
     "C 4.5, 6.8"},
};

bool LevelMatches(Levels levels, Level level) {
  switch (levels) {
    case Levels::kAny: return true;
    case Levels::kProvinceOrAbove: return level != Level::kCommune;
    case Levels::kCommune: return level == Level::kCommune;
  }
  return false;
}

const PowerRow* FindRow(v1::Role role, Level level, const Act& act) {
  for (const PowerRow& row : kPowers) {
    if (row.action != act.action || !LevelMatches(row.levels, level)) continue;
    if (row.types == Types::kOffice && !IsOfficeDocumentType(act.doc_type)) continue;
    if (std::find(row.roles.begin(), row.roles.end(), role) != row.roles.end()) return &row;
  }
  return nullptr;
}

// Acts anyone in the committee makes: registering receipts and transcribing
// decisions into the roster (STAFF included; §1.6 "may draft and register").
bool AnyMember(Action action) {
  return action == Action::kReceiveReport || action == Action::kReceiveDirective || action == Action::kReceipt ||
         action == Action::kRosterEntry || action == Action::kUpdateTask;
}

}  // namespace

Level LevelOf(std::string_view unit) {
  const int depth = sync::DepthOf(unit);
  return depth == 0 ? Level::kNational : depth == 1 ? Level::kProvince : Level::kCommune;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kNational: return "national";
    case Level::kProvince: return "province";
    case Level::kCommune: return "commune";
  }
  return "?";
}

bool RoleExistsAt(v1::Role role, Level level) {
  switch (role) {
    case v1::STANDING_DEPUTY_HEAD:
    case v1::STANDING_AGENCY:
    case v1::SECRETARY:
      return level != Level::kCommune;
    case v1::WORKING_GROUP_LEAD:
      return level == Level::kCommune;
    case v1::ROLE_UNSPECIFIED:
      return false;
    default:
      return v1::Role_IsValid(role);
  }
}

bool HasOwnPower(v1::Role role, Level level, const Act& act) {
  if (role == v1::SYS_ADMIN || role == v1::ROLE_UNSPECIFIED) return false;
  if (AnyMember(act.action)) return true;
  return FindRow(role, level, act) != nullptr;
}

std::string_view PowerBasis(v1::Role role, Level level, const Act& act) {
  const PowerRow* row = FindRow(role, level, act);
  return row == nullptr ? "" : row->basis;
}

bool IsOfficeDocumentType(std::string_view doc_type) {
  return doc_type == "TB" || doc_type == "BB" || doc_type == "GM";
}

bool IsDocumentType(std::string_view doc_type) {
  static constexpr std::string_view kTypes[] = {
      "NQ", "QĐ", "CT", "QC", "QYĐ", "TC", "TB", "HD", "CTr", "KH", "PA", "ĐA", "DA", "BC",
      "BB", "TTr", "HĐ", "CĐ", "BGN", "BTT", "GUQ", "GM", "GGT", "GNP", "PG", "PC", "PB", "CV"};
  return std::find(std::begin(kTypes), std::end(kTypes), doc_type) != std::end(kTypes);
}

std::string_view LevelCode(Level level) {
  switch (level) {
    case Level::kNational: return "NATIONAL";
    case Level::kProvince: return "PROVINCE";
    case Level::kCommune: return "COMMUNE";
  }
  return "?";
}

bool IsBodyKindAt(std::string_view kind, Level level) {
  if (kind == "COMMITTEE") return true;
  if (kind == "STANDING_AGENCY" || kind == "ASSISTANCE_TEAM") return level == Level::kProvince;
  if (kind == "WORKING_TEAM" || kind == "WORKING_GROUP") return level == Level::kCommune;
  return false;
}

bool IsActingBasis(std::string_view basis) {
  if (basis == "AUTO_P4_2" || basis == "AUTO_C4_1") return true;
  constexpr std::string_view kDesignated = "DESIGNATED(";
  return basis.size() > kDesignated.size() + 1 && basis.substr(0, kDesignated.size()) == kDesignated &&
         basis.back() == ')';
}

}  // namespace steersync::domain
