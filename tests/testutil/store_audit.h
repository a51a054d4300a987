#pragma once
// What a node's store holds, read straight from its data directory, and the
// "every record exactly once" checks of the process-level fault tests
// (tests/e2e/kill_campaign_test.cc, fault_proxy_test.cc, disk_full_test.cc).
//
// The store is opened read-only, so the daemon may be running (LMDB readers
// in other processes are safe) or dead (after a SIGKILL).

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "steersync/v1/record.pb.h"

namespace steersync::testing {

struct StoreAudit {
  // id -> the current version's signed body bytes (records table).
  std::map<std::string, std::string> current;
  // id -> kind, and the parsed payload state where the kind has one
  // (ACKNOWLEDGEMENT and REPORT_STATUS: their `state`).
  std::map<std::string, v1::RecordKind> kinds;
  std::map<std::string, std::string> states;
  uint64_t head_seq = 0;
  uint64_t log_entries = 0;
  // Of them, entries of the committee's records (not IsBookkeeping).
  uint64_t committee_log_entries = 0;
  // "<id> <writer@wall.logical>" of every version that has more than one
  // change-log entry (a version applied twice).
  std::vector<std::string> duplicate_log_versions;
  // Current versions with no change-log entry (read before the log, so a
  // version committed in between is in the log read after).
  std::vector<std::string> unlogged;
  uint64_t quarantined = 0;
  // Losing concurrent versions (steerctl conflicts).
  std::vector<std::string> conflicts;
  // Refusal notices peers sent back (meta "returned/...").
  uint64_t returned = 0;
  // Audience-sequence holes (meta "aseq/gap/...").
  uint64_t gaps = 0;
  // meta "local_counter": the last counter this node's versions took.
  uint64_t local_counter = 0;
  // meta "wcount/<writer>": the highest counter of each writer held here.
  std::map<std::string, uint64_t> writer_counters;

  size_t CountKind(v1::RecordKind kind) const;
  // Records of the committee's work: all but the nodes' own bookkeeping
  // (IsBookkeeping), which is rewritten all the time.
  size_t CommitteeRecords() const;
};

// A unit's status and a writer's sequence heads: each node rewrites its own
// as time passes, so two stores compare without them.
bool IsBookkeeping(v1::RecordKind kind);

// Reads `data_dir` read-only.
absl::StatusOr<StoreAudit> AuditStore(const std::string& data_dir);

// The problems of one store alone, one line each: duplicate log entries,
// unlogged current versions, quarantine entries, conflicts, returned
// notices, audience gaps. Empty when none.
std::vector<std::string> SingleStoreProblems(const std::string& name, const StoreAudit& audit);

// Tallies of a federation check, for the kill campaign's summary line.
struct Tally {
  uint64_t lost = 0;        // acknowledged records missing on a side where they belong
  uint64_t duplicated = 0;  // versions logged twice, ids given twice (conflicts)
  std::vector<std::string> problems;  // every finding, one line each (also the above)
  bool ok() const { return problems.empty(); }
};

// A province and one commune whose records are all shared (directives to
// the whole subtree, reports, receipts, rosters): the same ids with the same
// current version on both (unit statuses aside: they flow up only); `acked` (ids whose writes the Admin API
// acknowledged) on both; each directive with the commune's receipt on both;
// each report with a status the province registered (not SUBMITTED);
// `acknowledged` receipt ids in state ACKNOWLEDGED and `accepted` report
// status ids in state ACCEPTED; the commune's counter at or past what the
// province holds of it; and SingleStoreProblems of each.
Tally CheckPair(const std::string& commune_id, const StoreAudit& province, const StoreAudit& commune,
                const std::set<std::string>& acked, const std::set<std::string>& acknowledged,
                const std::set<std::string>& accepted);

}  // namespace steersync::testing
