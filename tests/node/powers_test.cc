// The regulations' powers as written, end to end with real Nodes, mTLS links
// and LMDB (DOMAIN-MODEL.md §3.4, §4; issue 9): a lower rank never recalls or
// replaces a higher rank's document, the Standing Agency issues notices and
// invitations and recalls its own, roles exist only at their level, and a
// forged relation arriving on a live link is quarantined naming the rule.
#include <string>

#include "node/node.h"
#include "sync/apply.h"
#include "sync/node_path.h"
#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::IsOk;
using steersync::testing::NodeCert;
using steersync::testing::NodeKey;
using steersync::testing::StatusIs;
using steersync::testing::TempDir;
using steersync::testing::WaitUntil;

constexpr char kNation[] = "vn";
constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/binh-son";

class PowersTest : public ::testing::Test {
 protected:
  std::unique_ptr<Node> StartNode(const std::string& id, const std::string& parent_address) {
    return steersync::testing::StartInProcessNode(dir_, id, parent_address);
  }

  static std::string AddMember(Node& node, const std::string& person, const std::string& role,
                               absl::StatusCode expect = absl::StatusCode::kOk) {
    const v1::AddMemberRequest r = steersync::testing::MemberSince2026(person, role);
    auto w = node.AddMember(r);
    EXPECT_EQ(w.status().code(), expect) << w.status();
    return w.ok() ? w->id() : "";
  }

  static absl::StatusOr<std::string> Issue(Node& node, const std::string& role, const std::string& type,
                                           const std::string& relation = "") {
    v1::IssueDirectiveRequest r;
    r.set_title(type + " by " + role);
    r.set_doc_type(type);
    r.mutable_act()->set_role(role);
    if (!relation.empty()) {  // "KIND:<id>"
      v1::DocumentRelation* rel = r.add_relations();
      v1::DocumentRelation::Kind kind = v1::DocumentRelation::KIND_UNSPECIFIED;
      EXPECT_TRUE(v1::DocumentRelation::Kind_Parse(relation.substr(0, relation.find(':')), &kind));
      rel->set_kind(kind);
      rel->set_target(relation.substr(relation.find(':') + 1));
    }
    return node.IssueDirective(r);
  }

  static std::string StatusOf(const Node& node, const std::string& id) {
    auto listed = node.ListDirectives();
    if (!listed.ok()) return "";
    for (const auto& d : listed->directives()) {
      if (d.id() == id) return d.status();
    }
    return "";
  }

  static void ExpectRefused(const absl::StatusOr<std::string>& result, const std::string& code) {
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_NE(result.status().message().find(code), std::string::npos) << result.status();
  }

  TempDir dir_;
};

// P 2.1, P 3.1, DOMAIN-MODEL §3.4: the Standing Agency (rank 70) may issue an
// invitation, but not one that recalls or replaces the Head's directive; the
// Head's directive stays EFFECTIVE at the province and at the commune.
TEST_F(PowersTest, StandingAgencyCannotRecallOrReplaceTheHeadsDirective) {
  auto province = StartNode(kProvince, "");
  auto commune = StartNode(kCommune, "127.0.0.1:" + std::to_string(province->sync_port()));
  AddMember(*province, "head", "HEAD");
  AddMember(*province, "so-khcn", "STANDING_AGENCY");
  auto directive = Issue(*province, "HEAD", "CT");
  ASSERT_THAT(directive, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*commune, *directive) == "EFFECTIVE"; }));

  ExpectRefused(Issue(*province, "STANDING_AGENCY", "GM", "RECALLS:" + *directive), "RELATION_DENIED");
  ExpectRefused(Issue(*province, "STANDING_AGENCY", "GM", "REPLACES:" + *directive), "RELATION_DENIED");
  v1::RecallDirectiveRequest recall;
  recall.set_directive_id(*directive);
  recall.mutable_act()->set_role("STANDING_AGENCY");
  auto recalled = province->RecallDirective(recall);
  EXPECT_FALSE(recalled.ok());
  EXPECT_NE(recalled.status().message().find("POWER_DENIED"), std::string::npos) << recalled.status();

  // A later act of the Head's reaches the commune: everything before it did.
  ASSERT_THAT(Issue(*province, "HEAD", "KH"), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return commune->ListDirectives()->directives_size() == 2; }));
  EXPECT_EQ(StatusOf(*province, *directive), "EFFECTIVE");
  EXPECT_EQ(StatusOf(*commune, *directive), "EFFECTIVE");
  EXPECT_EQ(commune->ListQuarantine()->entries_size(), 0);
}

// P 6.4, S14: the Standing Agency issues notices (TB) and invitations (GM) in
// its own name and recalls its own invitation (D30 Art. 18.4); it issues no
// directive (CT), which is the Head's (P 3.1).
TEST_F(PowersTest, StandingAgencyIssuesNoticesAndRecallsItsOwnInvitation) {
  auto province = StartNode(kProvince, "");
  auto commune = StartNode(kCommune, "127.0.0.1:" + std::to_string(province->sync_port()));
  AddMember(*province, "head", "HEAD");
  AddMember(*province, "so-khcn", "STANDING_AGENCY");
  EXPECT_THAT(Issue(*province, "STANDING_AGENCY", "TB"), IsOk());
  auto invitation = Issue(*province, "STANDING_AGENCY", "GM");
  ASSERT_THAT(invitation, IsOk());
  auto ct = Issue(*province, "STANDING_AGENCY", "CT");
  EXPECT_THAT(ct, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_NE(ct.status().message().find("POWER_DENIED"), std::string::npos) << ct.status();

  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*commune, *invitation) == "EFFECTIVE"; }));
  v1::RecallDirectiveRequest recall;
  recall.set_directive_id(*invitation);
  recall.mutable_act()->set_role("STANDING_AGENCY");
  ASSERT_THAT(province->RecallDirective(recall), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*commune, *invitation) == "RECALLED"; }));
  // The Head recalls what the Standing Agency issued: the higher rank may.
  auto notice = Issue(*province, "STANDING_AGENCY", "TB");
  ASSERT_THAT(notice, IsOk());
  EXPECT_THAT(Issue(*province, "HEAD", "TB", "REPLACES:" + *notice), IsOk());
  EXPECT_EQ(StatusOf(*province, *notice), "SUPERSEDED");
  EXPECT_EQ(commune->ListQuarantine()->entries_size(), 0);
}

// C 4.4, S14: at a commune the Deputy Head issues notices and invitations;
// DOMAIN-MODEL §1.6: a commune committee has no Standing Agency, Standing
// Deputy or Secretary.
TEST_F(PowersTest, CommuneDeputyIssuesNoticesAndRolesExistOnlyAtTheirLevel) {
  auto commune = StartNode(kCommune, "");
  AddMember(*commune, "head", "HEAD");
  AddMember(*commune, "deputy", "DEPUTY_HEAD");
  EXPECT_THAT(Issue(*commune, "DEPUTY_HEAD", "TB"), IsOk());
  EXPECT_THAT(Issue(*commune, "DEPUTY_HEAD", "GM"), IsOk());
  EXPECT_THAT(Issue(*commune, "DEPUTY_HEAD", "KH"), StatusIs(absl::StatusCode::kPermissionDenied));
  AddMember(*commune, "agency", "STANDING_AGENCY", absl::StatusCode::kFailedPrecondition);
  AddMember(*commune, "secretary", "SECRETARY", absl::StatusCode::kFailedPrecondition);
}

// Hostile input (issue 9): a node that skips its own admission writes a
// Standing Agency invitation recalling the Head's directive. Its signature
// is good and its capacity real; the child that receives it on a live link
// quarantines it as RELATION_DENIED and the Head's directive stays in force.
TEST_F(PowersTest, ForgedRelationFromAboveIsQuarantinedOnALiveLink) {
  auto nation = StartNode(kNation, "");
  auto province = StartNode(kProvince, "127.0.0.1:" + std::to_string(nation->sync_port()));
  AddMember(*nation, "head", "HEAD");
  const std::string agency = AddMember(*nation, "agency", "STANDING_AGENCY");
  auto directive = Issue(*nation, "HEAD", "CT");
  ASSERT_THAT(directive, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*province, *directive) == "EFFECTIVE"; }));
  auto invitation = Issue(*nation, "STANDING_AGENCY", "GM");
  ASSERT_THAT(invitation, IsOk());

  // The forgery: the honest invitation's body, re-signed with a relation and
  // a new id, written straight into the national store (no admission).
  auto held = nation->store().GetRecord(*invitation);
  ASSERT_THAT(held, IsOk());
  v1::RecordBody body;
  ASSERT_TRUE(body.ParseFromString((*held)->body()));
  v1::Directive d;
  ASSERT_TRUE(d.ParseFromString(body.payload()));
  v1::DocumentRelation* rel = d.add_relations();
  rel->set_kind(v1::DocumentRelation::RECALLS);
  rel->set_target(*directive);
  body.set_payload(d.SerializeAsString());
  body.set_id(std::string(kNation) + "/d/9999");
  body.set_audience_seq(0);
  auto signer = Signer::Load(NodeCert(kNation), NodeKey(kNation));
  ASSERT_THAT(signer, IsOk());
  v1::Record forged;
  forged.set_body(body.SerializeAsString());
  ASSERT_THAT((*signer)->Sign(forged), IsOk());
  ASSERT_THAT(nation->Write([&](LmdbStore::View& view) {
    return sync::ApplyRecords(
               view, "", {forged}, 0,
               [](std::string_view, const v1::RecordBody&, const v1::Record&) { return sync::Admission{}; }, 0)
        .status();
  }),
              IsOk());
  // Any honest act wakes the link, which sends the log with the forgery in it.
  ASSERT_THAT(Issue(*nation, "HEAD", "KH"), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return province->ListQuarantine()->entries_size() == 1; }));
  const auto q = province->ListQuarantine()->entries(0);
  EXPECT_EQ(q.record_id(), body.id());
  EXPECT_EQ(q.reason_code(), "RELATION_DENIED");
  EXPECT_NE(q.detail().find("§3.4"), std::string::npos) << q.detail();
  EXPECT_EQ(StatusOf(*province, *directive), "EFFECTIVE");
  (void)agency;
}

}  // namespace
}  // namespace steersync::node
