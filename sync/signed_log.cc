#include "sync/signed_log.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "sync/attachments.h"
#include "sync/audience_seq.h"

namespace steersync::sync {
namespace {

// One position of one writer's sequence for one audience.
std::string PositionKey(const v1::RecordBody& body, uint64_t seq) {
  std::string key = body.version().writer();
  key += '\n';
  key += AudienceKey(body.audience());
  key += '\n';
  key += std::to_string(seq);
  return key;
}

constexpr int kForked = -2;

}  // namespace

std::string BodyDigest(std::string_view body_bytes) { return Sha256Of(body_bytes); }

std::vector<std::string> NumberedDigests(std::span<const v1::Record> records,
                                         std::span<const v1::RecordBody> bodies, const std::vector<bool>& parsed) {
  std::vector<std::string> digests(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (parsed[i] && bodies[i].audience_seq() != 0) digests[i] = BodyDigest(records[i].body());
  }
  return digests;
}

BatchLinks LinkBatch(std::span<const v1::Record> records, std::span<const v1::RecordBody> bodies,
                     const std::vector<bool>& parsed, std::span<const std::string> digests) {
  const size_t n = records.size();
  BatchLinks links;
  links.successor.assign(n, -1);
  links.order.resize(n);
  for (size_t i = 0; i < n; ++i) links.order[i] = i;

  // Who holds each position: an index, or kForked when two different bodies
  // claim it (the same body twice is a duplicate: either copy will do).
  absl::flat_hash_map<std::string, int> at;
  std::vector<std::string> keys(n);
  for (size_t i = 0; i < n; ++i) {
    if (!parsed[i] || bodies[i].audience_seq() == 0) continue;
    keys[i] = PositionKey(bodies[i], bodies[i].audience_seq());
    auto [it, inserted] = at.try_emplace(keys[i], static_cast<int>(i));
    if (!inserted && it->second != kForked && records[it->second].body() != records[i].body()) {
      it->second = kForked;
      ++links.forks;
    }
  }
  for (size_t j = 0; j < n; ++j) {
    if (keys[j].empty() || bodies[j].audience_seq() < 2 || bodies[j].audience_prev().empty()) continue;
    if (auto self = at.find(keys[j]); self == at.end() || self->second == kForked) continue;
    auto prev = at.find(PositionKey(bodies[j], bodies[j].audience_seq() - 1));
    if (prev == at.end() || prev->second == kForked) continue;
    const auto i = static_cast<size_t>(prev->second);
    if (links.successor[i] < 0 &&
        (i < digests.size() ? digests[i] : BodyDigest(records[i].body())) == bodies[j].audience_prev()) {
      links.successor[i] = static_cast<int>(j);
    }
  }
  // A successor is one position further: the higher positions first.
  std::stable_sort(links.order.begin(), links.order.end(), [&](size_t a, size_t b) {
    const uint64_t sa = parsed[a] ? bodies[a].audience_seq() : 0;
    const uint64_t sb = parsed[b] ? bodies[b].audience_seq() : 0;
    return sa > sb;
  });
  return links;
}

}  // namespace steersync::sync
