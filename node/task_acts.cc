#include "node/task_acts.h"

#include <map>

#include "node/domain/calendar.h"
#include "node/domain/record_checks.h"
#include "node/listings.h"
#include "sync/node_path.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::node {

TaskActs::TaskActs(LocalActs& local) : local_(local), self_(local.self()), store_(&local.store()) {}

absl::StatusOr<v1::WriteReply> TaskActs::Assign(const v1::AssignTaskRequest& request) {
  if (request.title().empty()) return absl::InvalidArgumentError("a task needs a title");
  if (!domain::ParseDate(request.due()).has_value()) {
    return absl::InvalidArgumentError("--due '" + sync::Printable(request.due(), 16) + "' is not YYYY-MM-DD");
  }
  const bool to_member = !request.member().empty();
  if (to_member == !request.to().empty()) {
    return absl::InvalidArgumentError("a task goes to a unit directly below (--to) or to a member (--member)");
  }
  if (to_member) {
    const bool member_here = local_.admission().ReadRoster([&](const domain::Roster& roster) {
      return domain::OwnerOfId(v1::MEMBERSHIP, request.member()) == self_ &&
             roster.FindMembership(request.member()) != nullptr;
    });
    if (!member_here) {
      return absl::NotFoundError("no membership '" + sync::Printable(request.member(), 80) + "' in " + self_ +
                                 "'s roster (see `steerctl member list`)");
    }
  } else if (!sync::IsValidNodeId(request.to()) || sync::ParentOf(request.to()) != self_) {
    return absl::InvalidArgumentError("--to '" + sync::Printable(request.to(), 80) +
                                      "' is not a unit directly below " + self_);
  }
  if (!request.directive().empty()) {
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> d, store_->GetRecord(request.directive()));
    if (!d.has_value()) {
      return absl::NotFoundError("no directive '" + sync::Printable(request.directive(), 80) + "' on this node");
    }
  }
  v1::Task task;
  task.set_title(request.title());
  task.set_body(request.body());
  task.set_to_unit(to_member ? self_ : request.to());
  task.set_to_membership(request.member());
  task.set_due_date(request.due());
  task.set_directive_id(request.directive());
  task.set_assigner(self_);
  LocalAct act{domain::Act{to_member ? domain::Action::kAssignMemberTask : domain::Action::kAssignTask, ""},
               request.act(), std::nullopt};
  SYNC_ASSIGN_OR_RETURN(
      Written w, local_.Write(act, [&](uint64_t counter, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
        body.set_kind(v1::TASK);
        body.mutable_audience()->set_root(self_);
        if (to_member) {
          body.mutable_audience()->set_direction(v1::Audience::LOCAL);
        } else {
          body.mutable_audience()->set_direction(v1::Audience::DOWN);
          body.mutable_audience()->add_units(request.to());
        }
        body.set_payload(task.SerializeAsString());
        return self_ + "/t/" + std::to_string(counter);
      }));
  v1::WriteReply reply;
  reply.set_id(w.id);
  reply.set_version(w.version);
  return reply;
}

absl::StatusOr<v1::WriteReply> TaskActs::SetStatus(const v1::SetTaskStatusRequest& request) {
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, store_->GetRecord(request.task_id()));
  v1::RecordBody task_body;
  v1::Task task;
  if (!record.has_value() || !task_body.ParseFromString(record->body()) || task_body.kind() != v1::TASK ||
      !task.ParseFromString(task_body.payload())) {
    return absl::NotFoundError("no task '" + sync::Printable(request.task_id(), 80) + "' on this node");
  }
  const std::string& state = request.state();
  const bool member_task = !task.to_membership().empty();
  v1::ActAs as = request.act();
  domain::Action action;
  if (member_task && self_ == task.assigner()) {
    // One node, two sides: the member reports OPEN and DONE in their own
    // membership (the default capacity here); the assigner's side accepts
    // or returns.
    if (state == "OPEN" || state == "DONE") {
      if (as.role().empty() && as.membership_id().empty()) as.set_membership_id(task.to_membership());
      if (as.membership_id() != task.to_membership()) {
        return absl::PermissionDeniedError("task " + request.task_id() + " is assigned to member " +
                                           task.to_membership() +
                                           ": only that member reports progress or DONE (leave out --as)");
      }
      action = domain::Action::kUpdateTask;
    } else if (state == "ACCEPTED" || state == "RETURNED") {
      action = domain::Action::kReviewTask;
    } else {
      return absl::InvalidArgumentError("a task is OPEN, DONE, ACCEPTED or RETURNED, not '" + state + "'");
    }
  } else if (self_ == task.to_unit()) {
    if (state != "OPEN" && state != "DONE") {
      return absl::InvalidArgumentError("the assignee reports progress or DONE, not '" + state + "'");
    }
    action = domain::Action::kUpdateTask;
  } else if (self_ == task.assigner()) {
    if (state != "ACCEPTED" && state != "RETURNED") {
      return absl::InvalidArgumentError("the assigner accepts or returns a task, not '" + state + "'");
    }
    action = domain::Action::kReviewTask;
  } else {
    return absl::PermissionDeniedError("only " + task.to_unit() + " and " + task.assigner() +
                                       " set this task's status");
  }
  if (request.progress() > 100) return absl::InvalidArgumentError("--progress is 0-100");
  const std::string id = task.to_unit() + "/ts/" + request.task_id();
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Version> base, local_.FindBase(id, request.if_version()));
  SYNC_ASSIGN_OR_RETURN(const uint32_t progress, ProgressAfter(state, request.progress(), id));
  LocalAct act{domain::Act{action, ""}, as, base};
  SYNC_ASSIGN_OR_RETURN(
      Written w, local_.Write(act, [&](uint64_t, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
        v1::TaskStatus st;
        st.set_task_id(request.task_id());
        st.set_state(state);
        st.set_progress(progress);
        st.set_note(request.note());
        body.set_kind(v1::TASK_STATUS);
        if (member_task) {
          body.mutable_audience()->set_direction(v1::Audience::LOCAL);
          body.mutable_audience()->set_root(self_);
        } else if (self_ == task.to_unit()) {
          body.mutable_audience()->set_direction(v1::Audience::UP);
          body.mutable_audience()->set_root(task.assigner());
        } else {
          body.mutable_audience()->set_direction(v1::Audience::DOWN);
          body.mutable_audience()->set_root(self_);
          body.mutable_audience()->add_units(task.to_unit());
        }
        body.set_payload(st.SerializeAsString());
        return id;
      }));
  v1::WriteReply reply;
  reply.set_id(w.id);
  reply.set_version(w.version);
  return reply;
}

absl::StatusOr<uint32_t> TaskActs::ProgressAfter(std::string_view state, uint32_t reported,
                                                 const std::string& status_id) const {
  if (state == "OPEN") return reported;
  if (state == "DONE" || state == "ACCEPTED") return 100;
  // RETURNED: the assigner does not measure the work; what was done stays.
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> current, store_->GetRecord(status_id));
  v1::RecordBody body;
  v1::TaskStatus st;
  if (!current.has_value() || !body.ParseFromString(current->body()) || !st.ParseFromString(body.payload())) {
    return 0u;
  }
  return st.progress();
}

absl::StatusOr<v1::ListTasksReply> ListTasksIn(const LmdbStore& store, const v1::ListFilter& filter) {
  std::map<std::string, v1::TaskInfo, NaturalLess> tasks;
  std::map<std::string, v1::TaskStatus> statuses;  // by task id: the current version's
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    if (body.kind() == v1::TASK_STATUS) {
      v1::TaskStatus st;
      if (st.ParseFromString(body.payload())) statuses[st.task_id()] = st;
      return;
    }
    if (body.kind() != v1::TASK) return;
    v1::Task t;
    if (!t.ParseFromString(body.payload())) return;
    v1::TaskInfo& info = tasks[body.id()];
    info.set_id(body.id());
    info.set_to(t.to_unit());
    info.set_title(t.title());
    info.set_due(t.due_date());
    info.set_assigner(t.assigner());
    info.set_directive(t.directive_id());
    info.set_body(t.body());
    info.set_assigned(body.version().legal_date());
    info.set_member(t.to_membership());
    info.set_state("OPEN");
  }));
  v1::ListTasksReply reply;
  for (auto& [id, info] : tasks) {
    if (auto st = statuses.find(id); st != statuses.end()) {
      info.set_state(st->second.state());
      info.set_progress(st->second.progress());
      info.set_note(st->second.note());
    }
    if (!PassesFilter(filter, info.assigned(), info.state(), info.assigner())) continue;
    *reply.add_tasks() = std::move(info);
  }
  KeepNewest(*reply.mutable_tasks(), filter.limit());
  return reply;
}

}  // namespace steersync::node
