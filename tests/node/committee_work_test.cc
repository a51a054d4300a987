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
    auto node = Node::Create(std::move(n.options), n.runtime);
    EXPECT_THAT(node, IsOk());
    if (!node.ok()) return nullptr;
    EXPECT_THAT((*node)->Start(), IsOk());
    return std::move(*node);
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
  ASSERT_TRUE(WaitUntil([&] { return task_state(*communes_[0], id).rfind("ACCEPTED", 0) == 0; }));

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

}  // namespace
}  // namespace steersync::node
