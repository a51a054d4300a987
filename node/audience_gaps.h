#pragma once
// Reading the holes and forks sync/audience_seq.h records, for `steerctl status`.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/store/lmdb_store.h"

namespace steersync::node {

// Human-readable descriptions of the holes held, at most `limit`.
absl::StatusOr<std::vector<std::string>> DescribeGaps(const LmdbStore& store, size_t limit);
// Human-readable descriptions of the forks held (sync/audience_seq.h
// NoteFork: two versions of one writer claim one position), at most `limit`.
absl::StatusOr<std::vector<std::string>> DescribeForks(const LmdbStore& store, size_t limit);

}  // namespace steersync::node
