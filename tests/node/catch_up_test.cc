// A catch-up's progress as status, peers and the log show it (issue 11
// item 7: "a catch-up shows records remaining, rate and ETA").
#include "node/catch_up.h"

#include <gtest/gtest.h>

namespace steersync::node {
namespace {

constexpr int64_t kSecond = 1'000'000;

TEST(CatchUpProgressTest, ASmallBacklogIsNotReportedAsACatchUp) {
  CatchUpProgress progress;
  progress.Start(0, /*peer_head=*/CatchUpProgress::kReportedFromEntries - 1, /*applied_seq=*/0);
  EXPECT_FALSE(progress.active());
  EXPECT_EQ(progress.Now().remaining, 0u);
  EXPECT_EQ(progress.LogLineDue(60 * kSecond, "p"), std::nullopt);
}

TEST(CatchUpProgressTest, RemainingRateAndEtaFollowTheAppliedBatches) {
  CatchUpProgress progress;
  progress.Start(0, /*peer_head=*/100'000, /*applied_seq=*/20'000);
  ASSERT_TRUE(progress.active());
  EXPECT_EQ(progress.Now().remaining, 80'000u);
  EXPECT_EQ(progress.Now().eta_seconds, -1) << "no rate before the first batch";

  // 10,000 entries a second, half of them addressed here (5,000 records).
  for (int s = 1; s <= 4; ++s) progress.OnApplied(s * kSecond, 20'000 + s * 10'000, 5'000);
  const CatchUpProgress::Figures f = progress.Now();
  EXPECT_EQ(f.remaining, 40'000u);
  EXPECT_DOUBLE_EQ(f.records_per_second, 5'000);
  EXPECT_EQ(f.eta_seconds, 4) << "taken from the rate the log is consumed, not the records'";
}

TEST(CatchUpProgressTest, TheRateIsTheTrailingWindowsNotTheAverageSinceStart) {
  CatchUpProgress progress;
  progress.Start(0, 1'000'000, 0);
  progress.OnApplied(1 * kSecond, 100'000, 100'000);  // fast at first
  for (int s = 2; s <= 40; ++s) progress.OnApplied(s * kSecond, 100'000 + (s - 1) * 1'000, 1'000);
  EXPECT_NEAR(progress.Now().records_per_second, 1'000, 1);
}

TEST(CatchUpProgressTest, TheLogGrowingMeanwhileIsCaughtUpToo) {
  CatchUpProgress progress;
  progress.Start(0, 2'000, 0);
  progress.OnApplied(kSecond, 2'500, 2'500);  // the peer's log grew past its Hello's head
  EXPECT_FALSE(progress.active()) << "applied past the head: done";
  EXPECT_EQ(progress.Now().remaining, 0u);
}

TEST(CatchUpProgressTest, LogsEveryTenSecondsWhileItLastsAndOnceWhenDone) {
  CatchUpProgress progress;
  progress.Start(0, 30'000, 0);
  progress.OnApplied(5 * kSecond, 5'000, 5'000);
  EXPECT_EQ(progress.LogLineDue(5 * kSecond, "ha-noi"), std::nullopt) << "not yet ten seconds";
  progress.OnApplied(10 * kSecond, 10'000, 5'000);
  std::optional<std::string> line = progress.LogLineDue(10 * kSecond, "ha-noi");
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line, "catching up from ha-noi: 20000 log entries remaining, 1000 records/s, about 20 s left");
  EXPECT_EQ(progress.LogLineDue(11 * kSecond, "ha-noi"), std::nullopt);

  progress.OnApplied(20 * kSecond, 30'000, 20'000);
  line = progress.LogLineDue(20 * kSecond, "ha-noi");
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line, "catch-up from ha-noi done: 30000 records (30000 log entries) in 20.0 s, 1500 records/s");
  EXPECT_EQ(progress.LogLineDue(40 * kSecond, "ha-noi"), std::nullopt) << "said once";
}

TEST(CatchUpProgressTest, StatusLineNamesThePeerAndIsEmptyWhenNone) {
  EXPECT_EQ(DescribeCatchUp("ha-noi", 0, 0, -1), "");
  EXPECT_EQ(DescribeCatchUp("ha-noi", 500, 0, -1), "from ha-noi: 500 log entries left");
  EXPECT_EQ(DescribeCatchUp("ha-noi", 50'000, 12'000, 4),
            "from ha-noi: 50000 log entries left, 12000 records/s, about 4 s left");
}

}  // namespace
}  // namespace steersync::node
