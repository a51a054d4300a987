#pragma once
// D30 Art. 21.2c, S23: what arrives verified is registered received the same
// day, automatically: a child's report RECEIVED, a directive from above
// addressed to this unit ACKNOWLEDGED.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "node/directive_acts.h"
#include "node/report_acts.h"
#include "node/store/lmdb_store.h"

namespace steersync::node {

// For the versions just admitted from a peer (ids and kinds). Does not wait.
void RegisterReceipts(DirectiveActs& directive_acts, ReportActs& report_acts,
                      const std::vector<std::pair<std::string, v1::RecordKind>>& admitted);

// At start-up: whatever arrived before and is still unregistered.
absl::Status RegisterPendingReceipts(const LmdbStore& store, const std::string& self,
                                     DirectiveActs& directive_acts, ReportActs& report_acts);

}  // namespace steersync::node
