// The Standing Agency's follow-up across the link (issue 12 items 3 and 6;
// P 6.1 "monitor and urge", P 12.2, C 10, Decree 09/2019 Art. 12, Decree
// 30/2020 Art. 21.2): a province asks its communes for quarterly reports,
// two file Q1-Q3 and one files none; `overdue` on the province lists exactly
// that one, three times, and the directive nobody acknowledged. Real nodes
// over mTLS and LMDB, on one clock the test sets (30 November 2026).
#include <string>
#include <vector>

#include "node/node.h"
#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::IsOk;
using steersync::testing::ManualClock;
using steersync::testing::StatusIs;
using steersync::testing::TempDir;
using steersync::testing::WaitUntil;

constexpr char kProvince[] = "vn/quang-ngai";
const std::vector<std::string> kCommunes = {"vn/quang-ngai/binh-son", "vn/quang-ngai/ly-son",
                                            "vn/quang-ngai/tinh-phong"};
// Friday 2026-11-27 10:00 in Asia/Ho_Chi_Minh; the clock only moves forward.
constexpr int64_t kNovember27 = 1'796'007'600'000'000 - 3LL * 86'400'000'000;
constexpr int64_t kDay = 86'400'000'000;

class CommitteeWorkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    province_ = Start(kProvince, "");
    const std::string address = "127.0.0.1:" + std::to_string(province_->sync_port());
    for (const std::string& c : kCommunes) {
      communes_.push_back(Start(c, address));
      v1::AddUnitRequest unit;
      unit.set_unit(c);
      unit.set_name(c);
      ASSERT_THAT(province_->AddUnit(unit), IsOk());
    }
    ASSERT_TRUE(WaitUntil([&] { return province_->GetStatus().children_seen_size() == 3; }));
  }

  std::unique_ptr<Node> Start(const std::string& id, const std::string& parent) {
    auto n = steersync::testing::InProcessNodeOptions(dir_, id, parent);
    n.runtime.clock = &clock_;
    return steersync::testing::StartInProcessNode(std::move(n));
  }

  static bool Holds(const Node& node, const std::string& id) {
    auto r = node.store().GetRecord(id);
    return r.ok() && r->has_value();
  }

  absl::StatusOr<std::string> File(Node& commune, const std::string& obligation, const std::string& period) {
    v1::SubmitReportRequest r;
    r.set_title("Báo cáo chuyển đổi số " + period);
    r.set_period(period);
    r.set_obligation(obligation);
    return commune.SubmitReport(r);
  }

  // Issues a quarterly obligation (due day 20) from `from` to every commune
  // and waits until all of them hold it; returns its id.
  std::string Quarterly(const std::string& from) {
    v1::AddObligationRequest add;
    add.set_title("Báo cáo kết quả chuyển đổi số");
    add.set_every("quarterly");
    add.set_due_day(20);
    add.set_from(from);
    auto o = province_->AddObligation(add);
    EXPECT_THAT(o, IsOk());
    if (!o.ok()) return "";
    for (auto& c : communes_) EXPECT_TRUE(WaitUntil([&] { return Holds(*c, o->id()); }));
    return o->id();
  }

  ManualClock clock_{kNovember27};
  TempDir dir_;
  std::unique_ptr<Node> province_;
  std::vector<std::unique_ptr<Node>> communes_;
};

TEST_F(CommitteeWorkTest, OverdueListsExactlyTheCommuneThatFiledNothingOncePerPeriod) {
  clock_.Advance(3 * kDay);  // Monday 30 November
  v1::AddObligationRequest add;
  add.set_title("Báo cáo kết quả chuyển đổi số");
  add.set_every("quarterly");
  add.set_due_day(20);
  add.set_from("2026-01-01");
  auto obligation = province_->AddObligation(add);
  ASSERT_THAT(obligation, IsOk());
  const std::string id = obligation->id();
  for (auto& c : communes_) ASSERT_TRUE(WaitUntil([&] { return Holds(*c, id); })) << "the obligation flows down";

  auto listed = communes_[0]->ListObligations();
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->obligations_size(), 1);
  EXPECT_EQ(listed->obligations(0).every(), "quarterly");
  EXPECT_EQ(listed->obligations(0).due_day(), 20u);

  std::vector<std::string> reports;
  for (int c = 0; c < 2; ++c) {
    for (const char* period : {"2026-Q1", "2026-Q2", "2026-Q3"}) {
      auto r = File(*communes_[c], id, period);
      ASSERT_THAT(r, IsOk());
      reports.push_back(*r);
    }
  }
  for (const std::string& r : reports) ASSERT_TRUE(WaitUntil([&] { return Holds(*province_, r); }));

  auto overdue = province_->ListOverdue();
  ASSERT_THAT(overdue, IsOk());
  ASSERT_EQ(overdue->overdue_size(), 3) << overdue->DebugString();
  const char* periods[] = {"2026-Q1", "2026-Q2", "2026-Q3"};
  const char* due[] = {"2026-04-20", "2026-07-20", "2026-10-20"};
  for (int i = 0; i < 3; ++i) {
    const v1::OverdueInfo& o = overdue->overdue(i);
    EXPECT_EQ(o.unit(), kCommunes[2]);
    EXPECT_EQ(o.kind(), "report");
    EXPECT_EQ(o.ref(), id);
    EXPECT_EQ(o.period(), periods[i]);
    EXPECT_EQ(o.due(), due[i]);
  }
  EXPECT_EQ(overdue->overdue(2).days_late(), 29u) << "working days from 20 October to 30 November";

  // Filing late clears that period only.
  ASSERT_THAT(File(*communes_[2], id, "2026-Q2"), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return province_->ListOverdue()->overdue_size() == 2; }));
}

TEST_F(CommitteeWorkTest, AReportMustHaveItsObligationsCadence) {
  clock_.Advance(3 * kDay);
  v1::AddObligationRequest add;
  add.set_title("Báo cáo tháng");
  add.set_every("monthly");
  add.set_due_day(5);
  add.set_from("2026-09-01");
  auto obligation = province_->AddObligation(add);
  ASSERT_THAT(obligation, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return Holds(*communes_[0], obligation->id()); }));
  auto quarterly = File(*communes_[0], obligation->id(), "2026-Q3");
  EXPECT_THAT(quarterly, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(quarterly.status().message()), ::testing::HasSubstr("BAD_PERIOD"));
  EXPECT_THAT(File(*communes_[0], obligation->id(), "2026-10"), IsOk());
  EXPECT_THAT(File(*communes_[0], "vn/quang-ngai/o/999", "2026-10"), StatusIs(absl::StatusCode::kNotFound));
  // Issued by a commune to its superior: no unit below it to ask.
  add.add_to(kProvince);
  EXPECT_THAT(communes_[0]->AddObligation(add), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CommitteeWorkTest, ADirectiveNotAcknowledgedByTheNextWorkingDayIsOverdue) {
  // Issued on Friday 27 November: acknowledgements are due Monday 30.
  v1::IssueDirectiveRequest d;
  d.set_title("Kế hoạch chuyển đổi số 2027");
  auto issued = province_->IssueDirective(d);
  ASSERT_THAT(issued, IsOk());
  for (auto& c : communes_) ASSERT_TRUE(WaitUntil([&] { return Holds(*c, *issued); }));
  ASSERT_THAT(communes_[0]->AckDirective(*issued), IsOk());
  clock_.Advance(3 * kDay);
  EXPECT_EQ(province_->ListOverdue()->overdue_size(), 0) << "due today: not late yet";
  clock_.Advance(kDay);  // Tuesday 1 December
  ASSERT_TRUE(WaitUntil([&] {
    auto acks = province_->ListDirectives();
    return acks.ok() && acks->directives_size() == 1 && acks->directives(0).acks_size() == 1;
  }));
  auto overdue = province_->ListOverdue();
  ASSERT_THAT(overdue, IsOk());
  ASSERT_EQ(overdue->overdue_size(), 2) << overdue->DebugString();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(overdue->overdue(i).unit(), kCommunes[i + 1]);
    EXPECT_EQ(overdue->overdue(i).kind(), "ack");
    EXPECT_EQ(overdue->overdue(i).due(), "2026-11-30");
    EXPECT_EQ(overdue->overdue(i).days_late(), 1u);
  }
}

// Issue 12 item 4: a task assigned, updated, done and accepted across the
// link; late ones appear in `overdue`; each side sets only its own states.
TEST_F(CommitteeWorkTest, ATaskIsAssignedUpdatedDoneAndAcceptedAcrossTheLink) {
  clock_.Advance(3 * kDay);  // Monday 30 November
  auto task_state = [](const Node& node, const std::string& id) -> std::string {
    auto tasks = node.ListTasks();
    if (!tasks.ok()) return "";
    for (const auto& t : tasks->tasks()) {
      if (t.id() == id) return t.state() + " " + std::to_string(t.progress());
    }
    return "";
  };
  v1::AssignTaskRequest assign;
  assign.set_to(kCommunes[0]);
  assign.set_title("Triển khai dịch vụ công trực tuyến toàn trình");
  assign.set_due("2026-12-15");
  auto task = province_->AssignTask(assign);
  ASSERT_THAT(task, IsOk());
  const std::string id = task->id();
  ASSERT_TRUE(WaitUntil([&] { return task_state(*communes_[0], id) == "OPEN 0"; }));
  EXPECT_EQ(task_state(*communes_[1], id), "") << "a task goes to its assignee only";

  v1::SetTaskStatusRequest update;
  update.set_task_id(id);
  update.set_state("OPEN");
  update.set_progress(60);
  update.set_note("Đã xong 3/5 thủ tục");
  ASSERT_THAT(communes_[0]->SetTaskStatus(update), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return task_state(*province_, id) == "OPEN 60"; }));
  v1::SetTaskStatusRequest accept_too_early = update;
  accept_too_early.set_state("ACCEPTED");
  EXPECT_THAT(communes_[0]->SetTaskStatus(accept_too_early), StatusIs(absl::StatusCode::kInvalidArgument))
      << "the assignee does not accept its own work";
  v1::SetTaskStatusRequest done = update;
  done.set_state("DONE");
  ASSERT_THAT(communes_[0]->SetTaskStatus(done), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return task_state(*province_, id) == "DONE 100"; }));
  v1::SetTaskStatusRequest accept = done;
  accept.set_state("ACCEPTED");
  accept.set_note("");
  ASSERT_THAT(province_->SetTaskStatus(accept), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return task_state(*communes_[0], id) == "ACCEPTED 100"; }));

  // A task nobody finished by its due date is overdue at the assigner.
  assign.set_to(kCommunes[1]);
  assign.set_due("2026-11-27");
  auto late = province_->AssignTask(assign);
  ASSERT_THAT(late, IsOk());
  auto overdue = province_->ListOverdue();
  ASSERT_THAT(overdue, IsOk());
  ASSERT_EQ(overdue->overdue_size(), 1) << overdue->DebugString();
  EXPECT_EQ(overdue->overdue(0).unit(), kCommunes[1]);
  EXPECT_EQ(overdue->overdue(0).kind(), "task");
  EXPECT_EQ(overdue->overdue(0).ref(), late->id());
  EXPECT_EQ(overdue->overdue(0).days_late(), 1u);
}


// Issue 12 item 3, extension requests (Decree 09/2019 Art. 12; P 12.2, C 10;
// DOMAIN-MODEL E2): a commune asks for more time for one period, the
// province grants it; the overdue view then drops exactly that unit's
// period until the new date, and lists it again once that date has passed.
TEST_F(CommitteeWorkTest, AGrantedExtensionMovesThatCommunesPeriodOutOfOverdueUntilItsNewDate) {
  clock_.Advance(3 * kDay);  // Monday 30 November
  const std::string obligation = Quarterly("2026-07-01");  // Q3 only, due 20 October
  auto late = [&](const std::string& unit) {
    auto overdue = province_->ListOverdue();
    int n = 0;
    for (const auto& o : overdue->overdue()) n += o.unit() == unit && o.kind() == "report" ? 1 : 0;
    return n;
  };
  ASSERT_EQ(province_->ListOverdue()->overdue_size(), 3) << "Q3 is late at all three communes";

  v1::ExtensionAskRequest ask;
  ask.set_obligation(obligation);
  ask.set_period("2026-Q3");
  ask.set_until("2026-12-05");  // a Saturday: the extension ends Monday 7 December
  ask.set_reason("Bão số 13 gây mất điện, chưa tổng hợp được số liệu");
  auto request = communes_[2]->AskExtension(ask);
  ASSERT_THAT(request, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return Holds(*province_, request->id()); })) << "the request flows up";
  EXPECT_FALSE(Holds(*communes_[1], request->id())) << "and to no sibling";
  EXPECT_EQ(late(kCommunes[2]), 1) << "asking is not being granted";

  v1::ExtensionDecideRequest grant;
  grant.set_request_id(request->id());
  grant.set_state("GRANTED");
  auto decision = province_->DecideExtension(grant);
  ASSERT_THAT(decision, IsOk());
  ASSERT_TRUE(WaitUntil([&] {
    auto listed = communes_[2]->ListExtensions();
    return listed.ok() && listed->extensions_size() == 1 && listed->extensions(0).status() == "GRANTED";
  })) << "the decision flows back down";
  const v1::ExtensionInfo seen = communes_[2]->ListExtensions()->extensions(0);
  EXPECT_EQ(seen.due(), "2026-10-20");
  EXPECT_EQ(seen.applies(), "2026-12-07");
  EXPECT_EQ(seen.from(), kCommunes[2]);
  EXPECT_EQ(seen.to(), kProvince);

  EXPECT_EQ(late(kCommunes[2]), 0) << "extended until 7 December";
  EXPECT_EQ(late(kCommunes[0]), 1) << "the other communes still owe Q3";
  EXPECT_EQ(late(kCommunes[1]), 1);
  clock_.Advance(7 * kDay);  // Monday 7 December: due today, not late yet
  EXPECT_EQ(late(kCommunes[2]), 0);
  clock_.Advance(kDay);  // Tuesday 8 December
  auto overdue = province_->ListOverdue();
  ASSERT_THAT(overdue, IsOk());
  bool found = false;
  for (const auto& o : overdue->overdue()) {
    if (o.unit() != kCommunes[2]) continue;
    found = true;
    EXPECT_EQ(o.due(), "2026-12-07") << "late against the extended date";
    EXPECT_EQ(o.days_late(), 1u);
  }
  EXPECT_TRUE(found);
}

TEST_F(CommitteeWorkTest, ADeniedUnknownOrUnauthorisedExtensionMovesNothing) {
  clock_.Advance(3 * kDay);
  const std::string obligation = Quarterly("2026-07-01");
  v1::ExtensionAskRequest ask;
  ask.set_obligation(obligation);
  ask.set_period("2026-Q3");
  ask.set_until("2026-12-10");
  ask.set_reason("Thiếu cán bộ");

  // Only the obliged unit asks, for a period of the cadence, past the due date.
  EXPECT_THAT(province_->AskExtension(ask), StatusIs(absl::StatusCode::kFailedPrecondition))
      << "the issuer does not ask itself";
  v1::ExtensionAskRequest monthly = ask;
  monthly.set_period("2026-09");
  auto wrong_period = communes_[0]->AskExtension(monthly);
  EXPECT_THAT(wrong_period, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(wrong_period.status().message()), ::testing::HasSubstr("BAD_EXTENSION"));
  v1::ExtensionAskRequest early = ask;
  early.set_until("2026-10-20");
  EXPECT_THAT(communes_[0]->AskExtension(early), StatusIs(absl::StatusCode::kFailedPrecondition));
  v1::ExtensionAskRequest no_reason = ask;
  no_reason.set_reason("");
  EXPECT_THAT(communes_[0]->AskExtension(no_reason), StatusIs(absl::StatusCode::kFailedPrecondition));
  v1::ExtensionAskRequest unknown = ask;
  unknown.set_obligation("vn/quang-ngai/o/999");
  EXPECT_THAT(communes_[0]->AskExtension(unknown), StatusIs(absl::StatusCode::kNotFound));

  auto request = communes_[0]->AskExtension(ask);
  ASSERT_THAT(request, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return Holds(*province_, request->id()); }));
  v1::ExtensionDecideRequest decide;
  decide.set_request_id(request->id());
  decide.set_state("GRANTED");
  EXPECT_THAT(communes_[0]->DecideExtension(decide), StatusIs(absl::StatusCode::kPermissionDenied))
      << "the requester does not grant itself";
  v1::ExtensionDecideRequest unknown_request = decide;
  unknown_request.set_request_id(kCommunes[0] + "/x/999");
  EXPECT_THAT(province_->DecideExtension(unknown_request), StatusIs(absl::StatusCode::kNotFound));
  v1::ExtensionDecideRequest maybe = decide;
  maybe.set_state("MAYBE");
  EXPECT_THAT(province_->DecideExtension(maybe), StatusIs(absl::StatusCode::kInvalidArgument));

  decide.set_state("DENIED");
  decide.set_reason("Hạn đã được thông báo từ đầu quý");
  ASSERT_THAT(province_->DecideExtension(decide), IsOk());
  ASSERT_TRUE(WaitUntil([&] {
    auto listed = communes_[0]->ListExtensions();
    return listed.ok() && listed->extensions_size() == 1 && listed->extensions(0).status() == "DENIED";
  }));
  EXPECT_EQ(communes_[0]->ListExtensions()->extensions(0).applies(), "2026-10-20");
  EXPECT_EQ(province_->ListOverdue()->overdue_size(), 3) << "a denied extension moves nothing";
  v1::ListFilter granted_only;
  granted_only.set_status("GRANTED");
  EXPECT_EQ(province_->ListExtensions(granted_only)->extensions_size(), 0);
}

// Issue 12 item 2 (DOMAIN-MODEL §7): the top node's calendar reaches every
// node and replaces the shipped default of its year; deadlines follow it.
TEST_F(CommitteeWorkTest, TheTopNodesCalendarReachesEveryCommuneAndMovesDeadlines) {
  v1::CalendarSetRequest set;
  set.set_year(2026);
  // The defaults of 2026, and Monday 30 November off (a made-up holiday).
  for (const char* d : {"2026-01-01", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",
                        "2026-04-27", "2026-04-30", "2026-05-01", "2026-09-01", "2026-09-02", "2026-11-30"}) {
    set.add_holidays(d);
  }
  set.set_basis("Thông báo nghỉ lễ (giả định)");
  v1::CalendarSetRequest from_commune = set;
  EXPECT_THAT(communes_[0]->SetCalendar(from_commune), StatusIs(absl::StatusCode::kFailedPrecondition))
      << "a node with a parent follows the top's calendar";
  v1::CalendarSetRequest saturday = set;
  saturday.add_holidays("2026-11-28");
  EXPECT_THAT(province_->SetCalendar(saturday), StatusIs(absl::StatusCode::kInvalidArgument));
  auto written = province_->SetCalendar(set);
  ASSERT_THAT(written, IsOk());
  EXPECT_EQ(written->id(), "vn/quang-ngai/calendar/2026");
  for (auto& c : communes_) {
    ASSERT_TRUE(WaitUntil([&] { return c->ShowCalendar(2026)->source() == written->id(); }));
  }
  auto shown = communes_[1]->ShowCalendar(2026);
  ASSERT_THAT(shown, IsOk());
  EXPECT_EQ(shown->holidays_size(), 12);
  EXPECT_EQ(shown->basis(), "Thông báo nghỉ lễ (giả định)");
  EXPECT_EQ(communes_[1]->ShowCalendar(2027)->source(), "shipped default");
  EXPECT_EQ(communes_[1]->ShowCalendar(2030)->source(), "weekends only");

  // Issued Friday 27 November: acknowledgements are due on the next working
  // day, now Tuesday 1 December.
  v1::IssueDirectiveRequest d;
  d.set_title("Kế hoạch chuyển đổi số 2027");
  ASSERT_THAT(province_->IssueDirective(d), IsOk());
  clock_.Advance(4 * kDay);  // Tuesday 1 December
  EXPECT_EQ(province_->ListOverdue()->overdue_size(), 0) << "due today under the calendar in force";
  clock_.Advance(kDay);
  auto overdue = province_->ListOverdue();
  ASSERT_THAT(overdue, IsOk());
  ASSERT_EQ(overdue->overdue_size(), 3);
  EXPECT_EQ(overdue->overdue(0).due(), "2026-12-01");
}

// Issue 12 item 8: lists people can use.
TEST_F(CommitteeWorkTest, ListsComeInNaturalIdOrderAndFilterBySinceStatusFromAndLimit) {
  clock_.Advance(3 * kDay);  // Monday 30 November
  v1::AssignTaskRequest assign;
  assign.set_title("Rà soát thủ tục");
  assign.set_due("2026-12-15");
  std::vector<std::string> ids;
  for (int i = 0; i < 11; ++i) {
    assign.set_to(kCommunes[i % 3]);
    if (i == 10) clock_.Advance(kDay);  // the last one assigned on 1 December
    auto t = province_->AssignTask(assign);
    ASSERT_THAT(t, IsOk());
    ids.push_back(t->id());
  }
  auto all = province_->ListTasks();
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->tasks_size(), 11);
  for (int i = 0; i < 11; ++i) EXPECT_EQ(all->tasks(i).id(), ids[i]) << "natural order: t/9 before t/10";
  EXPECT_EQ(all->tasks(0).assigned(), "2026-11-30");
  EXPECT_EQ(all->tasks(0).assigner(), kProvince);

  v1::ListFilter since;
  since.set_since("2026-12-01");
  ASSERT_EQ(province_->ListTasks(since)->tasks_size(), 1);
  EXPECT_EQ(province_->ListTasks(since)->tasks(0).id(), ids[10]);
  v1::ListFilter limit;
  limit.set_limit(2);
  ASSERT_EQ(province_->ListTasks(limit)->tasks_size(), 2);
  EXPECT_EQ(province_->ListTasks(limit)->tasks(1).id(), ids[10]) << "the newest";
  v1::ListFilter status;
  status.set_status("DONE");
  EXPECT_EQ(province_->ListTasks(status)->tasks_size(), 0);
  v1::ListFilter from;
  from.set_from(kCommunes[0]);
  EXPECT_EQ(province_->ListTasks(from)->tasks_size(), 0) << "all assigned by the province";
  from.set_from(kProvince);
  EXPECT_EQ(province_->ListTasks(from)->tasks_size(), 11);

  // Obligations and reports carry their dates and addressees too.
  const std::string obligation = Quarterly("2026-07-01");
  auto obligations = province_->ListObligations(since);
  ASSERT_THAT(obligations, IsOk());
  ASSERT_EQ(obligations->obligations_size(), 1);
  EXPECT_EQ(obligations->obligations(0).issued(), "2026-12-01");
  ASSERT_TRUE(WaitUntil([&] { return Holds(*communes_[0], obligation); }));
  auto report = File(*communes_[0], obligation, "2026-Q3");
  ASSERT_THAT(report, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return Holds(*province_, *report); }));
  v1::ListReportsRequest reports;
  reports.set_since("2026-12-01");
  auto listed = province_->ListReports(reports);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->reports_size(), 1);
  EXPECT_EQ(listed->reports(0).date(), "2026-12-01");
  EXPECT_EQ(listed->reports(0).to(), kProvince);
  reports.set_since("2026-12-02");
  EXPECT_EQ(province_->ListReports(reports)->reports_size(), 0);
}


// Issue 12 item 4, DOMAIN-MODEL §1.12 and §4 "Tasks to Members": the Head
// (P 3.1) or a Deputy (P 5.2, 7.7) assigns a task to one member of the
// committee; it stays on the node; only that member reports on it; the
// assigner's side accepts it.
TEST_F(CommitteeWorkTest, ATaskToAMemberStaysOnItsNodeAndOnlyThatMemberReportsOnIt) {
  auto member = [&](const std::string& person, const std::string& role) {
    const v1::AddMemberRequest r = steersync::testing::MemberSince2026(person, role);
    auto w = province_->AddMember(r);
    EXPECT_THAT(w, IsOk());
    return w.ok() ? w->id() : "";
  };
  member("chu-tich", "HEAD");
  member("so-khcn", "STANDING_AGENCY");
  const std::string so_tc = member("so-tai-chinh", "MEMBER");

  v1::AssignTaskRequest assign;
  assign.set_member(so_tc);
  assign.set_title("Bố trí kinh phí chuyển đổi số 2027");
  assign.set_due("2026-12-15");
  assign.mutable_act()->set_role("STANDING_AGENCY");
  auto refused = province_->AssignTask(assign);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("POWER_DENIED"))
      << "the Standing Agency tasks the Team (P 6.6), not members";
  assign.mutable_act()->set_role("HEAD");
  v1::AssignTaskRequest unknown = assign;
  unknown.set_member(std::string(kProvince) + "/m/99");
  EXPECT_THAT(province_->AssignTask(unknown), StatusIs(absl::StatusCode::kNotFound));
  v1::AssignTaskRequest both = assign;
  both.set_to(kCommunes[0]);
  EXPECT_THAT(province_->AssignTask(both), StatusIs(absl::StatusCode::kInvalidArgument));
  auto task = province_->AssignTask(assign);
  ASSERT_THAT(task, IsOk());

  auto state = [&](const std::string& id) -> std::string {
    auto tasks = province_->ListTasks();
    if (!tasks.ok()) return "";
    for (const auto& t : tasks->tasks()) {
      if (t.id() == id) return t.member() + " " + t.state() + " " + std::to_string(t.progress());
    }
    return "";
  };
  EXPECT_EQ(state(task->id()), so_tc + " OPEN 0");
  v1::SetTaskStatusRequest update;
  update.set_task_id(task->id());
  update.set_state("OPEN");
  update.set_progress(50);
  update.mutable_act()->set_role("HEAD");
  auto not_the_member = province_->SetTaskStatus(update);
  EXPECT_THAT(not_the_member, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(not_the_member.status().message()), ::testing::HasSubstr("only that member"));
  update.clear_act();  // the member, in their own membership
  ASSERT_THAT(province_->SetTaskStatus(update), IsOk());
  EXPECT_EQ(state(task->id()), so_tc + " OPEN 50");
  update.set_state("DONE");
  ASSERT_THAT(province_->SetTaskStatus(update), IsOk());
  v1::SetTaskStatusRequest accept;
  accept.set_task_id(task->id());
  accept.set_state("ACCEPTED");
  accept.mutable_act()->set_role("HEAD");
  ASSERT_THAT(province_->SetTaskStatus(accept), IsOk());
  EXPECT_EQ(state(task->id()), so_tc + " ACCEPTED 100") << "accepted work is whole";

  // A directive issued after it reaches every commune; the task never does.
  v1::IssueDirectiveRequest d;
  d.set_title("Thông báo");
  d.mutable_act()->set_role("HEAD");
  auto issued = province_->IssueDirective(d);
  ASSERT_THAT(issued, IsOk());
  for (auto& c : communes_) {
    ASSERT_TRUE(WaitUntil([&] { return Holds(*c, *issued); }));
    EXPECT_FALSE(Holds(*c, task->id())) << "a member's task stays on its node";
  }
}

}  // namespace
}  // namespace steersync::node
