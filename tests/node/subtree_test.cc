// The subtree view (issue 12 item 7; DOMAIN-MODEL §2 "node health, lag:
// summary up"; P 6.1 "monitor and urge"): each node's status record flows
// up to every ancestor, so the national node sees every commune, a
// registered commune that never connected included; BEHIND counts records
// addressed to the unit, not log entries; the view survives a restart;
// only the newest status stays in the change log. Real nodes over mTLS and
// LMDB, one clock the test sets.
#include <string>
#include <vector>

#include "node/domain/unit_status.h"
#include "node/node.h"
#include "node/subtree.h"
#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::IsOk;
using steersync::testing::ManualClock;
using steersync::testing::TempDir;
using steersync::testing::WaitUntil;

constexpr char kNational[] = "vn";
constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kBinhSon[] = "vn/quang-ngai/binh-son";
constexpr char kLySon[] = "vn/quang-ngai/ly-son";
// Registered with `unit add`, never started.
constexpr char kSonTinh[] = "vn/quang-ngai/son-tinh";

class SubtreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    national_ = Start(kNational, "");
    province_ = Start(kProvince, Address(*national_));
    binh_son_ = Start(kBinhSon, Address(*province_));
    ly_son_ = Start(kLySon, Address(*province_));
    for (const char* unit : {kBinhSon, kLySon, kSonTinh}) {
      v1::AddUnitRequest add;
      add.set_unit(unit);
      add.set_name(unit);
      ASSERT_THAT(province_->AddUnit(add), IsOk());
    }
  }

  static std::string Address(const Node& n) { return "127.0.0.1:" + std::to_string(n.sync_port()); }

  std::unique_ptr<Node> Start(const std::string& id, const std::string& parent) {
    auto n = steersync::testing::InProcessNodeOptions(dir_, id, parent);
    n.runtime.clock = &clock_;
    n.options.status_interval_seconds = 1;
    n.runtime.write_status = true;
    return steersync::testing::StartInProcessNode(std::move(n));
  }

  // The row of `unit` in `node`'s subtree view; nullopt when not listed.
  static std::optional<v1::SubtreeUnit> Row(const Node& node, const std::string& unit) {
    auto view = node.ListSubtree();
    if (!view.ok()) return std::nullopt;
    for (const v1::SubtreeUnit& u : view->units()) {
      if (u.unit() == unit) return u;
    }
    return std::nullopt;
  }

  absl::StatusOr<std::string> Issue(const std::vector<std::string>& to, int n) {
    v1::IssueDirectiveRequest r;
    r.set_title("Công văn " + std::to_string(n));
    r.set_doc_type("CV");
    for (const std::string& u : to) r.add_to_units(u);
    return province_->IssueDirective(r);
  }

  ManualClock clock_{1'796'007'600'000'000};  // Monday 30 November 2026, 10:00 in Hà Nội
  TempDir dir_;
  std::unique_ptr<Node> national_, province_, binh_son_, ly_son_;
};

TEST_F(SubtreeTest, TheNationalNodeSeesEveryCommuneIncludingOneThatNeverConnected) {
  ASSERT_TRUE(WaitUntil([&] {
    auto b = Row(*national_, kBinhSon), l = Row(*national_, kLySon), s = Row(*national_, kSonTinh);
    return b && b->connected() && l && l->connected() && s.has_value();
  })) << national_->ListSubtree()->DebugString();
  auto view = national_->ListSubtree();
  ASSERT_THAT(view, IsOk());
  ASSERT_EQ(view->units_size(), 4) << view->DebugString();
  EXPECT_EQ(view->units(0).unit(), kProvince);
  EXPECT_TRUE(view->units(0).connected()) << "the national node's own link";
  EXPECT_GT(Row(*national_, kBinhSon)->last_seen_micros(), 0u);
  const v1::SubtreeUnit never = *Row(*national_, kSonTinh);
  EXPECT_FALSE(never.connected());
  EXPECT_EQ(never.last_seen_micros(), 0u);
}

TEST_F(SubtreeTest, BehindCountsTheRecordsAddressedToTheUnitNotTheLogEntries) {
  // Two directives for the commune that never connected, one for all; and
  // reports flowing up from Lý Sơn, which are no one else's to receive.
  ASSERT_THAT(Issue({kSonTinh}, 1), IsOk());
  ASSERT_THAT(Issue({kSonTinh}, 2), IsOk());
  auto to_all = Issue({}, 3);
  ASSERT_THAT(to_all, IsOk());
  for (int i = 0; i < 5; ++i) {
    v1::SubmitReportRequest r;
    r.set_title("Báo cáo " + std::to_string(i));
    r.set_period("2026-Q" + std::to_string(i % 4 + 1));
    ASSERT_THAT(ly_son_->SubmitReport(r), IsOk());
  }
  // Bình Sơn receives and acknowledges its one directive; then it is behind
  // on nothing, however long the province's log.
  ASSERT_TRUE(WaitUntil([&] { return binh_son_->store().GetRecord(*to_all)->has_value(); }));
  ASSERT_THAT(binh_son_->AckDirective(*to_all), IsOk());
  auto row = [&](const Node& n, const char* unit) { return Row(n, unit).value_or(v1::SubtreeUnit()); };
  ASSERT_TRUE(WaitUntil([&] {
    const v1::PeersReply peers = province_->ListPeers();
    for (const v1::PeerInfo& p : peers.peers()) {
      if (p.peer() == kBinhSon) return p.behind() == 0 && p.acked_seq() > 0 && row(*province_, kBinhSon).unacked() == 0;
    }
    return false;
  }));
  // Sơn Tịnh has received nothing: 3 records are addressed to it (its
  // registration is the province's roster, which flows to it too).
  const uint64_t son_tinh_behind = row(*province_, kSonTinh).behind();
  EXPECT_GE(son_tinh_behind, 3u);
  EXPECT_LT(son_tinh_behind, province_->store().HeadSeq()) << "not the province's log length";
  EXPECT_EQ(row(*province_, kSonTinh).unacked(), 3u);
  EXPECT_EQ(row(*province_, kBinhSon).unacked(), 0u);
  EXPECT_EQ(row(*province_, kLySon).unacked(), 1u) << "Lý Sơn has not acknowledged the directive to all";
  // The national node shows what the province last said, figures included.
  EXPECT_TRUE(WaitUntil([&] {
    return row(*national_, kSonTinh).behind() == son_tinh_behind && row(*national_, kSonTinh).unacked() == 3 &&
           row(*national_, kBinhSon).unacked() == 0;
  })) << national_->ListSubtree()->DebugString();
}

TEST_F(SubtreeTest, TheViewSurvivesARestartAndAnOfflineCommuneStaysListed) {
  ASSERT_TRUE(WaitUntil([&] {
    auto l = Row(*national_, kLySon);
    return l && l->connected();
  }));
  ly_son_.reset();  // Lý Sơn goes offline
  ASSERT_TRUE(WaitUntil([&] {
    auto l = Row(*national_, kLySon);
    return l && !l->connected();
  }));
  const uint64_t last_seen = Row(*province_, kLySon)->last_seen_micros();
  EXPECT_GT(last_seen, 0u);
  // The province restarts: it has not heard from Lý Sơn since, yet lists it
  // with the last contact it recorded.
  province_.reset();
  province_ = Start(kProvince, Address(*national_));
  auto after = Row(*province_, kLySon);
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->connected());
  EXPECT_EQ(after->last_seen_micros(), last_seen);
  ASSERT_TRUE(Row(*province_, kSonTinh).has_value());
  // And the national node, restarted too, from its store alone.
  province_.reset();
  binh_son_.reset();
  national_.reset();
  national_ = Start(kNational, "");
  auto view = national_->ListSubtree();
  ASSERT_THAT(view, IsOk());
  EXPECT_EQ(view->units_size(), 4) << view->DebugString();
  EXPECT_EQ(Row(*national_, kLySon)->last_seen_micros(), last_seen);
}

// Each row says when what it shows was made: the national node's own link
// to the province now; the communes as of the province's last status record
// (which a quiet province rewrites only every heartbeat), so a stale row is
// visible as such.
TEST_F(SubtreeTest, EachRowSaysAsOfWhenItsStatusWasMade) {
  ASSERT_TRUE(WaitUntil([&] {
    auto l = Row(*national_, kLySon), s = Row(*national_, kSonTinh);
    return l && l->connected() && s && s->as_of_micros() > 0;
  })) << national_->ListSubtree()->DebugString();
  // The province goes quiet: its last status stays the national node's word
  // on the communes.
  province_.reset();
  auto status = national_->store().GetRecord(std::string(kProvince) + "/status");
  ASSERT_THAT(status, IsOk());
  ASSERT_TRUE(status->has_value());
  v1::RecordBody body;
  ASSERT_TRUE(body.ParseFromString((*status)->body()));
  const uint64_t made = body.version().hlc().wall_micros();
  auto view = national_->ListSubtree();
  ASSERT_THAT(view, IsOk());
  for (const v1::SubtreeUnit& u : view->units()) {
    if (u.unit() == kProvince) {
      EXPECT_EQ(u.as_of_micros(), static_cast<uint64_t>(clock_.NowMicros())) << "its own link: now";
    } else {
      EXPECT_EQ(u.as_of_micros(), made) << u.unit() << ": as of the province's status";
    }
  }
  // An hour later the communes' rows still say when the province last told.
  clock_.Advance(3'600'000'000LL);
  EXPECT_EQ(Row(*national_, kBinhSon)->as_of_micros(), made);
  EXPECT_EQ(Row(*national_, kProvince)->as_of_micros(), static_cast<uint64_t>(clock_.NowMicros()));
}

// A status record carries at most 256 overdue entries (its counts per unit
// stay exact). Above it, `overdue` lists those it carries and says, per
// unit, how many more there are and which node lists them all: the cut is
// never silent. Lý Sơn owes a monthly report since January 2000 (322
// periods due by 30 November 2026) and filed none.
TEST_F(SubtreeTest, OverdueSaysHowManyEntriesAStatusCutAndWhereTheyAreListed) {
  v1::AddObligationRequest add;
  add.set_title("Báo cáo tháng");
  add.set_every("monthly");
  add.set_due_day(20);
  add.set_from("2000-01-01");
  add.add_to(kLySon);
  ASSERT_THAT(province_->AddObligation(add), IsOk());
  auto at_province = province_->ListOverdue();
  ASSERT_THAT(at_province, IsOk());
  const int all = at_province->overdue_size();
  ASSERT_GT(all, domain::kMaxStatusOverdue);
  EXPECT_EQ(at_province->not_listed_size(), 0) << "the province lists its own view whole";

  absl::StatusOr<v1::ListOverdueReply> at_national;
  ASSERT_TRUE(WaitUntil([&] {
    at_national = national_->ListOverdue();
    return at_national.ok() && at_national->not_listed_size() == 1;
  }));
  EXPECT_EQ(at_national->overdue_size(), domain::kMaxStatusOverdue);
  const v1::OverdueNotListed& cut = at_national->not_listed(0);
  EXPECT_EQ(cut.unit(), kLySon);
  EXPECT_EQ(cut.count(), static_cast<uint32_t>(all - domain::kMaxStatusOverdue));
  EXPECT_EQ(cut.listed_by(), kProvince);
  EXPECT_EQ(Row(*national_, kLySon)->overdue(), static_cast<uint32_t>(all)) << "the count is exact";
}

TEST_F(SubtreeTest, OnlyTheNewestStatusOfAUnitStaysInTheChangeLog) {
  const std::string id = std::string(kBinhSon) + "/status";
  auto counter = [&](const Node& n) -> uint64_t {
    auto r = n.store().GetRecord(id);
    v1::RecordBody b;
    if (!r.ok() || !r->has_value() || !b.ParseFromString((*r)->body())) return 0;
    for (const auto& e : b.version().vector()) {
      if (e.node_id() == kBinhSon) return e.counter();
    }
    return 0;
  };
  ASSERT_TRUE(WaitUntil([&] { return counter(*national_) > 0; }));
  const uint64_t first = counter(*national_);
  // Nothing changes, but the heartbeat (10 minutes by default) is due: a
  // new version, relayed to the top, replacing the last one in every log.
  clock_.Advance(11 * 60'000'000LL);
  ASSERT_TRUE(WaitUntil([&] { return counter(*national_) > first; }));
  for (const Node* n : {binh_son_.get(), province_.get(), national_.get()}) {
    size_t entries = 0;
    auto log = n->store().ReadLog(0, 100'000, 256 << 20);
    ASSERT_THAT(log, IsOk());
    for (const sync::LogEntry& e : *log) {
      v1::RecordBody b;
      if (b.ParseFromString(e.record.body()) && b.id() == id) ++entries;
    }
    EXPECT_EQ(entries, 1u) << n->options().id;
  }
}

}  // namespace
}  // namespace steersync::node
