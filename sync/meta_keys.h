#pragma once
// The store's meta values that the replica core owns: one schema, one place.
// Every value is written and read through these helpers, so no caller
// hand-encodes one. (Other owners: node/domain/numbering.h for document
// serials, node/returned_notices.h for refusals peers sent back.)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "steersync/v1/record.pb.h"
#include "sync/store.h"

namespace steersync::sync::meta {

// "local_counter" -> u64 BE: the last counter a local version took (ids and
// this node's version-vector entry); never reused.
inline constexpr char kLocalCounter[] = "local_counter";
// "last_hlc" -> serialized v1::Hlc: the newest timestamp of a local version,
// so a restarted node never stamps an older one.
inline constexpr char kLastHlc[] = "last_hlc";
// "wcount/<writer>" -> u64 BE: the highest counter of `writer`'s that this
// node holds (its vector entries), told to `writer` in Hello so that a node
// that lost its store never reuses a counter (recovery).
inline constexpr char kWriterCounterPrefix[] = "wcount/";
// "aseq/next/<audience key>" -> u64 BE: the writer's last position per audience.
inline constexpr char kAudienceNextPrefix[] = "aseq/next/";
// "aseq/tip/<audience key>" -> 32 bytes: the body digest of the writer's
// version at that last position, which the next one links to (audience_prev).
inline constexpr char kAudienceTipPrefix[] = "aseq/tip/";
// "aseq/seen/<writer>|<audience key>" -> u64 BE: highest position received.
inline constexpr char kAudienceSeenPrefix[] = "aseq/seen/";
// "aseq/gap/<writer>|<audience key>|<u64 BE position>" -> "": a hole.
inline constexpr char kAudienceGapPrefix[] = "aseq/gap/";
// "aseq/rtip/<writer>|<audience key>" -> SequenceMark (sync/audience_seq.h):
// the newest version received of that sequence.
inline constexpr char kAudienceReceivedTipPrefix[] = "aseq/rtip/";
// "aseq/head/<writer>|<audience key>" -> SequenceMark: the newest signed
// head received of that sequence (sync/sequence_head.h).
inline constexpr char kAudienceHeadPrefix[] = "aseq/head/";
// "aseq/fork/<writer>|<audience key>|<u64 BE position>" -> what disagreed:
// two versions of the writer claim that position.
inline constexpr char kAudienceForkPrefix[] = "aseq/fork/";
// "aseq/published/<audience key>" -> u64 BE: the length of the last head
// this node signed of its own sequence for that audience.
inline constexpr char kAudiencePublishedPrefix[] = "aseq/published/";
// "newest/<record id>" -> u64 BE: the change-log sequence of the current
// version of a record of which only the newest version matters
// (AdmissionPolicy::KeepsNewestOnly); the entry the next version forgets.
inline constexpr char kNewestLogPrefix[] = "newest/";

// Big-endian fixed width, so byte order is numeric order.
std::string EncodeU64(uint64_t value);
// REQUIRES: `bytes` has 8 bytes (a value EncodeU64 wrote).
uint64_t DecodeU64(std::string_view bytes);

// A u64 meta value; 0 when absent. An unreadable value is DataLoss.
absl::StatusOr<uint64_t> GetU64(WriteView& view, std::string_view name);
absl::Status PutU64(WriteView& view, std::string_view name, uint64_t value);

// The last local HLC; nullopt when none was written.
absl::StatusOr<std::optional<v1::Hlc>> GetHlc(WriteView& view, std::string_view name);

}  // namespace steersync::sync::meta
