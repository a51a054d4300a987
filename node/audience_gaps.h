#pragma once
// Reading the holes sync/audience_seq.h records, for `steerctl status`.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/store/lmdb_store.h"

namespace steersync::node {

// Human-readable descriptions of the holes held, at most `limit`.
absl::StatusOr<std::vector<std::string>> DescribeGaps(const LmdbStore& store, size_t limit);

}  // namespace steersync::node
