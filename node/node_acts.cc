// The acts a node makes (DOMAIN-MODEL.md §1.8–§1.10, §5): directives,
// receipts, reports and report statuses, each in a declared capacity whose
// authority the roster gives on the act's legal date.
#include <algorithm>
#include <future>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "node/domain/act_checks.h"
#include "node/domain/documents.h"
#include "node/domain/powers.h"
#include "node/audience_gaps.h"
#include "node/node.h"
#include "node/domain/record_checks.h"
#include "sync/merge.h"
#include "sync/node_path.h"
#include "sync/meta_keys.h"
#include "sync/status_macros.h"
#include "sync/text.h"
#include "sync/version_vector.h"

namespace steersync::node {
namespace {

// How far back in the change log `--if-version` looks for its base.
constexpr size_t kBaseSearchEntries = 20000;

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The authority of `act` declared as `as` by `self` on `date`.
absl::StatusOr<domain::AuthorityVerdict> ResolveAuthority(const domain::Roster& roster,
                                                        const std::string& self,
                                                        const v1::ActAs& as, const domain::Act& act,
                                                        const std::string& date) {
  domain::Capacity capacity{as.body_id(), as.membership_id(), as.formula(), std::nullopt};
  if (capacity.body_id.empty()) capacity.body_id = domain::DefaultBodyOf(self);
  if (!as.role().empty()) {
    std::optional<v1::Role> role = domain::ParseRole(as.role());
    if (!role.has_value()) {
      return absl::InvalidArgumentError(
          "unknown role '" + as.role() +
          "' (HEAD, STANDING_DEPUTY_HEAD, DEPUTY_HEAD, STANDING_AGENCY, MEMBER, SECRETARY, "
          "TEAM_LEADER, WORKING_GROUP_LEAD, TEAM_MEMBER, STAFF)");
    }
    if (capacity.membership_id.empty()) {
      std::vector<std::string> ids = roster.MembersWithRole(capacity.body_id, *role, date);
      if (ids.empty()) {
        return absl::FailedPreconditionError("no " + domain::RoleName(*role) + " of '" + capacity.body_id +
                                             "' on " + date + " (see `steerctl member list`)");
      }
      if (ids.size() > 1) {
        return absl::FailedPreconditionError("several members are " + domain::RoleName(*role) + " on " +
                                             date + ": choose one with --member (" + Join(ids) + ")");
      }
      capacity.membership_id = ids[0];
    } else if (const v1::Membership* m = roster.FindMembership(capacity.membership_id);
               m != nullptr && m->role() != *role) {
      return absl::InvalidArgumentError("membership '" + capacity.membership_id + "' is " +
                                        domain::RoleName(m->role()) + ", not " + domain::RoleName(*role));
    }
  }
  domain::AuthorityVerdict verdict = domain::Authorize(roster, self, capacity, date, act);
  if (!verdict.ok && verdict.reason_code == "POWER_DENIED" && capacity.formula.empty()) {
    // A Deputy holding a delegation signs the Head's acts as KT. (D30 Art. 13.1).
    domain::Capacity kt = capacity;
    kt.formula = "KT";
    domain::AuthorityVerdict with_kt = domain::Authorize(roster, self, kt, date, act);
    if (with_kt.ok && with_kt.note.empty()) return with_kt;
  }
  if (!verdict.ok) {
    std::string hint;
    if (verdict.reason_code == "CAPACITY_REQUIRED") hint = " (add --as ROLE)";
    return absl::PermissionDeniedError("refused: " + verdict.reason_code + ": " + verdict.detail + hint);
  }
  return verdict;
}

// "KT. DEPUTY_HEAD Trần Phước Hiền": how an act was signed, for listings.
std::string SignedAs(const v1::Authority& a) {
  return (a.formula().empty() ? "" : a.formula() + ". ") + a.capacity() +
         (a.officer().empty() ? "" : " " + a.officer());
}

// A directive's number in its series (D30 Art. 15): allocated as the next
// free serial, or given (a document registered from paper), and never one the
// series already holds. `key` names the number in the store's meta; the
// caller stores the directive id under it in the same transaction.
struct DocumentNumber {
  std::string display;
  uint64_t serial = 0;
  std::string key;
};

absl::StatusOr<DocumentNumber> AllocateNumber(sync::WriteView& view, const std::string& issuer_body,
                                              uint32_t year, const std::string& doc_type,
                                              const std::string& abbrev, const std::string& given) {
  // Numbers run per issuer, series and year, from 1.
  const std::string series = issuer_body + "/" + std::to_string(year) + "/" + doc_type;
  const std::string serial_key = "serial/" + series;
  auto number_key = [&](uint64_t serial) { return "docno/" + series + "/" + sync::meta::EncodeU64(serial); };
  SYNC_ASSIGN_OR_RETURN(uint64_t last, sync::meta::GetU64(view, serial_key));
  DocumentNumber out;
  if (given.empty()) {
    out.serial = last + 1;
    // Skip serials taken by numbers given by hand.
    for (;; ++out.serial) {
      SYNC_ASSIGN_OR_RETURN(std::optional<std::string> taken, view.MetaGet(number_key(out.serial)));
      if (!taken.has_value()) break;
    }
    out.display = domain::DisplayNumber(out.serial, doc_type, abbrev);
  } else {
    out.serial = domain::ParseDisplayNumber(given)->serial;  // checked by the caller
    SYNC_ASSIGN_OR_RETURN(std::optional<std::string> taken, view.MetaGet(number_key(out.serial)));
    if (taken.has_value()) {
      return absl::AlreadyExistsError("number " + given + " of " + std::to_string(year) + " is already " + *taken +
                                      " (D30 Art. 15: one number per document in a series)");
    }
    out.display = given;
  }
  SYNC_RETURN_IF_ERROR(sync::meta::PutU64(view, serial_key, std::max(last, out.serial)));
  out.key = number_key(out.serial);
  return out;
}

v1::Record CurrentOrEmpty(const absl::StatusOr<std::optional<v1::Record>>& r) {
  return r.ok() && r->has_value() ? **r : v1::Record();
}

}  // namespace

absl::StatusOr<bool> Node::IsKnownUnit(const std::string& unit) const {
  for (const auto& p : registry_.Peers()) {
    if (p.peer == unit || sync::IsSelfOrAncestor(p.peer, unit)) return true;
  }
  return admission_.ReadRoster([&](const domain::Roster& roster) -> absl::StatusOr<bool> {
    for (const auto& [id, body] : roster.records()) {
      v1::Unit u;
      if (body.kind() == v1::UNIT && u.ParseFromString(body.payload()) && u.unit() == unit) return true;
    }
    return false;
  });
}

std::string Node::Today() const { return LegalDate(clock_->NowMicros()); }

void Node::SubmitLocal(LocalAct act, BodyMaker make,
                       std::function<void(absl::StatusOr<Written>)> done) {
  if (local_writes_closed_) {
    done(absl::UnavailableError(options_.id + " is stopping"));
    return;
  }
  auto result = std::make_shared<Written>();
  writer_->Submit(
      [this, act = std::move(act), make = std::move(make), result](LmdbStore::View& view) -> absl::Status {
        const std::string legal_date = LegalDate(clock_->NowMicros());
        SYNC_ASSIGN_OR_RETURN(domain::AuthorityVerdict verdict, admission_.ReadRoster([&](const domain::Roster& roster) {
          return ResolveAuthority(roster, options_.id, act.as, act.act, legal_date);
        }));
        SYNC_ASSIGN_OR_RETURN(uint64_t counter, replica_->NextCounter(view));
        v1::RecordBody body;
        SYNC_ASSIGN_OR_RETURN(std::string id, make(counter, view, body));
        body.set_id(id);
        if (verdict.note.rfind("unrostered", 0) == 0) {
          // Bootstrap mode: said once, not for every act.
          if (!unrostered_warned_.exchange(true)) {
            spdlog::warn("{}: {} (acts are made at STAFF rank until `steerctl member add`)",
                         options_.id, verdict.note);
          }
        } else if (!verdict.note.empty()) {
          spdlog::warn("{}: {}: {}", options_.id, id, verdict.note);
        }
        body.mutable_version()->set_legal_date(legal_date);
        *body.mutable_version()->mutable_authority() = verdict.authority;
        SYNC_ASSIGN_OR_RETURN(sync::LocalWrite written,
                              replica_->WriteLocal(view, counter, std::move(body), act.base, *signer_));
        *result = Written{id, written.version_key};
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        // A refused act (or any failed job) wrote nothing: its nested
        // transaction was dropped without touching the other jobs.
        done(status.ok() ? absl::StatusOr<Written>(*result) : absl::StatusOr<Written>(status));
      });
}

absl::StatusOr<Node::Written> Node::WriteLocal(const LocalAct& act, BodyMaker make) {
  std::promise<absl::StatusOr<Written>> done;
  auto future = done.get_future();
  SubmitLocal(act, std::move(make),
              [&done](absl::StatusOr<Written> w) { done.set_value(std::move(w)); });
  return future.get();
}

// ---- Directives -----------------------------------------------------------

absl::StatusOr<std::string> Node::IssueDirective(const v1::IssueDirectiveRequest& request) {
  if (request.title().empty()) return absl::InvalidArgumentError("directive title is required");
  if (request.local() && request.to_units_size() > 0) {
    return absl::InvalidArgumentError("a local directive is addressed to no unit (drop --to or --local)");
  }
  for (const auto& unit : request.to_units()) {
    if (!sync::IsValidNodeId(unit) || !sync::IsSelfOrAncestor(options_.id, unit) ||
        unit == options_.id) {
      return absl::InvalidArgumentError("'" + sync::Printable(unit, 80) + "' is not a unit below " + options_.id);
    }
    SYNC_ASSIGN_OR_RETURN(bool known, IsKnownUnit(unit));
    if (!known) {
      return absl::NotFoundError("no unit '" + unit + "' is known here: register it with `steerctl unit add " +
                                 unit + " --name ...` (or let it connect once)");
    }
  }
  const std::string doc_type = request.doc_type().empty() ? "CV" : request.doc_type();
  if (!domain::IsDocumentType(doc_type)) {
    return absl::InvalidArgumentError("'" + sync::Printable(doc_type, 16) +
                                      "' is not a document type code (D30 Appendix III: QĐ, CT, KH, TB, GM, ... or CV)");
  }
  if (!request.number().empty()) SYNC_RETURN_IF_ERROR(domain::CheckNumber(request.number(), doc_type, 0));
  std::vector<v1::DocumentRelation> relations;
  for (const v1::DocumentRelation& rel : request.relations()) {
    if (rel.kind() == v1::DocumentRelation::KIND_UNSPECIFIED || !v1::DocumentRelation::Kind_IsValid(rel.kind())) {
      return absl::InvalidArgumentError("relation to '" + sync::Printable(rel.target(), 80) +
                                        "' has no kind (REPLACES, AMENDS, CORRECTS or RECALLS)");
    }
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> target, store_->GetRecord(rel.target()));
    v1::RecordBody target_body;
    if (!target.has_value() || !target_body.ParseFromString(target->body()) ||
        target_body.kind() != v1::DIRECTIVE) {
      return absl::NotFoundError("no directive '" + rel.target() + "' on this node");
    }
    if (target_body.version().writer() != options_.id) {
      return absl::InvalidArgumentError("'" + rel.target() + "' was issued by " +
                                        target_body.version().writer() +
                                        ": only its issuer replaces, amends, corrects or recalls it");
    }
    relations.push_back(std::move(rel));
  }
  LocalAct act{domain::Act{domain::Action::kIssueDirective, doc_type}, request.act(), std::nullopt};
  SYNC_ASSIGN_OR_RETURN(
      Written w,
      WriteLocal(act, [&](uint64_t counter, LmdbStore::View& view, v1::RecordBody& body)
                     -> absl::StatusOr<std::string> {
        const std::string today = LegalDate(clock_->NowMicros());
        const std::string issuer_body =
            request.act().body_id().empty() ? domain::DefaultBodyOf(options_.id) : request.act().body_id();
        const uint32_t year = static_cast<uint32_t>(std::stoi(today.substr(0, 4)));
        SYNC_ASSIGN_OR_RETURN(std::string abbrev, admission_.ReadRoster([&](const domain::Roster& roster) {
          return absl::StatusOr<std::string>(domain::AbbrevOf(roster, issuer_body));
        }));
        SYNC_ASSIGN_OR_RETURN(DocumentNumber number,
                              AllocateNumber(view, issuer_body, year, doc_type, abbrev, request.number()));
        v1::Directive d;
        d.set_number(number.display);
        const uint64_t serial = number.serial;
        d.set_title(request.title());
        d.set_body(request.body());
        d.set_issuer(options_.id);
        *d.mutable_to_units() = request.to_units();
        d.set_issued_date(today);
        d.set_doc_type(doc_type);
        d.set_issuer_body(issuer_body);
        d.set_year(year);
        d.set_series(doc_type);
        d.set_serial(static_cast<uint32_t>(serial));
        for (const auto& rel : relations) *d.add_relations() = rel;
        body.set_kind(v1::DIRECTIVE);
        body.mutable_audience()->set_direction(request.local() ? v1::Audience::LOCAL : v1::Audience::DOWN);
        body.mutable_audience()->set_root(options_.id);
        *body.mutable_audience()->mutable_units() = request.to_units();
        body.set_payload(d.SerializeAsString());
        // Between documents the relations decide which is in force
        // (ListDirectives); Version.supersedes is for versions of one record.
        const std::string id = options_.id + "/d/" + std::to_string(counter);
        SYNC_RETURN_IF_ERROR(view.MetaPut(number.key, id));
        return id;
      }));
  return w.id;
}

absl::StatusOr<std::string> Node::AckDirective(const std::string& directive_id) {
  v1::AckDirectiveRequest request;
  request.set_directive_id(directive_id);
  return AckDirective(request);
}

absl::StatusOr<std::string> Node::AckDirective(const v1::AckDirectiveRequest& request) {
  const std::string& directive_id = request.directive_id();
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, store_->GetRecord(directive_id));
  v1::RecordBody target;
  if (!record.has_value() || !target.ParseFromString(record->body()) ||
      target.kind() != v1::DIRECTIVE) {
    return absl::NotFoundError("no directive '" + directive_id + "' on this node");
  }
  v1::Directive d;
  if (!d.ParseFromString(target.payload())) return absl::DataLossError("directive does not parse");
  if (d.issuer() == options_.id) {
    return absl::InvalidArgumentError("a unit does not acknowledge its own directive");
  }
  const std::optional<domain::ReceiptState> parsed = domain::ParseReceiptState(request.state());
  if (parsed != domain::ReceiptState::kAcknowledged && parsed != domain::ReceiptState::kReturned) {
    return absl::InvalidArgumentError("a unit acknowledges (ACKNOWLEDGED) or returns (RETURNED) a directive");
  }
  const std::string state(domain::ReceiptStateName(*parsed));
  const std::string id = options_.id + "/a/" + directive_id;
  v1::RecordBody current;
  const v1::Record existing = CurrentOrEmpty(store_->GetRecord(id));
  if (!existing.body().empty() && current.ParseFromString(existing.body()) &&
      request.if_version().empty()) {
    v1::Acknowledgement held;
    held.ParseFromString(current.payload());
    if (domain::ParseReceiptState(held.state()) == parsed && current.version().writer() == options_.id) {
      return id;  // idempotent
    }
  }
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Version> base, FindBase(id, request.if_version()));
  const domain::Action action = *parsed == domain::ReceiptState::kAcknowledged ? domain::Action::kReceiveDirective
                                                                                : domain::Action::kReceipt;
  LocalAct act{domain::Act{action, ""}, request.act(), base};
  SYNC_ASSIGN_OR_RETURN(
      Written w, WriteLocal(act, [&](uint64_t, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
        v1::Acknowledgement a;
        a.set_directive_id(directive_id);
        a.set_unit(options_.id);
        a.set_acknowledged_date(LegalDate(clock_->NowMicros()));
        a.set_state(state);
        a.set_reason(request.reason());
        body.set_kind(v1::ACKNOWLEDGEMENT);
        body.mutable_audience()->set_direction(v1::Audience::UP);
        body.mutable_audience()->set_root(d.issuer());
        body.set_payload(a.SerializeAsString());
        return id;
      }));
  return w.id;
}

absl::StatusOr<v1::RecallDirectiveReply> Node::RecallDirective(const v1::RecallDirectiveRequest& request) {
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, store_->GetRecord(request.directive_id()));
  v1::RecordBody target;
  v1::Directive d;
  if (!record.has_value() || !target.ParseFromString(record->body()) ||
      target.kind() != v1::DIRECTIVE || !d.ParseFromString(target.payload())) {
    return absl::NotFoundError("no directive '" + request.directive_id() + "' on this node");
  }
  if (d.issuer() != options_.id) {
    return absl::PermissionDeniedError("only its issuer " + d.issuer() + " recalls '" +
                                       request.directive_id() + "'");
  }
  // Addressed units; for a directive to the whole subtree, every child that
  // holds it (has linked or acknowledged).
  std::set<std::string> units(d.to_units().begin(), d.to_units().end());
  if (units.empty()) {
    for (const auto& p : registry_.Peers()) {
      if (p.relation == Relation::kChild) units.insert(p.peer);
    }
    SYNC_RETURN_IF_ERROR(store_->ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
      v1::Acknowledgement a;
      if (body.kind() == v1::ACKNOWLEDGEMENT && a.ParseFromString(body.payload()) &&
          a.directive_id() == request.directive_id()) {
        units.insert(a.unit());
      }
    }));
  }
  if (units.empty()) return absl::FailedPreconditionError("no unit is known to hold '" + request.directive_id() + "'");
  v1::RecallDirectiveReply reply;
  for (const std::string& unit : units) {
    const std::string id = unit + "/a/" + request.directive_id();
    v1::RecordBody held;
    v1::Acknowledgement held_receipt;
    if (const v1::Record existing = CurrentOrEmpty(store_->GetRecord(id));
        held.ParseFromString(existing.body()) && held_receipt.ParseFromString(held.payload()) &&
        domain::ParseReceiptState(held_receipt.state()) == domain::ReceiptState::kRecalled) {
      continue;  // recalled from this unit already
    }
    // Recalling a document takes the power to issue its type (§4): every
    // receiver looks the type up in the directive it holds (act_checks.cc).
    LocalAct act{domain::Act{domain::Action::kRecallDirective, d.doc_type()}, request.act(), std::nullopt};
    SYNC_ASSIGN_OR_RETURN(
        Written w, WriteLocal(act, [&](uint64_t, LmdbStore::View&, v1::RecordBody& body)
                                       -> absl::StatusOr<std::string> {
          v1::Acknowledgement a;
          a.set_directive_id(request.directive_id());
          a.set_unit(unit);
          a.set_acknowledged_date(LegalDate(clock_->NowMicros()));
          a.set_state("RECALLED");
          a.set_reason(request.reason());
          body.set_kind(v1::ACKNOWLEDGEMENT);
          body.mutable_audience()->set_direction(v1::Audience::DOWN);
          body.mutable_audience()->set_root(options_.id);
          body.mutable_audience()->add_units(unit);
          body.set_payload(a.SerializeAsString());
          return id;
        }));
    reply.add_ids(w.id);
  }
  if (reply.ids().empty()) {
    return absl::FailedPreconditionError("'" + request.directive_id() + "' is already recalled from every unit (" +
                                         Join(std::vector<std::string>(units.begin(), units.end())) + ")");
  }
  return reply;
}

// ---- Reports -----------------------------------------------------------------

absl::StatusOr<std::string> Node::SubmitReport(const v1::SubmitReportRequest& request) {
  const std::string parent = sync::ParentOf(options_.id);
  if (parent.empty()) return absl::FailedPreconditionError("the root node has no parent to report to");
  if (!domain::IsReportingPeriod(request.period())) {
    return absl::InvalidArgumentError("report period '" + sync::Printable(request.period(), 32) + "' is not " +
                                      domain::kPeriodFormats);
  }
  if (request.title().empty()) return absl::InvalidArgumentError("report title is required");
  if (!request.in_reply_to().empty()) {
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> r, store_->GetRecord(request.in_reply_to()));
    v1::RecordBody answered;
    if (!r.has_value() || !answered.ParseFromString(r->body()) || answered.kind() != v1::DIRECTIVE ||
        !sync::IsSelfOrAncestor(answered.version().writer(), options_.id) ||
        answered.version().writer() == options_.id) {
      return absl::NotFoundError("no directive '" + sync::Printable(request.in_reply_to(), 80) +
                                 "' from above is held on this node (see `steerctl directive list`)");
    }
  }
  if (!request.supersedes_report().empty()) {
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> old, store_->GetRecord(request.supersedes_report()));
    if (request.supersedes_report().rfind(options_.id + "/r/", 0) != 0 || !old.has_value()) {
      return absl::InvalidArgumentError("'" + request.supersedes_report() +
                                        "' is not an earlier report of " + options_.id);
    }
  }
  LocalAct act{domain::Act{domain::Action::kSubmitReport, ""}, request.act(), std::nullopt};
  SYNC_ASSIGN_OR_RETURN(
      Written w, WriteLocal(act, [&](uint64_t counter, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
        v1::Report r;
        r.set_period(request.period());
        r.set_title(request.title());
        r.set_body(request.body());
        r.set_from_unit(options_.id);
        r.set_in_reply_to(request.in_reply_to());
        r.set_supersedes_report(request.supersedes_report());
        body.set_kind(v1::REPORT);
        body.mutable_audience()->set_direction(v1::Audience::UP);
        body.mutable_audience()->set_root(parent);
        body.set_payload(r.SerializeAsString());
        return options_.id + "/r/" + std::to_string(counter);
      }));
  // The report's status starts SUBMITTED, in the same capacity (§1.10).
  v1::SetReportStatusRequest submitted;
  submitted.set_report_id(w.id);
  submitted.set_state("SUBMITTED");
  *submitted.mutable_act() = request.act();
  if (auto s = SetReportStatus(submitted); !s.ok()) {
    spdlog::warn("{}: marking {} SUBMITTED: {}", options_.id, w.id, s.status().ToString());
  }
  return w.id;
}

absl::StatusOr<v1::WriteReply> Node::SetReportStatus(const v1::SetReportStatusRequest& request) {
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, store_->GetRecord(request.report_id()));
  v1::RecordBody report_body;
  v1::Report report;
  if (!record.has_value() || !report_body.ParseFromString(record->body()) ||
      report_body.kind() != v1::REPORT || !report.ParseFromString(report_body.payload())) {
    return absl::NotFoundError("no report '" + request.report_id() + "' on this node");
  }
  const std::string& owner = report.from_unit();
  const std::string superior = sync::ParentOf(owner);
  const std::string& state = request.state();
  domain::Action action;
  if (options_.id == owner) {
    if (state != "WITHDRAWN" && state != "SUBMITTED") {
      return absl::InvalidArgumentError("the reporting unit sets WITHDRAWN (or SUBMITTED), not '" + state + "'");
    }
    action = state == "WITHDRAWN" ? domain::Action::kWithdrawReport : domain::Action::kSubmitReport;
  } else if (options_.id == superior) {
    // RECEIVED is set by the node on verification; SUPERSEDED when the
    // replacement is accepted (below), in the accepting act's capacity.
    if (state != "ACCEPTED" && state != "RETURNED" && state != "SUPERSEDED") {
      return absl::InvalidArgumentError("the receiving unit sets ACCEPTED or RETURNED, not '" + state + "'");
    }
    action = domain::Action::kReviewReport;
  } else {
    return absl::PermissionDeniedError("only " + owner + " and " + superior + " set this report's status");
  }
  const std::string id = request.report_id() + "/status";
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Version> base, FindBase(id, request.if_version()));
  LocalAct act{domain::Act{action, ""}, request.act(), base};
  SYNC_ASSIGN_OR_RETURN(
      Written w, WriteLocal(act, [&](uint64_t, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
        v1::ReportStatus st;
        st.set_report_id(request.report_id());
        st.set_state(state);
        st.set_reason(request.reason());
        body.set_kind(v1::REPORT_STATUS);
        if (options_.id == owner) {
          body.mutable_audience()->set_direction(v1::Audience::UP);
          body.mutable_audience()->set_root(superior);
        } else {
          body.mutable_audience()->set_direction(v1::Audience::DOWN);
          body.mutable_audience()->set_root(options_.id);
          body.mutable_audience()->add_units(owner);
        }
        body.set_payload(st.SerializeAsString());
        return id;
      }));
  if (state == "ACCEPTED" && !report.supersedes_report().empty()) {
    // D30 Art. 18.3: the replaced report is SUPERSEDED once its replacement is accepted.
    v1::SetReportStatusRequest superseded;
    superseded.set_report_id(report.supersedes_report());
    superseded.set_state("SUPERSEDED");
    superseded.set_reason("replaced by " + request.report_id());
    *superseded.mutable_act() = request.act();
    if (auto s = SetReportStatus(superseded); !s.ok()) {
      spdlog::warn("{}: marking {} SUPERSEDED: {}", options_.id, report.supersedes_report(),
                   s.status().ToString());
    }
  }
  v1::WriteReply reply;
  reply.set_id(w.id);
  reply.set_version(w.version);
  return reply;
}

void Node::ReceiveReports(std::vector<std::string> report_ids) {
  for (std::string& report_id : report_ids) {
    const std::string id = report_id + "/status";
    LocalAct act{domain::Act{domain::Action::kReceiveReport, ""}, v1::ActAs(), std::nullopt};
    SubmitLocal(
        act,
        [this, report_id, id](uint64_t, LmdbStore::View& view, v1::RecordBody& body)
            -> absl::StatusOr<std::string> {
          // Registered once, over SUBMITTED only: never over a withdrawal
          // already held, nor twice.
          SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> held, view.Get(id));
          v1::RecordBody held_body;
          v1::ReportStatus held_status;
          // The receipt follows the unit's SUBMITTED (it arrives right after
          // the report and triggers this again), so it descends from it.
          if (!held.has_value() || !held_body.ParseFromString(held->body()) ||
              !held_status.ParseFromString(held_body.payload())) {
            return absl::AlreadyExistsError("no status yet");
          }
          if (held_status.state() != "SUBMITTED" || held_body.version().writer() == options_.id) {
            return absl::AlreadyExistsError("status already " + held_status.state());
          }
          SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> report, view.Get(report_id));
          v1::RecordBody rb;
          if (!report.has_value() || !rb.ParseFromString(report->body())) {
            return absl::NotFoundError("report gone");
          }
          v1::ReportStatus st;
          st.set_report_id(report_id);
          st.set_state("RECEIVED");
          body.set_kind(v1::REPORT_STATUS);
          body.mutable_audience()->set_direction(v1::Audience::DOWN);
          body.mutable_audience()->set_root(options_.id);
          body.mutable_audience()->add_units(rb.version().writer());
          body.set_payload(st.SerializeAsString());
          return id;
        },
        [this, report_id](absl::StatusOr<Written> w) {
          if (!w.ok() && !absl::IsAlreadyExists(w.status()) && !absl::IsUnavailable(w.status())) {
            spdlog::warn("{}: registering {} as RECEIVED: {}", options_.id, report_id,
                         w.status().ToString());
          }
        });
  }
}

void Node::RegisterReceipts(const std::vector<std::pair<std::string, v1::RecordKind>>& admitted) {
  constexpr std::string_view kStatus = "/status";
  std::vector<std::string> reports;
  std::vector<std::string> directives;
  for (const auto& [id, kind] : admitted) {
    if (kind == v1::REPORT) reports.push_back(id);
    // The SUBMITTED status follows its report: the receipt descends from it.
    if (kind == v1::REPORT_STATUS && id.size() > kStatus.size()) {
      reports.push_back(id.substr(0, id.size() - kStatus.size()));
    }
    if (kind == v1::DIRECTIVE) directives.push_back(id);
  }
  if (!reports.empty()) ReceiveReports(std::move(reports));
  if (!directives.empty()) ReceiveDirectives(std::move(directives));
}

absl::Status Node::RegisterPendingReceipts() {
  std::vector<std::string> reports;
  std::vector<std::string> directives;
  std::set<std::string> receipts;
  SYNC_RETURN_IF_ERROR(store_->ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    v1::ReportStatus st;
    if (body.kind() == v1::REPORT_STATUS && st.ParseFromString(body.payload()) &&
        st.state() == "SUBMITTED" && sync::ParentOf(body.version().writer()) == options_.id) {
      reports.push_back(st.report_id());
    }
    if (body.kind() == v1::DIRECTIVE && body.version().writer() != options_.id) directives.push_back(body.id());
    if (body.kind() == v1::ACKNOWLEDGEMENT) receipts.insert(body.id());
  }));
  std::erase_if(directives, [&](const std::string& d) { return receipts.count(options_.id + "/a/" + d) > 0; });
  if (!reports.empty()) ReceiveReports(std::move(reports));
  if (!directives.empty()) ReceiveDirectives(std::move(directives));
  return absl::OkStatus();
}

void Node::ReceiveDirectives(std::vector<std::string> directive_ids) {
  for (std::string& directive_id : directive_ids) {
    const std::string id = options_.id + "/a/" + directive_id;
    LocalAct act{domain::Act{domain::Action::kReceiveDirective, ""}, v1::ActAs(), std::nullopt};
    SubmitLocal(
        act,
        [this, directive_id, id](uint64_t, LmdbStore::View& view, v1::RecordBody& body)
            -> absl::StatusOr<std::string> {
          // Once: never over a receipt already held (an officer's
          // acknowledgement or return, or the issuer's recall).
          SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> held, view.Get(id));
          if (held.has_value()) return absl::AlreadyExistsError("receipt held");
          SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, view.Get(directive_id));
          v1::RecordBody directive_body;
          v1::Directive d;
          if (!record.has_value() || !directive_body.ParseFromString(record->body()) ||
              !d.ParseFromString(directive_body.payload())) {
            return absl::NotFoundError("directive gone");
          }
          // Only a directive addressed to this unit itself: one relayed
          // through it to units below is theirs to acknowledge.
          const bool addressed = d.to_units().empty() || std::find(d.to_units().begin(), d.to_units().end(),
                                                                   options_.id) != d.to_units().end();
          if (!addressed || d.issuer() == options_.id) return absl::AlreadyExistsError("not addressed here");
          v1::Acknowledgement a;
          a.set_directive_id(directive_id);
          a.set_unit(options_.id);
          a.set_acknowledged_date(LegalDate(clock_->NowMicros()));
          a.set_state(std::string(domain::ReceiptStateName(domain::ReceiptState::kAcknowledged)));
          a.set_reason("received and verified");
          body.set_kind(v1::ACKNOWLEDGEMENT);
          body.mutable_audience()->set_direction(v1::Audience::UP);
          body.mutable_audience()->set_root(d.issuer());
          body.set_payload(a.SerializeAsString());
          return id;
        },
        [this, directive_id](absl::StatusOr<Written> w) {
          if (!w.ok() && !absl::IsAlreadyExists(w.status()) && !absl::IsUnavailable(w.status())) {
            spdlog::warn("{}: registering {} as received: {}", options_.id, directive_id, w.status().ToString());
          }
        });
  }
}

absl::StatusOr<std::optional<v1::Version>> Node::FindBase(const std::string& id,
                                                          const std::string& if_version) const {
  if (if_version.empty()) return std::optional<v1::Version>();
  auto matches = [&](const v1::Record& r) -> std::optional<v1::Version> {
    v1::RecordBody b;
    if (b.ParseFromString(r.body()) && b.id() == id && sync::VersionKey(b.version()) == if_version) {
      return b.version();
    }
    return std::nullopt;
  };
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> current, store_->GetRecord(id));
  if (!current.has_value()) return absl::NotFoundError("no record '" + id + "' on this node");
  if (auto v = matches(*current)) return v;
  SYNC_ASSIGN_OR_RETURN(std::vector<sync::ConflictEntry> conflicts, store_->ListConflicts());
  for (const auto& c : conflicts) {
    if (c.record_id != id) continue;
    if (auto v = matches(c.loser)) return v;
  }
  const uint64_t head = store_->HeadSeq();
  uint64_t after = head > kBaseSearchEntries ? head - kBaseSearchEntries : 0;
  while (after < head) {
    SYNC_ASSIGN_OR_RETURN(std::vector<sync::LogEntry> entries, store_->ReadLog(after, 1000, 64 << 20));
    if (entries.empty()) break;
    for (const auto& e : entries) {
      if (auto v = matches(e.record)) return v;
    }
    after = entries.back().seq;
  }
  return absl::NotFoundError("version " + if_version + " of '" + id +
                             "' is not one this node holds (see `steerctl why " + id + "`)");
}

// ---- Listings ------------------------------------------------------------------

absl::StatusOr<v1::ListDirectivesReply> Node::ListDirectives() const { return ListDirectivesIn(*store_); }

absl::StatusOr<v1::ListDirectivesReply> ListDirectivesIn(const LmdbStore& store) {
  v1::ListDirectivesReply reply;
  std::map<std::string, v1::DirectiveInfo> directives;
  std::map<std::string, std::vector<std::pair<v1::DocumentRelation::Kind, std::string>>> affected;  // target -> (kind, by)
  std::vector<v1::Acknowledgement> receipts;
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    if (body.kind() == v1::ACKNOWLEDGEMENT) {
      v1::Acknowledgement a;
      if (a.ParseFromString(body.payload())) receipts.push_back(std::move(a));
    } else if (body.kind() == v1::DIRECTIVE) {
      v1::Directive d;
      if (!d.ParseFromString(body.payload())) return;
      v1::DirectiveInfo& info = directives[body.id()];
      info.set_id(body.id());
      info.set_number(d.number());
      info.set_title(d.title());
      info.set_issuer(d.issuer());
      *info.mutable_to_units() = d.to_units();
      info.set_issued_date(d.issued_date());
      info.set_doc_type(d.doc_type());
      if (d.serial() != 0) {
        info.set_identity(d.issuer_body() + " " + std::to_string(d.year()) + " " + d.series() + " " +
                          std::to_string(d.serial()));
      }
      info.set_signed_as(SignedAs(body.version().authority()));
      for (const auto& rel : d.relations()) {
        affected[rel.target()].emplace_back(rel.kind(), body.id());
      }
    }
  }));
  for (const v1::Acknowledgement& a : receipts) {
    auto it = directives.find(a.directive_id());
    const std::optional<domain::ReceiptState> state = domain::ParseReceiptState(a.state());
    if (it == directives.end() || !state.has_value()) continue;
    switch (*state) {
      case domain::ReceiptState::kRecalled: it->second.add_recalled_from(a.unit()); break;
      case domain::ReceiptState::kReturned: it->second.add_returned_by(a.unit()); break;
      case domain::ReceiptState::kAcknowledged: it->second.add_acks(a.unit()); break;
    }
  }
  for (auto& [id, info] : directives) {
    // Derived from every relation held, so the arrival order never matters
    // (E6). The strongest effect decides: a recall, then a replacement, then
    // an amendment or correction.
    using domain::DirectiveStatus;
    DirectiveStatus status = DirectiveStatus::kEffective;
    for (const auto& [kind, by] : affected[id]) {
      info.add_affected_by(v1::DocumentRelation::Kind_Name(kind) + " by " + by);
      switch (kind) {
        case v1::DocumentRelation::RECALLS: status = DirectiveStatus::kRecalled; break;
        case v1::DocumentRelation::REPLACES:
          if (status != DirectiveStatus::kRecalled) status = DirectiveStatus::kSuperseded;
          break;
        case v1::DocumentRelation::AMENDS:
          if (status == DirectiveStatus::kEffective) status = DirectiveStatus::kAmended;
          break;
        case v1::DocumentRelation::CORRECTS:
          if (status == DirectiveStatus::kEffective) status = DirectiveStatus::kCorrected;
          break;
        default: break;
      }
    }
    if (status == DirectiveStatus::kEffective && info.recalled_from_size() > 0) status = DirectiveStatus::kRecalled;
    info.set_status(std::string(domain::DirectiveStatusName(status)));
    *reply.add_directives() = std::move(info);
  }
  return reply;
}

absl::StatusOr<v1::ListReportsReply> Node::ListReports() const {
  v1::ListReportsReply reply;
  std::map<std::string, v1::RecordBody> statuses;
  std::vector<std::pair<std::string, v1::RecordBody>> reports;
  SYNC_RETURN_IF_ERROR(store_->ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    if (body.kind() == v1::REPORT) reports.emplace_back(body.id(), body);
    if (body.kind() == v1::REPORT_STATUS) statuses[body.id()] = body;
  }));
  for (const auto& [id, body] : reports) {
    v1::Report r;
    if (!r.ParseFromString(body.payload())) continue;
    v1::ReportInfo* info = reply.add_reports();
    info->set_id(id);
    info->set_from(r.from_unit());
    info->set_period(r.period());
    info->set_title(r.title());
    info->set_in_reply_to(r.in_reply_to());
    info->set_supersedes_report(r.supersedes_report());
    info->set_signed_as(SignedAs(body.version().authority()));
    info->set_status("SUBMITTED");
    if (auto it = statuses.find(id + "/status"); it != statuses.end()) {
      v1::ReportStatus st;
      if (st.ParseFromString(it->second.payload())) {
        info->set_status(st.state());
        info->set_status_reason(st.reason());
        info->set_status_version(sync::VersionKey(it->second.version()));
      }
    }
  }
  return reply;
}

}  // namespace steersync::node
