#include "node/domain/record_checks.h"

#include "sync/attachments.h"

#include "node/domain/calendar.h"
#include "node/domain/calendar_records.h"
#include "node/domain/obligations.h"

#include "node/domain/documents.h"
#include "node/domain/powers.h"
#include "node/domain/roster.h"
#include "node/domain/unit_status.h"
#include "sync/node_path.h"
#include "sync/text.h"
#include "sync/routing.h"

namespace steersync::domain {
namespace {

sync::Admission Refuse(std::string code, std::string detail) {
  return sync::Admission{false, std::move(code), std::move(detail)};
}

// The part of `id` before `marker` when exactly one non-empty segment
// follows it ("<unit><marker><n>"), or "".
std::string Before(std::string_view id, std::string_view marker) {
  const size_t at = id.rfind(marker);
  if (at == std::string_view::npos || at == 0) return "";
  const std::string_view rest = id.substr(at + marker.size());
  if (rest.empty() || rest.find('/') != std::string_view::npos) return "";
  return std::string(id.substr(0, at));
}

// A roster record flows where the acts judged by it flow: down the subtree
// of the unit that owns it, or up to the units above it.
sync::Admission CheckRosterAudience(const v1::RecordBody& body) {
  const auto& audience = body.audience();
  const std::string& writer = body.version().writer();
  const bool local = audience.direction() == v1::Audience::LOCAL;
  if ((audience.direction() == v1::Audience::AROUND || local) && audience.root() == writer) {
    if (body.kind() == v1::BODY && !local) {
      v1::Body b;
      if (b.ParseFromString(body.payload()) && b.kind() == "WORKING_GROUP") {
        return Refuse("WRONG_DIRECTION", "a working group's roster stays on its unit's node (DOMAIN-MODEL §1.3)");
      }
    }
    return {};
  }
  return Refuse("WRONG_DIRECTION", "a roster record flows around its owner (its subtree and parent)");
}

// Checks of one roster record: it parses and names only its writer's bodies.
sync::Admission CheckRoster(const v1::RecordBody& body) {
  const std::string& writer = body.version().writer();
  auto parse = [&](google::protobuf::Message& m, const char* name) {
    return m.ParseFromString(body.payload()) ? sync::Admission{}
                                             : Refuse("MALFORMED_PAYLOAD", std::string("not a ") + name);
  };
  auto own = [&](v1::RecordKind kind, const std::string& ref, const char* what) {
    return OwnerOfId(kind, ref) == writer ? sync::Admission{}
                                  : Refuse("ISSUER_MISMATCH", std::string(what) + " '" + ref +
                                                                  "' is not one of '" + writer + "''s");
  };
  sync::Admission a;
  switch (body.kind()) {
    case v1::UNIT: {
      v1::Unit u;
      if (a = parse(u, "Unit"); !a.admitted) return a;
      if (!sync::IsValidNodeId(u.unit()) || !sync::IsSelfOrAncestor(writer, u.unit())) {
        return Refuse("ISSUER_MISMATCH", "'" + writer + "' registers only itself and units below it");
      }
      if (u.level() != LevelCode(LevelOf(u.unit()))) {
        return Refuse("MALFORMED_PAYLOAD", "unit '" + u.unit() + "' is at level " +
                                               std::string(LevelCode(LevelOf(u.unit()))) + ", not '" +
                                               sync::Printable(u.level(), 16) + "'");
      }
      if (!u.commune_kind().empty() &&
          (LevelOf(u.unit()) != Level::kCommune ||
           (u.commune_kind() != "XA" && u.commune_kind() != "PHUONG" && u.commune_kind() != "DAC_KHU"))) {
        return Refuse("MALFORMED_PAYLOAD", "commune kind '" + sync::Printable(u.commune_kind(), 16) +
                                               "' is not XA, PHUONG or DAC_KHU of a commune");
      }
      break;
    }
    case v1::BODY: {
      v1::Body b;
      if (a = parse(b, "Body"); !a.admitted) return a;
      if (b.unit() != writer) return Refuse("ISSUER_MISMATCH", "a body is registered by its own unit");
      if (!IsBodyKindAt(b.kind(), LevelOf(writer))) {
        return Refuse("MALFORMED_PAYLOAD", "a " + std::string(LevelName(LevelOf(writer))) + " hosts no body of kind '" +
                                               sync::Printable(b.kind(), 24) + "' (DOMAIN-MODEL §1.3)");
      }
      break;
    }
    case v1::MEMBERSHIP: {
      v1::Membership m;
      if (a = parse(m, "Membership"); !a.admitted) return a;
      if (a = own(v1::BODY, m.body_id(), "body"); !a.admitted) return a;
      if (m.role() == v1::ROLE_UNSPECIFIED) return Refuse("MALFORMED_PAYLOAD", "membership without a role");
      if (!RoleExistsAt(m.role(), LevelOf(writer))) {
        return Refuse("ROLE_NOT_AT_LEVEL", "a " + std::string(LevelName(LevelOf(writer))) +
                                               " committee has no " + RoleName(m.role()) + " (DOMAIN-MODEL §1.6)");
      }
      break;
    }
    case v1::ACTING_WINDOW: {
      v1::ActingWindow w;
      if (a = parse(w, "ActingWindow"); !a.admitted) return a;
      if (a = own(v1::MEMBERSHIP, w.acting_membership_id(), "membership"); !a.admitted) return a;
      if (!IsActingBasis(w.basis())) {
        return Refuse("MALFORMED_PAYLOAD", "acting basis '" + sync::Printable(w.basis(), 40) +
                                               "' is not AUTO_P4_2, AUTO_C4_1 or DESIGNATED(<document>) (§1.7, S1)");
      }
      break;
    }
    case v1::ABSENCE_WINDOW: {
      v1::AbsenceWindow w;
      if (a = parse(w, "AbsenceWindow"); !a.admitted) return a;
      if (a = own(v1::MEMBERSHIP, w.membership_id(), "membership"); !a.admitted) return a;
      break;
    }
    case v1::SIGNING_AUTHORISATION: {
      v1::SigningAuthorisation g;
      if (a = parse(g, "SigningAuthorisation"); !a.admitted) return a;
      if (a = own(v1::MEMBERSHIP, g.delegate_membership_id(), "membership"); !a.admitted) return a;
      if (g.formula() != "KT" && g.formula() != "TUQ" && g.formula() != "TL") {
        return Refuse("MALFORMED_PAYLOAD", "signing formula '" + sync::Printable(g.formula(), 16) +
                                               "' is not KT, TUQ or TL (D30 Art. 13)");
      }
      for (const std::string& type : g.scope()) {
        if (!IsDocumentType(type)) {
          return Refuse("MALFORMED_PAYLOAD", "scope '" + sync::Printable(type, 16) +
                                                 "' is not a document type (D30 Appendix III)");
        }
      }
      break;
    }
    default:
      break;
  }
  return CheckRosterAudience(body);
}

// A lifecycle version written by the owning unit flows up to the superior;
// one written by the superior flows down to the owning unit only.
sync::Admission CheckLifecycleAudience(const v1::RecordBody& body, const std::string& owner,
                                       const std::string& superior) {
  const std::string& writer = body.version().writer();
  const auto& audience = body.audience();
  if (writer == owner) {
    if (audience.direction() != v1::Audience::UP || audience.root() != superior) {
      return Refuse("WRONG_DIRECTION", "'" + owner + "' sends this up to '" + superior + "'");
    }
    return {};
  }
  if (audience.direction() != v1::Audience::DOWN || audience.root() != writer ||
      audience.units_size() != 1 || audience.units(0) != owner) {
    return Refuse("WRONG_DIRECTION", "'" + writer + "' sends this down to '" + owner + "' only");
  }
  return {};
}

// The unit the payload says wrote it, or an error admission.
sync::Admission CheckPayload(const v1::RecordBody& body) {
  const std::string& writer = body.version().writer();
  auto mismatch = [&](const std::string& named) {
    return Refuse("ISSUER_MISMATCH",
                  "payload names unit '" + named + "' but the version was written by '" + writer + "'");
  };
  switch (body.kind()) {
    case v1::DIRECTIVE: {
      v1::Directive d;
      if (!d.ParseFromString(body.payload())) return Refuse("MALFORMED_PAYLOAD", "not a Directive");
      // Since 0.3.0 the issuer is left to the version (ParseDirective); an
      // older directive names it, and it must be the writer.
      if (!d.issuer().empty() && d.issuer() != writer) return mismatch(d.issuer());
      if (!d.issued_date().empty() && !IsDate(d.issued_date())) {
        return Refuse("MALFORMED_PAYLOAD", "issue date '" + sync::Printable(d.issued_date(), 40) + "' is not a date");
      }
      if (body.audience().direction() != v1::Audience::DOWN &&
          body.audience().direction() != v1::Audience::LOCAL) {
        return Refuse("WRONG_DIRECTION", "a directive only flows down (or stays local)");
      }
      const uint64_t serial = d.serial();
      if (absl::Status s = CheckNumber(d.number(), d.doc_type(), serial); !s.ok()) {
        return Refuse("BAD_NUMBER", sync::Printable(std::string(s.message()), 160));
      }
      for (const std::string& unit : d.to_units()) {
        if (!sync::IsValidNodeId(unit) || !sync::IsSelfOrAncestor(writer, unit) || unit == writer) {
          return Refuse("NOT_ADDRESSED", "'" + sync::Printable(unit, 80) + "' is not a unit below '" + writer + "'");
        }
      }
      if (body.audience().root() != writer) {
        return Refuse("NOT_ADDRESSED", "a directive addresses only its issuer's subtree");
      }
      for (const auto& rel : d.relations()) {
        if (DirectiveIssuer(rel.target()) != writer) {
          return Refuse("ISSUER_MISMATCH", "only its issuer replaces, amends, corrects or recalls '" +
                                               rel.target() + "'");
        }
      }
      break;
    }
    case v1::REPORT: {
      v1::Report r;
      if (!r.ParseFromString(body.payload())) return Refuse("MALFORMED_PAYLOAD", "not a Report");
      if (r.from_unit() != writer) return mismatch(r.from_unit());
      if (!IsReportingPeriod(r.period())) {
        return Refuse("BAD_PERIOD", "period '" + sync::Printable(r.period(), 32) + "' is not " + kPeriodFormats);
      }
      if (body.audience().direction() != v1::Audience::UP) {
        return Refuse("WRONG_DIRECTION", "a report only flows up");
      }
      if (!r.supersedes_report().empty() && OwnerOfId(v1::REPORT, r.supersedes_report()) != writer) {
        return Refuse("ISSUER_MISMATCH", "a report replaces only an earlier report of its own unit");
      }
      if (!r.obligation_id().empty()) {
        const std::string issuer = OwnerOfId(v1::OBLIGATION, r.obligation_id());
        if (issuer.empty() || issuer == writer || !sync::IsSelfOrAncestor(issuer, writer)) {
          return Refuse("BAD_REFERENCE", "'" + sync::Printable(r.obligation_id(), 80) +
                                             "' is not an obligation of a unit above " + writer);
        }
      }
      break;
    }
    case v1::TASK: {
      v1::Task t;
      if (!t.ParseFromString(body.payload())) return Refuse("MALFORMED_PAYLOAD", "not a Task");
      if (t.assigner() != writer) return mismatch(t.assigner());
      if (t.title().empty()) return Refuse("MALFORMED_PAYLOAD", "a task needs a title");
      if (!ParseDate(t.due_date()).has_value()) {
        return Refuse("MALFORMED_PAYLOAD", "due date '" + sync::Printable(t.due_date(), 16) + "' is not YYYY-MM-DD");
      }
      if (!t.to_membership().empty()) {
        // A task to one member of the assigner's committee stays on its node.
        if (t.to_unit() != writer || OwnerOfId(v1::MEMBERSHIP, t.to_membership()) != writer) {
          return Refuse("MALFORMED_PAYLOAD", "'" + sync::Printable(t.to_membership(), 80) +
                                                 "' is not a membership of " + writer + "'s own committee");
        }
        if (body.audience().direction() != v1::Audience::LOCAL || body.audience().root() != writer) {
          return Refuse("WRONG_DIRECTION", "a member's task stays on its unit's node");
        }
        break;
      }
      if (!sync::IsValidNodeId(t.to_unit()) || sync::ParentOf(t.to_unit()) != writer) {
        return Refuse("MALFORMED_PAYLOAD", "'" + sync::Printable(t.to_unit(), 80) + "' is not a unit directly below " + writer);
      }
      if (body.audience().direction() != v1::Audience::DOWN || body.audience().root() != writer ||
          body.audience().units_size() != 1 || body.audience().units(0) != t.to_unit()) {
        return Refuse("WRONG_DIRECTION", "a task flows down to its assignee only");
      }
      break;
    }
    case v1::OBLIGATION: {
      v1::Obligation o;
      if (!o.ParseFromString(body.payload())) return Refuse("MALFORMED_PAYLOAD", "not an Obligation");
      if (const std::string wrong = CheckObligation(o, writer); !wrong.empty()) {
        return Refuse("MALFORMED_PAYLOAD", "obligation: " + wrong);
      }
      if (body.audience().direction() != v1::Audience::DOWN || body.audience().root() != writer) {
        return Refuse("WRONG_DIRECTION", "an obligation flows down from its issuer");
      }
      break;
    }
    case v1::EXTENSION_REQUEST: {
      v1::ExtensionRequest r;
      if (!r.ParseFromString(body.payload())) return Refuse("MALFORMED_PAYLOAD", "not an ExtensionRequest");
      if (const std::string wrong = CheckExtensionRequest(r, writer); !wrong.empty()) {
        return Refuse("BAD_EXTENSION", "extension request: " + wrong);
      }
      if (body.audience().direction() != v1::Audience::UP || body.audience().root() != sync::ParentOf(writer)) {
        return Refuse("WRONG_DIRECTION", "an extension request flows up to the obligation's issuer");
      }
      break;
    }
    case v1::EXTENSION_DECISION: {
      v1::ExtensionDecision d;
      if (!d.ParseFromString(body.payload())) return Refuse("MALFORMED_PAYLOAD", "not an ExtensionDecision");
      if (const std::string wrong = CheckExtensionDecision(d); !wrong.empty()) {
        return Refuse("BAD_STATE", "extension decision: " + wrong);
      }
      const std::string requester = OwnerOfId(v1::EXTENSION_REQUEST, d.request_id());
      if (requester.empty() || sync::ParentOf(requester) != writer || body.id() != writer + "/xd/" + d.request_id()) {
        return Refuse("ISSUER_MISMATCH", "decision id '" + body.id() + "' does not answer a request from a unit directly below '" + writer + "'");
      }
      if (body.audience().direction() != v1::Audience::DOWN || body.audience().root() != writer ||
          body.audience().units_size() != 1 || body.audience().units(0) != requester) {
        return Refuse("WRONG_DIRECTION", "an extension decision flows down to the requesting unit only");
      }
      break;
    }
    case v1::CALENDAR: {
      v1::CalendarYear y;
      if (!y.ParseFromString(body.payload())) return Refuse("MALFORMED_PAYLOAD", "not a CalendarYear");
      if (const std::string wrong = CheckCalendarYear(y); !wrong.empty()) {
        return Refuse("MALFORMED_PAYLOAD", "calendar: " + wrong);
      }
      if (body.id() != CalendarId(writer, static_cast<int>(y.year()))) {
        return Refuse("ISSUER_MISMATCH", "calendar id '" + body.id() + "' is not " + CalendarId(writer, static_cast<int>(y.year())));
      }
      if (body.audience().direction() != v1::Audience::DOWN || body.audience().root() != writer ||
          body.audience().units_size() != 0) {
        return Refuse("WRONG_DIRECTION", "a calendar flows down its writer's whole subtree");
      }
      break;
    }
    case v1::ACKNOWLEDGEMENT: {
      v1::Acknowledgement a;
      if (!a.ParseFromString(body.payload())) {
        return Refuse("MALFORMED_PAYLOAD", "not an Acknowledgement");
      }
      const std::string owner = LifecycleOwner(body.id());
      const std::string issuer = DirectiveIssuer(a.directive_id());
      if (a.unit() != owner || body.id() != owner + "/a/" + a.directive_id()) {
        return Refuse("ISSUER_MISMATCH", "receipt id '" + body.id() + "' does not match unit '" +
                                             a.unit() + "' and directive '" + a.directive_id() + "'");
      }
      if (issuer.empty() || !sync::IsSelfOrAncestor(issuer, owner) || issuer == owner) {
        return Refuse("ISSUER_MISMATCH", "'" + a.directive_id() + "' is not a directive from above '" + owner + "'");
      }
      const std::optional<ReceiptState> state = ParseReceiptState(a.state());
      if (writer == owner) {
        if (state != ReceiptState::kReceived && state != ReceiptState::kAcknowledged &&
            state != ReceiptState::kReturned) {
          return Refuse("BAD_STATE", "a unit receives, acknowledges or returns a directive, it does not set '" +
                                         sync::Printable(a.state(), 32) + "'");
        }
      } else if (writer == issuer) {
        if (state != ReceiptState::kRecalled) return Refuse("BAD_STATE", "the issuer only recalls a directive");
      } else {
        return Refuse("ID_NOT_OWNED", "only '" + owner + "' and the directive's issuer write its receipt");
      }
      if (sync::Admission c = CheckLifecycleAudience(body, owner, issuer); !c.admitted) return c;
      return {};
    }
    case v1::REPORT_STATUS: {
      v1::ReportStatus st;
      if (!st.ParseFromString(body.payload())) return Refuse("MALFORMED_PAYLOAD", "not a ReportStatus");
      const std::string owner = LifecycleOwner(body.id());
      const std::string superior = sync::ParentOf(owner);
      if (owner.empty() || body.id() != st.report_id() + "/status" ||
          st.report_id().rfind(owner + "/r/", 0) != 0 || superior.empty()) {
        return Refuse("ISSUER_MISMATCH", "status id '" + body.id() + "' does not match report '" +
                                             st.report_id() + "'");
      }
      const std::optional<ReportState> state = ParseReportState(st.state());
      if (writer == owner) {
        if (!state.has_value() || !SetByReportingUnit(*state)) {
          return Refuse("BAD_STATE", "the reporting unit sets SUBMITTED or WITHDRAWN, not '" +
                                         sync::Printable(st.state(), 32) + "'");
        }
      } else if (writer == superior) {
        if (!state.has_value() || SetByReportingUnit(*state)) {
          return Refuse("BAD_STATE", "the receiving unit sets RECEIVED, ACCEPTED, RETURNED or SUPERSEDED, not '" +
                                         sync::Printable(st.state(), 32) + "'");
        }
      } else {
        return Refuse("ID_NOT_OWNED", "only '" + owner + "' and '" + superior + "' write this report's status");
      }
      if (sync::Admission c = CheckLifecycleAudience(body, owner, superior); !c.admitted) return c;
      return {};
    }
    case v1::TASK_STATUS: {
      v1::TaskStatus st;
      if (!st.ParseFromString(body.payload())) return Refuse("MALFORMED_PAYLOAD", "not a TaskStatus");
      const std::string owner = OwnerOfId(v1::TASK_STATUS, body.id());
      const std::string assigner = OwnerOfId(v1::TASK, st.task_id());
      // A member's task (§4 "Tasks to Members") is assigned and followed on
      // one node: the unit is both sides, the capacities tell them apart
      // (act_checks.cc).
      const bool member_task = !owner.empty() && owner == assigner;
      if (owner.empty() || body.id() != owner + "/ts/" + st.task_id() || assigner.empty() ||
          (!member_task && sync::ParentOf(owner) != assigner)) {
        return Refuse("ISSUER_MISMATCH", "task status id '" + body.id() + "' does not match task '" +
                                             sync::Printable(st.task_id(), 80) + "'");
      }
      if (st.progress() > 100) return Refuse("MALFORMED_PAYLOAD", "progress over 100%");
      const std::string& state = st.state();
      if (member_task) {
        if (writer != owner) return Refuse("ID_NOT_OWNED", "only '" + owner + "' writes its member's task status");
        if (state != "OPEN" && state != "DONE" && state != "ACCEPTED" && state != "RETURNED") {
          return Refuse("BAD_STATE", "a task is OPEN, DONE, ACCEPTED or RETURNED, not '" + sync::Printable(state, 32) + "'");
        }
        if (body.audience().direction() != v1::Audience::LOCAL || body.audience().root() != writer) {
          return Refuse("WRONG_DIRECTION", "a member's task stays on its unit's node");
        }
        return {};
      }
      if (writer == owner) {
        if (state != "OPEN" && state != "DONE") {
          return Refuse("BAD_STATE", "the assignee reports progress (OPEN) or DONE, not '" +
                                         sync::Printable(state, 32) + "'");
        }
      } else if (writer == assigner) {
        if (state != "ACCEPTED" && state != "RETURNED") {
          return Refuse("BAD_STATE", "the assigner accepts or returns a task, not '" + sync::Printable(state, 32) + "'");
        }
      } else {
        return Refuse("ID_NOT_OWNED", "only '" + owner + "' and '" + assigner + "' write this task's status");
      }
      if (sync::Admission c = CheckLifecycleAudience(body, owner, assigner); !c.admitted) return c;
      return {};
    }
    case v1::UNIT:
    case v1::BODY:
    case v1::MEMBERSHIP:
    case v1::ACTING_WINDOW:
    case v1::SIGNING_AUTHORISATION:
    case v1::ABSENCE_WINDOW: {
      if (sync::Admission c = CheckRoster(body); !c.admitted) return c;
      break;
    }
    case v1::UNIT_STATUS: {
      if (const StatusVerdict v = CheckUnitStatus(body); !v.code.empty()) return Refuse(v.code, v.detail);
      break;
    }
    case v1::SEQUENCE_HEAD:
      // The replica core's own record: its shape is checked there
      // (sync/sequence_head.h), and any node signs heads of what it wrote.
      break;
    case v1::REVOCATION_LIST: {
      v1::RevocationList r;
      if (!r.ParseFromString(body.payload()) || r.crl().empty()) {
        return Refuse("MALFORMED_PAYLOAD", "not a RevocationList");
      }
      if (body.audience().direction() != v1::Audience::DOWN || body.audience().root() != writer) {
        return Refuse("WRONG_DIRECTION", "a revocation list flows down its publisher's subtree");
      }
      break;
    }
    default:
      return Refuse("UNKNOWN_KIND", "record kind " + std::to_string(body.kind()));
  }
  if (body.audience().direction() == v1::Audience::UP &&
      !(sync::IsSelfOrAncestor(body.audience().root(), writer) && body.audience().root() != writer)) {
    return Refuse("NOT_ADDRESSED", "an upward record must be addressed to an ancestor of its writer");
  }
  return {};
}

}  // namespace

sync::Admission CheckRecordAlone(std::string_view self, std::string_view from_peer,
                                 const v1::RecordBody& body) {
  const std::string& writer = body.version().writer();
  if (!sync::IsValidNodeId(writer)) return Refuse("BAD_WRITER", "writer '" + sync::Printable(writer) + "'");
  if (!sync::IsValidRecordId(body.id())) {
    return Refuse("BAD_ID", "record id '" + sync::Printable(body.id(), 80) + "' (" +
                                std::to_string(body.id().size()) +
                                " bytes) is not [a-z0-9-] segments joined by '/', at most " +
                                std::to_string(sync::kMaxRecordIdBytes) + " bytes");
  }
  if (!v1::RecordKind_IsValid(body.kind()) || body.kind() == v1::RECORD_KIND_UNSPECIFIED) {
    return Refuse("UNKNOWN_KIND", "record kind " + std::to_string(body.kind()));
  }
  const bool lifecycle =
      body.kind() == v1::ACKNOWLEDGEMENT || body.kind() == v1::REPORT_STATUS || body.kind() == v1::TASK_STATUS;
  if (!lifecycle && OwnerOfId(body.kind(), body.id()) != writer) {
    return Refuse("ID_NOT_OWNED", "id '" + body.id() + "' is not under writer '" + writer + "/'");
  }
  if (sync::Admission a = CheckPayload(body); !a.admitted) return a;
  if (sync::Admission a = sync::CheckAttachments(body); !a.admitted) return a;

  if (from_peer.empty()) {
    if (writer != self) return Refuse("FOREIGN_WRITER", "a node writes only in its own name");
    return {};
  }
  const auto direction = body.audience().direction();
  if (direction == v1::Audience::LOCAL) {
    return Refuse("WRONG_DIRECTION", "a local record never leaves its writer's node");
  }
  if (writer == self) {
    // This node's own version, returned by a neighbour that holds it (this
    // node lost its store: recovery). Its signature and everything in
    // context are still checked; a peer cannot forge one.
    return {};
  }
  if (from_peer == sync::ParentOf(self)) {
    if (direction != v1::Audience::DOWN && direction != v1::Audience::AROUND) {
      return Refuse("WRONG_DIRECTION", "only downward records come from the parent");
    }
    if (!sync::IsSelfOrAncestor(writer, from_peer)) {
      return Refuse("FOREIGN_WRITER", "'" + writer + "' is not the parent or above it");
    }
  } else if (sync::ParentOf(from_peer) == self) {
    const bool around_from_writer =
        direction == v1::Audience::AROUND && sync::IsSelfOrAncestor(from_peer, writer);
    if (direction != v1::Audience::UP && !around_from_writer) {
      return Refuse("WRONG_DIRECTION", "only upward records come from a child");
    }
    if (!sync::IsSelfOrAncestor(from_peer, writer)) {
      return Refuse("FOREIGN_WRITER",
                    "'" + writer + "' is not in the subtree of child '" + std::string(from_peer) + "'");
    }
  } else {
    return Refuse("FOREIGN_WRITER", "'" + std::string(from_peer) + "' is not a neighbour");
  }
  if (!sync::AddressedTo(body, from_peer, self)) {
    return Refuse("NOT_ADDRESSED", "the record's audience does not include this node");
  }
  return {};
}

std::string LifecycleOwner(std::string_view id) {
  for (std::string_view marker : {"/a/", "/r/"}) {
    const size_t at = id.find(marker);
    if (at != std::string_view::npos && at > 0) return std::string(id.substr(0, at));
  }
  return "";
}

bool IsReservedSlug(std::string_view slug) {
  for (std::string_view reserved : {"d", "r", "o", "t", "ts", "x", "xd", "calendar", "a", "m", "acting", "auth", "absence", "unit", "crl", "status", "head"}) {
    if (slug == reserved) return true;
  }
  return slug.empty();
}

std::string OwnerOfId(v1::RecordKind kind, std::string_view id) {
  switch (kind) {
    case v1::DIRECTIVE: return Before(id, "/d/");
    case v1::REPORT: return Before(id, "/r/");
    case v1::OBLIGATION: return Before(id, "/o/");
    case v1::TASK: return Before(id, "/t/");
    case v1::EXTENSION_REQUEST: return Before(id, "/x/");
    case v1::CALENDAR: return Before(id, "/calendar/");
    case v1::EXTENSION_DECISION: {
      // "<issuer>/xd/<request id>": the request id holds slashes of its own.
      const size_t at = id.find("/xd/");
      return at == std::string_view::npos || at == 0 ? "" : std::string(id.substr(0, at));
    }
    case v1::TASK_STATUS: {
      // "<assignee>/ts/<task id>": the task id holds slashes of its own.
      const size_t at = id.find("/ts/");
      return at == std::string_view::npos || at == 0 ? "" : std::string(id.substr(0, at));
    }
    case v1::MEMBERSHIP: return Before(id, "/m/");
    case v1::ACTING_WINDOW: return Before(id, "/acting/");
    case v1::SIGNING_AUTHORISATION: return Before(id, "/auth/");
    case v1::ABSENCE_WINDOW: return Before(id, "/absence/");
    case v1::UNIT: {
      const size_t at = id.find("/unit/");
      return at == std::string_view::npos || at == 0 ? "" : std::string(id.substr(0, at));
    }
    case v1::BODY: {
      // "<unit>/<slug>", the slug never one of the id markers above.
      const std::string unit = sync::ParentOf(id);
      const std::string_view slug = id.substr(std::min(id.size(), unit.size() + 1));
      return IsReservedSlug(slug) ? "" : unit;
    }
    case v1::REVOCATION_LIST:
      return id.size() > 4 && id.substr(id.size() - 4) == "/crl" ? std::string(id.substr(0, id.size() - 4)) : "";
    case v1::ACKNOWLEDGEMENT:
    case v1::REPORT_STATUS: return LifecycleOwner(id);
    case v1::UNIT_STATUS: return StatusOwner(id);
    case v1::SEQUENCE_HEAD: return Before(id, "/head/");
    default: return "";
  }
}

std::string DirectiveIssuer(std::string_view directive_id) {
  const size_t at = directive_id.rfind("/d/");
  return at == std::string_view::npos || at == 0 ? "" : std::string(directive_id.substr(0, at));
}

}  // namespace steersync::domain
