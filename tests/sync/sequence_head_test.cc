// Signed heads (issue 13 item 1; docs/security.md "Signed heads"): a
// writer's signed (length, digest) of one of its sequences reveals a version
// dropped on the way even when nothing follows it, and contradicting what
// the writer already signed is a fork or a rollback, never silently merged.
// The hostile relay here sits between the writer and the receiver: it may
// drop, replay, alter and forge, but it holds no writer's key.
#include "sync/sequence_head.h"

#include <gtest/gtest.h>

#include "sync/audience_seq.h"
#include "sync/meta_keys.h"
#include "sync/replica.h"
#include "sync/signed_log.h"
#include "tests/testutil/replica_harness.h"

namespace steersync::sync {
namespace {

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/tinh-phong";

v1::Audience Subtree() {
  v1::Audience a;
  a.set_direction(v1::Audience::DOWN);
  a.set_root(kProvince);
  return a;
}

v1::RecordBody BodyOf(const v1::Record& r) {
  v1::RecordBody b;
  EXPECT_TRUE(b.ParseFromString(r.body()));
  return b;
}

// The province: directives to its whole subtree, and heads of that sequence.
struct Writer : testing::ReplicaHarness {
  Writer() : ReplicaHarness(kProvince) {}

  v1::Record Issue() {
    return Write([&](WriteView&, v1::RecordBody& body) {
      body.set_id(std::string(kProvince) + "/d/" + std::to_string(next_n++));
      body.set_kind(v1::DIRECTIVE);
      *body.mutable_audience() = Subtree();
      return absl::OkStatus();
    });
  }
  std::vector<v1::Record> IssueMany(int count) {
    std::vector<v1::Record> out;
    for (int i = 0; i < count; ++i) out.push_back(Issue());
    return out;
  }
  v1::Record Head() {
    return Write([&](WriteView& view, v1::RecordBody& body) {
      return FillSequenceHead(view, kProvince, Subtree(), body);
    });
  }
  // A head saying `length` and `digest`, stamped now and properly signed:
  // what a writer whose store went back (or whose key is used elsewhere) signs.
  v1::Record SignedHeadClaiming(uint64_t length, const std::string& digest) {
    v1::RecordBody body = BodyOf(Head());
    v1::SequenceHead head;
    head.set_length(length);
    head.set_digest(digest);
    body.set_payload(head.SerializeAsString());
    body.mutable_version()->mutable_hlc()->set_wall_micros(static_cast<uint64_t>(clock.NowMicros()));
    clock.Advance(1000);
    return Signed(body);
  }
  // Another body at the position of `original`, properly signed: a fork.
  v1::Record ForkOf(const v1::Record& original, const std::string& new_id) {
    v1::RecordBody body = BodyOf(original);
    body.set_id(new_id);
    return Signed(body);
  }
  v1::Record Signed(const v1::RecordBody& body) {
    v1::Record r;
    r.set_body(body.SerializeAsString());
    EXPECT_TRUE(signatures.Sign(r).ok());
    return r;
  }

  int next_n = 1;
};

// A commune receiving the province's versions from its (untrusted) relay.
struct Receiver : testing::ReplicaHarness {
  Receiver() : ReplicaHarness(kCommune) {}

  ApplyStats Receive(const std::vector<v1::Record>& batch) { return ReplicaHarness::Receive(kProvince, batch); }
  static std::string Stream() { return StreamKey(kProvince, Subtree()); }
  bool HasHole(uint64_t position) const {
    return store.Meta(meta::kAudienceGapPrefix + Stream() + "|" + meta::EncodeU64(position)).has_value();
  }
  std::optional<std::string> Fork(uint64_t position) const {
    return store.Meta(meta::kAudienceForkPrefix + Stream() + "|" + meta::EncodeU64(position));
  }
  // The reason the last quarantined version was refused, or "".
  std::string LastRefusal() const {
    return store.quarantine().empty() ? "" : store.quarantine().back().reason_code;
  }
};

TEST(SequenceHeadTest, AHeadNamesTheLengthAndTheLastBodyOfItsSequence) {
  Writer w;
  const std::vector<v1::Record> versions = w.IssueMany(3);
  const v1::RecordBody head_body = BodyOf(w.Head());
  EXPECT_EQ(head_body.kind(), v1::SEQUENCE_HEAD);
  EXPECT_EQ(head_body.id(), SequenceHeadId(kProvince, Subtree()));
  EXPECT_EQ(head_body.audience_seq(), 0u) << "a head is not part of the sequence it names";
  v1::SequenceHead head;
  ASSERT_TRUE(head.ParseFromString(head_body.payload()));
  EXPECT_EQ(head.length(), 3u);
  EXPECT_EQ(head.digest(), BodyDigest(versions[2].body()));
  EXPECT_TRUE(CheckHeadShape(head_body).admitted);
}

TEST(SequenceHeadTest, EachHeadReplacesTheLastInTheWritersLog) {
  Writer w;
  w.IssueMany(2);
  w.Head();  // log entry 3
  w.IssueMany(2);
  const v1::RecordBody head = BodyOf(w.Head());  // log entry 6
  // Newest-only, like a unit's status: the store forgets entry 3 of the log
  // once entry 6 replaces it (WriteView::ForgetLogEntry), so heads never
  // grow the log, and a head is never numbered in its own sequence.
  EXPECT_EQ(w.store.Meta(meta::kNewestLogPrefix + head.id()), meta::EncodeU64(6));
  EXPECT_EQ(head.audience_seq(), 0u);
  v1::SequenceHead payload;
  ASSERT_TRUE(payload.ParseFromString(head.payload()));
  EXPECT_EQ(payload.length(), 4u);
}

TEST(SequenceHeadTest, AHeadRevealsADroppedLastVersionUntilItArrives) {
  Writer w;
  Receiver r;
  const std::vector<v1::Record> versions = w.IssueMany(3);
  const v1::Record head = w.Head();
  // The relay forwards #1, #2 and the head, and drops #3: nothing follows
  // it, so without the head the commune would never know.
  r.Receive({versions[0], versions[1]});
  EXPECT_FALSE(r.HasHole(3));
  r.Receive({head});
  EXPECT_TRUE(r.HasHole(3)) << "the head says 3 versions were written";
  EXPECT_FALSE(r.HasHole(2));
  // #3 arrives late: the hole closes, and it agrees with the head.
  r.Receive({versions[2]});
  EXPECT_FALSE(r.HasHole(3));
  EXPECT_FALSE(r.Fork(3).has_value());
  EXPECT_TRUE(r.store.quarantine().empty());
}

TEST(SequenceHeadTest, AHeadOfEverythingReceivedLeavesNoHole) {
  Writer w;
  Receiver r;
  std::vector<v1::Record> batch = w.IssueMany(3);
  batch.push_back(w.Head());
  const ApplyStats stats = r.Receive(batch);
  EXPECT_EQ(stats.applied, 4u);
  for (uint64_t p = 1; p <= 3; ++p) EXPECT_FALSE(r.HasHole(p));
  EXPECT_TRUE(r.store.quarantine().empty());
}

TEST(SequenceHeadTest, AForgedHeadIsRefusedAndOpensNoHole) {
  Writer w;
  Receiver r;
  const std::vector<v1::Record> versions = w.IssueMany(3);
  r.Receive(versions);
  // The relay inflates the length of a real head, keeping its signature.
  v1::Record forged = w.Head();
  v1::RecordBody body = BodyOf(forged);
  v1::SequenceHead head;
  ASSERT_TRUE(head.ParseFromString(body.payload()));
  head.set_length(10);
  body.set_payload(head.SerializeAsString());
  forged.set_body(body.SerializeAsString());
  const ApplyStats stats = r.Receive({forged});
  EXPECT_EQ(stats.quarantined, 1u);
  EXPECT_EQ(r.LastRefusal(), "BAD_SIGNATURE");
  for (uint64_t p = 4; p <= 10; ++p) EXPECT_FALSE(r.HasHole(p));
}

TEST(SequenceHeadTest, ANewerHeadClaimingFewerVersionsThanAnEarlierHeadIsARollback) {
  Writer w;
  Receiver r;
  std::vector<v1::Record> batch = w.IssueMany(5);
  batch.push_back(w.Head());
  r.Receive(batch);
  // The writer's store went back to a backup taken after #3, and it signs a
  // head of what it now holds.
  const ApplyStats stats = r.Receive({w.SignedHeadClaiming(3, BodyDigest(batch[2].body()))});
  EXPECT_EQ(stats.quarantined, 1u);
  EXPECT_EQ(r.LastRefusal(), "ROLLBACK");
  EXPECT_NE(r.store.quarantine().back().detail.find("says 3 version(s), after its earlier head said 5"),
            std::string::npos)
      << r.store.quarantine().back().detail;
}

TEST(SequenceHeadTest, AHeadSignedAfterAVersionButClaimingLessIsARollback) {
  Writer w;
  Receiver r;
  const std::vector<v1::Record> versions = w.IssueMany(5);
  r.Receive(versions);  // no head yet: the versions alone
  r.Receive({w.SignedHeadClaiming(2, BodyDigest(versions[1].body()))});
  EXPECT_EQ(r.LastRefusal(), "ROLLBACK");
}

TEST(SequenceHeadTest, AnOlderHeadReplayedByTheRelayIsNoRollback) {
  Writer w;
  Receiver r;
  const std::vector<v1::Record> first = w.IssueMany(2);
  const v1::Record old_head = w.Head();
  const std::vector<v1::Record> second = w.IssueMany(2);
  const v1::Record new_head = w.Head();
  r.Receive(first);
  r.Receive(second);
  r.Receive({new_head});
  // The relay sends the head of length 2 again, after the one of length 4:
  // it was true when signed, and it is older than what is held.
  const ApplyStats stats = r.Receive({old_head});
  EXPECT_EQ(stats.quarantined, 0u);
  EXPECT_EQ(stats.stale, 1u);
  v1::SequenceHead held;
  ASSERT_TRUE(held.ParseFromString(BodyOf(*r.store.Current(SequenceHeadId(kProvince, Subtree()))).payload()));
  EXPECT_EQ(held.length(), 4u);
  for (uint64_t p = 1; p <= 4; ++p) EXPECT_FALSE(r.HasHole(p));
}

TEST(SequenceHeadTest, AHeadNamingAnotherBodyThanTheVersionHeldIsAFork) {
  Writer w;
  Receiver r;
  const std::vector<v1::Record> versions = w.IssueMany(3);
  r.Receive(versions);
  // Signed by the writer's key, but #3 it names is not the #3 it sent here.
  const ApplyStats stats = r.Receive({w.SignedHeadClaiming(3, BodyDigest("another body"))});
  EXPECT_EQ(stats.quarantined, 1u);
  EXPECT_EQ(r.LastRefusal(), "FORK");
  EXPECT_NE(r.store.quarantine().back().detail.find("two versions claim that position"), std::string::npos);
}

TEST(SequenceHeadTest, TwoVersionsAtOnePositionInSeparateBatchesAreRecordedAsAFork) {
  Writer w;
  Receiver r;
  const std::vector<v1::Record> versions = w.IssueMany(3);
  r.Receive(versions);
  // A second body at #3, signed by the writer (a store restored from an older
  // backup reused the position), arriving in a later batch.
  const ApplyStats stats = r.Receive({w.ForkOf(versions[2], std::string(kProvince) + "/d/333")});
  EXPECT_EQ(stats.applied, 1u) << "the writer's own act: merged by the rules, not dropped";
  const std::optional<std::string> fork = r.Fork(3);
  ASSERT_TRUE(fork.has_value());
  EXPECT_NE(fork->find("two versions of vn/quang-ngai claim #3"), std::string::npos) << *fork;
}

TEST(SequenceHeadTest, AVersionLinkedToAnotherPredecessorThanTheOneHeldIsRecordedAsAFork) {
  Writer w;
  Receiver r;
  const std::vector<v1::Record> versions = w.IssueMany(4);
  r.Receive({versions[0], versions[1], versions[2]});
  v1::RecordBody next = BodyOf(versions[3]);
  next.set_audience_prev(BodyDigest("a #3 this commune never saw"));
  r.Receive({w.Signed(next)});
  EXPECT_TRUE(r.Fork(3).has_value());
}

TEST(SequenceHeadTest, AnHonestSequenceDeliveredOutOfOrderRecordsNoFork) {
  Writer w;
  Receiver r;
  std::vector<v1::Record> versions = w.IssueMany(6);
  const v1::Record head = w.Head();
  // The relay delivers in any order, one batch at a time.
  for (const size_t i : {5, 0, 3, 1, 4, 2}) r.Receive({versions[i]});
  r.Receive({head});
  for (uint64_t p = 1; p <= 6; ++p) {
    EXPECT_FALSE(r.HasHole(p)) << p;
    EXPECT_FALSE(r.Fork(p).has_value()) << p << ": " << r.Fork(p).value_or("");
  }
  EXPECT_TRUE(r.store.quarantine().empty());
}

TEST(SequenceHeadTest, AHeadMisnamingItsAudienceOrItsWriterIsRefusedAlone) {
  Writer w;
  w.Issue();
  v1::RecordBody body = BodyOf(w.Head());
  v1::RecordBody elsewhere = body;
  elsewhere.mutable_audience()->add_units(kCommune);  // the id names the whole subtree
  EXPECT_EQ(CheckHeadShape(elsewhere).reason_code, "ID_NOT_OWNED");
  v1::RecordBody empty = body;
  empty.set_payload(v1::SequenceHead().SerializeAsString());
  EXPECT_EQ(CheckHeadShape(empty).reason_code, "MALFORMED_PAYLOAD");
  v1::RecordBody local = body;
  local.mutable_audience()->set_direction(v1::Audience::LOCAL);
  local.set_id(SequenceHeadId(kProvince, local.audience()));
  EXPECT_EQ(CheckHeadShape(local).reason_code, "WRONG_DIRECTION");
}

TEST(SequenceHeadTest, AnAudienceKeyReadsBackAsItsAudience) {
  v1::Audience some;
  some.set_direction(v1::Audience::DOWN);
  some.set_root(kProvince);
  some.add_units("vn/quang-ngai/tinh-phong");
  some.add_units("vn/quang-ngai/binh-son");
  v1::Audience up;
  up.set_direction(v1::Audience::UP);
  up.set_root(kProvince);
  v1::Audience around;
  around.set_direction(v1::Audience::AROUND);
  around.set_root(kCommune);
  for (const v1::Audience& a : {some, up, around}) {
    const std::optional<v1::Audience> back = AudienceOfKey(AudienceKey(a), kCommune);
    ASSERT_TRUE(back.has_value()) << AudienceKey(a);
    EXPECT_EQ(AudienceKey(*back), AudienceKey(a));
    EXPECT_EQ(back->direction(), a.direction()) << AudienceKey(a);
  }
  EXPECT_FALSE(AudienceOfKey("sideways:vn", kCommune).has_value());
  EXPECT_FALSE(AudienceOfKey("down:vn,,x", kCommune).has_value());
}

}  // namespace
}  // namespace steersync::sync
