// steerctl obligation add | list, and steerctl overdue: the Standing
// Agency's follow-up (P 6.1 monitor and urge; P 12.2, C 10; Decree 09/2019
// Art. 12). An obligation asks the units below for a report each period,
// due on a day of the month after the period, moved to the next working
// day; `overdue` lists what the units below have not done by their
// deadlines.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/act_options.h"
#include "cli/commands.h"
#include "cli/list_options.h"
#include "cli/output.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::cli {
namespace {

struct AddOptions {
  std::string title;
  std::string every;
  uint32_t due_day = 0;
  std::vector<std::string> to;
  std::string from;
  ActOptions act;
};

absl::Status RunObligationAdd(const AddOptions& options, AdminClient& admin, bool as_json) {
  v1::AddObligationRequest request;
  request.set_title(options.title);
  request.set_every(options.every);
  request.set_due_day(options.due_day);
  for (const std::string& unit : options.to) request.add_to(unit);
  request.set_from(options.from);
  *request.mutable_act() = FillActAs(options.act);
  SYNC_ASSIGN_OR_RETURN(const v1::WriteReply reply, admin.Call(&v1::Admin::Stub::AddObligation, request));
  return PrintReply(reply, "issued obligation " + reply.id(), as_json);
}

absl::Status RunObligationList(const v1::ListFilter& filter, AdminClient& admin, bool as_json) {
  v1::ListObligationsRequest request;
  *request.mutable_filter() = filter;
  SYNC_ASSIGN_OR_RETURN(const v1::ListObligationsReply reply, admin.Call(&v1::Admin::Stub::ListObligations, request));
  if (as_json) return PrintMessageListJson(reply.obligations());
  // FROM is the first period's start (--from of `obligation add`).
  Table table({"ID", "ISSUER", "ISSUED", "EVERY", "DUE-DAY", "FROM", "TO", "TITLE"});
  for (const v1::ObligationInfo& o : reply.obligations()) {
    table.AddRow({o.id(), o.issuer(), OrDash(o.issued()), o.every(), std::to_string(o.due_day()), o.from(),
                  JoinOrDash(o.to()), o.title()});
  }
  table.Print(std::cout);
  return absl::OkStatus();
}

// With --json, each unit's entries not listed follow the entries as
// {"unit","kind":"not_listed","count","listed_by"}.
absl::Status PrintOverdueJson(const v1::ListOverdueReply& reply) {
  SYNC_ASSIGN_OR_RETURN(json out, MessageListToJson(reply.overdue(), [](json&) {}));
  for (const v1::OverdueNotListed& n : reply.not_listed()) {
    out.push_back({{"unit", n.unit()}, {"kind", "not_listed"}, {"count", n.count()}, {"listed_by", n.listed_by()}});
  }
  PrintJson(out);
  return absl::OkStatus();
}

// After the table: how many entries the statuses of the units below counted
// but did not carry, and where they are all listed.
void PrintNotListed(const v1::ListOverdueReply& reply) {
  uint64_t total = 0;
  for (const v1::OverdueNotListed& n : reply.not_listed()) total += n.count();
  if (total == 0) return;
  std::cout << "... and " << total
            << " more overdue entries not listed here (a status record carries at most 256; `steerctl overdue` "
               "on LISTED-BY shows them all):\n";
  Table table({"UNIT", "NOT-LISTED", "LISTED-BY"});
  for (const v1::OverdueNotListed& n : reply.not_listed()) {
    table.AddRow({n.unit(), std::to_string(n.count()), n.listed_by()});
  }
  table.Print(std::cout);
}

absl::Status RunOverdue(AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::ListOverdueReply reply,
                        admin.Call(&v1::Admin::Stub::ListOverdue, v1::ListOverdueRequest()));
  if (as_json) return PrintOverdueJson(reply);
  if (reply.overdue().empty() && reply.not_listed().empty()) {
    std::cout << "nothing overdue\n";
    return absl::OkStatus();
  }
  Table table({"UNIT", "KIND", "REF", "PERIOD", "DUE", "DAYS-LATE"});
  for (const v1::OverdueInfo& o : reply.overdue()) {
    table.AddRow({o.unit(), o.kind(), o.ref(), OrDash(o.period()), o.due(), std::to_string(o.days_late())});
  }
  table.Print(std::cout);
  PrintNotListed(reply);
  return absl::OkStatus();
}

}  // namespace

void AddObligationCommands(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("obligation", "Issue and list reporting obligations");
  cmd->require_subcommand(1);
  CLI::App* add = cmd->add_subcommand("add", "Ask the units below for a report every period");
  auto options = std::make_shared<AddOptions>();
  add->add_option("--title", options->title, "What the reports are about")->required();
  add->add_option("--every", options->every, "Cadence")
      ->required()
      ->check(CLI::IsMember({"monthly", "quarterly", "half-yearly", "yearly"}));
  add->add_option("--due-day", options->due_day,
                  "Day of the month after each period on which its report is due (moved to the next "
                  "working day)")
      ->required()
      ->check(CLI::Range(1, 31));
  add->add_option("--to", options->to, "A unit that must report (repeatable; default: every unit below)");
  add->add_option("--from", options->from, "YYYY-MM-DD: the first period holds this day (default: today)");
  AddActOptions(*add, options->act);
  add->callback([options, &action] {
    action = [options](AdminClient& admin, bool as_json) { return RunObligationAdd(*options, admin, as_json); };
  });
  CLI::App* list = cmd->add_subcommand("list", "List the obligations held (issued here or above)");
  auto filter = std::make_shared<v1::ListFilter>();
  AddListFilterOptions(*list, filter, {"issued", "the issuing unit", {}});
  list->callback([filter, &action] {
    action = [filter](AdminClient& admin, bool as_json) { return RunObligationList(*filter, admin, as_json); };
  });
}

void AddOverdueCommand(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand(
      "overdue", "What the units below, down the whole subtree, have not done by their deadlines (reports, tasks, "
      "acknowledgements). Units further down are listed from their parents' status records, which carry at "
      "most 256 entries each: what is cut is counted per unit after the table (with --json, as rows "
      "{\"unit\",\"kind\":\"not_listed\",\"count\",\"listed_by\"}), and `steerctl overdue` on the listing "
      "unit shows them all");
  cmd->callback([&action] { action = [](AdminClient& admin, bool as_json) { return RunOverdue(admin, as_json); }; });
}

}  // namespace steersync::cli
