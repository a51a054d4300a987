#pragma once
// Explaining conflict resolution to people (steerctl conflicts / why): every
// version of a record, which one won, and the rule (R1..R5) that decided.

#include <string>

#include "absl/status/statusor.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.pb.h"

namespace steersync::node {

// Every version of `record_id` held here: the winner first, then the losers.
absl::StatusOr<v1::WhyReply> ExplainRecord(const LmdbStore& store, const std::string& record_id);

// Every losing version held here, each with its winner and deciding rule.
// Concurrent versions kept as losers, in natural record id order, filtered
// (since: the winner's legal date; status: the rule, R1..R5; from: the
// losing writer; limit: the last N).
absl::StatusOr<v1::ListConflictsReply> ListConflicts(const LmdbStore& store, const v1::ListFilter& filter = {});

}  // namespace steersync::node
