// Reporting obligations and the working-day calendar (issue 12 items 2-3;
// DOMAIN-MODEL.md §1.10, P 12.2, C 10, Decree 09/2019 Art. 12, Decree
// 30/2020 Art. 4.2c).
#include "node/domain/obligations.h"

#include <gtest/gtest.h>

#include "node/domain/calendar.h"

namespace steersync::domain {
namespace {

absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

v1::Obligation Quarterly(uint32_t due_day, const std::string& from = "2026-01-01") {
  v1::Obligation o;
  o.set_title("Báo cáo chuyển đổi số");
  o.set_every(v1::QUARTERLY);
  o.set_due_day(due_day);
  o.set_from_date(from);
  o.set_issuer("vn/quang-ngai");
  return o;
}

TEST(CalendarTest, WeekendsHolidaysAndExchangedDays) {
  const WorkingCalendar& vn = WorkingCalendar::Vietnam();
  EXPECT_TRUE(vn.IsWorkingDay(Day(2026, 10, 20)));   // a Tuesday
  EXPECT_FALSE(vn.IsWorkingDay(Day(2026, 10, 24)));  // a Saturday
  EXPECT_FALSE(vn.IsWorkingDay(Day(2026, 2, 17)));   // Tết
  EXPECT_FALSE(vn.IsWorkingDay(Day(2026, 9, 2)));    // National Day
  EXPECT_FALSE(vn.IsWorkingDay(Day(2026, 4, 27)));   // Hùng Kings, taken on the Monday
  EXPECT_TRUE(vn.IsWorkingDay(Day(2025, 4, 26)));    // a Saturday worked in exchange for 2 May
  EXPECT_FALSE(vn.IsWorkingDay(Day(2025, 5, 2)));
  // A deadline on a day off moves to the next working day.
  EXPECT_EQ(vn.OnOrNextWorkingDay(Day(2026, 4, 30)), Day(2026, 5, 4));
  EXPECT_EQ(vn.OnOrNextWorkingDay(Day(2026, 10, 20)), Day(2026, 10, 20));
  EXPECT_EQ(vn.NextWorkingDay(Day(2026, 11, 27)), Day(2026, 11, 30));  // Friday -> Monday
  // Working days after a date: Tết 2026 counts none of its days.
  EXPECT_EQ(vn.WorkingDaysAfter(Day(2026, 2, 13), Day(2026, 2, 23)), 1);
  EXPECT_EQ(vn.WorkingDaysAfter(Day(2026, 10, 20), Day(2026, 11, 30)), 29);
  EXPECT_EQ(vn.WorkingDaysAfter(Day(2026, 11, 30), Day(2026, 11, 30)), 0);
}

TEST(CalendarTest, DatesAreRealDaysInIsoForm) {
  EXPECT_EQ(ParseDate("2026-11-30"), Day(2026, 11, 30));
  EXPECT_EQ(FormatDate(Day(2027, 1, 5)), "2027-01-05");
  for (const char* bad : {"2026-02-30", "2026-13-01", "26-11-30", "2026/11/30", "2026-1-30", ""}) {
    EXPECT_FALSE(ParseDate(bad).has_value()) << bad;
  }
}

TEST(ObligationTest, EachCadenceHasItsPeriodForm) {
  EXPECT_EQ(ParseCadence("half-yearly"), v1::HALF_YEARLY);
  EXPECT_FALSE(ParseCadence("weekly").has_value());
  EXPECT_TRUE(PeriodHasCadence("2026-11", v1::MONTHLY));
  EXPECT_TRUE(PeriodHasCadence("2026-Q4", v1::QUARTERLY));
  EXPECT_TRUE(PeriodHasCadence("2026-H2", v1::HALF_YEARLY));
  EXPECT_TRUE(PeriodHasCadence("2026", v1::YEARLY));
  EXPECT_FALSE(PeriodHasCadence("2026-Q4", v1::MONTHLY));
  EXPECT_FALSE(PeriodHasCadence("2026-11", v1::QUARTERLY));
  EXPECT_FALSE(PeriodHasCadence("2026-13", v1::MONTHLY));
  EXPECT_FALSE(PeriodHasCadence("2026-Q5", v1::QUARTERLY));
}

// The example: due day 20, a 2026-Q3 report is due 2026-10-20.
TEST(ObligationTest, DueOnTheDayOfTheMonthAfterThePeriodMovedToAWorkingDay) {
  EXPECT_EQ(DueDate(Quarterly(20), "2026-Q3", WorkingCalendar::Vietnam()), Day(2026, 10, 20));
  // Q1's due day 30 is 30 April (a holiday), then 1 May and a weekend.
  EXPECT_EQ(DueDate(Quarterly(30), "2026-Q1", WorkingCalendar::Vietnam()), Day(2026, 5, 4));
  // Past the month's end: its last day (30 April 2027 is a holiday, a Friday).
  EXPECT_EQ(DueDate(Quarterly(31), "2027-Q1", WorkingCalendar::Vietnam()), Day(2027, 5, 4));
  v1::Obligation monthly = Quarterly(16);
  monthly.set_every(v1::MONTHLY);
  EXPECT_EQ(DueDate(monthly, "2026-01", WorkingCalendar::Vietnam()), Day(2026, 2, 23));  // after Tết
  v1::Obligation yearly = Quarterly(15);
  yearly.set_every(v1::YEARLY);
  EXPECT_EQ(DueDate(yearly, "2026", WorkingCalendar::Vietnam()), Day(2027, 1, 15));
  EXPECT_FALSE(DueDate(yearly, "2026-Q1", WorkingCalendar::Vietnam()).has_value());
}

TEST(ObligationTest, PeriodsStartWithTheOneHoldingTheFromDate) {
  const auto due = PeriodsDueBy(Quarterly(20, "2026-02-10"), Day(2026, 11, 30), WorkingCalendar::Vietnam());
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].period, "2026-Q1");
  EXPECT_EQ(due[0].due, Day(2026, 4, 20));
  EXPECT_EQ(due[2].period, "2026-Q3");
  EXPECT_TRUE(PeriodsDueBy(Quarterly(20, "2026-10-01"), Day(2026, 11, 30), WorkingCalendar::Vietnam()).empty());
}

TEST(ObligationTest, FieldsAreCheckedAlikeByTheActAndEveryReceiver) {
  EXPECT_EQ(CheckObligation(Quarterly(20), "vn/quang-ngai"), "");
  v1::Obligation o = Quarterly(0);
  EXPECT_NE(CheckObligation(o, "vn/quang-ngai"), "");
  o = Quarterly(20, "2026-02-30");
  EXPECT_NE(CheckObligation(o, "vn/quang-ngai"), "");
  o = Quarterly(20);
  o.add_to_units("vn/da-nang/hai-chau");  // not below the issuer
  EXPECT_NE(CheckObligation(o, "vn/quang-ngai"), "");
  o = Quarterly(20);
  EXPECT_NE(CheckObligation(o, "vn/da-nang"), "") << "issued in another unit's name";
}

}  // namespace
}  // namespace steersync::domain
