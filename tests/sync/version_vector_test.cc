#include "sync/version_vector.h"

#include "tests/testutil/fixtures.h"

namespace steersync::sync {
namespace {

Vector Make(std::initializer_list<std::pair<const char*, uint64_t>> entries) {
  Vector v;
  for (auto [node, counter] : entries) SetCounter(v, node, counter);
  return v;
}

TEST(VersionVectorTest, ComparesCausality) {
  EXPECT_EQ(CompareVectors(Make({{"a", 1}}), Make({{"a", 1}})), Causality::kEqual);
  EXPECT_EQ(CompareVectors(Make({{"a", 1}}), Make({{"a", 2}})), Causality::kBefore);
  EXPECT_EQ(CompareVectors(Make({{"a", 2}, {"b", 1}}), Make({{"a", 2}})), Causality::kAfter);
  EXPECT_EQ(CompareVectors(Make({{"a", 2}}), Make({{"a", 1}, {"b", 1}})), Causality::kConcurrent);
  EXPECT_EQ(CompareVectors(Make({}), Make({{"b", 1}})), Causality::kBefore);
}

TEST(VersionVectorTest, SetCounterKeepsEntriesSortedAndUnique) {
  Vector v = Make({{"vn/quang-ngai/tinh-phong", 3}, {"vn", 1}, {"vn/quang-ngai", 2}});
  SetCounter(v, "vn", 5);
  ASSERT_TRUE(IsWellFormed(v));
  ASSERT_EQ(v.size(), 3);
  EXPECT_EQ(CounterOf(v, "vn"), 5u);
  EXPECT_EQ(CounterOf(v, "absent"), 0u);
}

TEST(VersionVectorTest, MergeTakesPointwiseMaximum) {
  Vector a = Make({{"a", 3}, {"b", 1}});
  MergeInto(a, Make({{"b", 4}, {"c", 2}}));
  EXPECT_EQ(CounterOf(a, "a"), 3u);
  EXPECT_EQ(CounterOf(a, "b"), 4u);
  EXPECT_EQ(CounterOf(a, "c"), 2u);
  EXPECT_TRUE(IsWellFormed(a));
}

}  // namespace
}  // namespace steersync::sync
