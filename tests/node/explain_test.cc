// steerctl conflicts / why: the explanation of a resolved conflict
// (DESIGN.md rule R1; P 2.1: the province directs its communes).
#include "node/explain.h"

#include "sync/apply.h"
#include "sync/version_vector.h"
#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::IsOk;
using steersync::testing::StatusIs;
using steersync::testing::TempDir;

v1::Record Version(const std::string& writer, uint32_t depth, uint32_t rank, uint64_t wall) {
  v1::RecordBody b;
  b.set_id("vn/quang-ngai/shared/1");
  b.set_kind(v1::DIRECTIVE);
  b.mutable_version()->set_writer(writer);
  b.mutable_version()->mutable_hlc()->set_wall_micros(wall);
  b.mutable_version()->set_legal_date("2026-11-25");
  b.mutable_version()->mutable_authority()->set_unit_depth(depth);
  b.mutable_version()->mutable_authority()->set_role_rank(rank);
  b.mutable_version()->mutable_authority()->set_capacity(rank == 100 ? "HEAD" : "MEMBER");
  sync::SetCounter(*b.mutable_version()->mutable_vector(), writer, 1);
  v1::Record r;
  r.set_body(b.SerializeAsString());
  return r;
}

TEST(ExplainTest, WhyShowsTheWinnerAndTheRuleThatDecided) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  // The commune's Head edits concurrently with a province Member: the
  // province still wins (R1 before R2).
  const v1::Record commune = Version("vn/quang-ngai/tinh-phong", 2, 100, 200);
  const v1::Record province = Version("vn/quang-ngai", 1, 60, 100);
  ASSERT_THAT((*store)->Write([&](LmdbStore::View& view) -> absl::Status {
    return sync::ApplyRecords(view, "", {commune, province}, 0,
                              [](auto, auto&, auto&) { return sync::Admission{}; }, 0)
        .status();
  }), IsOk());

  auto why = ExplainRecord(**store, "vn/quang-ngai/shared/1");
  ASSERT_THAT(why, IsOk());
  ASSERT_EQ(why->versions_size(), 2);
  EXPECT_EQ(why->versions(0).writer(), "vn/quang-ngai");
  EXPECT_EQ(why->versions(0).outcome(), "winner");
  EXPECT_EQ(why->versions(1).writer(), "vn/quang-ngai/tinh-phong");
  EXPECT_EQ(why->versions(1).outcome(), "R1");
  EXPECT_THAT(why->versions(1).explanation(), ::testing::HasSubstr("R1: the higher unit"));

  auto conflicts = ListConflicts(**store);
  ASSERT_THAT(conflicts, IsOk());
  ASSERT_EQ(conflicts->conflicts_size(), 1);
  EXPECT_EQ(conflicts->conflicts(0).winner().writer(), "vn/quang-ngai");
  EXPECT_EQ(conflicts->conflicts(0).loser().outcome(), "R1");
}

TEST(ExplainTest, WhyOnAnUnknownRecordIsNotFound) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  EXPECT_THAT(ExplainRecord(**store, "vn/nowhere/d/1"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace steersync::node
