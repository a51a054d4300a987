// Process level, the committee's follow-up across three levels (issue 12
// items 6 and 7; P 6.1 "monitor and urge", P 12.2, C 10, Decree 09/2019
// Art. 12): the real steersyncd and steerctl binaries, a national node, a
// province and three communes, and a fourth commune registered with `unit
// add` that never connects. A quarterly obligation with due day 20; two
// communes file every period due so far and one files none: `overdue` on
// the province lists exactly that commune, once per period, and so does the
// national node, from the province's status record; `subtree` on the
// national node lists every commune, the one that never connected included.
//
// The daemons run on the machine's clock, so the obligation starts three
// quarters (with their due dates) before today: on 30 November 2026 that is
// 2026-01-01, and the periods 2026-Q1 to 2026-Q3.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "node/domain/calendar.h"
#include "node/domain/legal_date.h"
#include "node/domain/obligations.h"
#include "node/system_clock.h"
#include "tests/testutil/daemons.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/subprocess.h"

namespace steersync {
namespace {

using json = nlohmann::json;
using testing::BinaryPath;
using testing::Daemon;
using testing::DaemonSpec;
using testing::PickFreePort;
using testing::TempDir;
using testing::WaitUntil;

constexpr char kNational[] = "vn";
constexpr char kProvince[] = "vn/quang-ngai";
const std::vector<std::string> kCommunes = {"vn/quang-ngai/binh-son", "vn/quang-ngai/ly-son",
                                            "vn/quang-ngai/tinh-phong"};
constexpr char kNeverConnected[] = "vn/quang-ngai/son-tinh";

// The earliest quarter start such that exactly three quarterly periods with
// due day 20 are due before today (Asia/Ho_Chi_Minh), and those periods.
struct Quarters {
  std::string from;
  std::vector<domain::DuePeriod> due;
};
Quarters ThreeQuartersDue() {
  const std::optional<absl::CivilDay> today =
      domain::ParseDate(domain::LegalDate(node::SystemClock().NowMicros()));
  absl::CivilMonth month(*today);
  month -= (month.month() - 1) % 3;  // this quarter's first month
  for (int back = 0; back < 8; ++back, month -= 3) {
    v1::Obligation o;
    o.set_every(v1::QUARTERLY);
    o.set_due_day(20);
    o.set_from_date(domain::FormatDate(absl::CivilDay(month)));
    auto due = domain::PeriodsDueBy(o, *today - 1, domain::WorkingCalendar::Vietnam());
    if (due.size() == 3) return {o.from_date(), due};
  }
  ADD_FAILURE() << "no quarter start with three periods due";
  return {};
}

class SubtreeProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int national_port = PickFreePort(), province_port = PickFreePort();
    // Status records looked at every second (default 30 s).
    const std::string extra = "status_interval_seconds = 1\n";
    national_ = std::make_unique<Daemon>(dir_, DaemonSpec{kNational, "national", national_port, 0, "", extra});
    province_ =
        std::make_unique<Daemon>(dir_, DaemonSpec{kProvince, "province", province_port, national_port, "", extra});
    for (size_t i = 0; i < kCommunes.size(); ++i) {
      communes_.push_back(std::make_unique<Daemon>(
          dir_, DaemonSpec{kCommunes[i], "commune" + std::to_string(i), 0, province_port, "", extra}));
    }
    for (Daemon* d : All()) d->Start();
    for (Daemon* d : All()) ASSERT_TRUE(d->WaitServing()) << d->ReadLog();
  }

  std::vector<Daemon*> All() {
    std::vector<Daemon*> all{national_.get(), province_.get()};
    for (auto& c : communes_) all.push_back(c.get());
    return all;
  }

  // steerctl against `d`; its stdout parsed as JSON (null when it failed).
  json Steerctl(const Daemon& d, std::vector<std::string> args) {
    args.insert(args.begin(), {BinaryPath("cli/steerctl"), "--socket", d.socket(), "--json"});
    const testing::Finished r = testing::RunToCompletion(args, dir_.Sub("steerctl" + std::to_string(++calls_)));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out, nullptr, false) : json();
  }

  TempDir dir_;
  int calls_ = 0;
  std::unique_ptr<Daemon> national_, province_;
  std::vector<std::unique_ptr<Daemon>> communes_;
};

TEST_F(SubtreeProcessTest, OverdueOnTheProvinceAndTheNationalNodeListsTheCommuneThatFiledNothing) {
  for (const std::string& unit : {kCommunes[0], kCommunes[1], kCommunes[2], std::string(kNeverConnected)}) {
    ASSERT_FALSE(Steerctl(*province_, {"unit", "add", unit, "--name", unit}).is_null());
  }
  const Quarters quarters = ThreeQuartersDue();
  ASSERT_EQ(quarters.due.size(), 3u);
  std::vector<std::string> add{"obligation", "add", "--title", "Báo cáo kết quả chuyển đổi số",
                               "--every",    "quarterly", "--due-day", "20", "--from", quarters.from};
  for (const std::string& c : kCommunes) add.insert(add.end(), {"--to", c});
  const json added = Steerctl(*province_, add);
  ASSERT_TRUE(added.contains("id")) << added.dump();
  const std::string obligation = added["id"];

  // Bình Sơn and Lý Sơn file every period due; Tịnh Phong files none.
  for (int c = 0; c < 2; ++c) {
    ASSERT_TRUE(WaitUntil([&] {
      const json held = Steerctl(*communes_[c], {"obligation", "list"});
      return held.is_array() && held.size() == 1;
    })) << "the obligation reaches " << kCommunes[c];
    for (const domain::DuePeriod& p : quarters.due) {
      ASSERT_FALSE(Steerctl(*communes_[c], {"report", "submit", "--obligation", obligation, "--period", p.period,
                                            "--title", "Báo cáo " + p.period, "--body", "Kết quả quý"})
                       .is_null());
    }
  }

  // Exactly that commune, once per period: on the province, then on the
  // national node (from the province's status record).
  auto expect_late = [&](const json& late) {
    ASSERT_TRUE(late.is_array());
    ASSERT_EQ(late.size(), 3u) << late.dump(2);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(late[i]["unit"], kCommunes[2]);
      EXPECT_EQ(late[i]["kind"], "report");
      EXPECT_EQ(late[i]["ref"], obligation);
      EXPECT_EQ(late[i]["period"], quarters.due[i].period);
      EXPECT_EQ(late[i]["due"], domain::FormatDate(quarters.due[i].due));
      EXPECT_TRUE(late[i].contains("days_late"));
    }
  };
  json late;
  ASSERT_TRUE(WaitUntil([&] {
    late = Steerctl(*province_, {"overdue"});
    return late.is_array() && late.size() == 3;
  })) << late.dump(2);
  expect_late(late);
  json national_late;
  ASSERT_TRUE(WaitUntil([&] {
    national_late = Steerctl(*national_, {"overdue"});
    return national_late == late;
  })) << national_late.dump(2) << "\nprovince:\n" << late.dump(2);
  expect_late(national_late);

  // The national node's subtree: the province, its three communes linked,
  // and the registered commune that never connected.
  json subtree;
  auto row = [&](const std::string& unit) {
    for (const json& r : subtree) {
      if (r["unit"] == unit) return r;
    }
    return json();
  };
  ASSERT_TRUE(WaitUntil([&] {
    subtree = Steerctl(*national_, {"subtree"});
    if (!subtree.is_array() || subtree.size() != 5) return false;
    for (const std::string& c : kCommunes) {
      if (row(c).is_null() || row(c)["connected"] != true) return false;
    }
    return row(kCommunes[2])["overdue"] == 3;
  })) << subtree.dump(2);
  EXPECT_EQ(subtree[0]["unit"], kProvince);
  EXPECT_EQ(subtree[0]["connected"], true);
  const json never = row(kNeverConnected);
  ASSERT_FALSE(never.is_null()) << subtree.dump(2);
  EXPECT_EQ(never["connected"], false);
  EXPECT_TRUE(never["last_seen"].is_null());
  EXPECT_EQ(row(kCommunes[0])["overdue"], 0);
  for (const char* key : {"unit", "connected", "last_seen", "behind", "unacked", "overdue", "as_of"}) {
    EXPECT_TRUE(never.contains(key)) << key;
  }
  // Every row says when what it shows was made, in ISO-8601 UTC: the
  // province's row now (the national node's own link), the communes' as of
  // the province's last status record, which lists the one never connected.
  for (const json& r : subtree) {
    ASSERT_TRUE(r["as_of"].is_string()) << r.dump();
    EXPECT_THAT(r["as_of"].get<std::string>(),
                ::testing::MatchesRegex("20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z"));
  }
  EXPECT_EQ(never["as_of"], row(kCommunes[0])["as_of"]) << "both from the province's status";
}

}  // namespace
}  // namespace steersync
