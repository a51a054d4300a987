#include "node/obligation_acts.h"

#include <map>
#include <set>
#include <tuple>

#include "node/domain/documents.h"
#include "node/domain/obligations.h"
#include "node/listings.h"
#include "sync/node_path.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::node {

ObligationActs::ObligationActs(LocalActs& local) : local_(local), self_(local.self()) {}

absl::StatusOr<v1::WriteReply> ObligationActs::Add(const v1::AddObligationRequest& request) {
  const std::optional<v1::ReportingCadence> every = domain::ParseCadence(request.every());
  if (!every.has_value()) {
    return absl::InvalidArgumentError("--every '" + sync::Printable(request.every(), 32) + "' is not " +
                                      domain::kCadenceNames);
  }
  v1::Obligation o;
  o.set_title(request.title());
  o.set_every(*every);
  o.set_due_day(request.due_day());
  *o.mutable_to_units() = request.to();
  o.set_from_date(request.from().empty() ? local_.Today() : request.from());
  o.set_issuer(self_);
  // The same check every receiver makes (node/domain/record_checks.cc).
  if (const std::string wrong = domain::CheckObligation(o, self_); !wrong.empty()) {
    return absl::InvalidArgumentError("obligation refused: " + wrong);
  }
  LocalAct act{domain::Act{domain::Action::kIssueObligation, ""}, request.act(), std::nullopt};
  SYNC_ASSIGN_OR_RETURN(
      Written w, local_.Write(act, [&](uint64_t counter, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
        body.set_kind(v1::OBLIGATION);
        body.mutable_audience()->set_direction(v1::Audience::DOWN);
        body.mutable_audience()->set_root(self_);
        *body.mutable_audience()->mutable_units() = o.to_units();
        body.set_payload(o.SerializeAsString());
        return self_ + "/o/" + std::to_string(counter);
      }));
  v1::WriteReply reply;
  reply.set_id(w.id);
  reply.set_version(w.version);
  return reply;
}

namespace {

// A unit directly below `self` is one registered with `unit add` (and not
// ended), or one whose records reached this node (roster, reports, receipts).
void NoteUnitBelow(const v1::RecordBody& body, std::string_view self,
                   std::set<std::string, NaturalLess>& units_below) {
  if (sync::ParentOf(body.version().writer()) == self) units_below.insert(body.version().writer());
  v1::Unit u;
  if (body.kind() == v1::UNIT && u.ParseFromString(body.payload()) && sync::ParentOf(u.unit()) == self &&
      u.valid_to().empty()) {
    units_below.insert(u.unit());
  }
}

// What the overdue view reads of the store, in one pass.
struct Held {
  std::set<std::string, NaturalLess> units_below;  // registered with `unit add`
  std::map<std::string, v1::Obligation, NaturalLess> obligations;  // issued by self
  // (unit, obligation, period) of the reports that count as filed.
  std::set<std::tuple<std::string, std::string, std::string>> filed;
  struct Directive {
    v1::Directive d;
    std::string issued;  // legal date
  };
  std::map<std::string, Directive, NaturalLess> directives;  // issued by self, sent down
  std::set<std::pair<std::string, std::string>> answered;    // (directive, unit)
  std::set<std::string> recalled;                            // directive ids
  std::map<std::string, v1::Task, NaturalLess> tasks;       // assigned by self
  std::map<std::string, std::string> task_states;            // task id -> state
};

absl::StatusOr<Held> ReadHeld(const LmdbStore& store, std::string_view self) {
  Held held;
  struct ReportKey {
    std::string unit, obligation, period;
  };
  std::map<std::string, ReportKey> reports;    // report id -> what it files
  std::map<std::string, std::string> states;   // report id -> status
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    NoteUnitBelow(body, self, held.units_below);
    switch (body.kind()) {
      case v1::OBLIGATION: {
        v1::Obligation o;
        if (body.version().writer() == self && o.ParseFromString(body.payload())) held.obligations[body.id()] = o;
        break;
      }
      case v1::REPORT: {
        v1::Report r;
        if (r.ParseFromString(body.payload()) && !r.obligation_id().empty()) {
          reports[body.id()] = {r.from_unit(), r.obligation_id(), r.period()};
        }
        break;
      }
      case v1::REPORT_STATUS: {
        v1::ReportStatus s;
        if (s.ParseFromString(body.payload())) states[s.report_id()] = s.state();
        break;
      }
      case v1::DIRECTIVE: {
        v1::Directive d;
        if (body.version().writer() == self && body.audience().direction() == v1::Audience::DOWN &&
            domain::ParseDirective(body, d)) {
          held.directives[body.id()] = {d, body.version().legal_date()};
        }
        break;
      }
      case v1::TASK: {
        v1::Task t;
        if (body.version().writer() == self && t.ParseFromString(body.payload())) held.tasks[body.id()] = t;
        break;
      }
      case v1::TASK_STATUS: {
        v1::TaskStatus st;
        if (st.ParseFromString(body.payload())) held.task_states[st.task_id()] = st.state();
        break;
      }
      case v1::ACKNOWLEDGEMENT: {
        v1::Acknowledgement a;
        if (!a.ParseFromString(body.payload())) break;
        const auto state = domain::ParseReceiptState(a.state());
        if (state == domain::ReceiptState::kAcknowledged || state == domain::ReceiptState::kReturned) {
          held.answered.insert({a.directive_id(), a.unit()});
        } else if (state == domain::ReceiptState::kRecalled) {
          held.recalled.insert(a.directive_id());
        }
        break;
      }
      default: break;
    }
  }));
  for (const auto& [id, key] : reports) {
    // A withdrawn or returned report files nothing (§1.10): the unit owes
    // another one.
    const auto state = states.find(id);
    if (state != states.end() && (state->second == "WITHDRAWN" || state->second == "RETURNED")) continue;
    held.filed.insert({key.unit, key.obligation, key.period});
  }
  return held;
}

// The units an act addressed to `to` (empty: all below) concerns.
std::vector<std::string> Addressees(const google::protobuf::RepeatedPtrField<std::string>& to,
                                    const std::set<std::string, NaturalLess>& units_below) {
  if (to.empty()) return {units_below.begin(), units_below.end()};
  return {to.begin(), to.end()};
}

}  // namespace

absl::StatusOr<v1::ListObligationsReply> ListObligationsIn(const LmdbStore& store, std::string_view self,
                                                          const v1::ListFilter& filter) {
  std::map<std::string, v1::ObligationInfo, NaturalLess> by_id;
  std::set<std::string, NaturalLess> units_below;
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    NoteUnitBelow(body, self, units_below);
    if (body.kind() != v1::OBLIGATION) return;
    v1::Obligation o;
    if (!o.ParseFromString(body.payload())) return;
    v1::ObligationInfo& info = by_id[body.id()];
    info.set_id(body.id());
    info.set_title(o.title());
    info.set_every(std::string(domain::CadenceName(o.every())));
    info.set_due_day(o.due_day());
    *info.mutable_to() = o.to_units();
    info.set_from(o.from_date());
    info.set_issuer(o.issuer());
    info.set_issued(body.version().legal_date());
  }));
  v1::ListObligationsReply reply;
  for (auto& [id, info] : by_id) {
    // "To" as it applies: an obligation of this node to all units below
    // names them.
    if (info.to().empty() && info.issuer() == self) {
      for (const std::string& u : units_below) info.add_to(u);
    }
    if (!PassesFilter(filter, info.issued(), filter.status(), info.issuer())) continue;
    *reply.add_obligations() = std::move(info);
  }
  KeepNewest(*reply.mutable_obligations(), filter.limit());
  return reply;
}

absl::StatusOr<v1::ListOverdueReply> ListOverdueIn(const LmdbStore& store, std::string_view self,
                                                   absl::CivilDay today,
                                                   const domain::WorkingCalendar& calendar,
                                                   const domain::GrantedExtensions& granted) {
  SYNC_ASSIGN_OR_RETURN(Held held, ReadHeld(store, self));
  std::vector<v1::OverdueInfo> late;
  auto add = [&](const std::string& unit, const char* kind, const std::string& ref, const std::string& period,
                 absl::CivilDay due) {
    v1::OverdueInfo info;
    info.set_unit(unit);
    info.set_kind(kind);
    info.set_ref(ref);
    info.set_period(period);
    info.set_due(domain::FormatDate(due));
    info.set_days_late(static_cast<uint32_t>(calendar.WorkingDaysAfter(due, today)));
    late.push_back(std::move(info));
  };
  for (const auto& [id, o] : held.obligations) {
    const std::vector<domain::DuePeriod> due = domain::PeriodsDueBy(o, today - 1, calendar);  // due before today
    for (const std::string& unit : Addressees(o.to_units(), held.units_below)) {
      for (const domain::DuePeriod& p : due) {
        if (held.filed.contains({unit, id, p.period})) continue;
        // An extension granted to this unit for this period moves its due date.
        const std::optional<absl::CivilDay> applies = domain::DueDateFor(o, id, p.period, unit, granted, calendar);
        if (applies.has_value() && *applies < today) add(unit, "report", id, p.period, *applies);
      }
    }
  }
  for (const auto& [id, task] : held.tasks) {
    const auto state = held.task_states.find(id);
    if (state != held.task_states.end() && (state->second == "DONE" || state->second == "ACCEPTED")) continue;
    const std::optional<absl::CivilDay> due_date = domain::ParseDate(task.due_date());
    if (!due_date.has_value()) continue;
    const absl::CivilDay due = calendar.OnOrNextWorkingDay(*due_date);
    if (due < today) add(task.to_unit(), "task", id, "", due);
  }
  for (const auto& [id, directive] : held.directives) {
    if (held.recalled.contains(id)) continue;
    const std::optional<absl::CivilDay> issued = domain::ParseDate(directive.issued);
    if (!issued.has_value()) continue;
    // Received the day it is sent and acknowledged that day (D30 Art. 21.2);
    // sent by the next working day at the latest (Art. 4.2c, 18.1).
    const absl::CivilDay due = calendar.NextWorkingDay(*issued);
    if (due >= today) continue;
    for (const std::string& unit : Addressees(directive.d.to_units(), held.units_below)) {
      if (!held.answered.contains({id, unit})) add(unit, "ack", id, "", due);
    }
  }
  SortOverdue(late);
  v1::ListOverdueReply reply;
  for (auto& l : late) *reply.add_overdue() = std::move(l);
  return reply;
}

void SortOverdue(std::vector<v1::OverdueInfo>& late) {
  std::sort(late.begin(), late.end(), [](const v1::OverdueInfo& a, const v1::OverdueInfo& b) {
    NaturalLess less;
    if (a.unit() != b.unit()) return less(a.unit(), b.unit());
    if (a.kind() != b.kind()) return a.kind() > b.kind();  // tasks, reports, then acks
    if (a.ref() != b.ref()) return less(a.ref(), b.ref());
    return a.due() < b.due();
  });
}

}  // namespace steersync::node
