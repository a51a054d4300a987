// steerctl task assign | update | done | accept | return | list: work with
// a deadline given to a unit below (P 3.1, 5.2, 6.6; C 4.5, 5.2). The
// assignee reports progress and DONE; the assigner accepts or returns it.
// Tasks not DONE by their due date appear in `steerctl overdue`.
#include <iostream>
#include <memory>
#include <string>

#include "cli/act_options.h"
#include "cli/commands.h"
#include "cli/list_options.h"
#include "cli/output.h"
#include "sync/status_macros.h"

namespace steersync::cli {
namespace {

struct AssignOptions {
  std::string to, member, title, due, directive, body;
  ActOptions act;
};

struct StatusOptions {
  std::string task_id, state, note, if_version;
  uint32_t progress = 0;
  ActOptions act;
};

absl::Status RunAssign(const AssignOptions& o, AdminClient& admin, bool as_json) {
  v1::AssignTaskRequest request;
  request.set_to(o.to);
  request.set_member(o.member);
  request.set_title(o.title);
  request.set_due(o.due);
  request.set_directive(o.directive);
  request.set_body(o.body);
  *request.mutable_act() = FillActAs(o.act);
  SYNC_ASSIGN_OR_RETURN(const v1::WriteReply reply, admin.Call(&v1::Admin::Stub::AssignTask, request));
  return PrintReply(reply, "assigned " + reply.id(), as_json);
}

absl::Status RunStatus(const StatusOptions& o, AdminClient& admin, bool as_json) {
  v1::SetTaskStatusRequest request;
  request.set_task_id(o.task_id);
  request.set_state(o.state);
  request.set_progress(o.progress);
  request.set_note(o.note);
  request.set_if_version(o.if_version);
  *request.mutable_act() = FillActAs(o.act);
  SYNC_ASSIGN_OR_RETURN(const v1::WriteReply reply, admin.Call(&v1::Admin::Stub::SetTaskStatus, request));
  return PrintReply(reply, o.task_id + ": " + o.state, as_json);
}

absl::Status RunList(const v1::ListFilter& filter, AdminClient& admin, bool as_json) {
  v1::ListTasksRequest request;
  *request.mutable_filter() = filter;
  SYNC_ASSIGN_OR_RETURN(const v1::ListTasksReply reply, admin.Call(&v1::Admin::Stub::ListTasks, request));
  if (as_json) return PrintMessageListJson(reply.tasks());
  Table table({"ID", "FROM", "TO", "ASSIGNED", "DUE", "STATE", "PROGRESS", "TITLE"});
  for (const v1::TaskInfo& t : reply.tasks()) {
    table.AddRow({t.id(), t.assigner(), t.member().empty() ? t.to() : "member " + t.member(), OrDash(t.assigned()),
                  t.due(), t.state(),
                  std::to_string(t.progress()) + "%", t.title()});
  }
  table.Print(std::cout);
  return absl::OkStatus();
}

// A status subcommand: `state` fixed, or OPEN with --progress for `update`.
void AddStatusCommand(CLI::App& parent, Action& action, const std::string& name, const std::string& state,
                      const std::string& help) {
  CLI::App* cmd = parent.add_subcommand(name, help);
  auto o = std::make_shared<StatusOptions>();
  o->state = state;
  cmd->add_option("ID", o->task_id, "Task id")->required();
  if (name == "update") {
    cmd->add_option("--progress", o->progress, "Percent done, 0-100")->required()->check(CLI::Range(0, 100));
  }
  cmd->add_option("--note", o->note, "A note for the other side");
  cmd->add_option("--if-version", o->if_version, "The status version this edit is based on");
  AddActOptions(*cmd, o->act);
  cmd->callback([o, &action] { action = [o](AdminClient& admin, bool as_json) { return RunStatus(*o, admin, as_json); }; });
}

}  // namespace

void AddTaskCommands(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("task", "Assign tasks with deadlines and follow them");
  cmd->require_subcommand(1);
  CLI::App* assign = cmd->add_subcommand("assign", "Assign a task to a unit directly below or to a member");
  auto o = std::make_shared<AssignOptions>();
  CLI::Option_group* who = assign->add_option_group("Assignee", "Who does it");
  who->add_option("--to", o->to, "A unit directly below that does it");
  who->add_option("--member", o->member,
                  "Or a member of this node's committee (MEMBERSHIP id, `steerctl member list`); the task stays "
                  "on this node (P 3.1, 5.2; C 3.1, 5.5)");
  who->require_option(1);
  assign->add_option("--title", o->title, "What is to be done")->required();
  assign->add_option("--due", o->due, "YYYY-MM-DD")->required();
  assign->add_option("--directive", o->directive, "The directive it implements");
  assign->add_option("--body", o->body, "The task's details");
  AddActOptions(*assign, o->act);
  assign->callback([o, &action] { action = [o](AdminClient& admin, bool as_json) { return RunAssign(*o, admin, as_json); }; });
  AddStatusCommand(*cmd, action, "update", "OPEN", "The assignee reports progress");
  AddStatusCommand(*cmd, action, "done", "DONE", "The assignee reports the task done");
  AddStatusCommand(*cmd, action, "accept", "ACCEPTED", "The assigner accepts the work");
  AddStatusCommand(*cmd, action, "return", "RETURNED", "The assigner returns it for more work");
  CLI::App* list = cmd->add_subcommand("list", "Tasks assigned here or to this unit, with their state");
  auto filter = std::make_shared<v1::ListFilter>();
  AddListFilterOptions(*list, filter, {"assigned", "the assigning unit", {"OPEN", "DONE", "ACCEPTED", "RETURNED"}});
  list->callback([filter, &action] {
    action = [filter](AdminClient& admin, bool as_json) { return RunList(*filter, admin, as_json); };
  });
}

}  // namespace steersync::cli
