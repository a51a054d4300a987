#pragma once
// Detecting versions a relay dropped. Each version carries its position
// among the writer's versions with the same audience (RecordBody.audience_seq);
// every node of that audience receives all of them, so a hole in what
// arrives is a version dropped or refused on the way. Holes are recorded in
// the store's meta database and reported by `steerctl status` until the
// missing version arrives.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/record.pb.h"

namespace steersync::node {

// The audience key: direction, root and the sorted unit list.
std::string AudienceKey(const v1::Audience& audience);

// Writer side: the next audience_seq for `audience`, persisted in `view`.
absl::StatusOr<uint64_t> NextAudienceSeq(LmdbStore::View& view, const v1::Audience& audience);

// Receiver side: notes an admitted version; records a hole when it skips
// positions and closes one when a missing version arrives.
absl::Status NoteAudienceSeq(LmdbStore::View& view, const v1::RecordBody& body);

// Human-readable descriptions of the holes held, at most `limit`.
absl::StatusOr<std::vector<std::string>> DescribeGaps(const LmdbStore& store, size_t limit);

}  // namespace steersync::node
