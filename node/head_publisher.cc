#include "node/head_publisher.h"

#include <future>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "sync/audience_seq.h"
#include "sync/meta_keys.h"
#include "sync/sequence_head.h"
#include "sync/status_macros.h"

namespace steersync::node {
namespace {

// Meta entries `prefix` + audience key -> u64, keyed by audience key.
absl::StatusOr<std::map<std::string, uint64_t>> LengthsUnder(const LmdbStore& store, std::string_view prefix) {
  SYNC_ASSIGN_OR_RETURN(auto entries, store.MetaScan(prefix));
  std::map<std::string, uint64_t> out;
  for (const auto& [name, value] : entries) {
    if (value.size() != 8) return absl::DataLossError("meta value " + name + " is not a u64");
    out.emplace(name.substr(prefix.size()), sync::meta::DecodeU64(value));
  }
  return out;
}

}  // namespace

HeadPublisher::HeadPublisher(Options options, LocalActs& local)
    : options_(options), local_(local), looks_(options.interval, [this] { Look(); }) {}

void HeadPublisher::Look() {
  absl::MutexLock look(&look_mu_);
  const absl::StatusOr<size_t> signed_heads = Publish(/*idle_only=*/true);
  if (!signed_heads.ok()) {
    if (!warned_) spdlog::warn("{}: sequence heads not signed: {}", local_.self(), signed_heads.status().ToString());
    warned_ = true;
  } else {
    warned_ = false;
    if (*signed_heads > 0) spdlog::debug("{}: signed {} sequence head(s)", local_.self(), *signed_heads);
  }
}

absl::StatusOr<size_t> HeadPublisher::PublishNow() {
  absl::MutexLock look(&look_mu_);
  return Publish(/*idle_only=*/false);
}

absl::StatusOr<size_t> HeadPublisher::Publish(bool idle_only) {
  const LmdbStore& store = local_.store();
  using Lengths = std::map<std::string, uint64_t>;
  SYNC_ASSIGN_OR_RETURN(Lengths lengths, LengthsUnder(store, sync::meta::kAudienceNextPrefix));
  SYNC_ASSIGN_OR_RETURN(const Lengths published, LengthsUnder(store, sync::meta::kAudiencePublishedPrefix));
  const std::string self = local_.self();
  // The node's clerk signs heads, like its status: no committee act.
  const LocalAct act{domain::Act{domain::Action::kRosterEntry, ""}, v1::ActAs(), std::nullopt};
  std::vector<std::pair<LocalAct, BodyMaker>> acts;
  for (const auto& [key, length] : lengths) {
    if (acts.size() >= options_.max_heads_per_look) break;
    if (auto p = published.find(key); p != published.end() && p->second == length) continue;
    if (idle_only) {
      // Still moving: its next version will reveal any hole; sign once it rests.
      if (auto prev = previous_.find(key); prev == previous_.end() || prev->second != length) continue;
    }
    std::optional<v1::Audience> audience = sync::AudienceOfKey(key, self);
    if (!audience.has_value()) return absl::DataLossError("audience key '" + key + "' does not parse");
    acts.emplace_back(act, [self, audience = *std::move(audience)](uint64_t, LmdbStore::View& view,
                                                                    v1::RecordBody& body) -> absl::StatusOr<std::string> {
      // Read in the transaction that signs it: the head names the sequence's
      // true last position, whatever was written since the look.
      SYNC_RETURN_IF_ERROR(sync::FillSequenceHead(view, self, audience, body));
      return body.id();
    });
  }
  previous_ = std::move(lengths);
  if (acts.empty()) return size_t{0};
  const size_t count = acts.size();
  std::promise<absl::Status> done;
  // SubmitAll, not WriteTogether: refused at once while the node recovers.
  local_.SubmitAll(std::move(acts), [&done](absl::StatusOr<std::vector<Written>> w) { done.set_value(w.status()); });
  SYNC_RETURN_IF_ERROR(done.get_future().get());
  return count;
}

}  // namespace steersync::node
