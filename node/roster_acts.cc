// Keeping a node's roster (DOMAIN-MODEL.md §1.1–§1.7): units, bodies,
// memberships, acting windows and signing authorisations. Each is a record
// owned by this node that flows AROUND it (its subtree and its parent), so
// every node that judges this node's acts holds the roster they were made
// under; a working group's entries stay LOCAL (§1.3). Entries transcribe
// external decisions (S17) and must cite them.
#include <algorithm>
#include <map>
#include <tuple>

#include <spdlog/spdlog.h>

#include "node/roster_acts.h"
#include "node/domain/powers.h"
#include "node/domain/record_checks.h"
#include "sync/node_path.h"
#include "sync/status_macros.h"

namespace steersync::node {
namespace {

absl::Status CheckDate(const std::string& date, const std::string& what, bool required) {
  if (date.empty() && !required) return absl::OkStatus();
  if (!domain::IsDate(date)) return absl::InvalidArgumentError(what + " '" + date + "' is not a date YYYY-MM-DD");
  return absl::OkStatus();
}

absl::Status CheckWindow(const std::string& from, const std::string& to) {
  SYNC_RETURN_IF_ERROR(CheckDate(from, "from", true));
  SYNC_RETURN_IF_ERROR(CheckDate(to, "to", false));
  if (!to.empty() && to < from) return absl::InvalidArgumentError("window ends (" + to + ") before it starts (" + from + ")");
  return absl::OkStatus();
}

v1::WriteReply Reply(const std::string& id, const std::string& version) {
  v1::WriteReply r;
  r.set_id(id);
  r.set_version(version);
  return r;
}

}  // namespace

absl::StatusOr<v1::WriteReply> RosterActs::Write(v1::RecordKind kind, std::string id,
                                                 const google::protobuf::Message& payload) {
  LocalAct act{domain::Act{domain::Action::kRosterEntry, ""}, v1::ActAs(), std::nullopt};
  const std::string bytes = payload.SerializeAsString();
  SYNC_ASSIGN_OR_RETURN(const bool local, admission_.ReadRoster([&](const domain::Roster& roster) {
    return absl::StatusOr<bool>(domain::IsWorkingGroupEntry(roster, kind, bytes));
  }));
  SYNC_ASSIGN_OR_RETURN(
      Written w, local_.Write(act, [&](uint64_t counter, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
        body.set_kind(kind);
        body.mutable_audience()->set_direction(local ? v1::Audience::LOCAL : v1::Audience::AROUND);
        body.mutable_audience()->set_root(self_);
        body.set_payload(bytes);
        // "<node>/<kind>/#" ids take this write's counter.
        if (!id.empty() && id.back() == '#') return id.substr(0, id.size() - 1) + std::to_string(counter);
        return id;
      }));
  return Reply(w.id, w.version);
}

absl::StatusOr<v1::WriteReply> RosterActs::AddUnit(const v1::AddUnitRequest& request) {
  if (!sync::IsValidNodeId(request.unit()) || !sync::IsSelfOrAncestor(self_, request.unit())) {
    return absl::InvalidArgumentError("'" + request.unit() + "' is not this unit or a unit below " + self_);
  }
  if (request.name().empty()) return absl::InvalidArgumentError("unit name is required");
  SYNC_RETURN_IF_ERROR(CheckDate(request.valid_from(), "valid from", false));
  v1::Unit u;
  u.set_unit(request.unit());
  u.set_name(request.name());
  u.set_level(request.level().empty() ? std::string(domain::LevelCode(domain::LevelOf(request.unit())))
                                      : request.level());
  u.set_commune_kind(request.commune_kind());
  u.set_admin_code(request.admin_code());
  u.set_valid_from(request.valid_from());
  *u.mutable_predecessors() = request.predecessors();
  return Write(v1::UNIT, self_ + "/unit/" + request.unit(), u);
}

absl::StatusOr<v1::WriteReply> RosterActs::AddBody(const v1::AddBodyRequest& request) {
  if (request.slug().empty() || request.slug().find('/') != std::string::npos ||
      domain::IsReservedSlug(request.slug())) {
    return absl::InvalidArgumentError("body slug must be a name without '/' other than d, r, a, m, "
                                      "acting, auth, unit, crl, status");
  }
  SYNC_RETURN_IF_ERROR(CheckDate(request.valid_from(), "valid from", false));
  v1::Body b;
  b.set_unit(self_);
  b.set_kind(request.kind().empty() ? "COMMITTEE" : request.kind());
  b.set_name(request.name().empty() ? request.slug() : request.name());
  b.set_abbrev(request.abbrev().empty() ? "BCĐ" : request.abbrev());
  b.set_established_by(request.established_by());
  b.set_valid_from(request.valid_from());
  return Write(v1::BODY, self_ + "/" + request.slug(), b);
}

absl::StatusOr<v1::WriteReply> RosterActs::AddMember(const v1::AddMemberRequest& request) {
  std::optional<v1::Role> role = domain::ParseRole(request.role());
  if (!role.has_value() || *role == v1::SYS_ADMIN) {
    return absl::InvalidArgumentError("unknown role '" + request.role() + "'");
  }
  if (request.person_id().empty() || request.full_name().empty()) {
    return absl::InvalidArgumentError("a member needs a person id and a full name");
  }
  if (request.decision().empty()) {
    return absl::InvalidArgumentError("cite the appointing decision (--decision), e.g. 1742/QĐ-UBND (S17)");
  }
  SYNC_RETURN_IF_ERROR(CheckWindow(request.valid_from(), request.valid_to()));
  const std::string body_id = request.body_id().empty() ? domain::DefaultBodyOf(self_) : request.body_id();
  if (body_id.rfind(self_ + "/", 0) != 0) {
    return absl::InvalidArgumentError("body '" + body_id + "' is not hosted by " + self_);
  }
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> body_record, store_->GetRecord(body_id));
  if (!body_record.has_value()) {
    if (body_id != domain::DefaultBodyOf(self_)) {
      return absl::NotFoundError("no body '" + body_id + "' (add it with `steerctl body add`)");
    }
    v1::AddBodyRequest committee;
    committee.set_slug("committee");
    committee.set_name("Steering Committee on Digital Transformation of " + self_);
    SYNC_RETURN_IF_ERROR(AddBody(committee).status());
  }
  v1::Membership m;
  m.set_person_id(request.person_id());
  m.set_full_name(request.full_name());
  m.set_body_id(body_id);
  m.set_role(*role);
  m.set_order_in_decision(request.order_in_decision());
  m.set_valid_from(request.valid_from());
  m.set_valid_to(request.valid_to());
  m.set_appointed_by_doc(request.decision());
  return Write(v1::MEMBERSHIP, self_ + "/m/#", m);
}

absl::StatusOr<v1::WriteReply> RosterActs::EndMember(const v1::EndMemberRequest& request) {
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, store_->GetRecord(request.membership_id()));
  v1::RecordBody body;
  v1::Membership m;
  if (!record.has_value() || !body.ParseFromString(record->body()) || body.kind() != v1::MEMBERSHIP ||
      !m.ParseFromString(body.payload())) {
    return absl::NotFoundError("no membership '" + request.membership_id() + "'");
  }
  if (body.version().writer() != self_) {
    return absl::PermissionDeniedError("membership '" + request.membership_id() + "' is kept by " +
                                       body.version().writer());
  }
  SYNC_RETURN_IF_ERROR(CheckWindow(m.valid_from(), request.valid_to()));
  if (request.valid_to().empty()) return absl::InvalidArgumentError("give the last day (--to)");
  m.set_valid_to(request.valid_to());
  if (!request.decision().empty()) m.set_appointed_by_doc(m.appointed_by_doc() + "; ended by " + request.decision());
  return Write(v1::MEMBERSHIP, request.membership_id(), m);
}

absl::StatusOr<v1::WriteReply> RosterActs::SetActing(const v1::SetActingRequest& request) {
  SYNC_RETURN_IF_ERROR(CheckWindow(request.from(), request.to()));
  if (request.to().empty()) return absl::InvalidArgumentError("an acting window ends (--to)");
  auto checked = admission_.ReadRoster([&](const domain::Roster& roster) -> absl::StatusOr<v1::ActingWindow> {
    const v1::Membership* m = roster.FindMembership(request.acting_membership_id());
    if (m == nullptr || m->body_id().rfind(self_ + "/", 0) != 0) {
      return absl::NotFoundError("no membership '" + request.acting_membership_id() + "' on " + self_);
    }
    if (m->role() != v1::STANDING_DEPUTY_HEAD && m->role() != v1::DEPUTY_HEAD) {
      return absl::InvalidArgumentError(m->full_name() + " is " + domain::RoleName(m->role()) +
                                        ": only a Deputy Head acts for the Head (P 4.2, C 4.1)");
    }
    // §1.7: at most one acting window per body per day.
    for (const auto& [id, record] : roster.records()) {
      v1::ActingWindow other;
      if (record.kind() != v1::ACTING_WINDOW || !other.ParseFromString(record.payload())) continue;
      if (other.body_id() != m->body_id()) continue;
      if (other.from() <= request.to() && request.from() <= other.to()) {
        return absl::FailedPreconditionError("acting window " + id + " (" + other.from() + ".." +
                                             other.to() + ") already covers part of these days");
      }
    }
    v1::ActingWindow w;
    w.set_acting_membership_id(request.acting_membership_id());
    w.set_body_id(m->body_id());
    w.set_from(request.from());
    w.set_to(request.to());
    w.set_reason(request.reason());
    std::string basis = request.basis();
    if (basis.empty()) {
      if (m->role() == v1::STANDING_DEPUTY_HEAD) {
        basis = "AUTO_P4_2";
      } else if (domain::LevelOf(self_) == domain::Level::kCommune) {
        basis = "AUTO_C4_1";
      } else {
        return absl::InvalidArgumentError(
            m->full_name() + " is not the Standing Deputy: another Deputy acts for the Head only when the Head "
            "designates them in writing; give --basis 'DESIGNATED(<document>)' (DOMAIN-MODEL §1.7, S1)");
      }
    } else if (!domain::IsActingBasis(basis)) {
      return absl::InvalidArgumentError("acting basis '" + basis +
                                        "' is not AUTO_P4_2, AUTO_C4_1 or DESIGNATED(<document>)");
    }
    w.set_basis(basis);
    return w;
  });
  if (!checked.ok()) return checked.status();
  return Write(v1::ACTING_WINDOW, self_ + "/acting/#", *checked);
}

absl::StatusOr<v1::SetAbsenceReply> RosterActs::SetAbsence(const v1::SetAbsenceRequest& request) {
  SYNC_RETURN_IF_ERROR(CheckWindow(request.from(), request.to()));
  if (request.to().empty()) return absl::InvalidArgumentError("an absence ends (--to)");
  // The absent member, and who acts if it is the Head: at the province the
  // Standing Deputy (P 4.2, S2), at a commune the Deputy (C 4.1); then the
  // other Deputies by their order in the decision (S1, S25), skipping any
  // absent on those days too.
  struct Plan {
    v1::Membership absent;
    std::string acting;
    std::string acting_name;
  };
  auto plan = admission_.ReadRoster([&](const domain::Roster& roster) -> absl::StatusOr<Plan> {
    const v1::Membership* m = roster.FindMembership(request.membership_id());
    if (m == nullptr || domain::OwnerOfId(v1::MEMBERSHIP, request.membership_id()) != self_) {
      return absl::NotFoundError("no membership '" + request.membership_id() + "' on " + self_);
    }
    Plan p{*m, "", ""};
    if (m->role() != v1::HEAD) return p;
    std::vector<std::pair<std::tuple<int, uint32_t, std::string>, const v1::Membership*>> deputies;
    std::map<std::string, v1::Membership> by_id;
    for (const auto& [id, record] : roster.records()) {
      const v1::Membership* d = roster.FindMembership(id);
      if (d == nullptr || d->body_id() != m->body_id()) continue;
      if (d->role() != v1::STANDING_DEPUTY_HEAD && d->role() != v1::DEPUTY_HEAD) continue;
      if (!domain::InWindow(request.from(), d->valid_from(), d->valid_to())) continue;
      bool away = false;
      for (const auto& [aid, arecord] : roster.records()) {
        v1::AbsenceWindow w;
        if (arecord.kind() != v1::ABSENCE_WINDOW || !w.ParseFromString(arecord.payload())) continue;
        away |= w.membership_id() == id && w.from() <= request.to() && request.from() <= w.to();
      }
      if (away) continue;
      const int standing_first = d->role() == v1::STANDING_DEPUTY_HEAD ? 0 : 1;
      deputies.push_back({{standing_first, d->order_in_decision(), id}, d});
    }
    std::sort(deputies.begin(), deputies.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    if (!deputies.empty()) {
      p.acting = std::get<2>(deputies.front().first);
      p.acting_name = deputies.front().second->full_name();
    }
    return p;
  });
  if (!plan.ok()) return plan.status();
  v1::AbsenceWindow w;
  w.set_membership_id(request.membership_id());
  w.set_body_id(plan->absent.body_id());
  w.set_from(request.from());
  w.set_to(request.to());
  w.set_reason(request.reason());
  SYNC_ASSIGN_OR_RETURN(v1::WriteReply written, Write(v1::ABSENCE_WINDOW, self_ + "/absence/#", w));
  v1::SetAbsenceReply reply;
  reply.set_id(written.id());
  reply.set_version(written.version());
  if (plan->absent.role() != v1::HEAD) return reply;
  if (plan->acting.empty()) {
    reply.set_warning("no Deputy Head can act for the Head from " + request.from() + " to " + request.to() +
                      ": the Head's acts are blocked until one is designated (`steerctl acting set`, S1)");
    return reply;
  }
  v1::SetActingRequest acting;
  acting.set_acting_membership_id(plan->acting);
  acting.set_from(request.from());
  acting.set_to(request.to());
  acting.set_reason("the Head " + plan->absent.full_name() + " is absent" +
                    (request.reason().empty() ? "" : ": " + request.reason()));
  auto set = SetActing(acting);
  if (!set.ok()) {
    reply.set_warning("the absence is recorded, but " + plan->acting_name + " was not made acting: " +
                      std::string(set.status().message()));
    return reply;
  }
  reply.set_acting_id(set->id());
  reply.set_acting_membership_id(plan->acting);
  return reply;
}

absl::StatusOr<v1::WriteReply> RosterActs::AddAuthorisation(const v1::AddAuthorisationRequest& request) {
  if (request.formula() != "KT" && request.formula() != "TUQ" && request.formula() != "TL") {
    return absl::InvalidArgumentError("formula must be KT, TUQ or TL");
  }
  if (request.granted_by_doc().empty()) {
    return absl::InvalidArgumentError("cite the document granting it (--decision), D30 Art. 13.3");
  }
  SYNC_RETURN_IF_ERROR(CheckWindow(request.from(), request.to()));
  const std::string body_id = admission_.ReadRoster([&](const domain::Roster& roster) {
    const v1::Membership* m = roster.FindMembership(request.delegate_membership_id());
    return m == nullptr ? std::string() : m->body_id();
  });
  if (body_id.rfind(self_ + "/", 0) != 0) {
    return absl::NotFoundError("no membership '" + request.delegate_membership_id() + "' on " + self_);
  }
  v1::SigningAuthorisation g;
  g.set_delegate_membership_id(request.delegate_membership_id());
  g.set_body_id(body_id);
  g.set_formula(request.formula());
  *g.mutable_scope() = request.scope();
  g.set_from(request.from());
  g.set_to(request.to());
  g.set_granted_by_doc(request.granted_by_doc());
  return Write(v1::SIGNING_AUTHORISATION, self_ + "/auth/#", g);
}

absl::StatusOr<v1::ListRosterReply> RosterActs::ListRoster(const v1::ListRosterRequest& request) const {
  v1::ListRosterReply reply;
  admission_.ReadRoster([&](const domain::Roster& roster) {
    for (const auto& [id, body] : roster.records()) {
      v1::RosterEntry entry;
      entry.set_id(id);
      entry.set_owner(body.version().writer());
      auto& f = *entry.mutable_fields();
      switch (body.kind()) {
        case v1::UNIT: {
          v1::Unit u;
          u.ParseFromString(body.payload());
          entry.set_kind("unit");
          f["unit"] = u.unit();
          f["name"] = u.name();
          f["level"] = u.level();
          f["commune_kind"] = u.commune_kind();
          f["admin_code"] = u.admin_code();
          f["valid_from"] = u.valid_from();
          break;
        }
        case v1::BODY: {
          v1::Body b;
          b.ParseFromString(body.payload());
          entry.set_kind("body");
          f["unit"] = b.unit();
          f["kind"] = b.kind();
          f["name"] = b.name();
          f["abbrev"] = b.abbrev();
          break;
        }
        case v1::MEMBERSHIP: {
          v1::Membership m;
          m.ParseFromString(body.payload());
          entry.set_kind("member");
          f["person_id"] = m.person_id();
          f["full_name"] = m.full_name();
          f["body"] = m.body_id();
          f["role"] = domain::RoleName(m.role());
          f["rank"] = std::to_string(domain::RankOf(m.role()));
          f["valid_from"] = m.valid_from();
          f["valid_to"] = m.valid_to();
          f["decision"] = m.appointed_by_doc();
          break;
        }
        case v1::ACTING_WINDOW: {
          v1::ActingWindow w;
          w.ParseFromString(body.payload());
          entry.set_kind("acting");
          f["member"] = w.acting_membership_id();
          if (const v1::Membership* m = roster.FindMembership(w.acting_membership_id())) {
            f["full_name"] = m->full_name();
          }
          f["body"] = w.body_id();
          f["from"] = w.from();
          f["to"] = w.to();
          f["basis"] = w.basis();
          f["reason"] = w.reason();
          break;
        }
        case v1::ABSENCE_WINDOW: {
          v1::AbsenceWindow w;
          w.ParseFromString(body.payload());
          entry.set_kind("absence");
          f["member"] = w.membership_id();
          if (const v1::Membership* m = roster.FindMembership(w.membership_id())) {
            f["full_name"] = m->full_name();
          }
          f["from"] = w.from();
          f["to"] = w.to();
          f["reason"] = w.reason();
          break;
        }
        case v1::SIGNING_AUTHORISATION: {
          v1::SigningAuthorisation g;
          g.ParseFromString(body.payload());
          entry.set_kind("authorisation");
          f["member"] = g.delegate_membership_id();
          f["formula"] = g.formula();
          std::string scope;
          for (const auto& s : g.scope()) scope += (scope.empty() ? "" : ",") + s;
          f["scope"] = scope.empty() ? "*" : scope;
          f["from"] = g.from();
          f["to"] = g.to();
          f["decision"] = g.granted_by_doc();
          break;
        }
        default:
          continue;
      }
      if (!request.kind().empty() && request.kind() != entry.kind()) continue;
      *reply.add_entries() = std::move(entry);
    }
    return 0;
  });
  return reply;
}

}  // namespace steersync::node
