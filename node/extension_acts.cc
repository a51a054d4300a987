#include "node/extension_acts.h"

#include <map>

#include "node/domain/record_checks.h"
#include "node/listings.h"
#include "sync/node_path.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::node {
namespace {

// Record `id` held in `store` when it is of `kind`, its payload parsed into
// `payload`; false otherwise.
absl::StatusOr<bool> HeldAs(const LmdbStore& store, const std::string& id, v1::RecordKind kind,
                            google::protobuf::Message& payload) {
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, store.GetRecord(id));
  v1::RecordBody body;
  return record.has_value() && body.ParseFromString(record->body()) && body.kind() == kind &&
         payload.ParseFromString(body.payload());
}

// What a list reads of the store, in one pass.
struct HeldExtensions {
  std::map<std::string, v1::ExtensionRequest, NaturalLess> requests;
  std::map<std::string, std::string> requested_on;                 // request id -> legal date
  std::map<std::string, v1::ExtensionDecision> decisions;          // request id -> decision
  std::map<std::string, v1::Obligation> obligations;               // id -> obligation
  std::vector<v1::RecordBody> calendars;
};

absl::StatusOr<HeldExtensions> ReadExtensions(const LmdbStore& store) {
  HeldExtensions held;
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    switch (body.kind()) {
      case v1::EXTENSION_REQUEST: {
        v1::ExtensionRequest r;
        if (!r.ParseFromString(body.payload())) break;
        held.requested_on[body.id()] = body.version().legal_date();
        held.requests[body.id()] = std::move(r);
        break;
      }
      case v1::EXTENSION_DECISION: {
        v1::ExtensionDecision d;
        if (d.ParseFromString(body.payload())) held.decisions[d.request_id()] = std::move(d);
        break;
      }
      case v1::OBLIGATION: {
        v1::Obligation o;
        if (o.ParseFromString(body.payload())) held.obligations[body.id()] = std::move(o);
        break;
      }
      case v1::CALENDAR: held.calendars.push_back(body); break;
      default: break;
    }
  }));
  return held;
}

// The granted requests among those held.
domain::GrantedExtensions Granted(const HeldExtensions& held) {
  domain::GrantedExtensions granted;
  for (const auto& [id, r] : held.requests) {
    auto d = held.decisions.find(id);
    if (d != held.decisions.end() && d->second.state() == "GRANTED") granted.Add(r);
  }
  return granted;
}

domain::WorkingCalendar CalendarOf(const HeldExtensions& held, std::string_view self) {
  domain::CalendarInForce in_force{std::string(self)};
  for (const v1::RecordBody& body : held.calendars) in_force.Offer(body);
  return in_force.Calendar();
}

}  // namespace

ExtensionActs::ExtensionActs(LocalActs& local) : local_(local), self_(local.self()), store_(&local.store()) {}

absl::StatusOr<v1::WriteReply> ExtensionActs::Ask(const v1::ExtensionAskRequest& request) {
  v1::Obligation o;
  SYNC_ASSIGN_OR_RETURN(bool held, HeldAs(*store_, request.obligation(), v1::OBLIGATION, o));
  if (!held) {
    return absl::NotFoundError("no obligation '" + sync::Printable(request.obligation(), 80) +
                               "' on this node (see `steerctl obligation list`)");
  }
  v1::ExtensionRequest r;
  r.set_obligation_id(request.obligation());
  r.set_period(request.period());
  r.set_until(request.until());
  r.set_reason(request.reason());
  r.set_unit(self_);
  LocalAct act{domain::Act{domain::Action::kRequestExtension, ""}, request.act(), std::nullopt};
  SYNC_ASSIGN_OR_RETURN(
      Written w, local_.Write(act, [&](uint64_t counter, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
        body.set_kind(v1::EXTENSION_REQUEST);
        body.mutable_audience()->set_direction(v1::Audience::UP);
        body.mutable_audience()->set_root(o.issuer());
        body.set_payload(r.SerializeAsString());
        return self_ + "/x/" + std::to_string(counter);
      }));
  v1::WriteReply reply;
  reply.set_id(w.id);
  reply.set_version(w.version);
  return reply;
}

absl::StatusOr<v1::WriteReply> ExtensionActs::Decide(const v1::ExtensionDecideRequest& request) {
  v1::ExtensionRequest r;
  SYNC_ASSIGN_OR_RETURN(bool held, HeldAs(*store_, request.request_id(), v1::EXTENSION_REQUEST, r));
  if (!held) {
    return absl::NotFoundError("no extension request '" + sync::Printable(request.request_id(), 80) +
                               "' on this node (see `steerctl extension list`)");
  }
  const std::string issuer = domain::OwnerOfId(v1::OBLIGATION, r.obligation_id());
  if (issuer != self_) {
    return absl::PermissionDeniedError("only " + issuer + ", which issued " + r.obligation_id() +
                                       ", decides on " + request.request_id());
  }
  v1::ExtensionDecision d;
  d.set_request_id(request.request_id());
  d.set_state(request.state());
  d.set_reason(request.reason());
  // The same check every receiver makes (node/domain/record_checks.cc).
  if (const std::string wrong = domain::CheckExtensionDecision(d); !wrong.empty()) {
    return absl::InvalidArgumentError(wrong);
  }
  LocalAct act{domain::Act{domain::Action::kDecideExtension, ""}, request.act(), std::nullopt};
  SYNC_ASSIGN_OR_RETURN(
      Written w, local_.Write(act, [&](uint64_t, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
        body.set_kind(v1::EXTENSION_DECISION);
        body.mutable_audience()->set_direction(v1::Audience::DOWN);
        body.mutable_audience()->set_root(self_);
        body.mutable_audience()->add_units(r.unit());
        body.set_payload(d.SerializeAsString());
        return self_ + "/xd/" + request.request_id();
      }));
  v1::WriteReply reply;
  reply.set_id(w.id);
  reply.set_version(w.version);
  return reply;
}

absl::StatusOr<Deadlines> DeadlinesIn(const LmdbStore& store, std::string_view self) {
  SYNC_ASSIGN_OR_RETURN(HeldExtensions held, ReadExtensions(store));
  return Deadlines{CalendarOf(held, self), Granted(held)};
}

absl::StatusOr<v1::ExtensionListReply> ListExtensionsIn(const LmdbStore& store, std::string_view self,
                                                        const v1::ListFilter& filter) {
  SYNC_ASSIGN_OR_RETURN(HeldExtensions held, ReadExtensions(store));
  const domain::WorkingCalendar calendar = CalendarOf(held, self);
  const domain::GrantedExtensions granted = Granted(held);
  v1::ExtensionListReply reply;
  for (const auto& [id, r] : held.requests) {
    v1::ExtensionInfo info;
    info.set_id(id);
    info.set_obligation(r.obligation_id());
    info.set_period(r.period());
    info.set_from(r.unit());
    info.set_to(sync::ParentOf(r.unit()));
    info.set_until(r.until());
    info.set_reason(r.reason());
    info.set_date(held.requested_on[id]);
    info.set_status("REQUESTED");
    if (auto d = held.decisions.find(id); d != held.decisions.end()) {
      info.set_status(d->second.state());
      info.set_decision_reason(d->second.reason());
    }
    if (auto o = held.obligations.find(r.obligation_id()); o != held.obligations.end()) {
      if (auto due = domain::DueDate(o->second, r.period(), calendar)) info.set_due(domain::FormatDate(*due));
      if (auto applies = domain::DueDateFor(o->second, r.obligation_id(), r.period(), r.unit(), granted, calendar)) {
        info.set_applies(domain::FormatDate(*applies));
      }
    }
    if (!PassesFilter(filter, info.date(), info.status(), info.from())) continue;
    *reply.add_extensions() = std::move(info);
  }
  KeepNewest(*reply.mutable_extensions(), filter.limit());
  return reply;
}

}  // namespace steersync::node
