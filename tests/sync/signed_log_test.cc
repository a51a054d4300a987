// Signed logs (issue 13 item 1; docs/security.md "Signed logs"): a writer's
// versions for one audience are hash-linked, so a receiver verifies one
// signature per run of linked versions, and a relay that drops, reorders,
// duplicates, alters or forks versions costs at most extra checks, never a
// forged version admitted.
#include "sync/signed_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>

#include "sync/replica.h"
#include "tests/testutil/replica_harness.h"

namespace steersync::sync {
namespace {

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/tinh-phong";

struct Writer : testing::ReplicaHarness {
  Writer() : ReplicaHarness(kProvince) {}

  // Directive `n` to `audience_unit` ("" for the whole subtree).
  v1::Record Issue(int n, const std::string& audience_unit = "") {
    return Write([&](WriteView&, v1::RecordBody& body) {
      body.set_id(std::string(kProvince) + "/d/" + std::to_string(n));
      body.set_kind(v1::DIRECTIVE);
      body.mutable_audience()->set_direction(v1::Audience::DOWN);
      body.mutable_audience()->set_root(kProvince);
      if (!audience_unit.empty()) body.mutable_audience()->add_units(audience_unit);
      return absl::OkStatus();
    });
  }
  std::vector<v1::Record> IssueMany(int count, const std::string& audience_unit = "") {
    std::vector<v1::Record> out;
    for (int i = 1; i <= count; ++i) out.push_back(Issue(next_n++, audience_unit));
    return out;
  }

  int next_n = 1;
};

struct Receiver : testing::ReplicaHarness {
  Receiver() : ReplicaHarness(kCommune) {}
  // CheckAlone's verdicts; `signatures.checked` counts the signature checks it made.
  AloneVerdicts Check(const std::vector<v1::Record>& batch) {
    signatures.checked = 0;
    return replica.CheckAlone(kProvince, batch);
  }
  static size_t Admitted(const AloneVerdicts& v) {
    return static_cast<size_t>(std::count_if(v.begin(), v.end(), [](const Admission& a) { return a.admitted; }));
  }
};

v1::RecordBody BodyOf(const v1::Record& r) {
  v1::RecordBody b;
  EXPECT_TRUE(b.ParseFromString(r.body()));
  return b;
}

TEST(SignedLogTest, EachVersionCommitsToThePreviousOneOfItsAudience) {
  Writer w;
  std::vector<v1::Record> all = w.IssueMany(3);
  const v1::Record other = w.Issue(100, kCommune);  // another audience: its own sequence
  EXPECT_TRUE(BodyOf(all[0]).audience_prev().empty()) << "position 1 links to nothing";
  EXPECT_EQ(BodyOf(all[1]).audience_prev(), BodyDigest(all[0].body()));
  EXPECT_EQ(BodyOf(all[2]).audience_prev(), BodyDigest(all[1].body()));
  EXPECT_EQ(BodyOf(other).audience_seq(), 1u);
  EXPECT_TRUE(BodyOf(other).audience_prev().empty());
  const v1::Record fourth = w.Issue(4);
  EXPECT_EQ(BodyOf(fourth).audience_prev(), BodyDigest(all[2].body())) << "the other audience did not break it";
}

TEST(SignedLogTest, ABatchOfOneRunCostsOneSignatureCheck) {
  Writer w;
  Receiver r;
  const std::vector<v1::Record> batch = w.IssueMany(500);
  const AloneVerdicts v = r.Check(batch);
  EXPECT_EQ(Receiver::Admitted(v), batch.size());
  EXPECT_EQ(r.signatures.checked, 1) << "only the newest version's signature";
}

TEST(SignedLogTest, RunsOfSeveralAudiencesCostOneCheckEach) {
  Writer w;
  Receiver r;
  std::vector<v1::Record> batch = w.IssueMany(50);
  for (v1::Record& rec : w.IssueMany(50, kCommune)) batch.push_back(std::move(rec));
  std::shuffle(batch.begin(), batch.end(), std::mt19937(7));  // a relay that reorders
  const AloneVerdicts v = r.Check(batch);
  EXPECT_EQ(Receiver::Admitted(v), batch.size());
  EXPECT_EQ(r.signatures.checked, 2);
}

TEST(SignedLogTest, ADroppedVersionSplitsTheRunAndBothPartsStillVerify) {
  Writer w;
  Receiver r;
  std::vector<v1::Record> batch = w.IssueMany(10);
  batch.erase(batch.begin() + 4);  // a relay drops position 5
  const AloneVerdicts v = r.Check(batch);
  EXPECT_EQ(Receiver::Admitted(v), batch.size());
  EXPECT_EQ(r.signatures.checked, 2) << "positions 1-4 by the 4th, 6-10 by the 10th";
}

TEST(SignedLogTest, ADuplicatedVersionChangesNothing) {
  Writer w;
  Receiver r;
  std::vector<v1::Record> batch = w.IssueMany(10);
  batch.insert(batch.begin() + 3, batch[3]);
  const AloneVerdicts v = r.Check(batch);
  EXPECT_EQ(Receiver::Admitted(v), batch.size());
  EXPECT_LE(r.signatures.checked, 2);
}

TEST(SignedLogTest, AnAlteredVersionInsideARunIsRefusedAndTheRestAdmitted) {
  Writer w;
  Receiver r;
  std::vector<v1::Record> batch = w.IssueMany(10);
  v1::RecordBody altered = BodyOf(batch[4]);
  altered.set_payload("sửa trái phép");  // a relay rewrites position 5, keeps its signature
  batch[4].set_body(altered.SerializeAsString());
  const AloneVerdicts v = r.Check(batch);
  EXPECT_FALSE(v[4].admitted);
  EXPECT_EQ(v[4].reason_code, "BAD_SIGNATURE");
  EXPECT_EQ(Receiver::Admitted(v), batch.size() - 1);
}

TEST(SignedLogTest, AForgedNewestVersionCoversNothing) {
  Writer w;
  Receiver r;
  std::vector<v1::Record> batch = w.IssueMany(5);
  // The relay appends a position 6 that links to the real 5 but is not
  // signed by the writer: it must not vouch for 1-5, nor pass itself.
  v1::RecordBody forged = BodyOf(batch[4]);
  forged.set_id(std::string(kProvince) + "/d/666");
  forged.set_audience_seq(6);
  forged.set_audience_prev(BodyDigest(batch[4].body()));
  v1::Record forged_record;
  forged_record.set_body(forged.SerializeAsString());
  forged_record.set_signature("forged");
  batch.push_back(forged_record);
  const AloneVerdicts v = r.Check(batch);
  EXPECT_FALSE(v[5].admitted);
  EXPECT_EQ(Receiver::Admitted(v), 5u);
  EXPECT_EQ(r.signatures.checked, 2) << "the forgery, then the real 5th for the run below it";
}

TEST(SignedLogTest, TwoVersionsClaimingOnePositionLinkToNothingAndAreEachCheckedAlone) {
  Writer w;
  Receiver r;
  std::vector<v1::Record> batch = w.IssueMany(4);
  // A fork: a second body at position 3, properly signed (a restored writer
  // reusing a position, or a stolen key).
  v1::RecordBody fork = BodyOf(batch[2]);
  fork.set_id(std::string(kProvince) + "/d/333");
  v1::Record fork_record;
  fork_record.set_body(fork.SerializeAsString());
  ASSERT_TRUE(w.signatures.Sign(fork_record).ok());
  batch.push_back(fork_record);
  std::vector<bool> parsed(batch.size(), true);
  std::vector<v1::RecordBody> bodies;
  for (const auto& rec : batch) bodies.push_back(BodyOf(rec));
  const BatchLinks links = LinkBatch(batch, bodies, parsed);
  EXPECT_EQ(links.forks, 1u);
  EXPECT_EQ(links.successor[2], -1);
  EXPECT_EQ(links.successor[4], -1);
  EXPECT_EQ(links.successor[1], -1) << "position 2 is not covered through a forked position";
  const AloneVerdicts v = r.Check(batch);
  EXPECT_EQ(Receiver::Admitted(v), batch.size()) << "both are the writer's: merged by the rules, not dropped";
  EXPECT_EQ(r.signatures.checked, 4);
}

}  // namespace
}  // namespace steersync::sync
