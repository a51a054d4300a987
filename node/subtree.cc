#include "node/subtree.h"

#include <algorithm>
#include <set>

#include "node/domain/documents.h"
#include "node/domain/unit_status.h"
#include "node/listings.h"
#include "node/obligation_acts.h"
#include "sync/node_path.h"
#include "sync/routing.h"
#include "sync/status_macros.h"

namespace steersync::node {
namespace {

// One slice of the log read at a time by RecordsBehind.
constexpr size_t kLogSliceEntries = 1000;
constexpr size_t kLogSliceBytes = 16 << 20;

bool IsBelow(std::string_view self, const std::string& unit) {
  return unit != self && sync::IsSelfOrAncestor(self, unit);
}

// What the subtree view reads of the records, in one pass.
struct SubtreeRecords {
  // Units below `self` registered with `unit add` (any depth) and not ended.
  std::set<std::string, NaturalLess> registered;
  // The newest status of `self` and of each unit below it held here.
  std::map<std::string, v1::UnitStatus, NaturalLess> statuses;
  // When each of those was made (its version's HLC wall time, microseconds).
  std::map<std::string, uint64_t> made_micros;
  // Directives sent down (issuer, addressees; none: the issuer's subtree).
  struct Directive {
    std::string issuer;
    std::vector<std::string> to;
  };
  std::map<std::string, Directive> directives;
  // (directive, unit) pairs needing no acknowledgement any more: the unit
  // acknowledged or returned it, or the issuer recalled it.
  std::set<std::pair<std::string, std::string>> answered;

  // Directives addressed to `unit` it has not answered.
  uint64_t Unacked(const std::string& unit) const {
    uint64_t n = 0;
    for (const auto& [id, d] : directives) {
      const bool addressed = d.to.empty() ? IsBelow(d.issuer, unit)
                                          : std::find(d.to.begin(), d.to.end(), unit) != d.to.end();
      if (addressed && !answered.contains({id, unit})) ++n;
    }
    return n;
  }
};

absl::StatusOr<SubtreeRecords> ReadSubtreeRecords(const LmdbStore& store, std::string_view self) {
  SubtreeRecords held;
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    switch (body.kind()) {
      case v1::UNIT: {
        v1::Unit u;
        if (u.ParseFromString(body.payload()) && IsBelow(self, u.unit()) && u.valid_to().empty()) {
          held.registered.insert(u.unit());
        }
        break;
      }
      case v1::UNIT_STATUS: {
        // Admitted, so well formed and the writer's own (unit_status.h).
        v1::UnitStatus s;
        if (s.ParseFromString(body.payload()) && sync::IsSelfOrAncestor(self, s.unit())) {
          held.made_micros[s.unit()] = body.version().hlc().wall_micros();
          held.statuses[s.unit()] = std::move(s);
        }
        break;
      }
      case v1::DIRECTIVE: {
        v1::Directive d;
        if (body.audience().direction() == v1::Audience::DOWN && domain::ParseDirective(body, d)) {
          held.directives[body.id()] = {d.issuer(), {d.to_units().begin(), d.to_units().end()}};
        }
        break;
      }
      case v1::ACKNOWLEDGEMENT: {
        v1::Acknowledgement a;
        if (!a.ParseFromString(body.payload())) break;
        const auto state = domain::ParseReceiptState(a.state());
        if (state.has_value() && state != domain::ReceiptState::kReceived) {
          held.answered.insert({a.directive_id(), a.unit()});
        }
        break;
      }
      default: break;
    }
  }));
  return held;
}

// The entries `status` counted but did not carry (a status carries at most
// domain::kMaxStatusOverdue): per unit, its exact count less the entries
// carried. (An admitted status's per-unit counts add up to its total:
// node/domain/unit_status.cc.)
void AddNotListed(const v1::UnitStatus& status, google::protobuf::RepeatedPtrField<v1::OverdueNotListed>& out) {
  std::map<std::string, uint32_t> carried;
  for (const v1::UnitStatus::Overdue& o : status.overdue()) ++carried[o.unit()];
  for (const v1::UnitStatus::UnitCount& c : status.overdue_by_unit()) {
    const uint32_t held = carried[c.unit()];
    if (c.count() <= held) continue;
    v1::OverdueNotListed* n = out.Add();
    n->set_unit(c.unit());
    n->set_count(c.count() - held);
    n->set_listed_by(status.unit());
  }
}

const v1::UnitStatus::Child* FindChild(const v1::UnitStatus& status, const std::string& unit) {
  for (const v1::UnitStatus::Child& c : status.children()) {
    if (c.unit() == unit) return &c;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::map<std::string, uint64_t>> RecordsBehind(const LmdbStore& store, std::string_view self,
                                                              const std::map<std::string, uint64_t>& acked) {
  std::map<std::string, uint64_t> behind;
  if (acked.empty()) return behind;
  uint64_t after = UINT64_MAX;
  for (const auto& [peer, seq] : acked) {
    behind[peer] = 0;
    after = std::min(after, seq);
  }
  const uint64_t head = store.HeadSeq();
  while (after < head) {
    SYNC_ASSIGN_OR_RETURN(std::vector<sync::LogEntry> entries, store.ReadLog(after, kLogSliceEntries, kLogSliceBytes));
    if (entries.empty()) break;
    for (const sync::LogEntry& e : entries) {
      v1::RecordBody body;
      if (!body.ParseFromString(e.record.body())) continue;
      for (const auto& [peer, seq] : acked) {
        // As the session sends (sync/session.cc): never back to the writer.
        if (e.seq > seq && body.version().writer() != peer && sync::AddressedTo(body, self, peer)) ++behind[peer];
      }
    }
    after = entries.back().seq;
  }
  return behind;
}

absl::StatusOr<v1::UnitStatus> BuildUnitStatus(const LmdbStore& store, std::string_view self,
                                               const ParentLinkState& parent,
                                               const std::map<std::string, ChildLink>& children,
                                               absl::CivilDay today, const domain::WorkingCalendar& calendar,
                                               const domain::GrantedExtensions& granted,
                                               std::map<std::string, uint64_t>* behind_out) {
  SYNC_ASSIGN_OR_RETURN(SubtreeRecords held, ReadSubtreeRecords(store, self));
  // The last status written here: what a child not heard since a restart
  // last showed.
  const auto previous_it = held.statuses.find(std::string(self));
  const v1::UnitStatus previous = previous_it == held.statuses.end() ? v1::UnitStatus() : previous_it->second;

  std::set<std::string, NaturalLess> below;
  for (const std::string& u : held.registered) {
    if (sync::ParentOf(u) == self) below.insert(u);
  }
  for (const auto& [unit, link] : children) below.insert(unit);
  for (const v1::UnitStatus::Child& c : previous.children()) below.insert(c.unit());

  v1::UnitStatus status;
  status.set_unit(std::string(self));
  status.set_parent_connected(parent.connected);
  status.set_parent_last_contact_micros(static_cast<uint64_t>(std::max<int64_t>(parent.last_contact_micros, 0)));
  std::map<std::string, uint64_t> acked;
  for (const std::string& unit : below) {
    if (status.children_size() >= domain::kMaxStatusChildren) break;
    v1::UnitStatus::Child* row = status.add_children();
    row->set_unit(unit);
    const v1::UnitStatus::Child* before = FindChild(previous, unit);
    const auto live = children.find(unit);
    const bool heard = live != children.end() && live->second.heard_since_start;
    row->set_connected(live != children.end() && live->second.connected);
    const int64_t seen = live != children.end() ? live->second.last_seen_micros : 0;
    row->set_last_seen_micros(seen > 0 ? static_cast<uint64_t>(seen) : before ? before->last_seen_micros() : 0);
    row->set_acked_seq(heard ? live->second.acked_seq : before ? before->acked_seq() : 0);
    row->set_unacked(held.Unacked(unit));
    acked[unit] = row->acked_seq();
  }
  const std::string parent_id = sync::ParentOf(self);
  if (parent.heard_since_start && !parent_id.empty()) acked[parent_id] = parent.acked_seq;
  SYNC_ASSIGN_OR_RETURN(auto behind, RecordsBehind(store, self, acked));
  for (v1::UnitStatus::Child& row : *status.mutable_children()) row.set_behind(behind.at(row.unit()));
  if (behind_out != nullptr) *behind_out = std::move(behind);

  SYNC_ASSIGN_OR_RETURN(const v1::ListOverdueReply overdue, ListOverdueIn(store, self, today, calendar, granted));
  std::map<std::string, uint32_t, NaturalLess> by_unit;
  for (const v1::OverdueInfo& o : overdue.overdue()) {
    ++by_unit[o.unit()];
    if (status.overdue_size() >= domain::kMaxStatusOverdue) continue;
    v1::UnitStatus::Overdue* e = status.add_overdue();
    e->set_unit(o.unit());
    e->set_kind(o.kind());
    e->set_ref(o.ref());
    e->set_period(o.period());
    e->set_due(o.due());
  }
  status.set_overdue_total(static_cast<uint32_t>(overdue.overdue_size()));
  for (const auto& [unit, count] : by_unit) {
    if (status.overdue_by_unit_size() >= domain::kMaxStatusChildren) break;
    v1::UnitStatus::UnitCount* c = status.add_overdue_by_unit();
    c->set_unit(unit);
    c->set_count(count);
  }
  return status;
}

absl::StatusOr<v1::SubtreeListReply> ListSubtreeIn(const LmdbStore& store, std::string_view self,
                                                   const v1::UnitStatus& own, int64_t now_micros) {
  SYNC_ASSIGN_OR_RETURN(SubtreeRecords held, ReadSubtreeRecords(store, self));
  held.statuses[std::string(self)] = own;  // this node's live view, not its last record
  held.made_micros[std::string(self)] = static_cast<uint64_t>(std::max<int64_t>(now_micros, 0));
  std::set<std::string, NaturalLess> units = held.registered;
  std::map<std::string, uint64_t> overdue;
  for (const auto& [unit, status] : held.statuses) {
    if (unit != self) units.insert(unit);
    for (const v1::UnitStatus::Child& c : status.children()) units.insert(c.unit());
    for (const v1::UnitStatus::UnitCount& c : status.overdue_by_unit()) overdue[c.unit()] += c.count();
  }
  v1::SubtreeListReply reply;
  for (const std::string& unit : units) {
    v1::SubtreeUnit* row = reply.add_units();
    row->set_unit(unit);
    row->set_overdue(overdue[unit]);
    // As its parent last told (this node's live links for its own children).
    const auto parent = held.statuses.find(sync::ParentOf(unit));
    const v1::UnitStatus::Child* seen = parent == held.statuses.end() ? nullptr : FindChild(parent->second, unit);
    if (seen != nullptr) {
      row->set_as_of_micros(held.made_micros[parent->first]);
      row->set_connected(seen->connected());
      row->set_last_seen_micros(seen->last_seen_micros());
      row->set_behind(seen->behind());
      row->set_unacked(seen->unacked());
    } else if (const auto self_told = held.statuses.find(unit); self_told != held.statuses.end()) {
      // Its parent's status never came here: the unit's own word on its link.
      row->set_as_of_micros(held.made_micros[unit]);
      row->set_connected(self_told->second.parent_connected());
      row->set_last_seen_micros(self_told->second.parent_last_contact_micros());
    }
  }
  return reply;
}

absl::StatusOr<v1::ListOverdueReply> ListSubtreeOverdueIn(const LmdbStore& store, std::string_view self,
                                                          absl::CivilDay today,
                                                          const domain::WorkingCalendar& calendar,
                                                          const domain::GrantedExtensions& granted) {
  SYNC_ASSIGN_OR_RETURN(v1::ListOverdueReply own, ListOverdueIn(store, self, today, calendar, granted));
  std::vector<v1::OverdueInfo> late(own.overdue().begin(), own.overdue().end());
  v1::ListOverdueReply reply;
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    v1::UnitStatus s;
    if (body.kind() != v1::UNIT_STATUS || !IsBelow(self, body.version().writer()) ||
        !s.ParseFromString(body.payload())) {
      return;
    }
    AddNotListed(s, *reply.mutable_not_listed());
    for (const v1::UnitStatus::Overdue& o : s.overdue()) {
      const std::optional<absl::CivilDay> due = domain::ParseDate(o.due());
      if (!due.has_value()) continue;
      v1::OverdueInfo& info = late.emplace_back();
      info.set_unit(o.unit());
      info.set_kind(o.kind());
      info.set_ref(o.ref());
      info.set_period(o.period());
      info.set_due(o.due());
      info.set_days_late(static_cast<uint32_t>(calendar.WorkingDaysAfter(*due, today)));
    }
  }));
  SortOverdue(late);
  for (auto& l : late) *reply.add_overdue() = std::move(l);
  std::sort(reply.mutable_not_listed()->begin(), reply.mutable_not_listed()->end(),
            [](const v1::OverdueNotListed& a, const v1::OverdueNotListed& b) {
              return NaturalLess()(a.unit(), b.unit());
            });
  return reply;
}

}  // namespace steersync::node
