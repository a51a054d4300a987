// steerctl extension request | grant | deny | list (Decree 09/2019 Art. 12;
// P 12.2, C 10; DOMAIN-MODEL E2): a unit that owes a report asks the
// obligation's issuer for more time for one period; the issuer grants or
// denies. A granted extension moves that period's due date for that unit
// only, and `overdue` follows it.
//
// steerctl calendar set | show (DOMAIN-MODEL §7): the top node sets one
// year's working-day exceptions for the whole federation; every node shows
// the year in force and where it comes from.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/act_options.h"
#include "cli/commands.h"
#include "cli/list_options.h"
#include "cli/output.h"
#include "sync/status_macros.h"

namespace steersync::cli {
namespace {

struct AskOptions {
  std::string obligation, period, until, reason;
  ActOptions act;
};

struct DecideOptions {
  std::string request_id, reason;
  ActOptions act;
};

absl::Status RunAsk(const AskOptions& o, AdminClient& admin, bool as_json) {
  v1::ExtensionAskRequest request;
  request.set_obligation(o.obligation);
  request.set_period(o.period);
  request.set_until(o.until);
  request.set_reason(o.reason);
  *request.mutable_act() = FillActAs(o.act);
  SYNC_ASSIGN_OR_RETURN(const v1::WriteReply reply, admin.Call(&v1::Admin::Stub::ExtensionAsk, request));
  return PrintReply(reply, "requested " + reply.id() + " (sent to the obligation's issuer)", as_json);
}

absl::Status RunDecide(const DecideOptions& o, const std::string& state, AdminClient& admin, bool as_json) {
  v1::ExtensionDecideRequest request;
  request.set_request_id(o.request_id);
  request.set_state(state);
  request.set_reason(o.reason);
  *request.mutable_act() = FillActAs(o.act);
  SYNC_ASSIGN_OR_RETURN(const v1::WriteReply reply, admin.Call(&v1::Admin::Stub::ExtensionDecide, request));
  return PrintReply(reply, o.request_id + ": " + state + " (" + reply.id() + ")", as_json);
}

absl::Status RunList(const v1::ListFilter& filter, AdminClient& admin, bool as_json) {
  v1::ExtensionListRequest request;
  *request.mutable_filter() = filter;
  SYNC_ASSIGN_OR_RETURN(const v1::ExtensionListReply reply, admin.Call(&v1::Admin::Stub::ExtensionList, request));
  if (as_json) return PrintMessageListJson(reply.extensions());
  Table table({"ID", "FROM", "TO", "DATE", "OBLIGATION", "PERIOD", "DUE", "UNTIL", "STATUS", "APPLIES", "REASON"});
  for (const v1::ExtensionInfo& x : reply.extensions()) {
    const std::string reason = x.decision_reason().empty() ? x.reason() : x.reason() + " / " + x.decision_reason();
    table.AddRow({x.id(), x.from(), x.to(), x.date(), x.obligation(), x.period(), OrDash(x.due()), x.until(),
                  x.status(), OrDash(x.applies()), reason});
  }
  table.Print(std::cout);
  return absl::OkStatus();
}

void AddDecideCommand(CLI::App& parent, Action& action, const std::string& name, const std::string& state,
                      const std::string& help) {
  CLI::App* cmd = parent.add_subcommand(name, help);
  auto o = std::make_shared<DecideOptions>();
  cmd->add_option("ID", o->request_id, "Extension request id (steerctl extension list)")->required();
  cmd->add_option("--reason", o->reason, "Why (sent to the requesting unit)");
  AddActOptions(*cmd, o->act);
  cmd->callback([o, state, &action] {
    action = [o, state](AdminClient& admin, bool as_json) { return RunDecide(*o, state, admin, as_json); };
  });
}

struct CalendarSetOptions {
  uint32_t year = 0;
  std::vector<std::string> holidays, workdays;
  std::string basis;
  ActOptions act;
};

absl::Status RunCalendarSet(const CalendarSetOptions& o, AdminClient& admin, bool as_json) {
  v1::CalendarSetRequest request;
  request.set_year(o.year);
  for (const std::string& d : o.holidays) request.add_holidays(d);
  for (const std::string& d : o.workdays) request.add_workdays(d);
  request.set_basis(o.basis);
  *request.mutable_act() = FillActAs(o.act);
  SYNC_ASSIGN_OR_RETURN(const v1::WriteReply reply, admin.Call(&v1::Admin::Stub::CalendarSet, request));
  return PrintReply(reply,
                    "set " + reply.id() + ": " + std::to_string(o.holidays.size()) + " holiday(s), " +
                        std::to_string(o.workdays.size()) + " workday(s), in force for the whole federation",
                    as_json);
}

absl::Status RunCalendarShow(uint32_t year, AdminClient& admin, bool as_json) {
  v1::CalendarShowRequest request;
  request.set_year(year);
  SYNC_ASSIGN_OR_RETURN(const v1::CalendarShowReply reply, admin.Call(&v1::Admin::Stub::CalendarShow, request));
  if (as_json) return PrintMessageJson(reply);
  std::cout << reply.year() << ": " << reply.source() << "\n";
  if (!reply.basis().empty()) PrintKeyValues({{"basis", reply.basis()}});
  Table table({"DATE", "KIND"});
  for (const std::string& d : reply.holidays()) table.AddRow({d, "holiday (weekday off)"});
  for (const std::string& d : reply.workdays()) table.AddRow({d, "workday (weekend day worked)"});
  table.Print(std::cout);
  return absl::OkStatus();
}

}  // namespace

void AddExtensionCommands(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("extension", "Ask for, grant, deny and list extensions of report due dates");
  cmd->require_subcommand(1);
  CLI::App* ask = cmd->add_subcommand(
      "request", "Ask the obligation's issuer to move one period's due date for this unit");
  auto o = std::make_shared<AskOptions>();
  ask->add_option("OBLIGATION", o->obligation, "Obligation id (steerctl obligation list)")->required();
  ask->add_option("--period", o->period, "The period, in the obligation's form: 2026, 2026-H2, 2026-Q4 or 2026-11")
      ->required();
  ask->add_option("--until", o->until, "YYYY-MM-DD after the period's due date (moved to the next working day)")
      ->required()
      ->check(IsoDate());
  ask->add_option("--reason", o->reason, "Why (one line of text, at most 1000 bytes)")->required();
  AddActOptions(*ask, o->act);
  ask->callback([o, &action] { action = [o](AdminClient& admin, bool as_json) { return RunAsk(*o, admin, as_json); }; });
  AddDecideCommand(*cmd, action, "grant", "GRANTED", "Grant a request made to this node (the obligation's issuer)");
  AddDecideCommand(*cmd, action, "deny", "DENIED", "Deny a request made to this node (the obligation's issuer)");
  CLI::App* list = cmd->add_subcommand("list", "Requests made here or to this node, their decision and the due date that applies");
  auto filter = std::make_shared<v1::ListFilter>();
  AddListFilterOptions(*list, filter, {"requested", "the requesting unit", {"REQUESTED", "GRANTED", "DENIED"}});
  list->callback([filter, &action] {
    action = [filter](AdminClient& admin, bool as_json) { return RunList(*filter, admin, as_json); };
  });
}

void AddCalendarCommands(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("calendar", "The working-day calendar: set a year (top node), show one");
  cmd->require_subcommand(1);
  CLI::App* set = cmd->add_subcommand(
      "set",
      "Replace one year's holidays and exchanged workdays for the whole federation (only the node with no "
      "parent); give every day of the year, not only the changes");
  auto o = std::make_shared<CalendarSetOptions>();
  set->add_option("--year", o->year, "The year")->required()->check(CLI::Range(2000, 2199));
  set->add_option("--holiday", o->holidays, "A weekday off, YYYY-MM-DD (repeatable, or comma-separated)")
      ->delimiter(',')
      ->check(IsoDate());
  set->add_option("--workday", o->workdays,
                  "A Saturday or Sunday worked in exchange, YYYY-MM-DD (repeatable, or comma-separated)")
      ->delimiter(',')
      ->check(IsoDate());
  set->add_option("--basis", o->basis, "Where the days come from, e.g. the government's announcement");
  AddActOptions(*set, o->act);
  set->callback([o, &action] {
    action = [o](AdminClient& admin, bool as_json) { return RunCalendarSet(*o, admin, as_json); };
  });
  CLI::App* show = cmd->add_subcommand("show", "One year's exceptions in force here, and where they come from");
  auto year = std::make_shared<uint32_t>(0);
  show->add_option("--year", *year, "The year")->required()->check(CLI::Range(2000, 2199));
  show->callback([year, &action] {
    action = [year](AdminClient& admin, bool as_json) { return RunCalendarShow(*year, admin, as_json); };
  });
}

}  // namespace steersync::cli
