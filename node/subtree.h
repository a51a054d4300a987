#pragma once
// The subtree view (issue 12 items 6 and 7): what a node knows of every unit
// below it, from its own links and from the status records the units below
// send up (node/domain/unit_status.h), read from the store so that it
// survives restarts.
//
//   - RecordsBehind: per neighbour, the records of this node's log addressed
//     to it that it has not acknowledged (`peers` BEHIND, `subtree` behind).
//   - BuildUnitStatus: this node's own status record.
//   - ListSubtreeIn: `steerctl subtree`, one row per unit below.
//   - ListSubtreeOverdueIn: `steerctl overdue`, this node's own overdue view
//     (node/obligation_acts.h) plus the entries the units below reported.
//
// Thread safety: the functions are thread-safe (each read takes its own
// read transactions).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "node/domain/calendar.h"
#include "node/domain/obligations.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.pb.h"
#include "steersync/v1/record.pb.h"

namespace steersync::node {

// How many records of `self`'s log after acked[peer] are addressed to each
// neighbour `peer` (sync::AddressedTo): one pass over the log tail after
// the smallest acknowledged sequence. Peers absent from `acked` are not
// counted.
absl::StatusOr<std::map<std::string, uint64_t>> RecordsBehind(const LmdbStore& store, std::string_view self,
                                                              const std::map<std::string, uint64_t>& acked);

// What this node sees of one unit directly below it on its live link.
struct ChildLink {
  bool connected = false;
  int64_t last_seen_micros = 0;  // 0: no message since this node started
  uint64_t acked_seq = 0;
  bool heard_since_start = false;  // acked_seq is the child's word, not a stored one
};
// What this node sees of its own parent.
struct ParentLinkState {
  bool connected = false;
  int64_t last_contact_micros = 0;
  uint64_t acked_seq = 0;
  bool heard_since_start = false;  // else its records behind are not counted
};

// This node's status now: its parent link, every unit directly below it
// (registered with `unit add`, linked since start, or listed in its last
// status, whose figures stand in for a child not heard since a restart),
// and what the units below owe it by `today` (ListOverdueIn), cut to the
// record's bounds. When `behind` is not null it receives RecordsBehind of
// the children and (if heard since start) the parent, counted in the same
// pass.
absl::StatusOr<v1::UnitStatus> BuildUnitStatus(const LmdbStore& store, std::string_view self,
                                               const ParentLinkState& parent,
                                               const std::map<std::string, ChildLink>& children,
                                               absl::CivilDay today, const domain::WorkingCalendar& calendar,
                                               const domain::GrantedExtensions& granted,
                                               std::map<std::string, uint64_t>* behind = nullptr);

// `steerctl subtree`: every unit below `self` in natural order. A child of
// `self` is described from BuildUnitStatus (live links); a unit further down
// from the newest status of its parent held here; a unit whose parent's
// status never arrived (a registered unit that never connected) as
// disconnected, never seen. `overdue` counts its entries in this node's
// overdue view and in the statuses of the units below.
// `own` is BuildUnitStatus at `now_micros`. Each row's `as_of_micros` says
// when the status it is read from was made (`now_micros` for `own`).
absl::StatusOr<v1::SubtreeListReply> ListSubtreeIn(const LmdbStore& store, std::string_view self,
                                                   const v1::UnitStatus& own, int64_t now_micros);

// `steerctl overdue`: ListOverdueIn for `self` and the overdue entries in
// the newest status of every unit below it (their days late counted to
// `today` here), in ListOverdueIn's order; in `not_listed`, per unit, the
// entries those statuses counted but did not carry.
absl::StatusOr<v1::ListOverdueReply> ListSubtreeOverdueIn(const LmdbStore& store, std::string_view self,
                                                          absl::CivilDay today,
                                                          const domain::WorkingCalendar& calendar,
                                                          const domain::GrantedExtensions& granted);

}  // namespace steersync::node
