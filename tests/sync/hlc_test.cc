#include "sync/hlc.h"

#include "tests/testutil/fixtures.h"

namespace steersync::sync {
namespace {

using steersync::testing::ManualClock;

TEST(HybridClockTest, FollowsPhysicalTimeWhenItAdvances) {
  ManualClock clock(1'000);
  HybridClock hlc(clock);
  v1::Hlc a = hlc.Now();
  clock.Advance(10);
  v1::Hlc b = hlc.Now();
  EXPECT_EQ(a.wall_micros(), 1'000u);
  EXPECT_EQ(b.wall_micros(), 1'010u);
  EXPECT_EQ(b.logical(), 0u);
}

TEST(HybridClockTest, NeverGoesBackwardsWhenPhysicalTimeStalls) {
  ManualClock clock(1'000);
  HybridClock hlc(clock);
  v1::Hlc prev = hlc.Now();
  for (int i = 0; i < 100; ++i) {
    v1::Hlc next = hlc.Now();
    ASSERT_LT(CompareHlc(prev, next), 0);
    prev = next;
  }
}

TEST(HybridClockTest, MovesPastObservedRemoteTimestamps) {
  ManualClock clock(1'000);
  HybridClock hlc(clock);
  v1::Hlc remote;
  remote.set_wall_micros(5'000);  // a peer whose clock runs ahead
  remote.set_logical(7);
  hlc.Observe(remote);
  v1::Hlc next = hlc.Now();
  EXPECT_GT(CompareHlc(next, remote), 0);
}

TEST(HybridClockTest, RestoreKeepsMonotonicityAcrossRestarts) {
  ManualClock clock(1'000);
  v1::Hlc persisted;
  {
    HybridClock before(clock);
    clock.Advance(500);
    before.Now();
    persisted = before.Now();
  }
  clock.Advance(-400);  // the machine's clock stepped back while we were down
  HybridClock after(clock);
  after.Restore(persisted);
  EXPECT_GT(CompareHlc(after.Now(), persisted), 0);
}

}  // namespace
}  // namespace steersync::sync
