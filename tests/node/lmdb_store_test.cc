#include <filesystem>
#include "node/store/lmdb_store.h"

#include "node/listings.h"
#include "node/store/group_commit_writer.h"
#include "sync/apply.h"
#include "sync/attachments.h"
#include "sync/version_vector.h"
#include "tests/testutil/fixtures.h"

#include <lmdb.h>

#include <cstring>
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

// A province's sessions to its communes all scan each new log entry: one
// parse serves them all (issue 13 item 4), and what they get is the log as
// it is, forgotten entries left out even after they were read once.
TEST(LmdbStoreTest, ReadersOfTheLogShareOneParseOfEachEntryAndSeeWhatIsForgotten) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  ASSERT_THAT(Apply(**store, "vn/quang-ngai",
                    {MakeRecord("vn/quang-ngai/d/1", "vn/quang-ngai", 1), MakeRecord("vn/quang-ngai/d/2", "vn/quang-ngai", 2),
                     MakeRecord("vn/quang-ngai/d/3", "vn/quang-ngai", 3)},
                    3),
              IsOk());
  auto first = (*store)->ReadParsedLog(0, 10, 1 << 20);
  auto second = (*store)->ReadParsedLog(0, 10, 1 << 20);
  auto plain = (*store)->ReadLog(0, 10, 1 << 20);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  ASSERT_THAT(plain, IsOk());
  ASSERT_EQ(first->size(), 3u);
  ASSERT_EQ(second->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*first)[i].get(), (*second)[i].get()) << "entry " << i << " was parsed twice";
    EXPECT_EQ((*first)[i]->seq, (*plain)[i].seq);
    EXPECT_EQ((*first)[i]->record.SerializeAsString(), (*plain)[i].record.SerializeAsString());
    ASSERT_TRUE((*first)[i]->body_parses);
    EXPECT_EQ((*first)[i]->body.id(), "vn/quang-ngai/d/" + std::to_string(i + 1));
  }
  ASSERT_THAT((*store)->Write([](LmdbStore::View& view) { return view.ForgetLogEntry(2); }), IsOk());
  auto after = (*store)->ReadParsedLog(0, 10, 1 << 20);
  ASSERT_THAT(after, IsOk());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0]->seq, 1u);
  EXPECT_EQ((*after)[1]->seq, 3u);
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

// ---- Attachments (store format 3) ----------------------------------------

std::string FileBytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 13 + i / 101);
  return s;
}

std::string ChunkOf(const std::string& content, uint32_t i) {
  return content.substr(i * sync::kAttachmentChunkBytes, sync::ChunkSize(content.size(), i));
}

absl::StatusOr<LmdbStore::View::ChunkOutcome> Put(LmdbStore& store, const v1::Attachment& a,
                                                  const std::string& content, uint32_t i) {
  absl::StatusOr<LmdbStore::View::ChunkOutcome> outcome = absl::UnknownError("not run");
  absl::Status s = store.Write([&](LmdbStore::View& view) -> absl::Status {
    outcome = view.PutChunk(a.sha256(), i, ChunkOf(content, i));
    return outcome.status();
  });
  if (!s.ok()) return s;
  return outcome;
}

// Chunks and the file's progress commit in one transaction: a store reopened
// after any commit (a kill) holds exactly the chunks its progress counts, and
// the fetch resumes with the missing ones.
TEST(BlobStoreTest, ProgressCommitsWithItsChunksAndSurvivesAReopen) {
  TempDir dir;
  const std::string content = FileBytes(3 * sync::kAttachmentChunkBytes + 5);
  const v1::Attachment a = sync::DescribeAttachment("ke-hoach.pdf", content);
  {
    auto store = LmdbStore::Open(dir.Sub("db"), {});
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->Write([&](LmdbStore::View& view) -> absl::Status {
      auto fetch = view.NameBlob(a, "vn/quang-ngai/d/1", "vn/quang-ngai");
      if (!fetch.ok()) return fetch.status();
      EXPECT_TRUE(*fetch);
      return absl::OkStatus();
    }), IsOk());
    EXPECT_THAT(Put(**store, a, content, 2), IsOk());
    EXPECT_THAT(Put(**store, a, content, 0), IsOk());
    // A write that fails after storing a chunk leaves neither it nor progress.
    EXPECT_FALSE((*store)->Write([&](LmdbStore::View& view) -> absl::Status {
      if (auto s = view.PutChunk(a.sha256(), 1, ChunkOf(content, 1)); !s.ok()) return s.status();
      return absl::UnavailableError("killed before the commit");
    }).ok());
  }
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  auto blob = (*store)->GetBlob(a.sha256());
  ASSERT_THAT(blob, IsOk());
  ASSERT_TRUE(blob->has_value());
  EXPECT_EQ((*blob)->phase, LmdbStore::BlobState::Phase::kArriving);
  EXPECT_EQ((*blob)->chunks_held, 2u);
  EXPECT_EQ((*blob)->received_bytes, 2 * sync::kAttachmentChunkBytes);
  auto missing = (*store)->MissingChunks(**blob);
  ASSERT_THAT(missing, IsOk());
  EXPECT_EQ(*missing, (std::vector<uint32_t>{1, 3}));
  auto from = (*store)->ArrivingBlobsFrom("vn/quang-ngai");
  ASSERT_THAT(from, IsOk());
  EXPECT_EQ(from->size(), 1u);
  EXPECT_THAT(Put(**store, a, content, 0), IsOk());
  EXPECT_EQ(*Put(**store, a, content, 0), LmdbStore::View::ChunkOutcome::kAlreadyHeld);
  EXPECT_EQ(*Put(**store, a, content, 1), LmdbStore::View::ChunkOutcome::kStored);
  EXPECT_EQ(*Put(**store, a, content, 3), LmdbStore::View::ChunkOutcome::kCompleted);
  blob = (*store)->GetBlob(a.sha256());
  EXPECT_EQ((*blob)->phase, LmdbStore::BlobState::Phase::kComplete);
  EXPECT_EQ((*blob)->received_bytes, content.size());
  EXPECT_TRUE((*store)->ArrivingBlobsFrom("vn/quang-ngai")->empty());
}

// One copy per node however many records name the file; each record is
// remembered (which records, and so which peers, may have it).
TEST(BlobStoreTest, AFileNamedByManyRecordsIsStoredOnce) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  const std::string content = FileBytes(1000);
  const v1::Attachment a = sync::DescribeAttachment("a.pdf", content);
  v1::Attachment renamed = a;
  renamed.set_name("ban-sao.pdf");
  ASSERT_THAT((*store)->Write([&](LmdbStore::View& view) -> absl::Status {
    if (auto s = view.PutBlob(a, content); !s.ok()) return s;
    if (auto s = view.NameBlob(a, "vn/quang-ngai/d/1", ""); !s.ok()) return s.status();
    if (auto s = view.PutBlob(renamed, content); !s.ok()) return s;
    auto again = view.NameBlob(renamed, "vn/quang-ngai/d/2", "");
    if (!again.ok()) return again.status();
    EXPECT_FALSE(*again) << "already complete: nothing to fetch";
    return absl::OkStatus();
  }), IsOk());
  auto totals = (*store)->Blobs();
  ASSERT_THAT(totals, IsOk());
  EXPECT_EQ(totals->complete, 1u);
  EXPECT_EQ(totals->bytes_held, content.size());
  auto named = (*store)->RecordsNaming(a.sha256());
  ASSERT_THAT(named, IsOk());
  EXPECT_EQ(*named, (std::vector<std::string>{"vn/quang-ngai/d/1", "vn/quang-ngai/d/2"}));
}

// A writer that signed chunk hashes inconsistent with the file's SHA-256:
// every chunk passes, the whole does not; the chunks are dropped and the
// file is never complete.
TEST(BlobStoreTest, ChunksThatDoNotMakeTheNamedFileAreDropped) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  const std::string content = FileBytes(1000);
  v1::Attachment lying = sync::DescribeAttachment("a.pdf", content);
  lying.set_sha256(sync::Sha256Of("another file"));
  ASSERT_THAT((*store)->Write([&](LmdbStore::View& view) {
    return view.NameBlob(lying, "vn/quang-ngai/d/1", "vn/quang-ngai").status();
  }), IsOk());
  EXPECT_EQ(*Put(**store, lying, content, 0), LmdbStore::View::ChunkOutcome::kMismatch);
  auto blob = (*store)->GetBlob(lying.sha256());
  EXPECT_EQ((*blob)->phase, LmdbStore::BlobState::Phase::kMismatch);
  EXPECT_EQ((*blob)->received_bytes, 0u);
  EXPECT_FALSE((*store)->ReadChunk(lying.sha256(), 0)->has_value());
  EXPECT_EQ(*Put(**store, lying, content, 0), LmdbStore::View::ChunkOutcome::kNotArriving);
}

// A format-2 store has no attachment databases: a read-only open reads it
// (no file known), the first writable open creates them and records the
// current format (3 when this test was written; 4 adds only meta keys).
TEST(BlobStoreTest, AFormatTwoStoreIsUpgradedToFormatThreeOnce) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  ASSERT_THAT(LmdbStore::Open(db, {}), IsOk());
  {
    // As format 2 left it: no blobs, blob_chunks, blob_refs.
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    ASSERT_EQ(mdb_env_open(env, db.c_str(), 0, 0644), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    for (const char* name : {"blobs", "blob_chunks", "blob_refs"}) {
      MDB_dbi dbi;
      ASSERT_EQ(mdb_dbi_open(txn, name, 0, &dbi), 0);
      ASSERT_EQ(mdb_drop(txn, dbi, 1), 0);
    }
    MDB_dbi meta;
    ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    std::string two = lmdb::EncodeSeq(2);
    MDB_val k{std::strlen(LmdbStore::kStoreFormatKey), const_cast<char*>(LmdbStore::kStoreFormatKey)};
    MDB_val v{two.size(), two.data()};
    ASSERT_EQ(mdb_put(txn, meta, &k, &v, 0), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
  }
  {
    lmdb::EnvOptions read_only;
    read_only.read_only = true;
    auto reader = LmdbStore::Open(db, read_only);
    ASSERT_THAT(reader, IsOk());
    auto none = (*reader)->GetBlob(sync::Sha256Of("x"));
    ASSERT_THAT(none, IsOk());
    EXPECT_FALSE(none->has_value());
  }
  auto store = LmdbStore::Open(db, {});
  ASSERT_THAT(store, IsOk());
  auto format = (*store)->MetaGet(LmdbStore::kStoreFormatKey);
  ASSERT_TRUE(format.ok() && format->has_value());
  EXPECT_EQ(lmdb::DecodeSeq(**format), LmdbStore::kStoreFormat);
  const std::string content = FileBytes(10);
  const v1::Attachment a = sync::DescribeAttachment("a.pdf", content);
  EXPECT_THAT((*store)->Write([&](LmdbStore::View& view) { return view.PutBlob(a, content); }), IsOk());
}

}  // namespace
}  // namespace steersync::node
