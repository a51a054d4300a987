// Signed heads on real nodes (issue 13 item 1; docs/security.md "Signed
// heads"): once a province's directives rest, it signs a head of that
// sequence, which reaches every commune of the audience with the sequence
// itself; the commune finds what it received complete, and the head stays
// one entry in the change log however often it is re-signed. Real nodes
// over mTLS and LMDB; the publisher looks every second.
#include <string>

#include "node/node.h"
#include "sync/meta_keys.h"
#include "sync/sequence_head.h"
#include "sync/signed_log.h"
#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::IsOk;
using steersync::testing::TempDir;
using steersync::testing::WaitUntil;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kTinhPhong[] = "vn/quang-ngai/tinh-phong";

class SignedHeadsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Node> Start(const std::string& id, const std::string& parent) {
    auto n = steersync::testing::InProcessNodeOptions(dir_, id, parent);
    n.options.head_interval_seconds = 1;
    n.runtime.publish_heads = true;
    return steersync::testing::StartInProcessNode(std::move(n));
  }
  absl::StatusOr<std::string> Issue(int n) {
    v1::IssueDirectiveRequest r;
    r.set_title("Công văn " + std::to_string(n));
    r.set_doc_type("CV");
    return province_->IssueDirective(r);
  }
  // The length the head held by `node` of the province's sequence to its
  // whole subtree says; 0 when it holds none.
  static uint64_t HeadLength(const Node& node) {
    v1::Audience subtree;
    subtree.set_direction(v1::Audience::DOWN);
    subtree.set_root(kProvince);
    auto held = node.store().GetRecord(sync::SequenceHeadId(kProvince, subtree));
    v1::RecordBody body;
    v1::SequenceHead head;
    if (!held.ok() || !held->has_value() || !body.ParseFromString((*held)->body()) ||
        !head.ParseFromString(body.payload())) {
      return 0;
    }
    return head.length();
  }

  TempDir dir_;
  std::unique_ptr<Node> province_, commune_;
};

TEST_F(SignedHeadsTest, AProvincesHeadReachesTheCommuneOnceItsDirectivesRest) {
  province_ = Start(kProvince, "");
  commune_ = Start(kTinhPhong, "127.0.0.1:" + std::to_string(province_->sync_port()));
  for (int n = 1; n <= 3; ++n) ASSERT_THAT(Issue(n), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return HeadLength(*commune_) == 3; })) << "head held: " << HeadLength(*commune_);
  // The head agrees with what arrived: no hole, no fork.
  const v1::StatusReply status = commune_->GetStatus();
  for (const std::string& w : status.warnings()) {
    EXPECT_EQ(w.find("never arrived"), std::string::npos) << w;
    EXPECT_EQ(w.find("fork"), std::string::npos) << w;
  }
  const auto quarantined = commune_->store().QuarantineByPeer();
  ASSERT_THAT(quarantined, IsOk());
  EXPECT_TRUE(quarantined->empty());
  // Two more directives: a new head replaces the last in the change log.
  const uint64_t head_seq_before = province_->store().HeadSeq();
  for (int n = 4; n <= 5; ++n) ASSERT_THAT(Issue(n), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return HeadLength(*commune_) == 5; }));
  absl::StatusOr<std::vector<sync::LogEntry>> log = province_->store().ReadLog(0, 1'000, 1 << 20);
  ASSERT_THAT(log, IsOk());
  int heads = 0;
  for (const sync::LogEntry& e : *log) {
    v1::RecordBody body;
    heads += body.ParseFromString(e.record.body()) && body.kind() == v1::SEQUENCE_HEAD &&
             body.audience().root() == kProvince && body.audience().units_size() == 0 &&
             body.audience().direction() == v1::Audience::DOWN;
  }
  EXPECT_EQ(heads, 1) << "each head forgets the last one's log entry";
  EXPECT_GT(province_->store().HeadSeq(), head_seq_before);
}

}  // namespace
}  // namespace steersync::node
