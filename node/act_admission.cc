#include "node/act_admission.h"

#include <algorithm>

#include "node/node.h"
#include "sync/version_vector.h"

namespace steersync::node {
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
sync::Admission CheckStatusOrder(sync::WriteView& view, const v1::RecordBody& body,
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
    return {};
  }
  auto current = view.Get(body.id());
  if (!current.ok() || !current->has_value()) return {};
  std::vector<v1::Record> held{**current};
  if (auto losers = view.Losers(body.id()); losers.ok()) {
    held.insert(held.end(), losers->begin(), losers->end());
  }
  for (const v1::Record& r : held) {
    v1::RecordBody seen;
    if (!seen.ParseFromString(r.body())) continue;
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
  return {};
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

std::optional<sync::Act> ActOf(const v1::RecordBody& body) {
  using sync::Action;
  switch (body.kind()) {
    case v1::DIRECTIVE: {
      v1::Directive d;
      d.ParseFromString(body.payload());
      return sync::Act{Action::kIssueDirective, d.doc_type()};
    }
    case v1::REPORT:
      return sync::Act{Action::kSubmitReport, ""};
    case v1::REPORT_STATUS: {
      const std::string state = StateOf(body);
      if (state == "SUBMITTED") return sync::Act{Action::kSubmitReport, ""};
      if (state == "WITHDRAWN") return sync::Act{Action::kWithdrawReport, ""};
      if (state == "RECEIVED") return sync::Act{Action::kReceiveReport, ""};  // the registry's
      return sync::Act{Action::kReviewReport, ""};  // ACCEPTED, RETURNED, SUPERSEDED
    }
    case v1::ACKNOWLEDGEMENT: {
      v1::Acknowledgement a;
      a.ParseFromString(body.payload());
      if (a.state() == "RECALLED") return sync::Act{Action::kRecallDirective, ""};
      return sync::Act{Action::kReceipt, ""};
    }
    case v1::UNIT:
    case v1::BODY:
    case v1::MEMBERSHIP:
    case v1::ACTING_WINDOW:
    case v1::SIGNING_AUTHORISATION:
    case v1::ABSENCE_WINDOW:
      return sync::Act{Action::kRosterEntry, ""};
    default:
      return std::nullopt;
  }
}

sync::Admission AdmitAct(const sync::Roster& roster, sync::WriteView& view,
                         const v1::RecordBody& body, std::string_view body_bytes) {
  // The version held now, read once. (A version held byte for byte never gets
  // here: ApplyRecords counts it a duplicate without judging it again.)
  auto current = view.Get(body.id());
  const bool has_current = current.ok() && current->has_value();
  v1::RecordBody held;
  // One id, one kind: a version may not turn a report into a membership.
  if (has_current && held.ParseFromString((*current)->body()) && held.kind() != body.kind()) {
    return Refuse("ID_NOT_OWNED", "'" + body.id() + "' is a " + v1::RecordKind_Name(held.kind()) +
                                      ", not a " + v1::RecordKind_Name(body.kind()));
  }
  const std::optional<sync::Act> act = ActOf(body);
  if (!act.has_value()) return {};
  // The legal date is the signing day of the version's own clock (±1 day for
  // clocks near midnight): an act cannot be backdated into an expired
  // delegation (E8) nor dated ahead to win R5.
  const int64_t wall = static_cast<int64_t>(body.version().hlc().wall_micros());
  constexpr int64_t kDay = 86'400'000'000;
  const std::string& date = body.version().legal_date();
  if (date != LegalDate(wall) && date != LegalDate(wall - kDay) && date != LegalDate(wall + kDay)) {
    return Refuse("BAD_LEGAL_DATE", "legal date " + date + " is not the signing day " + LegalDate(wall) +
                                        " of the version's clock");
  }
  const v1::Version& version = body.version();
  const sync::AuthorityVerdict verdict =
      sync::Authorize(roster, version.writer(), sync::CapacityOf(version.authority()),
                      version.legal_date(), *act);
  if (!verdict.ok) return Refuse(verdict.reason_code, verdict.detail);
  if (!sync::SameAuthority(version.authority(), verdict.authority)) {
    return Refuse("AUTHORITY_MISMATCH", "the version claims " +
                                            AuthorityDiff(version.authority(), verdict.authority) +
                                            " on " + version.legal_date());
  }
  if (body.kind() == v1::DIRECTIVE || body.kind() == v1::REPORT) {
    if (has_current && (*current)->body() != body_bytes) {
      return Refuse("IMMUTABLE", "'" + body.id() +
                                     "' is signed and cannot change: issue a new one that replaces, "
                                     "amends or corrects it (D30 Art. 18.3)");
    }
  }
  return CheckStatusOrder(view, body, StateOf(body));
}

}  // namespace steersync::node
