#include "node/act_admission.h"

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

// §1.10: the reporting unit may withdraw only before RECEIVED. A withdrawal
// that causally follows a receipt (its author had seen it) is refused; one
// made concurrently is admitted and loses by R1.
sync::Admission CheckWithdrawal(sync::WriteView& view, const v1::RecordBody& body) {
  auto current = view.Get(body.id());
  if (!current.ok() || !current->has_value()) return {};
  std::vector<v1::Record> held{**current};
  if (auto losers = view.Losers(body.id()); losers.ok()) {
    held.insert(held.end(), losers->begin(), losers->end());
  }
  for (const v1::Record& r : held) {
    v1::RecordBody seen;
    if (!seen.ParseFromString(r.body())) continue;
    const std::string state = StateOf(seen);
    if (state != "RECEIVED" && state != "ACCEPTED" && state != "RETURNED") continue;
    if (sync::CompareVectors(seen.version().vector(), body.version().vector()) ==
        sync::Causality::kBefore) {
      return Refuse("WITHDRAWN_AFTER_RECEIPT",
                    "the report was already " + state + " by " + seen.version().writer() +
                        " when it was withdrawn: submit a replacement report instead (D30 Art. 18.3)");
    }
  }
  return {};
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
      if (state == "ACCEPTED" || state == "RETURNED") return sync::Act{Action::kReviewReport, ""};
      return sync::Act{Action::kReceiveReport, ""};  // RECEIVED, SUPERSEDED: the registry's
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
      return sync::Act{Action::kRosterEntry, ""};
    default:
      return std::nullopt;
  }
}

sync::Admission AdmitAct(const sync::Roster& roster, sync::WriteView& view,
                         const v1::RecordBody& body, std::string_view body_bytes) {
  const std::optional<sync::Act> act = ActOf(body);
  if (!act.has_value()) return {};
  const v1::Version& version = body.version();
  const sync::AuthorityVerdict verdict =
      sync::Authorize(roster, version.writer(), sync::CapacityOf(version.authority()),
                      version.legal_date(), *act);
  if (!verdict.ok) return Refuse(verdict.reason_code, verdict.detail);
  if (!sync::SameAuthority(version.authority(), verdict.authority)) {
    return Refuse("AUTHORITY_MISMATCH",
                  "the version claims " + version.authority().capacity() + " rank " +
                      std::to_string(version.authority().role_rank()) +
                      (version.authority().acting_for_head() ? " acting for the Head" : "") +
                      " but the roster gives " + verdict.authority.capacity() + " rank " +
                      std::to_string(verdict.authority.role_rank()) +
                      (verdict.authority.acting_for_head() ? " acting for the Head" : "") + " on " +
                      version.legal_date());
  }
  if (body.kind() == v1::DIRECTIVE || body.kind() == v1::REPORT) {
    auto current = view.Get(body.id());
    if (current.ok() && current->has_value() && (*current)->body() != body_bytes) {
      return Refuse("IMMUTABLE", "'" + body.id() +
                                     "' is signed and cannot change: issue a new one that replaces, "
                                     "amends or corrects it (D30 Art. 18.3)");
    }
  }
  if (StateOf(body) == "WITHDRAWN") return CheckWithdrawal(view, body);
  return {};
}

}  // namespace steersync::node
