#include "sync/audience_seq.h"

#include <algorithm>
#include <vector>

#include "sync/meta_keys.h"
#include "sync/status_macros.h"

namespace steersync::sync {

std::string AudienceKey(const v1::Audience& audience) {
  std::vector<std::string> units(audience.units().begin(), audience.units().end());
  std::sort(units.begin(), units.end());
  std::string key = (audience.direction() == v1::Audience::DOWN ? "down:" : "up:") + audience.root();
  for (const auto& u : units) key += "," + u;
  return key;
}

absl::StatusOr<uint64_t> NextAudienceSeq(WriteView& view, const v1::Audience& audience) {
  const std::string name = meta::kAudienceNextPrefix + AudienceKey(audience);
  SYNC_ASSIGN_OR_RETURN(uint64_t current, meta::GetU64(view, name));
  SYNC_RETURN_IF_ERROR(meta::PutU64(view, name, current + 1));
  return current + 1;
}

absl::Status NoteAudienceSeq(WriteView& view, const v1::RecordBody& body) {
  const uint64_t seq = body.audience_seq();
  if (seq == 0) return absl::OkStatus();  // not numbered
  const std::string stream = body.version().writer() + "|" + AudienceKey(body.audience());
  const std::string seen_name = meta::kAudienceSeenPrefix + stream;
  SYNC_ASSIGN_OR_RETURN(uint64_t seen, meta::GetU64(view, seen_name));
  if (seq <= seen) {
    // An earlier position: it may fill a hole.
    return view.MetaDelete(meta::kAudienceGapPrefix + stream + "|" + meta::EncodeU64(seq));
  }
  const uint64_t first_missing = std::max(seen + 1, seq > 1000 ? seq - 1000 : 1);
  for (uint64_t missing = first_missing; missing < seq; ++missing) {
    SYNC_RETURN_IF_ERROR(
        view.MetaPut(meta::kAudienceGapPrefix + stream + "|" + meta::EncodeU64(missing), ""));
  }
  return meta::PutU64(view, seen_name, seq);
}

}  // namespace steersync::sync
