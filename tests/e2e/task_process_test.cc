// Process level, a task across the link (issue 12 item 4): the real
// steersyncd and steerctl binaries, a province and one of its communes.
// The province assigns work with a deadline to the commune (P 6.6: the
// Standing Agency tasks; P 3.1, 5.2: the Head and Deputies assign; C 4.5,
// 5.2: the commune's side carries it out); the commune reports progress and
// DONE; the province accepts it or returns it for more work. DOMAIN-MODEL §4:
// "Task status updates: Assignee"; "Task closure: Assigner, or a higher
// rank", so the commune cannot accept its own task. Every step is seen on
// the other side through `steerctl task list --json`.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/testutil/daemons.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/subprocess.h"

namespace steersync {
namespace {

using json = nlohmann::json;
using testing::Daemon;
using testing::DaemonSpec;
using testing::Finished;
using testing::PickFreePort;
using testing::TempDir;
using testing::WaitUntil;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/ly-son";

class TaskProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int province_port = PickFreePort();
    province_ = std::make_unique<Daemon>(dir_, DaemonSpec{kProvince, "province", province_port, 0});
    commune_ = std::make_unique<Daemon>(dir_, DaemonSpec{kCommune, "commune", 0, province_port});
    province_->Start();
    commune_->Start();
    ASSERT_TRUE(province_->WaitServing()) << province_->ReadLog();
    ASSERT_TRUE(commune_->WaitServing()) << commune_->ReadLog();
  }

  Finished Run(const Daemon& node, std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    return testing::Steerctl(dir_, node, args);
  }

  // An act that must succeed; its JSON reply.
  json Act(const Daemon& node, std::vector<std::string> args) {
    const Finished r = Run(node, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }

  // `task list --json` on `node`: the row of task `id` (null while absent).
  json TaskRow(const Daemon& node, const std::string& id) {
    const Finished r = Run(node, {"task", "list"});
    if (r.exit_code != 0) return json();
    const json rows = json::parse(r.out, nullptr, false);
    if (!rows.is_array()) return json();
    for (const json& row : rows) {
      if (row.value("id", "") == id) return row;
    }
    return json();
  }

  // Waits until `node` shows task `id` in `state` with `progress`.
  ::testing::AssertionResult SeesState(const Daemon& node, const std::string& id, const std::string& state,
                                       int progress) {
    json row;
    if (WaitUntil([&] {
          row = TaskRow(node, id);
          return !row.is_null() && row["state"] == state && row["progress"] == progress;
        })) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << node.spec().id << " shows " << row.dump() << ", not " << state << " "
                                         << progress << "%";
  }

  TempDir dir_;
  std::unique_ptr<Daemon> province_, commune_;
};

TEST_F(TaskProcessTest, AssignedUpdatedDoneReturnedAndAcceptedAcrossTheLink_P6_6_C4_5) {
  // P 6.6, P 3.1, 5.2: the province assigns; the task flows down.
  const json assigned = Act(*province_, {"task", "assign", "--to", kCommune, "--title", "Số hoá hồ sơ một cửa",
                                         "--due", "2026-12-31", "--body", "Toàn bộ hồ sơ năm 2026."});
  ASSERT_TRUE(assigned.contains("id")) << assigned.dump();
  const std::string id = assigned["id"];
  EXPECT_EQ(id.rfind(std::string(kProvince) + "/t/", 0), 0u) << id;
  ASSERT_TRUE(SeesState(*commune_, id, "OPEN", 0));
  const json at_commune = TaskRow(*commune_, id);
  EXPECT_EQ(at_commune["to"], kCommune);
  EXPECT_EQ(at_commune["assigner"], kProvince);
  EXPECT_EQ(at_commune["due"], "2026-12-31");
  EXPECT_EQ(at_commune["title"], "Số hoá hồ sơ một cửa");

  // C 4.5, 5.2; §4 "Task status updates: Assignee": progress goes up.
  Act(*commune_, {"task", "update", id, "--progress", "40", "--note", "Đã số hoá 40% hồ sơ"});
  ASSERT_TRUE(SeesState(*province_, id, "OPEN", 40));
  EXPECT_EQ(TaskRow(*province_, id)["note"], "Đã số hoá 40% hồ sơ");

  // §4 "Task closure: Assigner": the commune cannot accept (nor return) its
  // own task; refused with a reason, nothing written, the province unmoved.
  for (const char* closing : {"accept", "return"}) {
    const Finished refused = Run(*commune_, {"task", closing, id});
    EXPECT_NE(refused.exit_code, 0) << closing << ": " << refused.out;
    EXPECT_NE(refused.err.find("the assignee reports progress or DONE"), std::string::npos) << refused.err;
  }
  EXPECT_TRUE(SeesState(*commune_, id, "OPEN", 40));

  // The assignee reports DONE; the assigner returns it for more work.
  Act(*commune_, {"task", "done", id});
  ASSERT_TRUE(SeesState(*province_, id, "DONE", 100));
  // Nor does the province report progress for the commune.
  const Finished not_assignee = Run(*province_, {"task", "done", id});
  EXPECT_NE(not_assignee.exit_code, 0);
  EXPECT_NE(not_assignee.err.find("the assigner accepts or returns a task"), std::string::npos) << not_assignee.err;
  Act(*province_, {"task", "return", id, "--note", "Thiếu hồ sơ quý IV"});
  // Returning work does not undo it: the progress stays what was reported.
  ASSERT_TRUE(SeesState(*commune_, id, "RETURNED", 100));
  EXPECT_EQ(TaskRow(*commune_, id)["note"], "Thiếu hồ sơ quý IV");

  // More work, DONE again, accepted: the commune sees its task closed.
  Act(*commune_, {"task", "update", id, "--progress", "90"});
  ASSERT_TRUE(SeesState(*province_, id, "OPEN", 90));
  Act(*commune_, {"task", "done", id, "--note", "Đã bổ sung"});
  ASSERT_TRUE(SeesState(*province_, id, "DONE", 100));
  Act(*province_, {"task", "accept", id});
  ASSERT_TRUE(SeesState(*commune_, id, "ACCEPTED", 100));
  EXPECT_TRUE(SeesState(*province_, id, "ACCEPTED", 100));
}

}  // namespace
}  // namespace steersync
