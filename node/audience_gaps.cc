#include "node/audience_gaps.h"

#include <functional>
#include <optional>

#include "sync/meta_keys.h"
#include "sync/status_macros.h"

namespace steersync::node {
namespace {

// One position of one writer's sequence, as a meta name spells it:
// prefix + "<writer>|<audience key>|<u64 BE position>".
struct StreamPosition {
  std::string writer;
  std::string audience;
  uint64_t position = 0;
};

std::optional<StreamPosition> ParseName(std::string_view name, std::string_view prefix) {
  const std::string_view rest = name.substr(prefix.size());
  if (rest.size() < 10) return std::nullopt;
  const std::string_view stream = rest.substr(0, rest.size() - 9);
  const size_t bar = stream.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  return StreamPosition{std::string(stream.substr(0, bar)), std::string(stream.substr(bar + 1)),
                        sync::meta::DecodeU64(rest.substr(rest.size() - 8))};
}

// One line per entry under `prefix`, at most `limit`, then "... and N more `what`".
absl::StatusOr<std::vector<std::string>> Describe(
    const LmdbStore& store, std::string_view prefix, size_t limit, std::string_view what,
    const std::function<std::string(const StreamPosition&, const std::string& value)>& line) {
  SYNC_ASSIGN_OR_RETURN(auto entries, store.MetaScan(prefix));
  std::vector<std::string> out;
  for (const auto& [name, value] : entries) {
    if (out.size() >= limit) {
      out.push_back("... and " + std::to_string(entries.size() - limit) + " more " + std::string(what));
      break;
    }
    if (std::optional<StreamPosition> at = ParseName(name, prefix); at.has_value()) out.push_back(line(*at, value));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> DescribeGaps(const LmdbStore& store, size_t limit) {
  return Describe(store, sync::meta::kAudienceGapPrefix, limit, "missing versions",
                  [](const StreamPosition& at, const std::string&) {
                    return "version #" + std::to_string(at.position) + " from " + at.writer + " (audience " +
                           at.audience + ") never arrived: dropped or refused on the way";
                  });
}

absl::StatusOr<std::vector<std::string>> DescribeForks(const LmdbStore& store, size_t limit) {
  return Describe(store, sync::meta::kAudienceForkPrefix, limit, "forked positions",
                  [](const StreamPosition& at, const std::string& detail) {
                    return "fork in " + at.writer + "'s sequence for audience " + at.audience + " at #" +
                           std::to_string(at.position) + ": " + detail +
                           " (a store restored from an older backup reused that position, or the writer's key "
                           "is used elsewhere: check the writer)";
                  });
}

}  // namespace steersync::node
