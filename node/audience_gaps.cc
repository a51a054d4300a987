#include "node/audience_gaps.h"

#include "sync/meta_keys.h"
#include "sync/status_macros.h"

namespace steersync::node {

absl::StatusOr<std::vector<std::string>> DescribeGaps(const LmdbStore& store, size_t limit) {
  constexpr std::string_view kGapPrefix = sync::meta::kAudienceGapPrefix;
  SYNC_ASSIGN_OR_RETURN(auto gaps, store.MetaScan(kGapPrefix));
  std::vector<std::string> out;
  for (const auto& [name, value] : gaps) {
    if (out.size() >= limit) {
      out.push_back("... and " + std::to_string(gaps.size() - limit) + " more missing versions");
      break;
    }
    // name = prefix + writer | key | seq (8 bytes, big-endian)
    const std::string rest = name.substr(kGapPrefix.size());
    if (rest.size() < 10) continue;
    const std::string stream = rest.substr(0, rest.size() - 9);
    const auto bar = stream.find('|');
    out.push_back("version #" + std::to_string(sync::meta::DecodeU64(rest.substr(rest.size() - 8))) +
                  " from " + stream.substr(0, bar) + " (audience " + stream.substr(bar + 1) +
                  ") never arrived: dropped or refused on the way");
  }
  return out;
}

}  // namespace steersync::node
