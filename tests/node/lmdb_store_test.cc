#include <filesystem>
#include "node/store/lmdb_store.h"

#include "node/listings.h"
#include "node/store/group_commit_writer.h"
#include "sync/apply.h"
#include "sync/version_vector.h"
#include "tests/testutil/fixtures.h"

#include <future>

namespace steersync::node {
namespace {

using steersync::testing::IsOk;
using steersync::testing::StatusIs;
using steersync::testing::TempDir;

v1::Record MakeRecord(const std::string& id, const std::string& writer, uint64_t counter,
                      uint32_t depth = 1) {
  v1::RecordBody b;
  b.set_id(id);
  b.set_kind(v1::DIRECTIVE);
  b.mutable_version()->set_writer(writer);
  b.mutable_version()->mutable_hlc()->set_wall_micros(counter);
  b.mutable_version()->mutable_authority()->set_unit_depth(depth);
  sync::SetCounter(*b.mutable_version()->mutable_vector(), writer, counter);
  v1::Record r;
  r.set_body(b.SerializeAsString());
  return r;
}

sync::Admission AdmitAll(std::string_view, const v1::RecordBody&, const v1::Record&) {
  return {};
}

absl::StatusOr<sync::ApplyStats> Apply(LmdbStore& store, const std::string& peer,
                                       const std::vector<v1::Record>& records, uint64_t seq) {
  sync::ApplyStats out;
  absl::Status s = store.Write([&](LmdbStore::View& view) -> absl::Status {
    auto stats = sync::ApplyRecords(view, peer, records, seq, AdmitAll, 0);
    if (!stats.ok()) return stats.status();
    out = *stats;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

TEST(LmdbStoreTest, RecordsLogAndCheckpointCommitTogetherAndSurviveReopen) {
  TempDir dir;
  {
    auto store = LmdbStore::Open(dir.Sub("db"), {});
    ASSERT_THAT(store, IsOk());
    auto stats = Apply(**store, "vn/quang-ngai",
                       {MakeRecord("vn/quang-ngai/d/1", "vn/quang-ngai", 1),
                        MakeRecord("vn/quang-ngai/d/2", "vn/quang-ngai", 2)},
                       17);
    ASSERT_THAT(stats, IsOk());
    EXPECT_EQ(stats->applied, 2u);
  }
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ((*store)->HeadSeq(), 2u);
  EXPECT_EQ((*store)->RecordCount(), 2u);
  EXPECT_EQ((*store)->AppliedSeq("vn/quang-ngai").value(), 17u);
  auto log = (*store)->ReadLog(0, 10, 1 << 20);
  ASSERT_THAT(log, IsOk());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[1].seq, 2u);
}

// The map is an upper bound, not an allocation: data.mdb grows as records
// are written, up to [node] map_size_mb (issue 11 item 5), so a node's
// disk use follows its data however large the bound.
TEST(LmdbStoreTest, TheDataFileGrowsWithItsRecordsNotToTheMapSize) {
  TempDir dir;
  lmdb::EnvOptions options;
  options.map_size = size_t{8} << 30;
  auto store = LmdbStore::Open(dir.Sub("db"), options);
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT(Apply(**store, "vn/quang-ngai", {MakeRecord("vn/quang-ngai/d/1", "vn/quang-ngai", 1)}, 1), IsOk());
  const uintmax_t small = std::filesystem::file_size(dir.Sub("db") + "/data.mdb");
  EXPECT_LT(small, uintmax_t{1} << 20) << "8 GiB map, one record";
  std::vector<v1::Record> many;
  for (int i = 2; i < 2002; ++i) {
    many.push_back(MakeRecord("vn/quang-ngai/d/" + std::to_string(i), "vn/quang-ngai", i));
  }
  ASSERT_THAT(Apply(**store, "vn/quang-ngai", many, 2), IsOk());
  EXPECT_GT(std::filesystem::file_size(dir.Sub("db") + "/data.mdb"), small);
  EXPECT_EQ((*store)->Space().map_bytes, options.map_size);
}

// /metrics reads the quarantine by reason from counts kept with each entry
// (no rescan per scrape); a failed write counts nothing, and the counts
// survive a reopen.
TEST(LmdbStoreTest, QuarantineIsCountedByReasonWithItsEntries) {
  TempDir dir;
  auto quarantine = [](LmdbStore& store, const std::string& reason, bool then_fail) {
    return store.Write([&](LmdbStore::View& view) -> absl::Status {
      sync::QuarantineEntry q;
      q.record = MakeRecord("vn/quang-ngai/d/1", "vn/quang-ngai", 1);
      q.from_peer = "vn/quang-ngai";
      q.reason_code = reason;
      if (absl::Status s = view.PutQuarantine(q); !s.ok()) return s;
      return then_fail ? absl::UnavailableError("simulated") : absl::OkStatus();
    });
  };
  {
    auto store = LmdbStore::Open(dir.Sub("db"), {});
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT(quarantine(**store, "BAD_SIGNATURE", false), IsOk());
    ASSERT_THAT(quarantine(**store, "BAD_SIGNATURE", false), IsOk());
    ASSERT_THAT(quarantine(**store, "CLOCK_AHEAD", false), IsOk());
    EXPECT_FALSE(quarantine(**store, "CLOCK_AHEAD", true).ok());
  }
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  auto counts = (*store)->QuarantineByReason();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(*counts, (std::map<std::string, uint64_t>{{"BAD_SIGNATURE", 2}, {"CLOCK_AHEAD", 1}}));
  EXPECT_EQ((*store)->QuarantineCount(), 3u);
}

// Issue 10: however much a peer made this node refuse, `quarantine list`
// pages through it newest first; no reply nears the message limit.
TEST(LmdbStoreTest, QuarantineIsListedNewestFirstAPageAtATime) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT((*store)->Write([&](LmdbStore::View& view) -> absl::Status {
    for (int i = 1; i <= 150; ++i) {
      sync::QuarantineEntry q;
      q.record = MakeRecord("vn/quang-ngai/d/" + std::to_string(i), "vn/quang-ngai", i);
      q.record_id = "vn/quang-ngai/d/" + std::to_string(i);
      q.reason_code = "BAD_SIGNATURE";
      q.received_micros = i;
      if (absl::Status s = view.PutQuarantine(q); !s.ok()) return s;
    }
    return absl::OkStatus();
  }), IsOk());
  auto first = ListQuarantineIn(**store);
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->total(), 150u);
  ASSERT_EQ(first->entries_size(), 100);
  EXPECT_EQ(first->entries(0).record_id(), "vn/quang-ngai/d/150");
  v1::ListQuarantineRequest next;
  next.set_offset(100);
  next.set_limit(1000);
  auto rest = ListQuarantineIn(**store, next);
  ASSERT_THAT(rest, IsOk());
  ASSERT_EQ(rest->entries_size(), 50);
  EXPECT_EQ(rest->entries(49).record_id(), "vn/quang-ngai/d/1");
}

// Issue 10 item 3: what one peer can make this node refuse is bounded. Past
// its quota the peer's oldest entries go (counted), another peer's stay.
TEST(LmdbStoreTest, EachPeersQuarantineIsBoundedOldestEvictedAndCounted) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  (*store)->SetQuarantineQuota({.max_entries_per_peer = 5, .max_bytes_per_peer = 1 << 20});
  constexpr char kFlooder[] = "vn/quang-ngai/tinh-phong", kHonest[] = "vn/quang-ngai/binh-son";
  auto put = [&](const std::string& peer, int i, const std::string& reason) {
    return (*store)->Write([&](LmdbStore::View& view) {
      sync::QuarantineEntry q;
      q.record_id = peer + "/r/" + std::to_string(i);
      q.record = MakeRecord(q.record_id, peer, i, 2);
      q.from_peer = peer;
      q.reason_code = reason;
      return view.PutQuarantine(q);
    });
  };
  ASSERT_THAT(put(kHonest, 1, "CLOCK_AHEAD"), IsOk());
  for (int i = 1; i <= 12; ++i) ASSERT_THAT(put(kFlooder, i, i <= 6 ? "BAD_SIGNATURE" : "BAD_ID"), IsOk());

  auto by_peer = (*store)->QuarantineByPeer();
  ASSERT_THAT(by_peer, IsOk());
  EXPECT_EQ(by_peer->at(kFlooder).entries, 5u);
  EXPECT_EQ(by_peer->at(kFlooder).evicted, 7u);
  EXPECT_EQ(by_peer->at(kHonest).entries, 1u);
  EXPECT_EQ(by_peer->at(kHonest).evicted, 0u);
  auto listed = (*store)->ListQuarantine();
  ASSERT_THAT(listed, IsOk());
  std::vector<std::string> ids;
  for (const auto& q : *listed) ids.push_back(q.record_id);
  EXPECT_EQ(ids, (std::vector<std::string>{std::string(kHonest) + "/r/1", std::string(kFlooder) + "/r/8",
                                           std::string(kFlooder) + "/r/9", std::string(kFlooder) + "/r/10",
                                           std::string(kFlooder) + "/r/11", std::string(kFlooder) + "/r/12"}));
  // The counts by reason follow the evictions (BAD_SIGNATURE entries all went).
  auto counts = (*store)->QuarantineByReason();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(*counts, (std::map<std::string, uint64_t>{{"BAD_ID", 5}, {"CLOCK_AHEAD", 1}}));
}

TEST(LmdbStoreTest, APeersQuarantineIsBoundedInBytesKeepingItsNewestEntry) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  (*store)->SetQuarantineQuota({.max_entries_per_peer = 1000, .max_bytes_per_peer = 10'000});
  constexpr char kPeer[] = "vn/quang-ngai/tinh-phong";
  for (int i = 1; i <= 4; ++i) {
    ASSERT_THAT((*store)->Write([&](LmdbStore::View& view) {
      sync::QuarantineEntry q;
      q.record_id = std::string(kPeer) + "/r/" + std::to_string(i);
      q.record = MakeRecord(q.record_id, kPeer, i, 2);
      q.record.set_signature(std::string(i == 4 ? 20'000 : 4'000, 's'));  // the last alone is over
      q.from_peer = kPeer;
      q.reason_code = "BAD_SIGNATURE";
      return view.PutQuarantine(q);
    }), IsOk());
  }
  auto by_peer = (*store)->QuarantineByPeer();
  ASSERT_THAT(by_peer, IsOk());
  EXPECT_EQ(by_peer->at(kPeer).entries, 1u) << "the newest entry is kept even when it alone is over";
  EXPECT_EQ(by_peer->at(kPeer).evicted, 3u);
  EXPECT_GT(by_peer->at(kPeer).bytes, 20'000u);
  EXPECT_EQ((*store)->QuarantineCount(), 1u);
}

// A store written before the per-peer index (format 1) gets it at its first
// writable open: the usage is rebuilt from the entries themselves.
TEST(LmdbStoreTest, AFormatOneStoreGetsItsPerPeerQuarantineUsage) {
  TempDir dir;
  constexpr char kPeer[] = "vn/quang-ngai/tinh-phong";
  {
    auto store = LmdbStore::Open(dir.Sub("db"), {});
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->Write([&](LmdbStore::View& view) -> absl::Status {
      for (int i = 1; i <= 3; ++i) {
        sync::QuarantineEntry q;
        q.record_id = std::string(kPeer) + "/r/" + std::to_string(i);
        q.record = MakeRecord(q.record_id, kPeer, i, 2);
        q.from_peer = kPeer;
        q.reason_code = "BAD_ID";
        if (absl::Status s = view.PutQuarantine(q); !s.ok()) return s;
      }
      // As format 1 left it: no usage kept, format 1.
      if (absl::Status s = view.MetaDelete(std::string("qpeer/") + kPeer); !s.ok()) return s;
      return view.MetaPut(LmdbStore::kStoreFormatKey, lmdb::EncodeSeq(1));
    }), IsOk());
  }
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  auto by_peer = (*store)->QuarantineByPeer();
  ASSERT_THAT(by_peer, IsOk());
  ASSERT_EQ(by_peer->count(kPeer), 1u);
  EXPECT_EQ(by_peer->at(kPeer).entries, 3u);
  (*store)->SetQuarantineQuota({.max_entries_per_peer = 2, .max_bytes_per_peer = 1 << 20});
  ASSERT_THAT((*store)->Write([&](LmdbStore::View& view) {
    sync::QuarantineEntry q;
    q.record_id = std::string(kPeer) + "/r/4";
    q.record = MakeRecord(q.record_id, kPeer, 4, 2);
    q.from_peer = kPeer;
    q.reason_code = "BAD_ID";
    return view.PutQuarantine(q);
  }), IsOk());
  EXPECT_EQ((*store)->QuarantineCount(), 2u) << "the rebuilt index evicts the oldest";
}

TEST(LmdbStoreTest, AFailedWriteLeavesNothingBehind) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  absl::Status s = (*store)->Write([&](LmdbStore::View& view) -> absl::Status {
    auto stats = sync::ApplyRecords(view, "p", {MakeRecord("vn/quang-ngai/d/1", "vn/quang-ngai", 1)},
                                    5, AdmitAll, 0);
    if (!stats.ok()) return stats.status();
    return absl::UnavailableError("simulated failure after the records were written");
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ((*store)->HeadSeq(), 0u);
  EXPECT_EQ((*store)->RecordCount(), 0u);
  EXPECT_EQ((*store)->AppliedSeq("p").value(), 0u);
}

TEST(LmdbStoreTest, ApplyingTheSameBatchTwiceChangesNothing) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  std::vector<v1::Record> batch{MakeRecord("vn/quang-ngai/d/1", "vn/quang-ngai", 1)};
  ASSERT_THAT(Apply(**store, "p", batch, 1), IsOk());
  auto again = Apply(**store, "p", batch, 1);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->duplicates, 1u);
  EXPECT_EQ((*store)->HeadSeq(), 1u);  // no second log entry
}

TEST(LmdbStoreTest, ConcurrentVersionsKeepTheLoserVisible) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  // Same record, concurrent versions: the province (depth 1) beats a commune (R1).
  auto commune = MakeRecord("vn/quang-ngai/x/1", "vn/quang-ngai/tinh-phong", 1, 2);
  auto province = MakeRecord("vn/quang-ngai/x/1", "vn/quang-ngai", 1, 1);
  ASSERT_THAT(Apply(**store, "", {commune}, 0), IsOk());
  auto stats = Apply(**store, "", {province}, 0);
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->conflicts, 1u);
  auto current = (*store)->GetRecord("vn/quang-ngai/x/1");
  ASSERT_THAT(current, IsOk());
  EXPECT_EQ((*current)->body(), province.body());
  auto conflicts = (*store)->ListConflicts();
  ASSERT_THAT(conflicts, IsOk());
  ASSERT_EQ(conflicts->size(), 1u);
  EXPECT_EQ((*conflicts)[0].rule, "R1");
  EXPECT_EQ((*conflicts)[0].loser.body(), commune.body());
}

TEST(LmdbStoreTest, AReadOnlyOpenSeesWhatTheWriterCommitted) {
  TempDir dir;
  auto writer = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(writer, IsOk());
  ASSERT_THAT(Apply(**writer, "p", {MakeRecord("vn/quang-ngai/d/1", "vn/quang-ngai", 1)}, 1), IsOk());
  // LMDB allows one env per path per process; a second open here is refused.
  lmdb::EnvOptions ro;
  ro.read_only = true;
  EXPECT_THAT(LmdbStore::Open(dir.Sub("db"), ro), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(GroupCommitWriterTest, GroupsConcurrentJobsAndCompletesEachOnce) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  std::atomic<int> completed{0};
  std::atomic<uint64_t> notified{0};
  {
    GroupCommitWriter writer(**store, {}, [&](uint64_t head) { notified = head; });
    std::vector<std::promise<absl::Status>> results(500);
    for (int i = 0; i < 500; ++i) {
      writer.Submit(
          [i](LmdbStore::View& view) -> absl::Status {
            auto r = MakeRecord("vn/quang-ngai/d/" + std::to_string(i + 1), "vn/quang-ngai", i + 1);
            return view.AppendLog(r).status();
          },
          [&, i](absl::Status s) {
            ++completed;
            results[i].set_value(s);
          });
    }
    for (auto& r : results) EXPECT_THAT(r.get_future().get(), IsOk());
    EXPECT_LT(writer.commits(), 500u);  // grouped: fewer transactions than jobs
  }
  EXPECT_EQ(completed.load(), 500);
  EXPECT_EQ((*store)->HeadSeq(), 500u);
  EXPECT_EQ(notified.load(), 500u);
}

// Issue 10 item 2: a job that fails (here with LMDB's MDB_BAD_VALSIZE, a
// key over 511 bytes, after it already wrote) fails alone: what it wrote is
// dropped, every other job of the same group commits.
TEST(GroupCommitWriterTest, AFailingJobFailsAloneAndLeavesNothing) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  std::vector<std::promise<absl::Status>> results(60);
  {
    GroupCommitWriter writer(**store, {}, nullptr);
    for (int i = 0; i < 60; ++i) {
      writer.Submit(
          [i](LmdbStore::View& view) -> absl::Status {
            auto r = MakeRecord("vn/quang-ngai/d/" + std::to_string(i + 1), "vn/quang-ngai", i + 1);
            if (absl::Status s = view.AppendLog(r).status(); !s.ok()) return s;
            if (i % 3 != 1) return absl::OkStatus();
            return view.MetaPut(std::string(600, 'k'), "too long a key");
          },
          [&results, i](absl::Status s) { results[i].set_value(s); });
    }
  }
  int failed = 0;
  for (int i = 0; i < 60; ++i) {
    const absl::Status s = results[i].get_future().get();
    if (i % 3 == 1) {
      EXPECT_FALSE(s.ok()) << i;
      ++failed;
    } else {
      EXPECT_THAT(s, IsOk()) << i;
    }
  }
  EXPECT_EQ(failed, 20);
  EXPECT_EQ((*store)->HeadSeq(), 40u) << "the failed jobs' log entries were dropped, the others kept";
  auto log = (*store)->ReadLog(0, 100, 1 << 20);
  ASSERT_THAT(log, IsOk());
  for (uint64_t k = 0; k < log->size(); ++k) EXPECT_EQ((*log)[k].seq, k + 1) << "no hole in the log";
}

}  // namespace
}  // namespace steersync::node
