#include "tests/testutil/replica_harness.h"

#include <gtest/gtest.h>

namespace steersync::testing {

ReplicaHarness::ReplicaHarness(std::string self_id)
    : hlc(clock), replica(sync::ReplicaOptions{.self_id = std::move(self_id)}, policy, signatures, hlc, clock) {}

v1::Record ReplicaHarness::Write(const std::function<absl::Status(sync::WriteView&, v1::RecordBody&)>& fill) {
  v1::Record out;
  const absl::Status written = store.Write([&](sync::WriteView& view) -> absl::Status {
    absl::StatusOr<uint64_t> counter = replica.NextCounter(view);
    if (!counter.ok()) return counter.status();
    v1::RecordBody body;
    if (absl::Status s = fill(view, body); !s.ok()) return s;
    if (body.version().legal_date().empty()) body.mutable_version()->set_legal_date("2026-12-01");
    absl::StatusOr<sync::LocalWrite> w = replica.WriteLocal(view, *counter, std::move(body), std::nullopt, signatures);
    if (!w.ok()) return w.status();
    out = w->record;
    return absl::OkStatus();
  });
  EXPECT_TRUE(written.ok()) << written;
  clock.Advance(1000);
  return out;
}

sync::ApplyStats ReplicaHarness::Receive(std::string_view peer, const std::vector<v1::Record>& batch) {
  sync::ApplyStats stats;
  const sync::ApplyRequest request{.last_seq = ++peer_seq, .peer_epoch = 1, .records = batch};
  const absl::Status applied = store.Write([&](sync::WriteView& view) -> absl::Status {
    absl::StatusOr<sync::ApplyStats> s = replica.ApplyFromPeer(view, peer, request, nullptr);
    if (!s.ok()) return s.status();
    stats = *s;
    return absl::OkStatus();
  });
  EXPECT_TRUE(applied.ok()) << applied;
  return stats;
}

}  // namespace steersync::testing
