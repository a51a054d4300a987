#include "node/audience_gaps.h"

#include <algorithm>

#include "sync/status_macros.h"

namespace steersync::node {
namespace {

constexpr char kNextPrefix[] = "aseq/next/";   // + audience key -> u64 (writer side)
constexpr char kSeenPrefix[] = "aseq/seen/";   // + writer | key -> u64 highest seen
constexpr char kGapPrefix[] = "aseq/gap/";     // + writer | key | seq(u64 BE) -> ""

std::string U64(uint64_t v) { return lmdb::EncodeSeq(v); }

}  // namespace

std::string AudienceKey(const v1::Audience& audience) {
  std::vector<std::string> units(audience.units().begin(), audience.units().end());
  std::sort(units.begin(), units.end());
  std::string key = (audience.direction() == v1::Audience::DOWN ? "down:" : "up:") + audience.root();
  for (const auto& u : units) key += "," + u;
  return key;
}

absl::StatusOr<uint64_t> NextAudienceSeq(LmdbStore::View& view, const v1::Audience& audience) {
  const std::string name = kNextPrefix + AudienceKey(audience);
  SYNC_ASSIGN_OR_RETURN(std::optional<std::string> current, view.MetaGet(name));
  const uint64_t next = (current.has_value() ? lmdb::DecodeSeq(*current) : 0) + 1;
  SYNC_RETURN_IF_ERROR(view.MetaPut(name, U64(next)));
  return next;
}

absl::Status NoteAudienceSeq(LmdbStore::View& view, const v1::RecordBody& body) {
  const uint64_t seq = body.audience_seq();
  if (seq == 0) return absl::OkStatus();  // not numbered
  const std::string stream = body.version().writer() + "|" + AudienceKey(body.audience());
  const std::string seen_name = kSeenPrefix + stream;
  SYNC_ASSIGN_OR_RETURN(std::optional<std::string> seen_value, view.MetaGet(seen_name));
  const uint64_t seen = seen_value.has_value() ? lmdb::DecodeSeq(*seen_value) : 0;
  if (seq <= seen) {
    // An earlier position: it may fill a hole.
    return view.MetaDelete(kGapPrefix + stream + "|" + U64(seq));
  }
  // Bound the bookkeeping: a hostile writer could claim huge positions.
  const uint64_t first_missing = std::max(seen + 1, seq > 1000 ? seq - 1000 : 1);
  for (uint64_t missing = first_missing; missing < seq; ++missing) {
    SYNC_RETURN_IF_ERROR(view.MetaPut(kGapPrefix + stream + "|" + U64(missing), ""));
  }
  return view.MetaPut(seen_name, U64(seq));
}

absl::StatusOr<std::vector<std::string>> DescribeGaps(const LmdbStore& store, size_t limit) {
  SYNC_ASSIGN_OR_RETURN(auto gaps, store.MetaScan(kGapPrefix));
  std::vector<std::string> out;
  for (const auto& [name, value] : gaps) {
    if (out.size() >= limit) {
      out.push_back("... and " + std::to_string(gaps.size() - limit) + " more missing versions");
      break;
    }
    // name = prefix + writer | key | seq (8 bytes, big-endian)
    const std::string rest = name.substr(sizeof(kGapPrefix) - 1);
    if (rest.size() < 10) continue;
    const std::string stream = rest.substr(0, rest.size() - 9);
    const auto bar = stream.find('|');
    out.push_back("version #" + std::to_string(lmdb::DecodeSeq(rest.substr(rest.size() - 8))) +
                  " from " + stream.substr(0, bar) + " (audience " + stream.substr(bar + 1) +
                  ") never arrived: dropped or refused on the way");
  }
  return out;
}

}  // namespace steersync::node
