#include "node/domain/act_checks.h"

#include "node/domain/calendar_records.h"
#include "node/domain/obligations.h"
#include "node/domain/record_checks.h"
#include "sync/node_path.h"

#include <algorithm>

#include "node/domain/documents.h"
#include "node/domain/legal_date.h"
#include "sync/status_macros.h"
#include "sync/text.h"
#include "sync/version_vector.h"

namespace steersync::domain {
namespace {

sync::Admission Refuse(std::string code, std::string detail) {
  return sync::Admission{false, std::move(code), std::move(detail)};
}

std::string StateOf(const v1::RecordBody& body) {
  v1::ReportStatus st;
  return body.kind() == v1::REPORT_STATUS && st.ParseFromString(body.payload()) ? st.state() : "";
}

// §1.10: the report status moves forward only. A version whose author had
// seen one of `after` (it descends from it) may not set `state`: WITHDRAWN
// only before RECEIVED (S18); RECEIVED once, before any review. A concurrent
// one is admitted and the hierarchy decides (E1).
absl::StatusOr<sync::Admission> CheckStatusOrder(sync::WriteView& view, const v1::RecordBody& body,
                                                 const std::string& state) {
  std::vector<std::string> after;
  std::string code;
  if (state == "WITHDRAWN") {
    after = {"RECEIVED", "ACCEPTED", "RETURNED"};
    code = "WITHDRAWN_AFTER_RECEIPT";
  } else if (state == "RECEIVED") {
    after = {"RECEIVED", "ACCEPTED", "RETURNED", "SUPERSEDED"};
    code = "BAD_STATE";
  } else {
    return sync::Admission{};
  }
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> current, view.Get(body.id()));
  if (!current.has_value()) return sync::Admission{};
  std::vector<v1::Record> held{*current};
  SYNC_ASSIGN_OR_RETURN(std::vector<v1::Record> losers, view.Losers(body.id()));
  held.insert(held.end(), losers.begin(), losers.end());
  for (const v1::Record& r : held) {
    v1::RecordBody seen;
    if (!seen.ParseFromString(r.body())) {
      return absl::DataLossError("stored version of " + body.id() + " does not parse");
    }
    const std::string seen_state = StateOf(seen);
    if (std::find(after.begin(), after.end(), seen_state) == after.end()) continue;
    if (sync::CompareVectors(seen.version().vector(), body.version().vector()) ==
        sync::Causality::kBefore) {
      return Refuse(code, state == "WITHDRAWN"
                              ? "the report was already " + seen_state + " by " + seen.version().writer() +
                                    " when it was withdrawn: submit a replacement report instead (D30 Art. 18.3)"
                              : "RECEIVED is set once, on verification, not after " + seen_state);
    }
  }
  return sync::Admission{};
}

// A directive held in a view: its body and payload.
struct HeldDirective {
  v1::RecordBody body;
  v1::Directive directive;
};

// Directive `id` as held in `view`; nullopt when this node does not hold it
// (it was addressed to other units).
absl::StatusOr<std::optional<HeldDirective>> FindDirective(sync::WriteView& view, const std::string& id) {
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, view.Get(id));
  if (!record.has_value()) return std::optional<HeldDirective>();
  HeldDirective held;
  if (!held.body.ParseFromString(record->body())) {
    return absl::DataLossError("stored version of " + id + " does not parse");
  }
  if (held.body.kind() != v1::DIRECTIVE || !ParseDirective(held.body, held.directive)) {
    return std::optional<HeldDirective>();
  }
  return std::optional<HeldDirective>(std::move(held));
}

std::string RelationVerb(v1::DocumentRelation::Kind kind) {
  switch (kind) {
    case v1::DocumentRelation::REPLACES: return "replace";
    case v1::DocumentRelation::AMENDS: return "amend";
    case v1::DocumentRelation::CORRECTS: return "correct";
    case v1::DocumentRelation::RECALLS: return "recall";
    default: return "relate to";
  }
}

// §3.4 supersession authority, P 2.1 and P 3.1: a document may replace,
// amend, correct or recall `target` only when its signer could have issued
// `target` in the capacity declared (the power matrix, §4), and only when the
// target's signer does not outrank it. (The same unit: record_checks.cc.)
sync::Admission CheckRelation(const Roster& roster, const v1::RecordBody& body,
                              v1::DocumentRelation::Kind kind, const HeldDirective& target) {
  const v1::Version& version = body.version();
  const v1::Authority& mine = version.authority();
  const v1::Authority& theirs = target.body.version().authority();
  const std::string verb = RelationVerb(kind);
  const std::string what = "'" + target.body.id() + "' (" + sync::Printable(target.directive.number(), 40) + ")";
  const Act issue_target{Action::kIssueDirective, target.directive.doc_type()};
  const AuthorityVerdict could_issue =
      Authorize(roster, version.writer(), CapacityOf(mine), version.legal_date(), issue_target);
  if (!could_issue.ok) {
    return Refuse("RELATION_DENIED", mine.capacity() + " may not " + verb + " " + what +
                                         ": it could not issue a " + target.directive.doc_type() +
                                         " itself (" + could_issue.reason_code + "; DOMAIN-MODEL §3.4, P 3.1)");
  }
  if (EffectiveRank(mine) < EffectiveRank(theirs)) {
    return Refuse("RELATION_DENIED",
                  mine.capacity() + " (rank " + std::to_string(EffectiveRank(mine)) + ") may not " + verb + " " +
                      what + ", signed by " + theirs.capacity() + " (rank " +
                      std::to_string(EffectiveRank(theirs)) + "): a lower rank never overturns a higher one (P 2.1, DOMAIN-MODEL §3.4)");
  }
  return sync::Admission{};
}

// The fields in which a claimed authority differs from the computed one.
std::string AuthorityDiff(const v1::Authority& claimed, const v1::Authority& computed) {
  std::string out;
  auto field = [&](const char* name, const std::string& a, const std::string& b) {
    if (a != b) out += std::string(out.empty() ? "" : ", ") + name + " '" + a + "' (roster: '" + b + "')";
  };
  field("unit depth", std::to_string(claimed.unit_depth()), std::to_string(computed.unit_depth()));
  field("capacity", claimed.capacity(), computed.capacity());
  field("rank", std::to_string(claimed.role_rank()), std::to_string(computed.role_rank()));
  field("acting for the Head", claimed.acting_for_head() ? "yes" : "no", computed.acting_for_head() ? "yes" : "no");
  field("officer", claimed.officer(), computed.officer());
  field("membership", claimed.membership_id(), computed.membership_id());
  field("formula", claimed.formula(), computed.formula());
  field("delegation", claimed.delegation_ref(), computed.delegation_ref());
  field("body", claimed.body_id(), computed.body_id());
  return out;
}

}  // namespace

std::optional<Act> ActOf(const v1::RecordBody& body, const v1::Directive* directive) {
  switch (body.kind()) {
    case v1::DIRECTIVE: {
      if (directive != nullptr) return Act{Action::kIssueDirective, directive->doc_type()};
      v1::Directive d;
      d.ParseFromString(body.payload());
      return Act{Action::kIssueDirective, d.doc_type()};
    }
    case v1::REPORT:
      return Act{Action::kSubmitReport, ""};
    case v1::OBLIGATION:
      return Act{Action::kIssueObligation, ""};
    case v1::TASK: {
      v1::Task t;
      t.ParseFromString(body.payload());
      return Act{t.to_membership().empty() ? Action::kAssignTask : Action::kAssignMemberTask, ""};
    }
    case v1::EXTENSION_REQUEST:
      return Act{Action::kRequestExtension, ""};
    case v1::EXTENSION_DECISION:
      return Act{Action::kDecideExtension, ""};
    case v1::CALENDAR:
      return Act{Action::kSetCalendar, ""};
    case v1::TASK_STATUS: {
      v1::TaskStatus st;
      st.ParseFromString(body.payload());
      return Act{st.state() == "ACCEPTED" || st.state() == "RETURNED" ? Action::kReviewTask : Action::kUpdateTask, ""};
    }
    case v1::REPORT_STATUS: {
      const std::string state = StateOf(body);
      if (state == "SUBMITTED") return Act{Action::kSubmitReport, ""};
      if (state == "WITHDRAWN") return Act{Action::kWithdrawReport, ""};
      if (state == "RECEIVED") return Act{Action::kReceiveReport, ""};  // the registry's
      return Act{Action::kReviewReport, ""};  // ACCEPTED, RETURNED, SUPERSEDED
    }
    case v1::ACKNOWLEDGEMENT: {
      v1::Acknowledgement a;
      a.ParseFromString(body.payload());
      switch (ParseReceiptState(a.state()).value_or(ReceiptState::kAcknowledged)) {
        case ReceiptState::kRecalled: return Act{Action::kRecallDirective, ""};
        case ReceiptState::kReturned:
        case ReceiptState::kAcknowledged: return Act{Action::kReceipt, ""};
        case ReceiptState::kReceived: return Act{Action::kReceiveDirective, ""};
      }
      return std::nullopt;
    }
    case v1::UNIT:
    case v1::BODY:
    case v1::MEMBERSHIP:
    case v1::ACTING_WINDOW:
    case v1::SIGNING_AUTHORISATION:
    case v1::ABSENCE_WINDOW:
      return Act{Action::kRosterEntry, ""};
    default:
      return std::nullopt;
  }
}

absl::StatusOr<sync::Admission> CheckReportAgainstObligation(sync::WriteView& view, const v1::RecordBody& body) {
  v1::Report r;
  r.ParseFromString(body.payload());  // well-formed: record_checks.cc
  if (r.obligation_id().empty()) return sync::Admission{};
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> held, view.Get(r.obligation_id()));
  v1::RecordBody obligation_body;
  v1::Obligation obligation;
  // An obligation this node does not hold (issued above its parent and
  // relayed past it) cannot be judged here; its issuer judges it.
  if (!held.has_value() || !obligation_body.ParseFromString(held->body()) ||
      obligation_body.kind() != v1::OBLIGATION || !obligation.ParseFromString(obligation_body.payload())) {
    return sync::Admission{};
  }
  if (!PeriodHasCadence(r.period(), obligation.every())) {
    return Refuse("BAD_PERIOD", "period '" + sync::Printable(r.period(), 32) + "' is not a " +
                                    std::string(CadenceName(obligation.every())) + " period (" +
                                    std::string(PeriodFormOf(obligation.every())) + ") of obligation " +
                                    r.obligation_id());
  }
  return sync::Admission{};
}

namespace {

// Record `id` held in `view` when it is of `kind`, with its payload parsed
// into `payload`; false when not held (or of another kind).
absl::StatusOr<bool> GetPayload(sync::WriteView& view, const std::string& id, v1::RecordKind kind,
                                google::protobuf::Message& payload) {
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> held, view.Get(id));
  v1::RecordBody body;
  return held.has_value() && body.ParseFromString(held->body()) && body.kind() == kind &&
         payload.ParseFromString(body.payload());
}

// An extension request against the obligation it names, when held here
// (the issuer and the requester hold it; a relay may not).
absl::StatusOr<sync::Admission> CheckExtensionInContext(sync::WriteView& view, const v1::RecordBody& body) {
  v1::ExtensionRequest r;
  r.ParseFromString(body.payload());  // well-formed: record_checks.cc
  v1::Obligation o;
  SYNC_ASSIGN_OR_RETURN(bool held, GetPayload(view, r.obligation_id(), v1::OBLIGATION, o));
  if (!held) return sync::Admission{};
  const int year = std::stoi(r.period().substr(0, 4));
  SYNC_ASSIGN_OR_RETURN(
      WorkingCalendar calendar,
      CalendarForYears(r.unit(), {year, year + 1}, [&](const std::string& id) -> absl::StatusOr<std::optional<v1::RecordBody>> {
        SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> held, view.Get(id));
        v1::RecordBody body;
        if (!held.has_value() || !body.ParseFromString(held->body())) return std::optional<v1::RecordBody>();
        return std::optional<v1::RecordBody>(std::move(body));
      }));
  if (const std::string wrong = CheckExtensionAgainst(o, r, calendar); !wrong.empty()) {
    return Refuse("BAD_EXTENSION", "extension of " + r.obligation_id() + " " + r.period() + ": " + wrong);
  }
  return sync::Admission{};
}

// A decision answers a request of an obligation its writer issued.
absl::StatusOr<sync::Admission> CheckDecisionInContext(sync::WriteView& view, const v1::RecordBody& body) {
  v1::ExtensionDecision d;
  d.ParseFromString(body.payload());  // well-formed: record_checks.cc
  v1::ExtensionRequest r;
  SYNC_ASSIGN_OR_RETURN(bool held, GetPayload(view, d.request_id(), v1::EXTENSION_REQUEST, r));
  if (held && OwnerOfId(v1::OBLIGATION, r.obligation_id()) != body.version().writer()) {
    return Refuse("ISSUER_MISMATCH", "only the issuer of " + r.obligation_id() + " decides on " + d.request_id());
  }
  return sync::Admission{};
}

// A calendar of a year for which a unit above its writer set one: its
// writer is not the top of the federation.
absl::StatusOr<sync::Admission> CheckCalendarIsTop(sync::WriteView& view, const v1::RecordBody& body) {
  v1::CalendarYear y;
  y.ParseFromString(body.payload());  // well-formed: record_checks.cc
  const std::string& writer = body.version().writer();
  for (std::string above = sync::ParentOf(writer); !above.empty(); above = sync::ParentOf(above)) {
    const std::string id = CalendarId(above, static_cast<int>(y.year()));
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> held, view.Get(id));
    if (held.has_value()) {
      return Refuse("NOT_TOP", "'" + writer + "' is not the top of the federation: this node holds " + id +
                                   "; only the top node (no parent) sets the working-day calendar (§7)");
    }
  }
  return sync::Admission{};
}

}  // namespace

uint32_t EffectiveRank(const v1::Authority& authority) {
  return authority.acting_for_head() ? RankOf(v1::HEAD) : authority.role_rank();
}

absl::StatusOr<sync::Admission> AdmitAct(const Roster& roster, sync::WriteView& view,
                                         const v1::RecordBody& body, std::string_view body_bytes) {
  // The version held now, read once. (A version held byte for byte never gets
  // here: ApplyRecords counts it a duplicate without judging it again.)
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> current, view.Get(body.id()));
  const bool has_current = current.has_value();
  v1::RecordBody held;
  if (has_current && !held.ParseFromString(current->body())) {
    return absl::DataLossError("stored version of " + body.id() + " does not parse");
  }
  // One id, one kind: a version may not turn a report into a membership.
  if (has_current && held.kind() != body.kind()) {
    return Refuse("ID_NOT_OWNED", "'" + body.id() + "' is a " + v1::RecordKind_Name(held.kind()) +
                                      ", not a " + v1::RecordKind_Name(body.kind()));
  }
  // A directive's payload is parsed once here (its type, then its relations).
  v1::Directive directive;
  if (body.kind() == v1::DIRECTIVE) directive.ParseFromString(body.payload());  // well-formed: record_checks.cc
  std::optional<Act> act = ActOf(body, body.kind() == v1::DIRECTIVE ? &directive : nullptr);
  if (!act.has_value()) return sync::Admission{};
  // A recall names no type of its own: it is the recalled document's.
  std::optional<HeldDirective> recalled;
  if (act->action == Action::kRecallDirective) {
    v1::Acknowledgement a;
    a.ParseFromString(body.payload());  // well-formed: record_checks.cc
    SYNC_ASSIGN_OR_RETURN(recalled, FindDirective(view, a.directive_id()));
    if (recalled.has_value()) act->doc_type = recalled->directive.doc_type();
  }
  // The legal date is the signing day of the version's own clock (±1 day for
  // clocks near midnight): an act cannot be backdated into an expired
  // delegation (E8) nor dated ahead to win R5.
  const int64_t wall = static_cast<int64_t>(body.version().hlc().wall_micros());
  constexpr int64_t kDay = 86'400'000'000;
  const std::string& date = body.version().legal_date();
  const std::string signing_day = LegalDate(wall);
  if (date != signing_day && date != LegalDate(wall - kDay) && date != LegalDate(wall + kDay)) {
    return Refuse("BAD_LEGAL_DATE", "legal date " + sync::Printable(date, 16) + " is not the signing day " +
                                        signing_day + " of the version's clock");
  }
  const v1::Version& version = body.version();
  const AuthorityVerdict verdict =
      Authorize(roster, version.writer(), CapacityOf(version.authority()), version.legal_date(), *act);
  if (!verdict.ok) return Refuse(verdict.reason_code, verdict.detail);
  if (!SameAuthority(version.authority(), verdict.authority)) {
    return Refuse("AUTHORITY_MISMATCH", "the version claims " +
                                            AuthorityDiff(version.authority(), verdict.authority) +
                                            " on " + version.legal_date());
  }
  if (body.kind() == v1::MEMBERSHIP) {
    v1::Membership m;
    m.ParseFromString(body.payload());  // well-formed: record_checks.cc
    if (const std::string holder = OverlappingSoleHolder(roster, body.id(), m); !holder.empty()) {
      return Refuse("ROLE_TAKEN", "'" + m.body_id() + "' has one " + RoleName(m.role()) + " at a time and '" +
                                      holder + "' holds it in an overlapping window: end it first (`steerctl member end`)");
    }
  }
  // Relations between documents (§3.4). A target this node does not hold
  // (addressed to other units) changes nothing here and cannot be judged.
  if (recalled.has_value()) {
    sync::Admission a = CheckRelation(roster, body, v1::DocumentRelation::RECALLS, *recalled);
    if (!a.admitted) return a;
  }
  if (body.kind() == v1::DIRECTIVE) {
    for (const v1::DocumentRelation& rel : directive.relations()) {
      SYNC_ASSIGN_OR_RETURN(std::optional<HeldDirective> target, FindDirective(view, rel.target()));
      if (!target.has_value()) continue;
      sync::Admission a = CheckRelation(roster, body, rel.kind(), *target);
      if (!a.admitted) return a;
    }
  }
  if (body.kind() == v1::REPORT) {
    sync::Admission a;
    SYNC_ASSIGN_OR_RETURN(a, CheckReportAgainstObligation(view, body));
    if (!a.admitted) return a;
  }
  if (body.kind() == v1::TASK_STATUS) {
    // The status of a task held here names its assignee (a task not held
    // cannot be judged here).
    v1::TaskStatus st;
    st.ParseFromString(body.payload());  // well-formed: record_checks.cc
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> task_record, view.Get(st.task_id()));
    v1::RecordBody task_body;
    v1::Task task;
    if (task_record.has_value() && task_body.ParseFromString(task_record->body()) &&
        task.ParseFromString(task_body.payload()) && body.id() != task.to_unit() + "/ts/" + st.task_id()) {
      return Refuse("ISSUER_MISMATCH", "task " + st.task_id() + " is assigned to " + task.to_unit());
    }
    // A member's task: only that member reports progress and DONE on it.
    const bool by_assignee = st.state() == "OPEN" || st.state() == "DONE";
    if (!task.to_membership().empty() && by_assignee &&
        body.version().authority().membership_id() != task.to_membership()) {
      return Refuse("POWER_DENIED", "task " + st.task_id() + " is assigned to member " + task.to_membership() +
                                        ": only that member reports on it (§4 \"Task status updates\")");
    }
  }
  if (body.kind() == v1::EXTENSION_REQUEST || body.kind() == v1::EXTENSION_DECISION ||
      body.kind() == v1::CALENDAR) {
    sync::Admission a;
    if (body.kind() == v1::EXTENSION_REQUEST) {
      SYNC_ASSIGN_OR_RETURN(a, CheckExtensionInContext(view, body));
    } else if (body.kind() == v1::EXTENSION_DECISION) {
      SYNC_ASSIGN_OR_RETURN(a, CheckDecisionInContext(view, body));
    } else {
      SYNC_ASSIGN_OR_RETURN(a, CheckCalendarIsTop(view, body));
    }
    if (!a.admitted) return a;
  }
  if (body.kind() == v1::DIRECTIVE || body.kind() == v1::REPORT || body.kind() == v1::EXTENSION_REQUEST) {
    if (has_current && current->body() != body_bytes) {
      return Refuse("IMMUTABLE", "'" + body.id() +
                                     "' is signed and cannot change: issue a new one that replaces, "
                                     "amends or corrects it (D30 Art. 18.3)");
    }
  }
  return CheckStatusOrder(view, body, StateOf(body));
}

}  // namespace steersync::domain
