// The change-feed session state machine, run between two in-memory logs
// with a hand-driven "network" (no threads, no gRPC).
#include "sync/session.h"

#include <map>

#include "sync/node_path.h"
#include "sync/status_macros.h"
#include "tests/testutil/fixtures.h"

namespace steersync::sync {
namespace {

using steersync::testing::IsOk;
using steersync::testing::StatusIs;

// An in-memory change log plus the checkpoints of applied peers' logs.
class MemLog : public LogReader {
 public:
  uint64_t HeadSeq() const override { return entries_.size(); }
  absl::StatusOr<std::vector<LogEntry>> ReadLog(uint64_t after, size_t max_entries,
                                                size_t max_bytes) const override {
    ++reads;
    std::vector<LogEntry> out;
    size_t bytes = 0;
    for (uint64_t s = after + 1; s <= entries_.size() && out.size() < max_entries && bytes < max_bytes; ++s) {
      out.push_back({s, entries_[s - 1]});
      bytes += entries_[s - 1].ByteSizeLong();
    }
    return out;
  }
  absl::StatusOr<uint64_t> AppliedSeq(std::string_view peer) const override {
    auto it = checkpoints.find(std::string(peer));
    return it == checkpoints.end() ? 0 : it->second;
  }
  void Append(const v1::Record& r) { entries_.push_back(r); }

  std::map<std::string, uint64_t> checkpoints;
  mutable int reads = 0;

 private:
  std::vector<v1::Record> entries_;
};

v1::Record Directive(const std::string& issuer, int n, std::vector<std::string> to = {}) {
  v1::RecordBody b;
  b.set_id(issuer + "/d/" + std::to_string(n));
  b.set_kind(v1::DIRECTIVE);
  b.mutable_version()->set_writer(issuer);
  b.mutable_audience()->set_direction(v1::Audience::DOWN);
  b.mutable_audience()->set_root(issuer);
  for (auto& u : to) b.mutable_audience()->add_units(u);
  v1::Record r;
  r.set_body(b.SerializeAsString());
  return r;
}

v1::Record Report(const std::string& from, int n) {
  v1::RecordBody b;
  b.set_id(from + "/r/" + std::to_string(n));
  b.set_kind(v1::REPORT);
  b.mutable_version()->set_writer(from);
  b.mutable_audience()->set_direction(v1::Audience::UP);
  b.mutable_audience()->set_root(ParentOf(from));
  v1::Record r;
  r.set_body(b.SerializeAsString());
  return r;
}

v1::SyncMessage HelloFromTinhPhong() {
  v1::SyncMessage hello;
  hello.mutable_hello()->set_node_id("vn/quang-ngai/tinh-phong");
  hello.mutable_hello()->set_protocol_version(kProtocolVersion);
  return hello;
}

// Two sessions and what each side applied; Pump() delivers until quiet.
class SessionPair {
 public:
  SessionPair(MemLog& parent_log, MemLog& child_log, SessionOptions base = {})
      : parent_log_(parent_log), child_log_(child_log) {
    SessionOptions p = base, c = base;
    p.self_id = c.peer_id = kParent;
    p.peer_id = c.self_id = kChild;
    parent_ = std::make_unique<Session>(p, parent_log);
    child_ = std::make_unique<Session>(c, child_log);
    parent_->Start(parent_log.checkpoints[kChild]);
    child_->Start(child_log.checkpoints[kParent]);
  }

  // Delivers messages both ways and "applies" batches durably, until quiet.
  // `crash_child_after` stops delivering to the child after that many batches.
  absl::Status Pump(int crash_child_after = -1) {
    for (;;) {
      bool progress = false;
      for (auto& m : parent_->TakeOutgoing()) {
        if (m.has_batch() && crash_child_after >= 0 && batches_to_child_ >= crash_child_after) {
          return absl::OkStatus();
        }
        if (m.has_batch()) ++batches_to_child_;
        SYNC_RETURN_IF_ERROR(child_->OnMessage(m));
        progress = true;
      }
      for (auto& m : child_->TakeOutgoing()) {
        SYNC_RETURN_IF_ERROR(parent_->OnMessage(m));
        progress = true;
      }
      progress |= Apply(*child_, child_applied, child_log_, kParent);
      progress |= Apply(*parent_, parent_applied, parent_log_, kChild);
      if (!progress) return absl::OkStatus();
    }
  }

  Session& parent() { return *parent_; }
  Session& child() { return *child_; }
  std::vector<std::string> child_applied, parent_applied;

  static constexpr char kParent[] = "vn/quang-ngai";
  static constexpr char kChild[] = "vn/quang-ngai/tinh-phong";

 private:
  bool Apply(Session& s, std::vector<std::string>& applied, MemLog& log, const char* peer) {
    bool any = false;
    for (auto& req : s.TakeApplyRequests()) {
      for (auto& r : req.records) {
        v1::RecordBody b;
        b.ParseFromString(r.body());
        applied.push_back(b.id());
      }
      log.checkpoints[peer] = req.last_seq;  // "durable" with the records
      s.OnApplied(req.last_seq);
      any = true;
    }
    return any;
  }

  MemLog& parent_log_;
  MemLog& child_log_;
  std::unique_ptr<Session> parent_, child_;
  int batches_to_child_ = 0;
};

TEST(SessionTest, CatchUpDeliversEveryAddressedRecordOnceInOrder) {
  MemLog province, commune;
  for (int i = 1; i <= 2500; ++i) province.Append(Directive("vn/quang-ngai", i));
  SessionPair link(province, commune, SessionOptions{.max_batch_records = 100, .window = 3});
  ASSERT_THAT(link.Pump(), IsOk());
  ASSERT_EQ(link.child_applied.size(), 2500u);
  EXPECT_EQ(link.child_applied.front(), "vn/quang-ngai/d/1");
  EXPECT_EQ(link.child_applied.back(), "vn/quang-ngai/d/2500");
  EXPECT_EQ(link.parent().acked_seq(), 2500u);
  EXPECT_EQ(commune.checkpoints[SessionPair::kParent], 2500u);
}

TEST(SessionTest, WindowBoundsUnacknowledgedBatches) {
  MemLog province, commune;
  for (int i = 1; i <= 1000; ++i) province.Append(Directive("vn/quang-ngai", i));
  SessionOptions o{.max_batch_records = 10, .window = 4};
  o.self_id = "vn/quang-ngai";
  o.peer_id = "vn/quang-ngai/tinh-phong";
  Session s(o, province);
  s.Start(0);
  ASSERT_THAT(s.OnMessage(HelloFromTinhPhong()), IsOk());
  int batches = 0;
  for (auto& m : s.TakeOutgoing()) batches += m.has_batch();
  EXPECT_EQ(batches, 4);  // no ack yet: the window is full
  EXPECT_EQ(s.sent_seq(), 40u);
}

TEST(SessionTest, ResumesFromTheCheckpointAfterAReconnect) {
  MemLog province, commune;
  for (int i = 1; i <= 500; ++i) province.Append(Directive("vn/quang-ngai", i));
  {
    SessionPair first(province, commune, SessionOptions{.max_batch_records = 50, .window = 1});
    ASSERT_THAT(first.Pump(/*crash_child_after=*/4), IsOk());  // connection dies mid catch-up
    ASSERT_EQ(first.child_applied.size(), 200u);
  }
  SessionPair second(province, commune, SessionOptions{.max_batch_records = 50, .window = 1});
  ASSERT_THAT(second.Pump(), IsOk());
  // Only what was missing is sent again: nothing lost, nothing twice.
  ASSERT_EQ(second.child_applied.size(), 300u);
  EXPECT_EQ(second.child_applied.front(), "vn/quang-ngai/d/201");
}

// The province's store was replaced (restored from an older backup, or a new
// disk): the commune's checkpoint of it (50) is past its new log's head (5).
// The province resends its log from the start and the commune must take it,
// not refuse it as a repeat on every reconnect.
TEST(SessionTest, TakesAReplacedPeerLogFromTheStart) {
  MemLog province, commune;
  for (int i = 1; i <= 5; ++i) province.Append(Directive("vn/quang-ngai", i));
  commune.checkpoints[SessionPair::kParent] = 50;
  SessionPair link(province, commune, SessionOptions{.max_batch_records = 2, .window = 2});
  ASSERT_THAT(link.Pump(), IsOk());
  ASSERT_EQ(link.child_applied.size(), 5u);
  EXPECT_EQ(link.child_applied.front(), "vn/quang-ngai/d/1");
  EXPECT_EQ(link.parent().acked_seq(), 5u);
  EXPECT_EQ(link.child().applied_seq(), 5u);
  EXPECT_EQ(commune.checkpoints[SessionPair::kParent], 5u);
}

TEST(SessionTest, RecordsNotAddressedToThePeerAdvanceItWithoutAWrite) {
  MemLog province, commune;
  for (int i = 1; i <= 30; ++i) {
    province.Append(Directive("vn/quang-ngai", i, {i % 3 == 0 ? "vn/quang-ngai/tinh-phong"
                                                                : "vn/quang-ngai/ly-son"}));
  }
  SessionPair link(province, commune);
  ASSERT_THAT(link.Pump(), IsOk());
  EXPECT_EQ(link.child_applied.size(), 10u);
  EXPECT_EQ(link.parent().acked_seq(), 30u);  // the peer is not "behind"
}

// Issue 13 item 4 (fan-out): a province's log grows with every report of
// every commune; a range with nothing for one commune costs it no message
// until the idle flush, or until the next record for it carries the range.
TEST(SessionTest, ARangeWithNothingForThePeerWaitsForTheNextBatchOrTheIdleFlush) {
  MemLog province;
  for (int i = 1; i <= 5; ++i) province.Append(Report("vn/quang-ngai/ly-son", i));
  SessionOptions o{.max_scan_entries = 8};
  o.self_id = "vn/quang-ngai";
  o.peer_id = "vn/quang-ngai/tinh-phong";
  Session s(o, province);
  s.Start(0);
  ASSERT_THAT(s.OnMessage(HelloFromTinhPhong()), IsOk());
  auto batches = [&] {
    std::vector<v1::Batch> out;
    for (auto& m : s.TakeOutgoing()) {
      if (m.has_batch()) out.push_back(m.batch());
    }
    return out;
  };
  EXPECT_TRUE(batches().empty()) << "five reports of another commune: nothing sent";
  province.Append(Directive("vn/quang-ngai", 1, {"vn/quang-ngai/tinh-phong"}));
  ASSERT_THAT(s.OnLocalAppend(), IsOk());
  std::vector<v1::Batch> sent = batches();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].after_seq(), 0u) << "the kept-back range goes with the record";
  EXPECT_EQ(sent[0].last_seq(), 6u);
  EXPECT_EQ(sent[0].records_size(), 1);
  for (int i = 6; i <= 8; ++i) province.Append(Report("vn/quang-ngai/ly-son", i));
  ASSERT_THAT(s.OnLocalAppend(), IsOk());
  EXPECT_TRUE(batches().empty());
  ASSERT_THAT(s.FlushIdle(), IsOk());
  sent = batches();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].after_seq(), 6u);
  EXPECT_EQ(sent[0].last_seq(), 9u);
  EXPECT_EQ(sent[0].records_size(), 0);
  ASSERT_THAT(s.FlushIdle(), IsOk());
  EXPECT_TRUE(batches().empty()) << "nothing kept back: nothing to flush";
  // A long stretch is not kept back past max_scan_entries.
  for (int i = 9; i <= 30; ++i) province.Append(Report("vn/quang-ngai/ly-son", i));
  ASSERT_THAT(s.OnLocalAppend(), IsOk());
  sent = batches();
  ASSERT_FALSE(sent.empty());
  EXPECT_GE(sent[0].last_seq() - sent[0].after_seq(), 8u);
}

TEST(SessionTest, BothDirectionsFlowOnOneLinkWithoutEchoes) {
  MemLog province, commune;
  province.Append(Directive("vn/quang-ngai", 1));
  commune.Append(Report("vn/quang-ngai/tinh-phong", 1));
  SessionPair link(province, commune);
  ASSERT_THAT(link.Pump(), IsOk());
  EXPECT_EQ(link.child_applied, std::vector<std::string>{"vn/quang-ngai/d/1"});
  EXPECT_EQ(link.parent_applied, std::vector<std::string>{"vn/quang-ngai/tinh-phong/r/1"});
  // The province stored the report; it must not send it back down.
  province.Append(Report("vn/quang-ngai/tinh-phong", 1));
  ASSERT_THAT(link.parent().OnLocalAppend(), IsOk());
  ASSERT_THAT(link.Pump(), IsOk());
  EXPECT_EQ(link.child_applied.size(), 1u);
}

TEST(SessionTest, ProtocolViolationsAreErrors) {
  MemLog log;
  SessionOptions o;
  o.self_id = "vn/quang-ngai";
  o.peer_id = "vn/quang-ngai/tinh-phong";
  Session s(o, log);
  s.Start(0);
  v1::SyncMessage batch;
  batch.mutable_batch()->set_last_seq(5);
  EXPECT_THAT(s.OnMessage(batch), StatusIs(absl::StatusCode::kInvalidArgument));

  v1::SyncMessage impostor;
  impostor.mutable_hello()->set_node_id("vn/quang-ngai/binh-son");
  impostor.mutable_hello()->set_protocol_version(kProtocolVersion);
  EXPECT_THAT(s.OnMessage(impostor), StatusIs(absl::StatusCode::kPermissionDenied));

  v1::SyncMessage hello;
  hello.mutable_hello()->set_node_id("vn/quang-ngai/tinh-phong");
  hello.mutable_hello()->set_protocol_version(kProtocolVersion);
  ASSERT_THAT(s.OnMessage(hello), IsOk());
  v1::SyncMessage gap;
  gap.mutable_batch()->set_after_seq(10);
  gap.mutable_batch()->set_last_seq(20);
  EXPECT_THAT(s.OnMessage(gap), StatusIs(absl::StatusCode::kInvalidArgument));
  v1::SyncMessage ack;
  ack.mutable_ack()->set_applied_seq(99);
  EXPECT_THAT(s.OnMessage(ack), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(s.OnMessage(v1::SyncMessage()), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace steersync::sync
