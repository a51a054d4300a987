#include "sync/routing.h"

#include "sync/node_path.h"
#include "tests/testutil/fixtures.h"

namespace steersync::sync {
namespace {

v1::RecordBody Down(const std::string& root, std::vector<std::string> units = {}) {
  v1::RecordBody b;
  b.mutable_audience()->set_direction(v1::Audience::DOWN);
  b.mutable_audience()->set_root(root);
  for (auto& u : units) b.mutable_audience()->add_units(u);
  return b;
}

v1::RecordBody Up(const std::string& root) {
  v1::RecordBody b;
  b.mutable_audience()->set_direction(v1::Audience::UP);
  b.mutable_audience()->set_root(root);
  return b;
}

v1::RecordBody Around(const std::string& root) {
  v1::RecordBody b;
  b.mutable_audience()->set_direction(v1::Audience::AROUND);
  b.mutable_audience()->set_root(root);
  return b;
}

// Rosters (DOMAIN-MODEL.md §1.3): a unit's roster reaches every node that may
// judge its acts: its subtree and every unit above it, never a sibling.
TEST(RoutingTest, RosterGoesAroundItsOwner) {
  auto province = Around("vn/quang-ngai");
  EXPECT_TRUE(AddressedTo(province, "vn/quang-ngai", "vn/quang-ngai/tinh-phong"));
  EXPECT_TRUE(AddressedTo(province, "vn/quang-ngai", "vn"));
  EXPECT_FALSE(AddressedTo(province, "vn", "vn/da-nang"));
  auto commune = Around("vn/quang-ngai/tinh-phong");
  EXPECT_TRUE(AddressedTo(commune, "vn/quang-ngai/tinh-phong", "vn/quang-ngai"));
  EXPECT_TRUE(AddressedTo(commune, "vn/quang-ngai", "vn"));  // relayed up to the national level
  EXPECT_FALSE(AddressedTo(commune, "vn/quang-ngai", "vn/quang-ngai/binh-son"));
  EXPECT_FALSE(AddressedTo(commune, "vn", "vn/quang-ngai"));  // never back down towards its writer
}

TEST(NodePathTest, AncestryIsBySegmentNotByPrefix) {
  EXPECT_TRUE(IsSelfOrAncestor("vn/quang-ngai", "vn/quang-ngai/tinh-phong"));
  EXPECT_TRUE(IsSelfOrAncestor("vn", "vn"));
  EXPECT_FALSE(IsSelfOrAncestor("vn/quang", "vn/quang-ngai"));
  EXPECT_EQ(ParentOf("vn/quang-ngai/tinh-phong"), "vn/quang-ngai");
  EXPECT_EQ(ParentOf("vn"), "");
  EXPECT_EQ(DepthOf("vn/quang-ngai/tinh-phong"), 2);
  EXPECT_FALSE(IsValidNodeId("vn//x"));
  EXPECT_FALSE(IsValidNodeId("VN"));
  EXPECT_TRUE(IsValidNodeId("vn/quang-ngai/ly-son"));
}

// Directives flow to the issuer's subtree (DESIGN.md "Audience").
TEST(RoutingTest, DirectiveToAllGoesToEveryChild) {
  auto d = Down("vn/quang-ngai");
  EXPECT_TRUE(AddressedTo(d, "vn/quang-ngai", "vn/quang-ngai/tinh-phong"));
  EXPECT_FALSE(AddressedTo(d, "vn/quang-ngai", "vn"));  // never up
}

TEST(RoutingTest, DirectiveToListedUnitsSkipsOthers) {
  auto d = Down("vn/quang-ngai", {"vn/quang-ngai/ly-son"});
  EXPECT_TRUE(AddressedTo(d, "vn/quang-ngai", "vn/quang-ngai/ly-son"));
  EXPECT_FALSE(AddressedTo(d, "vn/quang-ngai", "vn/quang-ngai/tinh-phong"));
}

TEST(RoutingTest, NationalDirectiveIsRelayedByTheProvinceOnThePathOnly) {
  auto d = Down("vn", {"vn/quang-ngai/ly-son"});
  EXPECT_TRUE(AddressedTo(d, "vn", "vn/quang-ngai"));
  EXPECT_FALSE(AddressedTo(d, "vn", "vn/da-nang"));
  EXPECT_TRUE(AddressedTo(d, "vn/quang-ngai", "vn/quang-ngai/ly-son"));
}

TEST(RoutingTest, ReportGoesUpUntilItsRoot) {
  auto r = Up("vn/quang-ngai");
  EXPECT_TRUE(AddressedTo(r, "vn/quang-ngai/tinh-phong", "vn/quang-ngai"));
  EXPECT_FALSE(AddressedTo(r, "vn/quang-ngai", "vn"));  // the province keeps it
  EXPECT_FALSE(AddressedTo(r, "vn/quang-ngai/tinh-phong", "vn/quang-ngai/binh-son"));
}

}  // namespace
}  // namespace steersync::sync
