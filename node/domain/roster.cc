#include "node/domain/roster.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "node/domain/powers.h"
#include "sync/node_path.h"

namespace steersync::domain {
namespace {

struct RoleInfo {
  v1::Role role;
  const char* name;
  uint32_t rank;
};

// DOMAIN-MODEL.md §1.6.
constexpr RoleInfo kRoles[] = {
    {v1::HEAD, "HEAD", 100},
    {v1::STANDING_DEPUTY_HEAD, "STANDING_DEPUTY_HEAD", 90},
    {v1::DEPUTY_HEAD, "DEPUTY_HEAD", 80},
    {v1::STANDING_AGENCY, "STANDING_AGENCY", 70},
    {v1::MEMBER, "MEMBER", 60},
    {v1::SECRETARY, "SECRETARY", 55},
    {v1::TEAM_LEADER, "TEAM_LEADER", 50},
    {v1::WORKING_GROUP_LEAD, "WORKING_GROUP_LEAD", 45},
    {v1::TEAM_MEMBER, "TEAM_MEMBER", 40},
    {v1::STAFF, "STAFF", 10},
    {v1::SYS_ADMIN, "SYS_ADMIN", 0},
};

bool IsDeputy(v1::Role role) {
  return role == v1::STANDING_DEPUTY_HEAD || role == v1::DEPUTY_HEAD;
}

// Acts a clerk of the node makes without a committee capacity.
bool Clerical(Action action) {
  return action == Action::kReceiveReport || action == Action::kReceiveDirective ||
         action == Action::kRosterEntry;
}

AuthorityVerdict Refuse(std::string code, std::string detail) {
  AuthorityVerdict v;
  v.reason_code = std::move(code);
  v.detail = std::move(detail);
  return v;
}

}  // namespace

uint32_t RankOf(v1::Role role) {
  for (const auto& r : kRoles) {
    if (r.role == role) return r.rank;
  }
  return 0;
}

std::string RoleName(v1::Role role) {
  for (const auto& r : kRoles) {
    if (r.role == role) return r.name;
  }
  return "UNSPECIFIED";
}

std::optional<v1::Role> ParseRole(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = (c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& r : kRoles) {
    if (upper == r.name) return r.role;
  }
  return std::nullopt;
}

bool IsDate(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(date[i]))) return false;
  }
  using namespace std::chrono;
  const int y = std::stoi(std::string(date.substr(0, 4)));
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(date.substr(5, 2))));
  const unsigned d = static_cast<unsigned>(std::stoi(std::string(date.substr(8, 2))));
  return year_month_day{year{y}, month{m}, day{d}}.ok();
}

bool InWindow(std::string_view date, std::string_view from, std::string_view to) {
  return (from.empty() || date >= from) && (to.empty() || date <= to);
}

std::string DefaultBodyOf(std::string_view node_id) { return std::string(node_id) + "/committee"; }

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kIssueDirective: return "issue a directive";
    case Action::kRecallDirective: return "recall a directive";
    case Action::kSubmitReport: return "submit a report";
    case Action::kIssueObligation: return "issue a reporting obligation";
    case Action::kAssignTask: return "assign a task";
    case Action::kAssignMemberTask: return "assign a task to a member";
    case Action::kUpdateTask: return "report progress on a task";
    case Action::kReviewTask: return "accept or return a task";
    case Action::kRequestExtension: return "request an extension of a report's due date";
    case Action::kDecideExtension: return "grant or deny an extension";
    case Action::kSetCalendar: return "set the working-day calendar";
    case Action::kWithdrawReport: return "withdraw a report";
    case Action::kReceiveReport: return "register a report as received";
    case Action::kReviewReport: return "accept or return a report";
    case Action::kReceiveDirective: return "register a directive as received";
    case Action::kReceipt: return "acknowledge or return a directive";
    case Action::kConveneMeeting: return "convene an extraordinary meeting";
    case Action::kSetWorkingGroup: return "set a working group";
    case Action::kRosterEntry: return "record a roster entry";
  }
  return "act";
}

bool Roster::IsRosterKind(v1::RecordKind kind) {
  return kind == v1::UNIT || kind == v1::BODY || kind == v1::MEMBERSHIP ||
         kind == v1::ACTING_WINDOW || kind == v1::SIGNING_AUTHORISATION ||
         kind == v1::ABSENCE_WINDOW;
}

void Roster::Erase(std::string_view id) {
  if (auto it = memberships_.find(id); it != memberships_.end()) {
    --members_per_body_[it->second.body_id()];
    memberships_.erase(it);
  }
  if (auto it = acting_.find(id); it != acting_.end()) acting_.erase(it);
  if (auto it = authorisations_.find(id); it != authorisations_.end()) authorisations_.erase(it);
  if (auto it = records_.find(id); it != records_.end()) records_.erase(it);
}

const v1::RecordBody* Roster::Find(std::string_view id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

void Roster::Put(const v1::RecordBody& body) {
  if (!IsRosterKind(body.kind())) return;
  const std::string& id = body.id();
  Erase(id);
  records_[id] = body;
  if (body.tombstone()) return;
  switch (body.kind()) {
    case v1::MEMBERSHIP: {
      v1::Membership m;
      if (!m.ParseFromString(body.payload())) return;
      ++members_per_body_[m.body_id()];
      memberships_[id] = std::move(m);
      break;
    }
    case v1::ACTING_WINDOW: {
      v1::ActingWindow a;
      if (a.ParseFromString(body.payload())) acting_[id] = std::move(a);
      break;
    }
    case v1::SIGNING_AUTHORISATION: {
      v1::SigningAuthorisation a;
      if (a.ParseFromString(body.payload())) authorisations_[id] = std::move(a);
      break;
    }
    default:
      break;
  }
}

bool Roster::HasMembers(std::string_view body_id) const {
  auto it = members_per_body_.find(body_id);
  return it != members_per_body_.end() && it->second > 0;
}

const v1::Membership* Roster::FindMembership(std::string_view membership_id) const {
  auto it = memberships_.find(membership_id);
  return it == memberships_.end() ? nullptr : &it->second;
}

std::vector<std::string> Roster::MembersWithRole(std::string_view body_id, v1::Role role,
                                                 std::string_view date) const {
  std::vector<std::string> ids;
  for (const auto& [id, m] : memberships_) {
    if (m.body_id() == body_id && m.role() == role && InWindow(date, m.valid_from(), m.valid_to())) {
      ids.push_back(id);
    }
  }
  return ids;
}

std::string Roster::ActingWindowFor(std::string_view membership_id, std::string_view date) const {
  for (const auto& [id, a] : acting_) {  // by id: the same answer on every node
    if (a.acting_membership_id() == membership_id && InWindow(date, a.from(), a.to())) return id;
  }
  return "";
}

bool Roster::ActingWindowCovers(std::string_view id, std::string_view membership_id,
                                std::string_view date) const {
  auto it = acting_.find(id);
  return it != acting_.end() && it->second.acting_membership_id() == membership_id &&
         InWindow(date, it->second.from(), it->second.to());
}

bool Roster::AuthorisationCovers(std::string_view id, std::string_view membership_id,
                                 std::string_view formula, std::string_view doc_type,
                                 std::string_view date) const {
  auto it = authorisations_.find(id);
  if (it == authorisations_.end()) return false;
  const v1::SigningAuthorisation& a = it->second;
  return a.delegate_membership_id() == membership_id && a.formula() == formula &&
         InWindow(date, a.from(), a.to()) &&
         (a.scope().empty() || std::find(a.scope().begin(), a.scope().end(), doc_type) != a.scope().end());
}

std::string Roster::AuthorisationFor(std::string_view membership_id, std::string_view formula,
                                     std::string_view doc_type, std::string_view date) const {
  for (const auto& [id, a] : authorisations_) {
    if (a.delegate_membership_id() != membership_id || a.formula() != formula) continue;
    if (!InWindow(date, a.from(), a.to())) continue;
    if (!a.scope().empty() &&
        std::find(a.scope().begin(), a.scope().end(), doc_type) == a.scope().end()) {
      continue;
    }
    return id;
  }
  return "";
}

AuthorityVerdict Authorize(const Roster& roster, std::string_view writer, const Capacity& capacity,
                           std::string_view legal_date, const Act& act) {
  const std::string body_id = capacity.body_id.empty() ? DefaultBodyOf(writer) : capacity.body_id;
  // Bodies are "<node>/<name>": a prefix test would let a province act in
  // its communes' bodies.
  if (sync::ParentOf(body_id) != writer) {
    return Refuse("CAPACITY_INVALID", "body '" + body_id + "' is not hosted by '" +
                                          std::string(writer) + "': acts are made only in its own bodies");
  }
  if (!IsDate(legal_date)) return Refuse("CAPACITY_INVALID", "legal date '" + std::string(legal_date) + "'");
  AuthorityVerdict v;
  v1::Authority& a = v.authority;
  a.set_unit_depth(static_cast<uint32_t>(sync::DepthOf(writer)));
  a.set_body_id(body_id);

  if (capacity.membership_id.empty()) {
    // Once the unit's committee (or the named body) has a roster, every act
    // but a clerk's declares a capacity: naming another body is no way round.
    const std::string committee = DefaultBodyOf(writer);
    if (!Clerical(act.action) && (roster.HasMembers(body_id) || roster.HasMembers(committee))) {
      return Refuse("CAPACITY_REQUIRED",
                    "body '" + (roster.HasMembers(body_id) ? body_id : committee) +
                        "' has a roster: the act must declare the capacity it is made in");
    }
    if (!capacity.formula.empty()) {
      return Refuse("DELEGATION_MISSING", "formula " + capacity.formula + " needs a declared capacity");
    }
    // Before a body's roster exists (and for clerical acts) the act is the
    // node's clerk's: the lowest rank that still counts (§1.6 STAFF).
    a.set_role_rank(RankOf(v1::STAFF));
    a.set_capacity("STAFF");
    v.ok = true;
    if (!Clerical(act.action)) v.note = "unrostered: body '" + body_id + "' has no roster yet";
    return v;
  }

  const v1::Membership* m = roster.FindMembership(capacity.membership_id);
  if (m == nullptr) {
    return Refuse("CAPACITY_INVALID", "no membership '" + capacity.membership_id + "' in the roster");
  }
  if (m->body_id() != body_id) {
    return Refuse("CAPACITY_INVALID", "membership '" + capacity.membership_id + "' is in body '" +
                                          m->body_id() + "', not '" + body_id + "'");
  }
  if (!InWindow(legal_date, m->valid_from(), m->valid_to())) {
    return Refuse("CAPACITY_INVALID",
                  m->full_name() + " was not " + RoleName(m->role()) + " of '" + body_id + "' on " +
                      std::string(legal_date) + " (membership valid " + m->valid_from() + ".." +
                      (m->valid_to().empty() ? "" : m->valid_to()) + ")");
  }
  a.set_role_rank(RankOf(m->role()));
  a.set_capacity(RoleName(m->role()));
  a.set_officer(m->full_name());
  a.set_membership_id(capacity.membership_id);
  a.set_formula(capacity.formula);
  // The delegations the act may rely on: found (writer) or as claimed (receiver).
  std::string acting;
  std::string authorisation;
  if (!capacity.delegation_ref.has_value()) {
    acting = roster.ActingWindowFor(capacity.membership_id, legal_date);
    if (!capacity.formula.empty()) {
      authorisation = roster.AuthorisationFor(capacity.membership_id, capacity.formula, act.doc_type, legal_date);
    }
  } else if (!capacity.delegation_ref->empty()) {
    const std::string& ref = *capacity.delegation_ref;
    if (roster.ActingWindowCovers(ref, capacity.membership_id, legal_date)) {
      acting = ref;
    } else if (roster.AuthorisationCovers(ref, capacity.membership_id, capacity.formula, act.doc_type,
                                          legal_date)) {
      authorisation = ref;
    } else {
      return Refuse("DELEGATION_MISSING", "'" + ref + "' does not cover " + m->full_name() + " on " +
                                              std::string(legal_date) +
                                              (act.doc_type.empty() ? "" : " for type " + act.doc_type));
    }
  }
  const bool own_power = HasOwnPower(m->role(), LevelOf(writer), act);

  if (capacity.formula.empty()) {
    if (!own_power) {
      std::string hint = IsDeputy(m->role()) ? " (a Deputy signs the Head's acts as KT., with a delegation)" : "";
      return Refuse("POWER_DENIED", RoleName(m->role()) + " may not " + std::string(ActionName(act.action)) + hint);
    }
    a.set_acting_for_head(!acting.empty());
    a.set_delegation_ref(acting);
    v.ok = true;
    return v;
  }

  if (capacity.formula != "KT" && capacity.formula != "TUQ" && capacity.formula != "TL") {
    return Refuse("POWER_DENIED", "unknown signature formula '" + capacity.formula + "'");
  }
  if (capacity.formula == "KT" && !IsDeputy(m->role())) {
    return Refuse("POWER_DENIED", "only a Deputy Head signs KT. (for the Head), not " + RoleName(m->role()));
  }
  // KT. rests on an acting window or a KT. authorisation; TUQ./TL. only on a
  // written authorisation (D30 Art. 13, S16).
  const std::string delegation = capacity.formula == "KT" && !acting.empty() ? acting : authorisation;
  if (delegation.empty()) {
    if (own_power) {
      a.set_acting_for_head(false);
      v.ok = true;
      v.note = capacity.formula + ". without a delegation covering " + std::string(legal_date) +
               ": admitted in the signer's own capacity";
      return v;
    }
    return Refuse("DELEGATION_MISSING",
                  m->full_name() + " signs " + capacity.formula + ". on " + std::string(legal_date) +
                      " but no acting window or signing authorisation covers that date" +
                      (act.doc_type.empty() ? "" : " and type " + act.doc_type) + ", and " +
                      RoleName(m->role()) + " may not " + std::string(ActionName(act.action)) +
                      " in their own capacity");
  }
  a.set_delegation_ref(delegation);
  // R3: a KT. signature, or any act under an acting window (judged only by
  // the delegation named, so later roster records never change it).
  a.set_acting_for_head(capacity.formula == "KT" || delegation == acting);
  v.ok = true;
  return v;
}

bool SameAuthority(const v1::Authority& claimed, const v1::Authority& computed) {
  // Field by field: fields a newer writer adds (unknown here) do not count.
  return claimed.unit_depth() == computed.unit_depth() && claimed.role_rank() == computed.role_rank() &&
         claimed.acting_for_head() == computed.acting_for_head() &&
         claimed.capacity() == computed.capacity() && claimed.officer() == computed.officer() &&
         claimed.membership_id() == computed.membership_id() && claimed.formula() == computed.formula() &&
         claimed.delegation_ref() == computed.delegation_ref() && claimed.body_id() == computed.body_id();
}

Capacity CapacityOf(const v1::Authority& authority) {
  return Capacity{authority.body_id(), authority.membership_id(), authority.formula(),
                  authority.delegation_ref()};
}

bool IsWorkingGroupEntry(const Roster& roster, v1::RecordKind kind, const std::string& payload) {
  auto body_is_group = [&](std::string_view body_id) {
    v1::Body b;
    const v1::RecordBody* record = roster.Find(body_id);
    return record != nullptr && record->kind() == v1::BODY && b.ParseFromString(record->payload()) &&
           b.kind() == "WORKING_GROUP";
  };
  auto membership_in_group = [&](std::string_view membership_id) {
    const v1::Membership* m = roster.FindMembership(membership_id);
    return m != nullptr && body_is_group(m->body_id());
  };
  switch (kind) {
    case v1::BODY: {
      v1::Body b;
      return b.ParseFromString(payload) && b.kind() == "WORKING_GROUP";
    }
    case v1::MEMBERSHIP: {
      v1::Membership m;
      return m.ParseFromString(payload) && body_is_group(m.body_id());
    }
    case v1::ACTING_WINDOW: {
      v1::ActingWindow w;
      return w.ParseFromString(payload) && membership_in_group(w.acting_membership_id());
    }
    case v1::ABSENCE_WINDOW: {
      v1::AbsenceWindow w;
      return w.ParseFromString(payload) && membership_in_group(w.membership_id());
    }
    case v1::SIGNING_AUTHORISATION: {
      v1::SigningAuthorisation g;
      return g.ParseFromString(payload) && membership_in_group(g.delegate_membership_id());
    }
    default:
      return false;
  }
}

std::string OverlappingSoleHolder(const Roster& roster, std::string_view membership_id, const v1::Membership& m) {
  if (m.role() != v1::HEAD && m.role() != v1::STANDING_DEPUTY_HEAD) return "";
  auto overlaps = [](const v1::Membership& a, const v1::Membership& b) {
    // Inclusive YYYY-MM-DD windows; an empty end is open.
    const bool a_ends_before_b = !a.valid_to().empty() && a.valid_to() < b.valid_from();
    const bool b_ends_before_a = !b.valid_to().empty() && b.valid_to() < a.valid_from();
    return !a_ends_before_b && !b_ends_before_a;
  };
  for (const auto& [id, body] : roster.records()) {
    if (body.kind() != v1::MEMBERSHIP || id == membership_id) continue;
    const v1::Membership* other = roster.FindMembership(id);
    if (other != nullptr && other->body_id() == m.body_id() && other->role() == m.role() && overlaps(*other, m)) {
      return id;
    }
  }
  return "";
}

}  // namespace steersync::domain
