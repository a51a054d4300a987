// Conflict resolution between two versions of one record (DESIGN.md rules
// R1..R5; DOMAIN-MODEL.md §6). Rosters and E1..E8 come with the hierarchy
// issue; these tests pin the order of the rules themselves.
#include "sync/merge.h"

#include "sync/version_vector.h"
#include "tests/testutil/fixtures.h"

namespace steersync::sync {
namespace {

using Outcome = MergeDecision::Outcome;

struct V {
  std::string writer = "vn/quang-ngai";
  uint64_t counter = 1;
  uint32_t depth = 1;
  uint32_t rank = 60;
  bool acting = false;
  std::string date = "2026-11-25";
  uint64_t wall = 100;
  std::vector<std::string> supersedes;
  // Extra vector entries. Two versions are concurrent when each has seen
  // something the other has not.
  std::vector<std::pair<std::string, uint64_t>> seen;
};

std::pair<v1::RecordBody, std::string> Make(const V& v) {
  v1::RecordBody b;
  b.set_id("vn/quang-ngai/d/1");
  auto* ver = b.mutable_version();
  ver->set_writer(v.writer);
  ver->mutable_hlc()->set_wall_micros(v.wall);
  ver->set_legal_date(v.date);
  ver->mutable_authority()->set_unit_depth(v.depth);
  ver->mutable_authority()->set_role_rank(v.rank);
  ver->mutable_authority()->set_acting_for_head(v.acting);
  SetCounter(*ver->mutable_vector(), v.writer, v.counter);
  for (auto& [n, c] : v.seen) SetCounter(*ver->mutable_vector(), n, c);
  for (auto& s : v.supersedes) ver->add_supersedes(s);
  return {b, b.SerializeAsString()};
}

MergeDecision DecideBoth(const V& existing, const V& incoming) {
  auto [e, eb] = Make(existing);
  auto [i, ib] = Make(incoming);
  return Decide(e, eb, i, ib);
}

// The same pair decided from both sides must pick the same winner.
void ExpectSymmetric(const V& a, const V& b, Rule rule) {
  MergeDecision ab = DecideBoth(a, b);
  MergeDecision ba = DecideBoth(b, a);
  EXPECT_EQ(ab.rule, rule);
  EXPECT_EQ(ba.rule, rule);
  EXPECT_NE(ab.outcome == Outcome::kIncomingWins, ba.outcome == Outcome::kIncomingWins)
      << "both orders must agree on one winner";
}

TEST(MergeTest, IdenticalBytesAreADuplicate) {
  V v;
  EXPECT_EQ(DecideBoth(v, v).outcome, Outcome::kDuplicate);
}

TEST(MergeTest, CausallyNewerVersionReplacesWithoutConflict) {
  V old_v;
  V new_v;
  new_v.counter = 2;
  EXPECT_EQ(DecideBoth(old_v, new_v).outcome, Outcome::kIncomingWins);
  EXPECT_EQ(DecideBoth(old_v, new_v).rule, Rule::kCausal);
  EXPECT_EQ(DecideBoth(new_v, old_v).outcome, Outcome::kExistingWins);
}

// R1 — the higher unit beats the lower (P 2.1, C 2.1: the province directs).
TEST(MergeTest, R1HigherUnitWinsEvenAgainstHigherRank) {
  V province{.writer = "vn/quang-ngai", .depth = 1, .rank = 10};
  V commune{.writer = "vn/quang-ngai/tinh-phong", .depth = 2, .rank = 100};
  ExpectSymmetric(province, commune, Rule::kR1Level);
  EXPECT_EQ(DecideBoth(commune, province).outcome, Outcome::kIncomingWins);
}

// R2 — Head beats Deputy beats Member (P 3, P 5, P 7).
TEST(MergeTest, R2HigherRoleRankWinsAtEqualLevel) {
  V head{.writer = "vn/quang-ngai", .rank = 100, .seen = {{"y", 1}}};
  V deputy{.writer = "vn/quang-ngai", .counter = 1, .rank = 80, .seen = {{"x", 1}}};
  ExpectSymmetric(head, deputy, Rule::kR2Rank);
  EXPECT_EQ(DecideBoth(deputy, head).outcome, Outcome::kIncomingWins);
}

// R3 — at equal rank the Deputy acting for an absent Head wins (P 4.2, C 4.1).
TEST(MergeTest, R3ActingForHeadWinsAtEqualRank) {
  V acting{.writer = "vn/quang-ngai", .rank = 80, .acting = true, .seen = {{"y", 1}}};
  V plain{.writer = "vn/quang-ngai", .rank = 80, .seen = {{"x", 1}}};
  ExpectSymmetric(acting, plain, Rule::kR3Acting);
  EXPECT_EQ(DecideBoth(plain, acting).outcome, Outcome::kIncomingWins);
}

// R4 — an explicit replacement beats what it replaces (D30 Art. 18.3).
TEST(MergeTest, R4ExplicitSupersessionWins) {
  V original{.writer = "vn/quang-ngai", .wall = 500, .seen = {{"y", 1}}};
  V replacement{.writer = "vn/quang-ngai", .wall = 100, .seen = {{"x", 1}}};
  replacement.supersedes = {"vn/quang-ngai@500.0"};
  ExpectSymmetric(original, replacement, Rule::kR4Supersession);
  EXPECT_EQ(DecideBoth(original, replacement).outcome, Outcome::kIncomingWins);
}

// R5 — later legal date, then higher HLC, then smaller writer id.
TEST(MergeTest, R5TieBreakIsDeterministic) {
  V earlier{.writer = "vn/quang-ngai", .date = "2026-11-24", .wall = 900, .seen = {{"y", 1}}};
  V later{.writer = "vn/quang-ngai", .date = "2026-11-25", .wall = 100, .seen = {{"x", 1}}};
  ExpectSymmetric(earlier, later, Rule::kR5TieBreak);
  EXPECT_EQ(DecideBoth(earlier, later).outcome, Outcome::kIncomingWins);

  V a{.writer = "vn/quang-ngai/a", .depth = 2, .wall = 100};
  V b{.writer = "vn/quang-ngai/b", .depth = 2, .wall = 100};
  ExpectSymmetric(a, b, Rule::kR5TieBreak);
  EXPECT_EQ(DecideBoth(b, a).outcome, Outcome::kIncomingWins);  // smaller writer id
}

}  // namespace
}  // namespace steersync::sync
