#pragma once
// Detecting versions a relay dropped. Each version carries its position
// among the writer's versions with the same audience (RecordBody.audience_seq);
// every node of that audience receives all of them, so a hole in what
// arrives is a version dropped or refused on the way. Holes are kept in the
// store's meta values (sync/meta_keys.h) until the missing version arrives.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "steersync/v1/record.pb.h"
#include "sync/store.h"

namespace steersync::sync {

// The audience key: direction, root and the sorted unit list.
std::string AudienceKey(const v1::Audience& audience);
// The audience of one of `writer`'s keys (AROUND and UP share the "up:"
// prefix; AROUND is the one rooted at the writer). nullopt for a key that
// does not parse.
std::optional<v1::Audience> AudienceOfKey(std::string_view key, std::string_view writer);
// "<writer>|<audience key>": one writer's sequence for one audience.
std::string StreamKey(std::string_view writer, const v1::Audience& audience);

// What a receiver holds of one sequence: its newest version (meta
// kAudienceReceivedTipPrefix) or the newest head (kAudienceHeadPrefix).
struct SequenceMark {
  uint64_t position = 0;
  v1::Hlc hlc;          // when the writer signed it
  std::string digest;   // the body digest of the version at `position`
  std::string prev;     // a version's audience_prev (empty for a head)
};
absl::StatusOr<std::optional<SequenceMark>> GetSequenceMark(WriteView& view, std::string_view name);
absl::Status PutSequenceMark(WriteView& view, std::string_view name, const SequenceMark& mark);
// True when `a` was stamped after `b`.
bool StampedAfter(const v1::Hlc& a, const v1::Hlc& b);
// Records that two versions of `stream` claim `position` (meta
// kAudienceForkPrefix), kept for `steerctl status`.
absl::Status NoteFork(WriteView& view, std::string_view stream, uint64_t position, std::string detail);

// Writer side: the next audience_seq for `audience`, persisted in `view`.
absl::StatusOr<uint64_t> NextAudienceSeq(WriteView& view, const v1::Audience& audience);

// Receiver side: notes an admitted version (`digest`: the BodyDigest of its
// signed bytes); records a hole when it skips positions (at most 1,000 per
// version: a hostile writer could claim huge positions), closes one when a missing
// version arrives; records a fork when it and a version or head held for
// the same or a neighbouring position cannot both be the writer's one
// sequence (across batches: within one, sync/signed_log.h sees it).
absl::Status NoteAudienceSeq(WriteView& view, const v1::RecordBody& body, std::string_view digest);

}  // namespace steersync::sync
