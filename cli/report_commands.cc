// steerctl report submit | list | withdraw | accept | return: a report's
// lifecycle (DOMAIN-MODEL.md §1.10). The reporting unit submits and may
// withdraw; the receiving unit (its parent) accepts or returns. Each status
// edit names the version it was based on (--if-version), so an edit made on
// stale information is kept as a concurrent version and decided by R1..R5.
#include <iostream>
#include <memory>
#include <string>

#include "cli/act_options.h"
#include "cli/commands.h"
#include "cli/attachments.h"
#include "cli/list_options.h"
#include "cli/output.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::cli {
namespace {

// ---------------------------------------------------------------------------
// report submit

struct SubmitOptions {
  std::string period;
  std::string title;
  BodyOptions body;
  std::string in_reply_to;
  std::string supersedes;  // An earlier report of this unit that this one replaces.
  std::string obligation;  // The obligation it discharges.
  std::vector<std::string> attach;  // Files to attach.
  ActOptions act;
};

absl::Status RunReportSubmit(const SubmitOptions& options, AdminClient& admin, bool as_json) {
  v1::SubmitReportRequest request;
  request.set_period(options.period);
  request.set_title(options.title);
  SYNC_ASSIGN_OR_RETURN(*request.mutable_body(), LoadBody(options.body));
  request.set_in_reply_to(options.in_reply_to);
  request.set_supersedes_report(options.supersedes);
  request.set_obligation(options.obligation);
  SYNC_RETURN_IF_ERROR(LoadAttachments(options.attach, *request.mutable_attachments()));
  *request.mutable_act() = FillActAs(options.act);
  SYNC_ASSIGN_OR_RETURN(const v1::SubmitReportReply reply,
                        admin.Call(&v1::Admin::Stub::SubmitReport, request));
  return PrintReply(reply, "submitted " + reply.id(), as_json);
}

void AddReportSubmitCommand(CLI::App& parent, Action& action) {
  CLI::App* cmd = parent.add_subcommand("submit", "Submit a report to the parent");
  auto options = std::make_shared<SubmitOptions>();
  cmd->add_option("--period", options->period, "Reporting period")->required();
  cmd->add_option("--title", options->title, "Report title")->required();
  AddBodyOptions(*cmd, options->body);
  cmd->add_option("--in-reply-to", options->in_reply_to, "Id of the directive this answers");
  cmd->add_option("--obligation", options->obligation,
                  "Id of the reporting obligation this report discharges (--period then takes its "
                  "cadence's form: 2026, 2026-H2, 2026-Q4 or 2026-11)");
  cmd->add_option("--supersedes", options->supersedes,
                  "Id of an earlier report of this unit that this one replaces (D30 Art. 18.3)");
  AddAttachOption(*cmd, options->attach);
  AddActOptions(*cmd, options->act);
  cmd->callback([options, &action] {
    action = [options](AdminClient& admin, bool as_json) {
      return RunReportSubmit(*options, admin, as_json);
    };
  });
}

// ---------------------------------------------------------------------------
// report list

void PrintReports(const v1::ListReportsReply& r) {
  Table table({"ID", "FROM", "TO", "DATE", "PERIOD", "STATUS", "OBLIGATION", "IN-REPLY-TO", "TITLE"});
  for (const v1::ReportInfo& report : r.reports()) {
    table.AddRow({report.id(), report.from(), OrDash(report.to()), OrDash(report.date()), report.period(),
                  OrDash(report.status()), OrDash(report.obligation()), OrDash(report.in_reply_to()), report.title()});
  }
  table.Print(std::cout);
}

absl::Status RunReportList(const v1::ListReportsRequest& filter, AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::ListReportsReply reply, admin.Call(&v1::Admin::Stub::ListReports, filter));
  if (as_json) return PrintMessageListJson(reply.reports());
  PrintReports(reply);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// report show

absl::Status RunReportShow(const std::string& id, AdminClient& admin, bool as_json) {
  v1::ShowRequest request;
  request.set_id(id);
  SYNC_ASSIGN_OR_RETURN(const v1::ReportInfo r, admin.Call(&v1::Admin::Stub::ShowReport, request));
  if (as_json) return PrintShowJson(r);
  auto p = [](const std::string& s) { return sync::Printable(s, 400); };
  std::cout << p(r.title()) << "\n"
            << "  id:          " << r.id() << "\n"
            << "  from:        " << r.from() << ", signed " << OrDash(p(r.signed_as())) << "\n"
            << "  period:      " << p(r.period()) << "\n"
            << "  status:      " << r.status() << (r.status_reason().empty() ? "" : ": " + p(r.status_reason()))
            << "\n";
  if (!r.in_reply_to().empty()) std::cout << "  in reply to: " << r.in_reply_to() << "\n";
  if (!r.supersedes_report().empty()) std::cout << "  replaces:    " << r.supersedes_report() << "\n";
  if (!r.obligation().empty()) std::cout << "  obligation:  " << r.obligation() << "\n";
  PrintAttachments(std::cout, r.attachments());
  std::cout << "  version:     " << r.version() << "\n\n";
  PrintDocumentText(std::cout, r.body());
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// report withdraw | accept | return

struct StatusOptions {
  std::string report_id;
  std::string reason;
  std::string if_version;  // Status version the edit is based on; empty: current.
  ActOptions act;
};

// Sets the report's status to `state` and prints "<done> <id> (version <v>)",
// `done` being the state in lower case, e.g. "withdrawn".
absl::Status RunSetReportStatus(const StatusOptions& options, const std::string& state,
                                const std::string& done, AdminClient& admin, bool as_json) {
  v1::SetReportStatusRequest request;
  request.set_report_id(options.report_id);
  request.set_state(state);
  request.set_reason(options.reason);
  *request.mutable_act() = FillActAs(options.act);
  request.set_if_version(options.if_version);
  SYNC_ASSIGN_OR_RETURN(const v1::WriteReply reply,
                        admin.Call(&v1::Admin::Stub::SetReportStatus, request));
  return PrintReply(reply, done + " " + reply.id() + " (version " + reply.version() + ")",
                    as_json);
}

// Adds `report <name>`, which sets the status `state` (`done` in lower case).
void AddReportStatusCommand(CLI::App& parent, Action& action, const std::string& name,
                            const std::string& state, const std::string& done,
                            const std::string& description, bool reason_required) {
  CLI::App* cmd = parent.add_subcommand(name, description);
  auto options = std::make_shared<StatusOptions>();
  cmd->add_option("ID", options->report_id, "Report id")->required();
  CLI::Option* reason = cmd->add_option("--reason", options->reason, "Why it is " + done);
  if (reason_required) reason->required();
  cmd->add_option("--if-version", options->if_version,
                  "Status version this edit is based on (steerctl why ID/status; default: the "
                  "current one)");
  AddActOptions(*cmd, options->act);
  cmd->callback([options, state, done, &action] {
    action = [options, state, done](AdminClient& admin, bool as_json) {
      return RunSetReportStatus(*options, state, done, admin, as_json);
    };
  });
}

}  // namespace

void AddReportCommands(CLI::App& app, Action& action) {
  CLI::App* cmd =
      app.add_subcommand("report", "Submit, list, withdraw, accept and return reports");
  cmd->require_subcommand(1);
  AddReportSubmitCommand(*cmd, action);
  CLI::App* list = cmd->add_subcommand("list", "List reports and their status");
  auto filter = std::make_shared<v1::ListReportsRequest>();
  list->add_option("--status", *filter->mutable_status(), "Only reports in this status")
      ->check(CLI::IsMember({"SUBMITTED", "RECEIVED", "ACCEPTED", "RETURNED", "WITHDRAWN", "SUPERSEDED"}));
  list->add_option("--from", *filter->mutable_from(), "Only reports from this unit");
  list->add_option("--period", *filter->mutable_period(), "Only reports for this period, e.g. 2026-Q4");
  list->add_option("--since", *filter->mutable_since(), "Only reports submitted on or after YYYY-MM-DD")
      ->check(IsoDate());
  list->add_option_function<uint32_t>("--limit", [filter](const uint32_t& n) { filter->set_limit(n); }, "At most N: the last in id order (for one unit's records, its newest)")
      ->check(CLI::Range(1, 1000000));
  list->callback([filter, &action] {
    action = [filter](AdminClient& admin, bool as_json) { return RunReportList(*filter, admin, as_json); };
  });
  CLI::App* show = cmd->add_subcommand("show", "Print one report whole: its text, period, status");
  auto show_id = std::make_shared<std::string>();
  show->add_option("ID", *show_id, "Report id")->required();
  show->callback([show_id, &action] {
    action = [show_id](AdminClient& admin, bool as_json) { return RunReportShow(*show_id, admin, as_json); };
  });
  AddReportStatusCommand(*cmd, action, "withdraw", "WITHDRAWN", "withdrawn",
                         "Withdraw a report this unit submitted", /*reason_required=*/false);
  AddReportStatusCommand(*cmd, action, "accept", "ACCEPTED", "accepted",
                         "Accept a report from a child unit", /*reason_required=*/false);
  AddReportStatusCommand(*cmd, action, "return", "RETURNED", "returned",
                         "Return a report to the child unit that sent it", /*reason_required=*/true);
}

}  // namespace steersync::cli
