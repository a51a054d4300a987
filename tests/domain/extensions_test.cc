// Extension requests and the calendar record (issue 12 items 2-3; Decree
// 09/2019 Art. 12, P 12.2, C 10, DOMAIN-MODEL E2 and §7): the due date that
// applies to one unit for one period, the checks every node makes of a
// request, a decision and a calendar, and which calendar is in force.
#include <gtest/gtest.h>

#include "node/domain/act_checks.h"
#include "node/domain/calendar_records.h"
#include "node/domain/legal_date.h"
#include "node/domain/obligations.h"
#include "node/domain/record_checks.h"
#include "sync/version_vector.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/mem_store.h"

namespace steersync::domain {
namespace {

using steersync::testing::IsOk;

constexpr char kNational[] = "vn";
constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kBinhSon[] = "vn/quang-ngai/binh-son";
constexpr char kLySon[] = "vn/quang-ngai/ly-son";
constexpr char kObligation[] = "vn/quang-ngai/o/1";

absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

v1::Obligation Quarterly() {
  v1::Obligation o;
  o.set_title("Báo cáo chuyển đổi số");
  o.set_every(v1::QUARTERLY);
  o.set_due_day(20);
  o.set_from_date("2026-01-01");
  o.set_issuer(kProvince);
  return o;
}

v1::ExtensionRequest Request(const std::string& unit, const std::string& period, const std::string& until) {
  v1::ExtensionRequest r;
  r.set_obligation_id(kObligation);
  r.set_period(period);
  r.set_until(until);
  r.set_reason("Bão số 13: mất điện, chưa tổng hợp được số liệu");
  r.set_unit(unit);
  return r;
}

// Stamps `body` as written by `writer` on 2026-11-30, as a clerk of a unit
// without a roster would (what every receiver recomputes).
void Stamp(v1::RecordBody& b, const std::string& writer, const Act& act) {
  b.mutable_version()->set_writer(writer);
  b.mutable_version()->mutable_hlc()->set_wall_micros(1'796'007'600'000'000);
  b.mutable_version()->set_legal_date(LegalDate(b.version().hlc().wall_micros()));
  *b.mutable_version()->mutable_authority() =
      Authorize(Roster(), writer, {}, b.version().legal_date(), act).authority;
  sync::SetCounter(*b.mutable_version()->mutable_vector(), writer, 1);
}

v1::RecordBody CalendarBody(const std::string& writer, const v1::CalendarYear& y) {
  v1::RecordBody b;
  b.set_id(CalendarId(writer, static_cast<int>(y.year())));
  b.set_kind(v1::CALENDAR);
  b.mutable_audience()->set_direction(v1::Audience::DOWN);
  b.mutable_audience()->set_root(writer);
  b.set_payload(y.SerializeAsString());
  Stamp(b, writer, Act{Action::kSetCalendar, ""});
  return b;
}

v1::CalendarYear Year2026(std::vector<std::string> holidays, std::vector<std::string> workdays = {}) {
  v1::CalendarYear y;
  y.set_year(2026);
  for (auto& d : holidays) y.add_holidays(d);
  for (auto& d : workdays) y.add_workdays(d);
  return y;
}

TEST(ExtensionTest, AGrantedExtensionMovesOneUnitsDueDateForOnePeriodOnly) {
  const v1::Obligation o = Quarterly();
  const WorkingCalendar& vn = WorkingCalendar::Vietnam();
  GrantedExtensions granted;
  granted.Add(Request(kBinhSon, "2026-Q3", "2026-11-10"));
  EXPECT_EQ(DueDateFor(o, kObligation, "2026-Q3", kBinhSon, granted, vn), Day(2026, 11, 10));
  EXPECT_EQ(DueDateFor(o, kObligation, "2026-Q3", kLySon, granted, vn), Day(2026, 10, 20)) << "another unit";
  EXPECT_EQ(DueDateFor(o, kObligation, "2026-Q2", kBinhSon, granted, vn), Day(2026, 7, 20)) << "another period";
  EXPECT_EQ(DueDateFor(o, "vn/quang-ngai/o/2", "2026-Q3", kBinhSon, granted, vn), Day(2026, 10, 20))
      << "another obligation";
}

TEST(ExtensionTest, AnExtensionToADayOffEndsOnTheNextWorkingDay) {
  GrantedExtensions granted;
  granted.Add(Request(kBinhSon, "2026-Q1", "2026-04-30"));  // 30 April, then 1 May and a weekend
  EXPECT_EQ(DueDateFor(Quarterly(), kObligation, "2026-Q1", kBinhSon, granted, WorkingCalendar::Vietnam()),
            Day(2026, 5, 4));
  // Two granted: the later one applies.
  granted.Add(Request(kBinhSon, "2026-Q1", "2026-05-15"));
  granted.Add(Request(kBinhSon, "2026-Q1", "2026-05-06"));
  EXPECT_EQ(DueDateFor(Quarterly(), kObligation, "2026-Q1", kBinhSon, granted, WorkingCalendar::Vietnam()),
            Day(2026, 5, 15));
}

TEST(ExtensionTest, ARequestNamesItsWriterAnObligationFromAboveAPeriodADateAndAReason) {
  EXPECT_EQ(CheckExtensionRequest(Request(kBinhSon, "2026-Q3", "2026-11-10"), kBinhSon), "");
  EXPECT_NE(CheckExtensionRequest(Request(kLySon, "2026-Q3", "2026-11-10"), kBinhSon), "") << "another unit's name";
  EXPECT_NE(CheckExtensionRequest(Request(kProvince, "2026-Q3", "2026-11-10"), kProvince), "")
      << "the issuer asks itself";
  EXPECT_NE(CheckExtensionRequest(Request(kBinhSon, "Q3", "2026-11-10"), kBinhSon), "");
  EXPECT_NE(CheckExtensionRequest(Request(kBinhSon, "2026-Q3", "2026-11-31"), kBinhSon), "");
  v1::ExtensionRequest r = Request(kBinhSon, "2026-Q3", "2026-11-10");
  r.set_reason("");
  EXPECT_NE(CheckExtensionRequest(r, kBinhSon), "") << "a reason is required";
  r.set_reason("line one\nline two");
  EXPECT_NE(CheckExtensionRequest(r, kBinhSon), "") << "no line breaks";
  r.set_reason("\x1b[2Jclear the screen");
  EXPECT_NE(CheckExtensionRequest(r, kBinhSon), "") << "no escape sequences";
  r.set_reason(std::string(kMaxExtensionReasonBytes + 1, 'a'));
  EXPECT_NE(CheckExtensionRequest(r, kBinhSon), "") << "bounded";
  r.set_reason(std::string(kMaxExtensionReasonBytes, 'a'));
  EXPECT_EQ(CheckExtensionRequest(r, kBinhSon), "");
}

TEST(ExtensionTest, ARequestFitsTheObligationItNames) {
  const WorkingCalendar& vn = WorkingCalendar::Vietnam();
  v1::Obligation o = Quarterly();
  EXPECT_EQ(CheckExtensionAgainst(o, Request(kBinhSon, "2026-Q3", "2026-10-21"), vn), "");
  EXPECT_NE(CheckExtensionAgainst(o, Request(kBinhSon, "2026-09", "2026-10-21"), vn), "") << "not quarterly";
  EXPECT_NE(CheckExtensionAgainst(o, Request(kBinhSon, "2026-Q3", "2026-10-20"), vn), "") << "not after the due date";
  EXPECT_NE(CheckExtensionAgainst(o, Request(kBinhSon, "2026-Q3", "2027-12-01"), vn), "") << "more than a year";
  o.add_to_units(kLySon);
  EXPECT_NE(CheckExtensionAgainst(o, Request(kBinhSon, "2026-Q3", "2026-10-21"), vn), "") << "not asked to report";
}

TEST(ExtensionTest, ADecisionIsGrantedOrDeniedWithAPrintableReason) {
  v1::ExtensionDecision d;
  d.set_state("GRANTED");
  EXPECT_EQ(CheckExtensionDecision(d), "");
  d.set_state("MAYBE");
  EXPECT_NE(CheckExtensionDecision(d), "");
  d.set_state("DENIED");
  d.set_reason("bad\x07");
  EXPECT_NE(CheckExtensionDecision(d), "");
}

TEST(ExtensionTest, OnlyTheObligationsIssuerDecidesAndOnlyDownToTheRequester) {
  v1::ExtensionDecision d;
  d.set_request_id(std::string(kBinhSon) + "/x/7");
  d.set_state("GRANTED");
  v1::RecordBody b;
  b.set_id(std::string(kProvince) + "/xd/" + d.request_id());
  b.set_kind(v1::EXTENSION_DECISION);
  b.mutable_audience()->set_direction(v1::Audience::DOWN);
  b.mutable_audience()->set_root(kProvince);
  b.mutable_audience()->add_units(kBinhSon);
  b.set_payload(d.SerializeAsString());
  Stamp(b, kProvince, Act{Action::kDecideExtension, ""});
  EXPECT_TRUE(CheckRecordAlone(kBinhSon, kProvince, b).admitted);
  // A sibling commune answering Bình Sơn's request.
  v1::RecordBody sibling = b;
  sibling.set_id(std::string(kLySon) + "/xd/" + d.request_id());
  sibling.mutable_version()->set_writer(kLySon);
  sibling.mutable_audience()->set_root(kLySon);
  EXPECT_EQ(CheckRecordAlone(kProvince, kLySon, sibling).reason_code, "ISSUER_MISMATCH");
  // Sent to every commune rather than to the requester.
  v1::RecordBody broadcast = b;
  broadcast.mutable_audience()->clear_units();
  EXPECT_EQ(CheckRecordAlone(kBinhSon, kProvince, broadcast).reason_code, "WRONG_DIRECTION");
}

TEST(CalendarRecordTest, ACalendarReplacesTheShippedDefaultsOfItsYearOnly) {
  const WorkingCalendar& vn = WorkingCalendar::Vietnam();
  CalendarInForce in_force(kBinhSon);
  // 2026 as a (made-up) announcement: Tết moved a week later, one Saturday worked.
  in_force.Offer(CalendarBody(kProvince, Year2026({"2026-02-23", "2026-02-24"}, {"2026-02-28"})));
  const WorkingCalendar calendar = in_force.Calendar();
  EXPECT_FALSE(vn.IsWorkingDay(Day(2026, 2, 17)));
  EXPECT_TRUE(calendar.IsWorkingDay(Day(2026, 2, 17))) << "the default's Tết no longer holds in 2026";
  EXPECT_FALSE(calendar.IsWorkingDay(Day(2026, 2, 23)));
  EXPECT_TRUE(calendar.IsWorkingDay(Day(2026, 2, 28)));
  EXPECT_TRUE(calendar.IsWorkingDay(Day(2026, 9, 2))) << "the record is the whole year";
  EXPECT_FALSE(calendar.IsWorkingDay(Day(2027, 2, 8))) << "2027 keeps the shipped default";
  EXPECT_EQ(in_force.SourceOf(2026), std::optional<std::string>("vn/quang-ngai/calendar/2026"));
  EXPECT_EQ(in_force.SourceOf(2027), std::nullopt);
  // Deadlines follow: Q4 2025 due 20 January 2026 stays; an obligation due
  // on the 23rd of February moves to the 25th.
  v1::Obligation o = Quarterly();
  o.set_every(v1::MONTHLY);
  o.set_due_day(23);
  EXPECT_EQ(DueDate(o, "2026-01", calendar), Day(2026, 2, 25));
  EXPECT_EQ(DueDate(o, "2026-01", vn), Day(2026, 2, 23));
}

TEST(CalendarRecordTest, TheTopmostUnitsCalendarIsInForce) {
  CalendarInForce in_force(kBinhSon);
  in_force.Offer(CalendarBody(kProvince, Year2026({"2026-03-02"})));
  in_force.Offer(CalendarBody(kNational, Year2026({"2026-03-03"})));
  in_force.Offer(CalendarBody(kProvince, Year2026({"2026-03-04"})));  // arrives last, still below
  EXPECT_EQ(in_force.SourceOf(2026), std::optional<std::string>("vn/calendar/2026"));
  EXPECT_FALSE(in_force.Calendar().IsWorkingDay(Day(2026, 3, 3)));
  EXPECT_TRUE(in_force.Calendar().IsWorkingDay(Day(2026, 3, 2)));
  // A sibling's (not an ancestor's) calendar is never in force here.
  CalendarInForce at_ly_son(kLySon);
  at_ly_son.Offer(CalendarBody(kBinhSon, Year2026({"2026-03-05"})));
  EXPECT_EQ(at_ly_son.SourceOf(2026), std::nullopt);
}

TEST(CalendarRecordTest, EveryDayFitsTheYearAndItsKind) {
  EXPECT_EQ(CheckCalendarYear(Year2026({"2026-01-01"}, {"2026-04-25"})), "");
  EXPECT_NE(CheckCalendarYear(Year2026({"2026-01-03"})), "") << "a Saturday is off anyway";
  EXPECT_NE(CheckCalendarYear(Year2026({}, {"2026-04-24"})), "") << "a Friday is worked anyway";
  EXPECT_NE(CheckCalendarYear(Year2026({"2027-01-01"})), "") << "another year";
  EXPECT_NE(CheckCalendarYear(Year2026({"2026-01-01", "2026-01-01"})), "") << "twice";
  EXPECT_NE(CheckCalendarYear(Year2026({"2026-13-01"})), "");
  v1::CalendarYear y = Year2026({});
  y.set_year(1999);
  EXPECT_NE(CheckCalendarYear(y), "");
  y = Year2026({});
  for (int i = 0; i <= kMaxCalendarDays; ++i) y.add_holidays("2026-01-01");
  EXPECT_NE(CheckCalendarYear(y), "") << "bounded";
}

TEST(CalendarRecordTest, ACalendarFlowsDownFromItsWriterOnly) {
  const v1::RecordBody from_province = CalendarBody(kProvince, Year2026({"2026-01-01"}));
  EXPECT_TRUE(CheckRecordAlone(kBinhSon, kProvince, from_province).admitted);
  // A commune's calendar sent up to its province.
  v1::RecordBody upward = CalendarBody(kBinhSon, Year2026({"2026-01-01"}));
  upward.mutable_audience()->set_direction(v1::Audience::UP);
  upward.mutable_audience()->set_root(kProvince);
  EXPECT_EQ(CheckRecordAlone(kProvince, kBinhSon, upward).reason_code, "WRONG_DIRECTION");
  // Its id names another year than its days.
  v1::RecordBody misnamed = from_province;
  misnamed.set_id(CalendarId(kProvince, 2027));
  EXPECT_EQ(CheckRecordAlone(kBinhSon, kProvince, misnamed).reason_code, "ISSUER_MISMATCH");
}

// Admission in context, on a store holding what the node holds.
class InContextTest : public ::testing::Test {
 protected:
  void Hold(const v1::RecordBody& body) {
    v1::Record r;
    r.set_body(body.SerializeAsString());
    ASSERT_THAT(store_.Write([&](sync::WriteView& v) { return v.SetCurrent(body.id(), r); }), IsOk());
  }
  // The province's quarterly obligation kObligation, as every node holds it.
  void HoldObligation() {
    v1::RecordBody o;
    o.set_id(kObligation);
    o.set_kind(v1::OBLIGATION);
    o.set_payload(Quarterly().SerializeAsString());
    Hold(o);
  }
  sync::Admission Admit(const v1::RecordBody& body) {
    sync::Admission out;
    const std::string bytes = body.SerializeAsString();
    EXPECT_THAT(store_.Write([&](sync::WriteView& v) -> absl::Status {
      auto a = AdmitAct(Roster(), v, body, bytes);
      if (!a.ok()) return a.status();
      out = *a;
      return absl::OkStatus();
    }),
                IsOk());
    return out;
  }
  static v1::RecordBody RequestBody(const v1::ExtensionRequest& r) {
    v1::RecordBody b;
    b.set_id(r.unit() + "/x/1");
    b.set_kind(v1::EXTENSION_REQUEST);
    b.mutable_audience()->set_direction(v1::Audience::UP);
    b.mutable_audience()->set_root(kProvince);
    b.set_payload(r.SerializeAsString());
    Stamp(b, r.unit(), Act{Action::kRequestExtension, ""});
    return b;
  }
  steersync::testing::MemStore store_;
};

TEST_F(InContextTest, ARequestThatDoesNotFitTheObligationHeldIsRefused) {
  HoldObligation();
  EXPECT_TRUE(Admit(RequestBody(Request(kBinhSon, "2026-Q3", "2026-11-10"))).admitted);
  EXPECT_EQ(Admit(RequestBody(Request(kBinhSon, "2026-Q3", "2026-10-20"))).reason_code, "BAD_EXTENSION");
  EXPECT_EQ(Admit(RequestBody(Request(kBinhSon, "2026-H2", "2027-02-20"))).reason_code, "BAD_EXTENSION");
}

TEST_F(InContextTest, TheCalendarInForceJudgesTheUntilDate) {
  HoldObligation();
  // The top's calendar makes 20 October a holiday: Q3 is due the 21st, so
  // an extension to the 21st extends nothing.
  v1::CalendarYear y = Year2026({"2026-10-20"});
  Hold(CalendarBody(kNational, y));
  EXPECT_EQ(Admit(RequestBody(Request(kBinhSon, "2026-Q3", "2026-10-21"))).reason_code, "BAD_EXTENSION");
  EXPECT_TRUE(Admit(RequestBody(Request(kBinhSon, "2026-Q3", "2026-10-22"))).admitted);
}

TEST_F(InContextTest, ACalendarFromBelowTheTopIsRefused) {
  Hold(CalendarBody(kNational, Year2026({"2026-01-01"})));
  const sync::Admission a = Admit(CalendarBody(kProvince, Year2026({"2026-01-02"})));
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.reason_code, "NOT_TOP");
  EXPECT_TRUE(Admit(CalendarBody(kNational, Year2026({"2026-01-02"}))).admitted) << "the top replaces its own";
}

}  // namespace
}  // namespace steersync::domain
