// The replica core's own rules, independent of the committee domain: R4 on
// versions written through WriteLocal, and the bound on a peer's supersession
// list. (The domain's admission is exercised in tests/domain and tests/node.)
#include "sync/replica.h"

#include <gtest/gtest.h>

#include "sync/merge.h"
#include "sync/meta_keys.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/mem_store.h"

namespace steersync::sync {
namespace {

using testing::AdmitAll;

class Unsigned : public SignatureCheck, public VersionSigner {
 public:
  Admission Verify(const v1::Record&, const v1::RecordBody&, bool) const override { return {}; }
  absl::Status Sign(v1::Record&) const override { return absl::OkStatus(); }
};

// One replica over an in-memory store.
struct TestReplica {
  explicit TestReplica(std::string self)
      : hlc(clock), replica(ReplicaOptions{.self_id = std::move(self)}, policy, signatures, hlc, clock) {}

  LocalWrite Write(const std::string& legal_date, const std::optional<v1::Version>& base = {}) {
    LocalWrite out;
    EXPECT_TRUE(store
                    .Write([&](WriteView& view) -> absl::Status {
                      absl::StatusOr<uint64_t> counter = replica.NextCounter(view);
                      if (!counter.ok()) return counter.status();
                      v1::RecordBody body;
                      body.set_id("shared/x");
                      body.set_kind(v1::REPORT_STATUS);
                      body.mutable_audience()->set_direction(v1::Audience::UP);
                      body.mutable_audience()->set_root("vn");
                      body.mutable_version()->set_legal_date(legal_date);
                      absl::StatusOr<LocalWrite> w =
                          replica.WriteLocal(view, *counter, std::move(body), base, signatures);
                      if (!w.ok()) return w.status();
                      out = *std::move(w);
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  }

  // `said_counter`: the peer's own counter its batch said (Batch.writer_counter).
  ApplyStats Receive(const std::string& from, const v1::Record& record, uint64_t said_counter = 0) {
    ApplyStats stats;
    ApplyRequest request{.last_seq = ++peer_seq, .peer_epoch = 1, .records = {record}};
    request.peer_writer_counter = said_counter;
    EXPECT_TRUE(store
                    .Write([&](WriteView& view) -> absl::Status {
                      absl::StatusOr<ApplyStats> s = replica.ApplyFromPeer(view, from, request, nullptr);
                      if (!s.ok()) return s.status();
                      stats = *s;
                      return absl::OkStatus();
                    })
                    .ok());
    return stats;
  }

  // The counter of `peer`'s this replica would say back to it (0: none).
  uint64_t CounterHeldOf(const std::string& peer) {
    uint64_t held = 0;
    EXPECT_TRUE(store
                    .Write([&](WriteView& view) -> absl::Status {
                      absl::StatusOr<uint64_t> v = meta::GetU64(view, meta::kWriterCounterPrefix + peer);
                      if (!v.ok()) return v.status();
                      held = *v;
                      return absl::OkStatus();
                    })
                    .ok());
    return held;
  }

  std::string CurrentKey() {
    v1::RecordBody body;
    EXPECT_TRUE(body.ParseFromString(store.Current("shared/x")->body()));
    return VersionKey(body.version());
  }

  testing::ManualClock clock;
  HybridClock hlc;
  AdmitAll policy;
  Unsigned signatures;
  Replica replica;
  testing::MemStore store;
  uint64_t peer_seq = 0;
};

// DOMAIN-MODEL §6 R4 (D30 Art. 18.3): an edit made deliberately over the
// version a writer holds, from an older base, replaces it wherever the two
// meet, though R5 alone (the older legal date) would keep the replaced one.
TEST(ReplicaTest, AnEditOverTheHeldVersionWinsByR4WhereverTheyMeet) {
  TestReplica a("vn/a");
  TestReplica b("vn/b");
  LocalWrite first = a.Write("2026-11-29");
  LocalWrite later = b.Write("2026-11-30");  // concurrent with `first`
  a.Receive("vn/b", later.record);
  b.Receive("vn/a", first.record);
  ASSERT_EQ(a.CurrentKey(), later.version_key) << "R5: the later legal date wins";
  ASSERT_EQ(b.CurrentKey(), later.version_key);

  // A's officer restores the earlier content over the version A holds.
  LocalWrite restore = a.Write("2026-11-29", first.body.version());
  ASSERT_EQ(restore.body.version().supersedes_size(), 1);
  EXPECT_EQ(restore.body.version().supersedes(0), later.version_key);
  EXPECT_EQ(a.CurrentKey(), restore.version_key);

  ApplyStats stats = b.Receive("vn/a", restore.record);
  EXPECT_EQ(stats.applied, 1u);
  EXPECT_EQ(b.CurrentKey(), restore.version_key) << "R4 decides before R5's legal date";
}

// The counter a peer says with a batch (Batch.writer_counter) is kept in
// that batch's transaction, not a commit of its own: said back to the peer
// if it ever loses its store, it keeps the peer's new ids fresh (DESIGN
// "Operations", recovery). It only ever rises, and the peer chooses it: a
// value past any real counter is ignored.
TEST(ReplicaTest, TheCounterAPeerSaysIsKeptWithItsBatchAndOnlyRises) {
  TestReplica a("vn/a");
  TestReplica b("vn/b");
  LocalWrite w = a.Write("2026-11-30");
  b.Receive("vn/a", w.record, 41);
  EXPECT_EQ(b.CounterHeldOf("vn/a"), 41u);
  b.Receive("vn/a", w.record, 7);
  EXPECT_EQ(b.CounterHeldOf("vn/a"), 41u) << "a lower counter said later changes nothing";
  b.Receive("vn/a", w.record, uint64_t{1} << 60);
  EXPECT_EQ(b.CounterHeldOf("vn/a"), 41u) << "past any real counter: ignored";
  b.Receive("vn/a", w.record, 42);
  EXPECT_EQ(b.CounterHeldOf("vn/a"), 42u);
}

// A peer cannot make every merge scan an unbounded list.
TEST(ReplicaTest, AnOverlongSupersessionListIsRefusedAlone) {
  TestReplica a("vn/a");
  TestReplica b("vn/b");
  LocalWrite w = a.Write("2026-11-30");
  v1::RecordBody body = w.body;
  for (int i = 0; i <= kMaxSupersessionChain; ++i) body.mutable_version()->add_supersedes("x@" + std::to_string(i));
  v1::Record forged = w.record;
  forged.set_body(body.SerializeAsString());
  AloneVerdicts verdicts = b.replica.CheckAlone("vn/a", std::span<const v1::Record>(&forged, 1));
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_FALSE(verdicts[0].admitted);
  EXPECT_EQ(verdicts[0].reason_code, "BAD_VERSION");
  EXPECT_TRUE(b.replica.CheckAlone("vn/a", std::span<const v1::Record>(&w.record, 1))[0].admitted);
}

}  // namespace
}  // namespace steersync::sync
