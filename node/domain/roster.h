#pragma once
// The committee roster and the authority of acts (DOMAIN-MODEL.md §1.5–§1.7,
// §4, §5.2–§5.4). Pure: no store, no clock. Every node holds the rosters of
// the bodies whose acts it judges (a province's flows down, a commune's up),
// and judges an act by the roster in force on the act's legal date, never by
// the day it arrived. The writer computes the authority it signs into the
// version; each receiver recomputes it and quarantines a version whose claim
// does not match (so a commune cannot sign itself a Head's rank).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "steersync/v1/record.pb.h"

namespace steersync::domain {

// Rank of a role (§1.6): HEAD 100 ... STAFF 10, SYS_ADMIN 0.
uint32_t RankOf(v1::Role role);
// "HEAD", "DEPUTY_HEAD", ...; ParseRole accepts the same names, any case.
std::string RoleName(v1::Role role);
std::optional<v1::Role> ParseRole(std::string_view name);

// True when YYYY-MM-DD `date` lies in [from, to]; an empty bound is open.
bool InWindow(std::string_view date, std::string_view from, std::string_view to);
// True when `date` is a valid calendar date written YYYY-MM-DD.
bool IsDate(std::string_view date);

// The body a node's acts are made in when they name none.
std::string DefaultBodyOf(std::string_view node_id);

// What an act does, for the power check (§4).
enum class Action {
  kIssueDirective,   // sign and issue an official document (P 3.1, S14)
  kRecallDirective,  // recall one (D30 Art. 18.4): the issuer's power
  kSubmitReport,     // report to the province (P 12.2, S18)
  kWithdrawReport,   // the reporting unit, only before RECEIVED (§1.10)
  kReceiveReport,    // RECEIVED, set automatically on verification (D30 21.2c)
  kReviewReport,     // ACCEPTED / RETURNED (P 6.1, 8.3)
  kReceiveDirective, // RECEIVED: the node registers a verified directive (D30 21.2c, S23)
  kReceipt,          // ACKNOWLEDGED / RETURNED: a person acknowledges or returns it (D30 Art. 21.2)
  kConveneMeeting,   // extraordinary meeting: Head or a Deputy (P 9.1, C 7.1)
  kSetWorkingGroup,  // Deputy Head creates (C 4.5), Team Leader staffs (C 6.8)
  kRosterEntry,      // transcribe an establishing decision (S17)
  kIssueObligation,  // ask units below for periodic reports (P 12.2, C 10.2, S11)
  kAssignTask,       // assign a task with a deadline (P 6.6, 8.9; C 4.5)
  kAssignMemberTask, // assign one to a member of the committee (P 3.1, 5.2, 7.7; C 3.1, 5.5)
  kUpdateTask,       // the assignee's progress and DONE (§4 "Task status updates")
  kReviewTask,       // the assigner accepts or returns it (§4 "Task closure")
  kRequestExtension, // the obliged unit asks for more time (D09 Art. 12, E2)
  kDecideExtension,  // the obligation's issuer grants or denies it (P 12.2, E2)
  kSetCalendar,      // the top node sets a year's working days (§7)
};

std::string_view ActionName(Action action);

struct Act {
  Action action;
  // Document type for kIssueDirective / kRecallDirective, e.g. "KH".
  std::string doc_type;
};

// The rosters a node knows: the current version of every roster record.
// Not thread-safe; the node guards it.
class Roster {
 public:
  // Adds or replaces roster record `body.id()` (its current version). A body
  // of another kind, or one that does not parse, is ignored.
  void Put(const v1::RecordBody& body);
  // Removes roster record `id`, as if it had never been Put().
  void Erase(std::string_view id);
  // The version of roster record `id` held, or null.
  const v1::RecordBody* Find(std::string_view id) const;
  // True when `kind` is one of the roster kinds Put() keeps.
  static bool IsRosterKind(v1::RecordKind kind);

  // True when at least one membership of `body_id` is recorded: from then on
  // every act in that body must declare a capacity.
  bool HasMembers(std::string_view body_id) const;
  const v1::Membership* FindMembership(std::string_view membership_id) const;
  // Memberships of `body_id` with `role` valid on `date`, by id.
  std::vector<std::string> MembersWithRole(std::string_view body_id, v1::Role role,
                                           std::string_view date) const;
  // The acting window covering `date` for `membership_id`, or "".
  std::string ActingWindowFor(std::string_view membership_id, std::string_view date) const;
  // Whether record `id` is an acting window / signing authorisation that
  // covers this act (a receiver checks the one the act names).
  bool ActingWindowCovers(std::string_view id, std::string_view membership_id,
                          std::string_view date) const;
  bool AuthorisationCovers(std::string_view id, std::string_view membership_id,
                           std::string_view formula, std::string_view doc_type,
                           std::string_view date) const;
  // A signing authorisation with `formula` for `membership_id` covering
  // `date` and `doc_type`, or "".
  std::string AuthorisationFor(std::string_view membership_id, std::string_view formula,
                               std::string_view doc_type, std::string_view date) const;

  const std::map<std::string, v1::RecordBody, std::less<>>& records() const { return records_; }

 private:
  std::map<std::string, v1::RecordBody, std::less<>> records_;
  std::map<std::string, v1::Membership, std::less<>> memberships_;
  std::map<std::string, v1::ActingWindow, std::less<>> acting_;
  std::map<std::string, v1::SigningAuthorisation, std::less<>> authorisations_;
  std::map<std::string, int, std::less<>> members_per_body_;
};

// What the writer declares about an act's capacity.
struct Capacity {
  std::string body_id;        // "" = DefaultBodyOf(writer)
  std::string membership_id;  // "" = unrostered (allowed only while the body has no roster)
  std::string formula;        // "" or "KT" / "TUQ" / "TL"
  // The acting window or authorisation the act relies on. Unset (the writer):
  // found in the roster. Set (a receiver, from the signed version): only that
  // record is checked, "" meaning none, so roster records added after the act
  // never change the verdict on it.
  std::optional<std::string> delegation_ref;
};

struct AuthorityVerdict {
  bool ok = false;
  // CAPACITY_REQUIRED, CAPACITY_INVALID, POWER_DENIED, DELEGATION_MISSING.
  std::string reason_code;
  std::string detail;
  // Valid when ok.
  v1::Authority authority;
  // Set when admitted but worth showing, e.g. a KT. formula with no delegation
  // behind it on an act the signer could make in their own capacity (E8).
  std::string note;
};

// The authority of `act`, declared as `capacity` by node `writer` on
// `legal_date`, under `roster` (§5.2–§5.4, ranks §1.6, acting §1.7).
AuthorityVerdict Authorize(const Roster& roster, std::string_view writer, const Capacity& capacity,
                           std::string_view legal_date, const Act& act);

// True when the authority signed into a version is exactly the one computed.
bool SameAuthority(const v1::Authority& claimed, const v1::Authority& computed);

// The capacity a version declares.
Capacity CapacityOf(const v1::Authority& authority);

// Roles one member holds at a time in a body: the Head and the Standing
// Deputy Head (P 2, P 4.2, C 2). For `m` (id `membership_id`), the id of
// another membership of that body holding the same such role in an
// overlapping window, or "" when none does.
std::string OverlappingSoleHolder(const Roster& roster, std::string_view membership_id, const v1::Membership& m);

// True when a roster entry (`kind`, `payload`) belongs to a commune working
// group: the group itself, or a membership, acting window, absence or
// authorisation in it. Such entries stay on their unit's node (§1.3: "Working
// groups stay local").
bool IsWorkingGroupEntry(const Roster& roster, v1::RecordKind kind, const std::string& payload);

}  // namespace steersync::domain
