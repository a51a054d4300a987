// Reports (DOMAIN-MODEL.md §1.10): submitting, reviewing, and registering a
// child's report RECEIVED on arrival.
#include "node/report_acts.h"

#include "node/attachments.h"

#include <spdlog/spdlog.h>

#include "node/domain/documents.h"
#include "sync/node_path.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::node {
namespace {

// Fills `body` as the status `state` of report `report_id` (sent by `owner`)
// written by `self`: up to the parent when `self` is the owner, down to the
// owner otherwise.
absl::StatusOr<std::string> StatusBody(const std::string& self, const std::string& owner,
                                       const std::string& report_id, const std::string& state,
                                       const std::string& reason, v1::RecordBody& body) {
  v1::ReportStatus st;
  st.set_report_id(report_id);
  st.set_state(state);
  st.set_reason(reason);
  body.set_kind(v1::REPORT_STATUS);
  if (self == owner) {
    body.mutable_audience()->set_direction(v1::Audience::UP);
    body.mutable_audience()->set_root(sync::ParentOf(owner));
  } else {
    body.mutable_audience()->set_direction(v1::Audience::DOWN);
    body.mutable_audience()->set_root(self);
    body.mutable_audience()->add_units(owner);
  }
  body.set_payload(st.SerializeAsString());
  return report_id + "/status";
}

}  // namespace

ReportActs::ReportActs(LocalActs& local) : local_(local), self_(local.self()), store_(&local.store()) {}

absl::StatusOr<std::string> ReportActs::Submit(v1::SubmitReportRequest request) {
  const std::string parent = sync::ParentOf(self_);
  if (parent.empty()) return absl::FailedPreconditionError("the root node has no parent to report to");
  if (!domain::IsReportingPeriod(request.period())) {
    return absl::InvalidArgumentError("report period '" + sync::Printable(request.period(), 32) + "' is not " +
                                      domain::kPeriodFormats);
  }
  if (request.title().empty()) return absl::InvalidArgumentError("report title is required");
  SYNC_ASSIGN_OR_RETURN(const std::vector<PreparedAttachment> attachments,
                        PrepareAttachments(*request.mutable_attachments(), local_.max_attachment_bytes()));
  if (!request.in_reply_to().empty()) {
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> r, store_->GetRecord(request.in_reply_to()));
    v1::RecordBody answered;
    if (!r.has_value() || !answered.ParseFromString(r->body()) || answered.kind() != v1::DIRECTIVE ||
        !sync::IsSelfOrAncestor(answered.version().writer(), self_) ||
        answered.version().writer() == self_) {
      return absl::NotFoundError("no directive '" + sync::Printable(request.in_reply_to(), 80) +
                                 "' from above is held on this node (see `steerctl directive list`)");
    }
  }
  if (!request.supersedes_report().empty()) {
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> old, store_->GetRecord(request.supersedes_report()));
    if (request.supersedes_report().rfind(self_ + "/r/", 0) != 0 || !old.has_value()) {
      return absl::InvalidArgumentError("'" + request.supersedes_report() +
                                        "' is not an earlier report of " + self_);
    }
  }
  if (!request.obligation().empty()) {
    // The cadence is checked with the rest of the act (act_checks.cc: the
    // same check the province makes).
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> o, store_->GetRecord(request.obligation()));
    v1::RecordBody obligation;
    if (!o.has_value() || !obligation.ParseFromString(o->body()) || obligation.kind() != v1::OBLIGATION ||
        !sync::IsSelfOrAncestor(obligation.version().writer(), self_) || obligation.version().writer() == self_) {
      return absl::NotFoundError("no obligation '" + sync::Printable(request.obligation(), 80) +
                                 "' from above is held on this node (see `steerctl obligation list`)");
    }
  }
  LocalAct act{domain::Act{domain::Action::kSubmitReport, ""}, request.act(), std::nullopt};
  std::string report_id;  // set by the first maker, read by the second (same job, in order)
  std::vector<std::pair<LocalAct, BodyMaker>> acts;
  acts.emplace_back(act, [&](uint64_t counter, LmdbStore::View& view, v1::RecordBody& body)
                             -> absl::StatusOr<std::string> {
    v1::Report r;
    r.set_period(request.period());
    r.set_title(request.title());
    r.set_body(request.body());
    r.set_from_unit(self_);
    r.set_in_reply_to(request.in_reply_to());
    r.set_supersedes_report(request.supersedes_report());
    r.set_obligation_id(request.obligation());
    body.set_kind(v1::REPORT);
    body.mutable_audience()->set_direction(v1::Audience::UP);
    body.mutable_audience()->set_root(parent);
    body.set_payload(r.SerializeAsString());
    report_id = self_ + "/r/" + std::to_string(counter);
    SYNC_RETURN_IF_ERROR(AttachToOwnAct(view, attachments, report_id, body));
    return report_id;
  });
  // The report's status starts SUBMITTED, in the same capacity (§1.10) and
  // the same transaction: a report is never held without its status, which
  // its parent needs to register it received (a kill between two commits, or
  // a store that filled in between, left reports that never were).
  acts.emplace_back(act, [&](uint64_t, LmdbStore::View&, v1::RecordBody& body) -> absl::StatusOr<std::string> {
    return StatusBody(self_, self_, report_id, "SUBMITTED", "", body);
  });
  SYNC_ASSIGN_OR_RETURN(std::vector<Written> written, local_.WriteTogether(std::move(acts)));
  return written.front().id;
}

absl::StatusOr<v1::WriteReply> ReportActs::SetStatus(const v1::SetReportStatusRequest& request) {
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
  if (self_ == owner) {
    if (state != "WITHDRAWN" && state != "SUBMITTED") {
      return absl::InvalidArgumentError("the reporting unit sets WITHDRAWN (or SUBMITTED), not '" + state + "'");
    }
    action = state == "WITHDRAWN" ? domain::Action::kWithdrawReport : domain::Action::kSubmitReport;
  } else if (self_ == superior) {
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
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Version> base, local_.FindBase(id, request.if_version()));
  LocalAct act{domain::Act{action, ""}, request.act(), base};
  std::vector<std::pair<LocalAct, BodyMaker>> acts;
  acts.emplace_back(act, [&](uint64_t, LmdbStore::View&, v1::RecordBody& body) -> absl::StatusOr<std::string> {
    return StatusBody(self_, owner, request.report_id(), state, request.reason(), body);
  });
  const std::string& replaced = report.supersedes_report();
  if (state == "ACCEPTED" && !replaced.empty() && store_->GetRecord(replaced).value_or(std::nullopt).has_value()) {
    // D30 Art. 18.3: the replaced report is SUPERSEDED once its replacement
    // is accepted, in the accepting act's capacity and transaction: never an
    // accepted replacement beside a replaced report still standing.
    LocalAct supersede{domain::Act{domain::Action::kReviewReport, ""}, request.act(), std::nullopt};
    acts.emplace_back(supersede, [&](uint64_t, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
      return StatusBody(self_, owner, replaced, "SUPERSEDED", "replaced by " + request.report_id(), body);
    });
  }
  SYNC_ASSIGN_OR_RETURN(std::vector<Written> written, local_.WriteTogether(std::move(acts)));
  v1::WriteReply reply;
  reply.set_id(written.front().id);
  reply.set_version(written.front().version);
  return reply;
}

void ReportActs::Receive(std::vector<std::string> report_ids,
                         std::function<void(const std::string& id, absl::Status)> done) {
  for (std::string& report_id : report_ids) {
    const std::string id = report_id + "/status";
    LocalAct act{domain::Act{domain::Action::kReceiveReport, ""}, v1::ActAs(), std::nullopt};
    local_.Submit(
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
          if (held_status.state() != "SUBMITTED" || held_body.version().writer() == self_) {
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
          body.mutable_audience()->set_root(self_);
          body.mutable_audience()->add_units(rb.version().writer());
          body.set_payload(st.SerializeAsString());
          return id;
        },
        [report_id, done](absl::StatusOr<Written> w) { done(report_id, w.status()); });
  }
}

}  // namespace steersync::node
