#pragma once
// Detecting versions a relay dropped. Each version carries its position
// among the writer's versions with the same audience (RecordBody.audience_seq);
// every node of that audience receives all of them, so a hole in what
// arrives is a version dropped or refused on the way. Holes are kept in the
// store's meta values (sync/meta_keys.h) until the missing version arrives.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "steersync/v1/record.pb.h"
#include "sync/store.h"

namespace steersync::sync {

// The audience key: direction, root and the sorted unit list.
std::string AudienceKey(const v1::Audience& audience);

// Writer side: the next audience_seq for `audience`, persisted in `view`.
absl::StatusOr<uint64_t> NextAudienceSeq(WriteView& view, const v1::Audience& audience);

// Receiver side: notes an admitted version; records a hole when it skips
// positions (at most 1,000 per version: a hostile writer could claim huge
// positions) and closes one when a missing version arrives.
absl::Status NoteAudienceSeq(WriteView& view, const v1::RecordBody& body);

}  // namespace steersync::sync
