// Hostile input on a live link (issue: security catalogue). A fake commune
// with a valid certificate speaks the Sync protocol directly to a real
// province node and sends versions it must not be able to get admitted.
// Each refused version is quarantined with a reason, counted, reported back
// to the sender, and valid versions in the same batch still go through.
#include <functional>
#include <optional>
#include <thread>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "node/attachments.h"
#include "node/identity.h"
#include "node/node.h"
#include "node/tls.h"
#include "steersync/v1/sync.grpc.pb.h"
#include "node/domain/roster.h"
#include "sync/attachments.h"
#include "sync/sequence_head.h"
#include "sync/signed_log.h"
#include "sync/session.h"
#include "sync/version_vector.h"
#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::CertDir;
using steersync::testing::IsOk;
using steersync::testing::NodeCert;
using steersync::testing::NodeKey;
using steersync::testing::TempDir;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kTinhPhong[] = "vn/quang-ngai/tinh-phong";
constexpr char kBinhSon[] = "vn/quang-ngai/binh-son";

// Builds versions as a (possibly dishonest) commune would.
class Forger {
 public:
  v1::RecordBody Report(const std::string& writer, int n, const std::string& from_unit = "") {
    v1::Report r;
    r.set_period("2026-Q4");
    r.set_title("Báo cáo");
    r.set_from_unit(from_unit.empty() ? writer : from_unit);
    v1::RecordBody b;
    b.set_id(writer + "/r/" + std::to_string(n));
    b.set_kind(v1::REPORT);
    Stamp(b, writer, n);
    b.mutable_audience()->set_direction(v1::Audience::UP);
    b.mutable_audience()->set_root(kProvince);
    b.set_payload(r.SerializeAsString());
    return b;
  }
  v1::RecordBody Directive(const std::string& writer, int n) {
    v1::Directive d;
    d.set_number("99/CT-BCĐ");
    d.set_doc_type("CT");
    d.set_issuer(writer);
    v1::RecordBody b;
    b.set_id(writer + "/d/" + std::to_string(n));
    b.set_kind(v1::DIRECTIVE);
    Stamp(b, writer, n);
    b.mutable_audience()->set_direction(v1::Audience::DOWN);
    b.mutable_audience()->set_root(writer);
    b.set_payload(d.SerializeAsString());
    return b;
  }
  // Signs `body` with `signer_id`'s key (from the test PKI). The record
  // names the certificate by digest; FakeChild sends the certificate.
  static v1::Record Signed(const v1::RecordBody& body, const std::string& signer_id) {
    auto signer = Signer::Load(NodeCert(signer_id), NodeKey(signer_id));
    EXPECT_THAT(signer, IsOk());
    v1::Record r;
    r.set_body(body.SerializeAsString());
    EXPECT_THAT((*signer)->Sign(r), IsOk());
    KnownCertificates()[(*signer)->cert_digest()] = (*signer)->cert_der();
    return r;
  }
  // Every certificate Signed() signed with, by digest.
  static std::map<std::string, std::string>& KnownCertificates() {
    static auto* known = new std::map<std::string, std::string>;
    return *known;
  }

 private:
  static void Stamp(v1::RecordBody& b, const std::string& writer, int n) {
    b.mutable_version()->set_writer(writer);
    b.mutable_version()->mutable_hlc()->set_wall_micros(1'790'000'000'000'000 + n);
    // Honest by default: the signing day of the version's clock, and what the
    // receiver's roster (none yet) gives a clerk.
    b.mutable_version()->set_legal_date(LegalDate(b.version().hlc().wall_micros()));
    *b.mutable_version()->mutable_authority() =
        domain::Authorize(domain::Roster(), writer, {}, b.version().legal_date(),
                        domain::Act{domain::Action::kSubmitReport, ""})
            .authority;
    sync::SetCounter(*b.mutable_version()->mutable_vector(), writer, n);
  }
};

// One Sync stream from the fake commune, driven step by step.
class FakeChild {
 public:
  FakeChild(int port, const std::string& cert_id) {
    auto creds = MakeChannelCredentials({CertDir() + "/ca.crt", NodeCert(cert_id), NodeKey(cert_id)});
    EXPECT_THAT(creds, IsOk());
    stub_ = v1::Sync::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port), *creds));
    ctx_.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(30)));
    stream_ = stub_->Link(&ctx_);
  }
  // Sends our Hello and reads the parent's, which says how much of our log
  // it already holds (`applied_seq()`).
  bool Hello(const std::string& as, uint32_t protocol_version = sync::kProtocolVersion) {
    v1::SyncMessage m;
    m.mutable_hello()->set_node_id(as);
    m.mutable_hello()->set_protocol_version(protocol_version);
    m.mutable_hello()->set_attachments(true);
    if (!stream_->Write(m)) return false;
    v1::SyncMessage reply;
    while (stream_->Read(&reply)) {
      if (reply.has_hello()) {
        applied_seq_ = reply.hello().applied_seq();
        return true;
      }
    }
    return false;
  }
  uint64_t applied_seq() const { return applied_seq_; }
  bool SendRejection(const std::string& record_id) {
    v1::SyncMessage m;
    m.mutable_rejection()->set_record_id(record_id);
    m.mutable_rejection()->set_reason_code("X");
    return stream_->Write(m);
  }
  bool SendBatch(uint64_t after, uint64_t last, const std::vector<v1::Record>& records) {
    v1::SyncMessage m;
    m.mutable_batch()->set_after_seq(after);
    m.mutable_batch()->set_last_seq(last);
    for (const auto& r : records) {
      *m.mutable_batch()->add_records() = r;
      // Each signer's certificate once per stream, as a node sends it.
      auto known = Forger::KnownCertificates().find(r.signer_digest());
      if (known != Forger::KnownCertificates().end() && sent_certificates_.insert(known->first).second) {
        m.mutable_batch()->add_certificates(known->second);
      }
    }
    return stream_->Write(m);
  }
  // Reads until an Ack for `seq`, collecting Rejections. False if the stream ended.
  bool AwaitAck(uint64_t seq) {
    v1::SyncMessage m;
    while (stream_->Read(&m)) {
      if (m.has_rejection()) rejections.push_back(m.rejection());
      if (m.has_ack() && m.ack().applied_seq() >= seq) return true;
    }
    return false;
  }
  // Leaves the way a gRPC client normally does: cancels the call.
  void Cancel() { ctx_.TryCancel(); }
  bool SendChunk(const std::string& sha256, uint32_t index, const std::string& data) {
    v1::SyncMessage m;
    m.mutable_chunk()->set_sha256(sha256);
    m.mutable_chunk()->set_index(index);
    m.mutable_chunk()->set_data(data);
    return stream_->Write(m);
  }
  bool SendChunkRequest(const std::string& sha256, uint32_t index) {
    v1::SyncMessage m;
    m.mutable_chunk_request()->set_sha256(sha256);
    m.mutable_chunk_request()->set_index(index);
    return stream_->Write(m);
  }
  // Reads until a message `pred` accepts; false if the stream ended first.
  bool ReadUntil(const std::function<bool(const v1::SyncMessage&)>& pred) {
    v1::SyncMessage m;
    while (stream_->Read(&m)) {
      if (pred(m)) return true;
    }
    return false;
  }
  grpc::Status Finish() {
    stream_->WritesDone();
    v1::SyncMessage m;
    while (stream_->Read(&m)) {
    }
    return stream_->Finish();
  }
  std::vector<v1::Rejection> rejections;

 private:
  uint64_t applied_seq_ = 0;
  std::unique_ptr<v1::Sync::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SyncMessage, v1::SyncMessage>> stream_;
  std::set<std::string> sent_certificates_;  // digests this stream carried
};

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NodeOptions o;
    o.id = kProvince;
    o.data_dir = dir_.Sub("province");
    o.map_size_mb = 64;
    o.listen_address = "127.0.0.1:0";
    o.tls = {CertDir() + "/ca.crt", NodeCert(kProvince), NodeKey(kProvince)};
    NodeRuntimeOptions rt;
    rt.serve_admin = false;
    auto node = Node::Create(o, rt);
    ASSERT_THAT(node, IsOk());
    province_ = std::move(*node);
    ASSERT_THAT(province_->Start(), IsOk());
  }

  // Sends `bad` then one valid report in one batch; returns the reason code
  // the province gave for `bad`, after checking the valid one got in.
  std::string Refusal(const v1::Record& bad) {
    FakeChild child(province_->sync_port(), kTinhPhong);
    EXPECT_TRUE(child.Hello(kTinhPhong));
    const v1::Record good = Forger::Signed(forger_.Report(kTinhPhong, ++valid_), kTinhPhong);
    const uint64_t from = child.applied_seq();
    EXPECT_TRUE(child.SendBatch(from, from + 2, {bad, good}));
    EXPECT_TRUE(child.AwaitAck(from + 2)) << "the link must go on after a refused version";
    EXPECT_EQ(child.rejections.size(), 1u) << "the refusal must be reported back to the sender";
    v1::RecordBody good_body;
    good_body.ParseFromString(good.body());
    auto stored = province_->store().GetRecord(good_body.id());
    EXPECT_TRUE(stored.ok() && stored->has_value()) << "valid traffic in the same batch was lost";
    auto q = province_->ListQuarantine();
    EXPECT_THAT(q, IsOk());
    EXPECT_GT(q->entries_size(), 0);
    return child.rejections.empty() ? "" : child.rejections[0].reason_code();
  }

  TempDir dir_;
  std::unique_ptr<Node> province_;
  Forger forger_;
  int valid_ = 0;
};

TEST_F(HostileInputTest, CommuneIssuingADirectiveIsQuarantined) {
  EXPECT_EQ(Refusal(Forger::Signed(forger_.Directive(kTinhPhong, 50), kTinhPhong)), "WRONG_DIRECTION");
}

TEST_F(HostileInputTest, ReportInAnotherCommunesNameIsQuarantined) {
  // Written and signed as binh-son, relayed by tinh-phong: not its subtree.
  EXPECT_EQ(Refusal(Forger::Signed(forger_.Report(kBinhSon, 50), kBinhSon)), "FOREIGN_WRITER");
  // Written by tinh-phong but naming binh-son as the reporting unit.
  EXPECT_EQ(Refusal(Forger::Signed(forger_.Report(kTinhPhong, 51, kBinhSon), kTinhPhong)),
            "ISSUER_MISMATCH");
}

TEST_F(HostileInputTest, ForgedSignatureIsQuarantined) {
  // Claims to be tinh-phong's, signed with binh-son's key.
  EXPECT_EQ(Refusal(Forger::Signed(forger_.Report(kTinhPhong, 50), kBinhSon)), "BAD_SIGNATURE");
}

// DOMAIN-MODEL.md §5.2: a commune may not sign itself a Head's rank; the
// receiver recomputes the authority from the roster it holds.
TEST_F(HostileInputTest, ForgedAuthorityIsQuarantined) {
  v1::RecordBody report = forger_.Report(kTinhPhong, 50);
  report.mutable_version()->mutable_authority()->set_role_rank(100);
  report.mutable_version()->mutable_authority()->set_capacity("HEAD");
  EXPECT_EQ(Refusal(Forger::Signed(report, kTinhPhong)), "AUTHORITY_MISMATCH");
}

// E2 (DOMAIN-MODEL.md §6; §5.1 owner check; P 12.2): a commune user edits a
// field of the province's own record (here, the province's directive). The
// edit is not a conflict but an inadmissible write: quarantined, never merged;
// the commune's recourse is a record it owns (an extension request).
TEST_F(HostileInputTest, E2_CommuneEditingAProvinceRecordIsQuarantined) {
  v1::RecordBody edit = forger_.Report(kTinhPhong, 50);
  edit.set_id(std::string(kProvince) + "/d/1");
  const std::string code = Refusal(Forger::Signed(edit, kTinhPhong));
  EXPECT_EQ(code, "ID_NOT_OWNED");
  auto held = province_->store().GetRecord(std::string(kProvince) + "/d/1");
  ASSERT_THAT(held, IsOk());
  EXPECT_FALSE(held->has_value()) << "an inadmissible edit must never be merged";
}

// Principle 4: authority is judged on the act's legal date, which is the
// signing day of its own clock; a backdated one is refused (it could reach an
// expired delegation, E8).
TEST_F(HostileInputTest, BackdatedLegalDateIsQuarantined) {
  v1::RecordBody report = forger_.Report(kTinhPhong, 50);
  report.mutable_version()->set_legal_date("2026-06-07");
  EXPECT_EQ(Refusal(Forger::Signed(report, kTinhPhong)), "BAD_LEGAL_DATE");
}

// §5.2: a capacity the receiver's roster does not hold is refused.
TEST_F(HostileInputTest, UnknownCapacityIsQuarantined) {
  v1::RecordBody report = forger_.Report(kTinhPhong, 50);
  report.mutable_version()->mutable_authority()->set_membership_id(std::string(kTinhPhong) + "/m/999");
  EXPECT_EQ(Refusal(Forger::Signed(report, kTinhPhong)), "CAPACITY_INVALID");
}

TEST_F(HostileInputTest, PayloadAlteredAfterSigningIsQuarantined) {
  v1::Record r = Forger::Signed(forger_.Report(kTinhPhong, 50), kTinhPhong);
  v1::RecordBody body;
  body.ParseFromString(r.body());
  v1::Report report;
  report.ParseFromString(body.payload());
  report.set_title("Báo cáo đã bị sửa trên đường");  // altered on the way, still well-formed
  body.set_payload(report.SerializeAsString());
  r.set_body(body.SerializeAsString());
  EXPECT_EQ(Refusal(r), "BAD_SIGNATURE");
}

// Issue 10 item 1, issue 11: a correctly signed report stamped 3 days ahead
// is refused (CLOCK_AHEAD) and kept in quarantine; it never moves the
// province's clock, so the province's own acts keep today's legal date.
TEST_F(HostileInputTest, VersionFromAClockFarAheadNeverMovesTheParentsClock) {
  // The fixture's province runs on the system clock (as steersyncd does), so
  // "ahead" is measured against that clock.
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  v1::RecordBody ahead = forger_.Report(kTinhPhong, 100);
  ahead.mutable_version()->mutable_hlc()->set_wall_micros(static_cast<uint64_t>(now + 3LL * 86'400'000'000));
  ahead.mutable_version()->set_legal_date(LegalDate(ahead.version().hlc().wall_micros()));
  EXPECT_EQ(Refusal(Forger::Signed(ahead, kTinhPhong)), "CLOCK_AHEAD");
  v1::IssueDirectiveRequest d;
  d.set_title("Kế hoạch");
  d.set_doc_type("KH");
  auto issued = province_->IssueDirective(d);
  ASSERT_THAT(issued, IsOk()) << "the province's own acts are never blocked by a child's clock";
  auto record = province_->store().GetRecord(*issued);
  v1::RecordBody body;
  ASSERT_TRUE(record.ok() && record->has_value() && body.ParseFromString((*record)->body()));
  EXPECT_LT(static_cast<int64_t>(body.version().hlc().wall_micros()), now + 3'600'000'000LL);
  EXPECT_EQ(body.version().legal_date(), LegalDate(now));
}

// Issue 10 items 2 and 4: an id longer than LMDB's key limit, or with a
// control character or "..", is refused alone (BAD_ID) before it reaches the
// store; the valid report in the same batch is admitted.
TEST_F(HostileInputTest, MalformedRecordIdIsRefusedAlone) {
  for (const std::string& id : {std::string(kTinhPhong) + "/r/" + std::string(600, '7'),
                                std::string(kTinhPhong) + "/r/..", std::string(kTinhPhong) + "/r/1\x1b[31m"}) {
    v1::RecordBody bad = forger_.Report(kTinhPhong, 200 + valid_);
    bad.set_id(id);
    EXPECT_EQ(Refusal(Forger::Signed(bad, kTinhPhong)), "BAD_ID") << id.size();
  }
}

// Issue 10 item 2: a refusal notice naming a 600-byte record id (it needs no
// signature) is ignored and counted; it fails nobody's write.
TEST_F(HostileInputTest, OverlongRefusalNoticeFailsNoWrite) {
  FakeChild child(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(child.Hello(kTinhPhong));
  ASSERT_TRUE(child.SendRejection(std::string(600, 'x') + "\n\x1b[2J"));
  const v1::Record good = Forger::Signed(forger_.Report(kTinhPhong, ++valid_), kTinhPhong);
  const uint64_t from = child.applied_seq();
  ASSERT_TRUE(child.SendBatch(from, from + 1, {good}));
  ASSERT_TRUE(child.AwaitAck(from + 1));
  v1::IssueDirectiveRequest d;
  d.set_title("Kế hoạch");
  EXPECT_THAT(province_->IssueDirective(d), IsOk());
  EXPECT_EQ(province_->ListQuarantine()->entries_size(), 0);
  EXPECT_EQ(province_->ListPeers().peers(0).bad_notices(), 1u);
}

// Issue 10 item 3: a record over kMaxRecordBytes is refused alone; its
// siblings in the batch go through.
TEST_F(HostileInputTest, OversizedRecordIsRefusedAlone) {
  v1::RecordBody b = forger_.Report(kTinhPhong, 60);
  v1::Report r;
  r.set_period("2026-Q4");
  r.set_title("Báo cáo");
  r.set_from_unit(kTinhPhong);
  r.set_body(std::string(sync::kMaxRecordBytes, 'x'));
  b.set_payload(r.SerializeAsString());
  EXPECT_EQ(Refusal(Forger::Signed(b, kTinhPhong)), "TOO_LARGE");
}

// Issue 10 item 2: vector lengths and the names in them are bounded and
// checked before anything else reads them.
TEST_F(HostileInputTest, OverlongOrMalformedVersionVectorIsRefusedAlone) {
  v1::RecordBody long_vector = forger_.Report(kTinhPhong, 61);
  for (int i = 0; i <= sync::kMaxVectorEntries; ++i) {
    sync::SetCounter(*long_vector.mutable_version()->mutable_vector(),
                     std::string(kTinhPhong) + "-" + std::to_string(i), 1);
  }
  EXPECT_EQ(Refusal(Forger::Signed(long_vector, kTinhPhong)), "BAD_VERSION");
  for (const std::string& name : {std::string("vn/../x"), std::string(kTinhPhong) + "#", std::string("\x1b[2J")}) {
    v1::RecordBody bad_name = forger_.Report(kTinhPhong, 62 + valid_);
    sync::SetCounter(*bad_name.mutable_version()->mutable_vector(), name, 1);
    EXPECT_EQ(Refusal(Forger::Signed(bad_name, kTinhPhong)), "BAD_VERSION") << name;
  }
}

// A notice names a version this node sent, so a record it holds: one for any
// other record is ignored and counted, and stores nothing.
TEST_F(HostileInputTest, NoticeForARecordThisNodeDoesNotHoldIsIgnoredAndCounted) {
  FakeChild child(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(child.Hello(kTinhPhong));
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(child.SendRejection(std::string(kProvince) + "/d/" + std::to_string(900 + i)));
  const v1::Record good = Forger::Signed(forger_.Report(kTinhPhong, ++valid_), kTinhPhong);
  const uint64_t from = child.applied_seq();
  ASSERT_TRUE(child.SendBatch(from, from + 1, {good}));
  ASSERT_TRUE(child.AwaitAck(from + 1));
  EXPECT_EQ(province_->ListPeers().peers(0).bad_notices(), 3u);
  auto returned = province_->store().MetaScan(kReturnedPrefix);
  ASSERT_THAT(returned, IsOk());
  EXPECT_TRUE(returned->empty());
}

TEST_F(HostileInputTest, UnknownRecordKindIsQuarantined) {
  v1::RecordBody b = forger_.Report(kTinhPhong, 50);
  b.set_kind(static_cast<v1::RecordKind>(77));
  EXPECT_EQ(Refusal(Forger::Signed(b, kTinhPhong)), "UNKNOWN_KIND");
}

TEST_F(HostileInputTest, RecordForAnotherSubtreeIsQuarantined) {
  v1::RecordBody b = forger_.Report(kTinhPhong, 50);
  b.mutable_audience()->set_root("vn/da-nang");
  EXPECT_EQ(Refusal(Forger::Signed(b, kTinhPhong)), "NOT_ADDRESSED");
}

// Issue 12 item 2 (DOMAIN-MODEL §7): only the top node sets the calendar;
// a commune's, sent up as if it flowed down from it, is quarantined.
TEST_F(HostileInputTest, CommuneSettingTheCalendarIsQuarantined) {
  v1::RecordBody b = forger_.Report(kTinhPhong, 50);
  v1::CalendarYear y;
  y.set_year(2026);
  y.add_holidays("2026-11-30");
  b.set_id(std::string(kTinhPhong) + "/calendar/2026");
  b.set_kind(v1::CALENDAR);
  b.mutable_audience()->set_direction(v1::Audience::DOWN);
  b.mutable_audience()->set_root(kTinhPhong);
  b.set_payload(y.SerializeAsString());
  EXPECT_EQ(Refusal(Forger::Signed(b, kTinhPhong)), "WRONG_DIRECTION");
  EXPECT_EQ(province_->ShowCalendar(2026)->source(), "shipped default");
}

// Issue 12 item 3 (E2): a commune cannot grant itself (or a sibling) an
// extension: only the obligation's issuer decides.
TEST_F(HostileInputTest, CommuneDecidingAnExtensionIsQuarantined) {
  v1::RecordBody b = forger_.Report(kTinhPhong, 50);
  v1::ExtensionDecision d;
  d.set_request_id(std::string(kBinhSon) + "/x/1");
  d.set_state("GRANTED");
  b.set_id(std::string(kTinhPhong) + "/xd/" + d.request_id());
  b.set_kind(v1::EXTENSION_DECISION);
  b.set_payload(d.SerializeAsString());
  EXPECT_EQ(Refusal(Forger::Signed(b, kTinhPhong)), "ISSUER_MISMATCH");
}

TEST_F(HostileInputTest, MalformedBodyIsQuarantined) {
  v1::Record r;
  r.set_body("\x0a\xff\xff\xff\xff garbage");
  EXPECT_EQ(Refusal(r), "MALFORMED_BODY");
}

TEST_F(HostileInputTest, ReplayOfAnOldVersionChangesNothing) {
  const v1::Record old_version = Forger::Signed(forger_.Report(kTinhPhong, 1), kTinhPhong);
  {
    FakeChild child(province_->sync_port(), kTinhPhong);
    ASSERT_TRUE(child.Hello(kTinhPhong));
    ASSERT_TRUE(child.SendBatch(0, 1, {old_version}));
    ASSERT_TRUE(child.AwaitAck(1));
  }
  const uint64_t head = province_->store().HeadSeq();
  FakeChild replay(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(replay.Hello(kTinhPhong));
  ASSERT_EQ(replay.applied_seq(), 1u);
  ASSERT_TRUE(replay.SendBatch(1, 2, {old_version}));
  ASSERT_TRUE(replay.AwaitAck(2));
  EXPECT_EQ(province_->store().HeadSeq(), head);  // no new log entry, nothing re-applied
  EXPECT_TRUE(replay.rejections.empty());
}

TEST_F(HostileInputTest, CommuneCertificateUsedToSpeakAsItsSiblingIsRefused) {
  FakeChild child(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(child.Hello(kBinhSon));
  grpc::Status s = child.Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_EQ(province_->store().HeadSeq(), 0u);
}

// Issue 10 round two, item 2a: a child that cancels its stream (how a gRPC
// client normally leaves: shutdown, reconnect, deadline) broke no protocol,
// whether it cancels between messages or in the middle of a frame; a
// half-close (children never half-close) still counts.
TEST_F(HostileInputTest, ClientCancelIsNotAProtocolError) {
  auto peer = [&]() -> std::optional<v1::PeerInfo> {
    const v1::PeersReply peers = province_->ListPeers();
    for (const auto& p : peers.peers()) {
      if (p.peer() == kTinhPhong) return p;
    }
    return std::nullopt;
  };
  v1::RecordBody large = forger_.Report(kTinhPhong, ++valid_);
  large.set_payload(std::string(8 << 20, 'x'));
  const v1::Record large_record = Forger::Signed(large, kTinhPhong);
  for (int i = 0; i < 6; ++i) {
    FakeChild child(province_->sync_port(), kTinhPhong);
    ASSERT_TRUE(child.Hello(kTinhPhong));
    if (i % 2 == 0) {
      child.Cancel();
    } else {
      // Cancelled while an 8 MiB frame is still on its way.
      std::thread writer([&] { child.SendBatch(child.applied_seq(), child.applied_seq() + 1, {large_record}); });
      std::this_thread::sleep_for(std::chrono::milliseconds(i));  // a point inside the frame, not a wait
      child.Cancel();
      writer.join();
    }
    EXPECT_EQ(child.Finish().error_code(), grpc::StatusCode::CANCELLED);
    ASSERT_TRUE(steersync::testing::WaitUntil([&] { return !peer()->connected(); }));
  }
  EXPECT_EQ(peer()->protocol_errors(), 0u);
  FakeChild half_closer(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(half_closer.Hello(kTinhPhong));
  EXPECT_EQ(half_closer.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(peer()->protocol_errors(), 1u);
}

// Issue 10 round two, item 2d: a peer speaking another protocol version is
// refused with a clear error and counted; a Hello without a version (a peer
// older than the field) is version 1.
TEST_F(HostileInputTest, HelloOfAnotherProtocolVersionIsRefusedAndCounted) {
  auto protocol_errors = [&]() -> uint64_t {
    const v1::PeersReply peers = province_->ListPeers();
    for (const auto& p : peers.peers()) {
      if (p.peer() == kTinhPhong) return p.protocol_errors();
    }
    return 0;
  };
  {
    FakeChild newer(province_->sync_port(), kTinhPhong);
    newer.Hello(kTinhPhong, sync::kProtocolVersion + 1);  // the province's own Hello may come first
    grpc::Status s = newer.Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr("speaks protocol version 4, this node speaks 3"));
  }
  EXPECT_EQ(protocol_errors(), 1u);
  {
    // A 0.1.0 node says no version (0: version 1); it could verify none of
    // the records that name their signer by digest.
    FakeChild old(province_->sync_port(), kTinhPhong);
    old.Hello(kTinhPhong, 0);
    grpc::Status s = old.Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr("speaks protocol version 1, this node speaks 3"));
  }
  EXPECT_EQ(protocol_errors(), 2u);
  FakeChild current(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(current.Hello(kTinhPhong));
  ASSERT_TRUE(current.SendBatch(current.applied_seq(), current.applied_seq() + 1,
                                {Forger::Signed(forger_.Report(kTinhPhong, ++valid_), kTinhPhong)}));
  EXPECT_TRUE(current.AwaitAck(current.applied_seq() + 1));
  EXPECT_EQ(protocol_errors(), 2u);
}

TEST_F(HostileInputTest, ProtocolViolationClosesOnlyThatStream) {
  {
    FakeChild child(province_->sync_port(), kTinhPhong);
    ASSERT_TRUE(child.Hello(kTinhPhong));
    ASSERT_TRUE(child.SendBatch(5, 9, {}));  // leaves a gap
    grpc::Status s = child.Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  }
  // The node keeps serving: an honest stream right after works.
  FakeChild honest(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(honest.Hello(kTinhPhong));
  ASSERT_TRUE(honest.SendBatch(0, 1, {Forger::Signed(forger_.Report(kTinhPhong, 1), kTinhPhong)}));
  EXPECT_TRUE(honest.AwaitAck(1));
}

}  // namespace
}  // namespace steersync::node

namespace steersync::node {
namespace {

// Catalogue cases that need a differently configured province.
class LimitedProvinceTest : public ::testing::Test {
 protected:
  void StartProvince(NodeRuntimeOptions rt) {
    NodeOptions o;
    o.id = kProvince;
    o.data_dir = dir_.Sub("province");
    o.map_size_mb = 64;
    o.listen_address = "127.0.0.1:0";
    o.tls = {CertDir() + "/ca.crt", NodeCert(kProvince), NodeKey(kProvince)};
    rt.serve_admin = false;
    auto node = Node::Create(o, rt);
    ASSERT_THAT(node, IsOk());
    province_ = std::move(*node);
    ASSERT_THAT(province_->Start(), IsOk());
  }
  uint64_t ProtocolErrors() {
    const v1::PeersReply peers = province_->ListPeers();
    for (const auto& p : peers.peers()) {
      if (p.peer() == kTinhPhong) return p.protocol_errors();
    }
    return 0;
  }
  // An honest stream still works afterwards.
  void ExpectHonestStreamWorks() {
    FakeChild honest(province_->sync_port(), kTinhPhong);
    ASSERT_TRUE(honest.Hello(kTinhPhong));
    const uint64_t from = honest.applied_seq();
    ASSERT_TRUE(honest.SendBatch(from, from + 1, {Forger::Signed(forger_.Report(kTinhPhong, 7), kTinhPhong)}));
    EXPECT_TRUE(honest.AwaitAck(from + 1));
  }

  TempDir dir_;
  std::unique_ptr<Node> province_;
  Forger forger_;
};

TEST_F(LimitedProvinceTest, FloodOfFramesClosesTheStreamAndIsCounted) {
  NodeRuntimeOptions rt;
  rt.limits.messages_per_second = 50;
  rt.limits.burst = 100;
  StartProvince(rt);
  {
    FakeChild flooder(province_->sync_port(), kTinhPhong);
    ASSERT_TRUE(flooder.Hello(kTinhPhong));
    // 1,000 empty batches as fast as the socket takes them (bounded loop).
    for (uint64_t i = 0; i < 1000; ++i) {
      if (!flooder.SendBatch(i, i + 1, {})) break;
    }
    grpc::Status s = flooder.Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr("flood"));
  }
  EXPECT_EQ(ProtocolErrors(), 1u);
  ExpectHonestStreamWorks();
}

TEST_F(LimitedProvinceTest, OversizedFrameIsRefused) {
  NodeRuntimeOptions rt;
  rt.max_message_bytes = 64 << 10;
  StartProvince(rt);
  {
    FakeChild big(province_->sync_port(), kTinhPhong);
    ASSERT_TRUE(big.Hello(kTinhPhong));
    v1::RecordBody b = forger_.Report(kTinhPhong, 1);
    b.set_payload(std::string(200 << 10, 'x'));  // 200 KiB > 64 KiB limit
    big.SendBatch(0, 1, {Forger::Signed(b, kTinhPhong)});
    grpc::Status s = big.Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  }
  EXPECT_EQ(province_->store().HeadSeq(), 0u);
  ExpectHonestStreamWorks();
}

// Issue 10 item 2: counts a peer controls are bounded; a batch of more
// records than any sender makes ends that stream only.
TEST_F(LimitedProvinceTest, BatchOfTooManyRecordsEndsOnlyThatStream) {
  StartProvince({});
  {
    FakeChild child(province_->sync_port(), kTinhPhong);
    ASSERT_TRUE(child.Hello(kTinhPhong));
    child.SendBatch(0, 1, std::vector<v1::Record>(sync::kMaxBatchRecordsAccepted + 1));
    grpc::Status s = child.Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr("records (at most"));
  }
  EXPECT_EQ(ProtocolErrors(), 1u);
  EXPECT_EQ(province_->store().HeadSeq(), 0u);
  ExpectHonestStreamWorks();
}

// Issue 10 item 3: a child that sends nothing but versions to refuse fills
// only its own share of the quarantine; the operator's acts and the child's
// honest versions go on.
TEST_F(LimitedProvinceTest, AChildsRefusedVersionsStayWithinItsQuarantineQuota) {
  NodeRuntimeOptions rt;
  rt.quarantine_quota = {.max_entries_per_peer = 3, .max_bytes_per_peer = 1 << 20};
  StartProvince(rt);
  {
    FakeChild child(province_->sync_port(), kTinhPhong);
    ASSERT_TRUE(child.Hello(kTinhPhong));
    std::vector<v1::Record> batch;
    for (int i = 1; i <= 10; ++i) batch.push_back(Forger::Signed(forger_.Directive(kTinhPhong, i), kTinhPhong));
    batch.push_back(Forger::Signed(forger_.Report(kTinhPhong, 11), kTinhPhong));
    ASSERT_TRUE(child.SendBatch(0, batch.size(), batch));
    ASSERT_TRUE(child.AwaitAck(batch.size()));
    EXPECT_EQ(child.rejections.size(), 10u) << "every refusal is still reported to the sender";
  }
  const v1::PeersReply peers = province_->ListPeers();
  ASSERT_EQ(peers.peers_size(), 1);
  EXPECT_EQ(peers.peers(0).rejected(), 10u);
  EXPECT_EQ(peers.peers(0).quarantined(), 3u);
  EXPECT_EQ(peers.peers(0).quarantine_evicted(), 7u);
  EXPECT_EQ(province_->ListQuarantine()->total(), 3u);
  auto report = province_->store().GetRecord(std::string(kTinhPhong) + "/r/11");
  EXPECT_TRUE(report.ok() && report->has_value());
  v1::IssueDirectiveRequest d;
  d.set_title("Kế hoạch");
  EXPECT_THAT(province_->IssueDirective(d), IsOk());
}

// Issue 10 item 3: memory per stream is bounded. Over its bound of unapplied
// bytes a stream stops reading (the sender is slowed by flow control, not
// dropped) and reads again once its batches are applied.
TEST_F(LimitedProvinceTest, AStreamOverItsMemoryBoundPausesAndResumes) {
  NodeRuntimeOptions rt;
  rt.limits.max_pending_bytes = 1;  // every batch in flight pauses the stream
  StartProvince(rt);
  FakeChild child(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(child.Hello(kTinhPhong));
  constexpr int kBatches = 5;
  for (int i = 1; i <= kBatches; ++i) {
    ASSERT_TRUE(child.SendBatch(i - 1, i, {Forger::Signed(forger_.Report(kTinhPhong, i), kTinhPhong)}));
  }
  ASSERT_TRUE(child.AwaitAck(kBatches));
  for (int i = 1; i <= kBatches; ++i) {
    auto r = province_->store().GetRecord(std::string(kTinhPhong) + "/r/" + std::to_string(i));
    EXPECT_TRUE(r.ok() && r->has_value()) << i;
  }
  EXPECT_GE(province_->ListPeers().peers(0).read_pauses(), 1u);
  EXPECT_EQ(ProtocolErrors(), 0u);
}

TEST_F(LimitedProvinceTest, ExpiredCertificateIsRefusedAtTheHandshake) {
  StartProvince({});
  auto creds = MakeChannelCredentials({CertDir() + "/ca.crt",
                                       CertDir() + "/expired-vn_quang-ngai_tinh-phong.crt",
                                       CertDir() + "/expired-vn_quang-ngai_tinh-phong.key"});
  ASSERT_THAT(creds, IsOk());
  auto stub = v1::Sync::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(province_->sync_port()), *creds));
  grpc::ClientContext ctx;
  ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(10)));
  auto stream = stub->Link(&ctx);
  v1::SyncMessage m;
  while (stream->Read(&m)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(province_->GetStatus().last_refusal(), ::testing::HasSubstr("expired"));
  ExpectHonestStreamWorks();
}

TEST_F(LimitedProvinceTest, MalformedProtobufFrameEndsOnlyThatStream) {
  StartProvince({});
  auto creds = MakeChannelCredentials({CertDir() + "/ca.crt", NodeCert(kTinhPhong), NodeKey(kTinhPhong)});
  ASSERT_THAT(creds, IsOk());
  grpc::GenericStub generic(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(province_->sync_port()), *creds));
  grpc::ClientContext ctx;
  ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(10)));
  grpc::CompletionQueue cq;
  auto call = generic.PrepareCall(&ctx, "/steersync.v1.Sync/Link", &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  const char garbage[] = "\x0a\xff\xff\xff\xff\xff not a SyncMessage";
  grpc::Slice slice(garbage, sizeof(garbage) - 1);
  grpc::ByteBuffer frame(&slice, 1);
  call->Write(frame, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  // Drain what the province sent (its Hello) until it ends the stream.
  grpc::ByteBuffer incoming;
  do {
    call->Read(&incoming, reinterpret_cast<void*>(4));
  } while (cq.Next(&tag, &ok) && ok);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(3));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(3)) {
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(province_->store().HeadSeq(), 0u);
  EXPECT_EQ(ProtocolErrors(), 1u);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  ExpectHonestStreamWorks();
}

}  // namespace
}  // namespace steersync::node

namespace steersync::node {
namespace {

// A relay that drops a version leaves a trace: the writer numbers its
// versions per audience, and the receiver reports the hole until it is filled.
TEST_F(HostileInputTest, DroppedVersionIsReportedAsAGapUntilItArrives) {
  auto numbered = [&](int n) {
    v1::RecordBody b = forger_.Report(kTinhPhong, n);
    b.set_audience_seq(static_cast<uint64_t>(n));
    return Forger::Signed(b, kTinhPhong);
  };
  auto gap_warnings = [&] {
    int n = 0;
    const v1::StatusReply status = province_->GetStatus();
    for (const auto& w : status.warnings()) n += w.find("never arrived") != std::string::npos;
    return n;
  };
  FakeChild child(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(child.Hello(kTinhPhong));
  ASSERT_TRUE(child.SendBatch(0, 1, {numbered(1)}));
  ASSERT_TRUE(child.SendBatch(1, 3, {numbered(3)}));  // #2 "dropped" on the way
  ASSERT_TRUE(child.AwaitAck(3));
  EXPECT_EQ(gap_warnings(), 1);
  const v1::StatusReply status = province_->GetStatus();
  bool named = false;
  for (const auto& w : status.warnings()) {
    named |= w.find("version #2 from vn/quang-ngai/tinh-phong") != std::string::npos;
  }
  EXPECT_TRUE(named);
  // The missing version arrives late: the warning goes away.
  ASSERT_TRUE(child.SendBatch(3, 4, {numbered(2)}));
  ASSERT_TRUE(child.AwaitAck(4));
  EXPECT_EQ(gap_warnings(), 0);
}

// Issue 13 item 1 (docs/security.md "Signed heads"): a relay that drops the
// writer's *last* version is caught by the writer's signed head, which says
// how many versions it wrote; before heads, nothing revealed it until the
// writer wrote again. A head whose length was inflated on the way is refused.
TEST_F(HostileInputTest, ADroppedLastVersionIsRevealedByTheWritersSignedHead) {
  std::vector<v1::Record> reports;  // #1..#3, linked as an honest writer links them
  std::string prev;
  for (int n = 1; n <= 3; ++n) {
    v1::RecordBody b = forger_.Report(kTinhPhong, n);
    b.set_audience_seq(static_cast<uint64_t>(n));
    b.set_audience_prev(prev);
    reports.push_back(Forger::Signed(b, kTinhPhong));
    prev = sync::BodyDigest(reports.back().body());
  }
  v1::RecordBody head_body = forger_.Report(kTinhPhong, 4);  // the commune's stamp, after #3
  head_body.set_kind(v1::SEQUENCE_HEAD);
  head_body.set_id(sync::SequenceHeadId(kTinhPhong, head_body.audience()));
  v1::SequenceHead head;
  head.set_length(3);
  head.set_digest(prev);
  head_body.set_payload(head.SerializeAsString());
  v1::RecordBody inflated_body = head_body;
  head.set_length(9);
  inflated_body.set_payload(head.SerializeAsString());
  v1::Record inflated = Forger::Signed(head_body, kTinhPhong);
  inflated.set_body(inflated_body.SerializeAsString());  // the relay's edit: the signature no longer matches

  auto warnings_naming = [&](const std::string& what) {
    int n = 0;
    const v1::StatusReply status = province_->GetStatus();
    for (const auto& w : status.warnings()) n += w.find(what) != std::string::npos;
    return n;
  };
  FakeChild child(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(child.Hello(kTinhPhong));
  ASSERT_TRUE(child.SendBatch(0, 2, {reports[0], reports[1]}));  // #3 dropped on the way
  ASSERT_TRUE(child.AwaitAck(2));
  EXPECT_EQ(warnings_naming("never arrived"), 0) << "nothing follows #2 yet";
  ASSERT_TRUE(child.SendBatch(2, 3, {inflated}));
  ASSERT_TRUE(child.AwaitAck(3));
  EXPECT_EQ(warnings_naming("never arrived"), 0) << "an inflated head opens no hole";
  ASSERT_TRUE(child.SendBatch(3, 4, {Forger::Signed(head_body, kTinhPhong)}));
  ASSERT_TRUE(child.AwaitAck(4));
  EXPECT_EQ(warnings_naming("version #3 from vn/quang-ngai/tinh-phong"), 1);
  EXPECT_EQ(warnings_naming("never arrived"), 1);
  // #3 arrives late: the warning goes away, and no fork is seen.
  ASSERT_TRUE(child.SendBatch(4, 5, {reports[2]}));
  ASSERT_TRUE(child.AwaitAck(5));
  EXPECT_EQ(warnings_naming("never arrived"), 0);
  EXPECT_EQ(warnings_naming("fork"), 0);
  ASSERT_EQ(child.rejections.size(), 1u);
  EXPECT_EQ(child.rejections[0].reason_code(), "BAD_SIGNATURE");
}

}  // namespace
}  // namespace steersync::node

namespace steersync::node {
namespace {

// Attachments (issue 12 item 1): what a hostile peer sends in place of a
// file's chunks is checked against the hashes its signed record lists.
class HostileChunksTest : public HostileInputTest {
 protected:
  v1::PeerInfo Peer(const std::string& id) {
    const v1::PeersReply peers = province_->ListPeers();
    for (const v1::PeerInfo& p : peers.peers()) {
      if (p.peer() == id) return p;
    }
    return {};
  }
  // 600 KiB: three chunks, the last one short.
  static std::string Content() {
    std::string content((600 << 10), '\0');
    for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 + i / 251);
    return content;
  }
};

// Refused like a forged record: never stored, logged, counted (`rejected`
// and `chunks_refused`), and the link goes on; a chunk the province never
// asked for is refused too. The next connection fetches the file again, and
// honest chunks complete it.
TEST_F(HostileChunksTest, TamperedChunkIsRefusedNeverStoredAndTheFileIsFetchedAgain) {
  const std::string content = Content();
  v1::RecordBody report = forger_.Report(kTinhPhong, 50);
  *report.add_attachments() = sync::DescribeAttachment("bao-cao-quy-4.pdf", content);
  const std::string sha = report.attachments(0).sha256();
  {
    FakeChild child(province_->sync_port(), kTinhPhong);
    ASSERT_TRUE(child.Hello(kTinhPhong));
    const uint64_t from = child.applied_seq();
    ASSERT_TRUE(child.SendBatch(from, from + 1, {Forger::Signed(report, kTinhPhong)}));
    // Admitted, the report's file is asked for.
    ASSERT_TRUE(child.ReadUntil([](const v1::SyncMessage& m) { return m.has_chunk_request(); }));
    std::string tampered = content.substr(0, sync::kAttachmentChunkBytes);
    tampered[1000] ^= 0x01;
    ASSERT_TRUE(child.SendChunk(sha, 0, tampered));
    ASSERT_TRUE(child.SendChunk(std::string(sync::kSha256Bytes, 'x'), 0, "a chunk nobody named"));
    ASSERT_TRUE(steersync::testing::WaitUntil([&] { return Peer(kTinhPhong).chunks_refused() == 2; }));
    EXPECT_EQ(Peer(kTinhPhong).rejected(), 1u) << "counted like a forged record";
    EXPECT_EQ(Peer(kTinhPhong).chunks_received(), 0u);
    auto blob = province_->store().GetBlob(sha);
    ASSERT_THAT(blob, IsOk());
    ASSERT_TRUE(blob->has_value()) << "the report names it: the province wants it";
    EXPECT_EQ((*blob)->received_bytes, 0u) << "a tampered chunk must never be stored";
    auto chunk = province_->store().ReadChunk(sha, 0);
    ASSERT_THAT(chunk, IsOk());
    EXPECT_FALSE(chunk->has_value());
    // `steerctl attachment get` meanwhile says how much has arrived.
    absl::Status arriving = ReadAttachment(
        province_->store(), report.id(), "bao-cao-quy-4.pdf", [](uint64_t, const std::string&) { return true; },
        [](const std::string&) { return true; });
    EXPECT_THAT(arriving, steersync::testing::StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_EQ(arriving.message(), "attachment 'bao-cao-quy-4.pdf' of " + report.id() +
                                      " is still arriving: 0 bytes of 600.0 KiB (0 of 3 chunks); try again later");
    auto junk = province_->store().GetBlob(std::string(sync::kSha256Bytes, 'x'));
    ASSERT_THAT(junk, IsOk());
    EXPECT_FALSE(junk->has_value());
    child.Cancel();
  }
  FakeChild child(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(child.Hello(kTinhPhong));
  int answered = 0;
  ASSERT_TRUE(child.ReadUntil([&](const v1::SyncMessage& m) {
    if (!m.has_chunk_request()) return false;
    const uint32_t i = m.chunk_request().index();
    EXPECT_EQ(m.chunk_request().sha256(), sha);
    EXPECT_TRUE(child.SendChunk(sha, i, content.substr(i * sync::kAttachmentChunkBytes,
                                                       sync::ChunkSize(content.size(), i))));
    return ++answered == 3;
  }));
  ASSERT_TRUE(steersync::testing::WaitUntil([&] {
    auto b = province_->store().GetBlob(sha);
    return b.ok() && b->has_value() && (*b)->phase == LmdbStore::BlobState::Phase::kComplete;
  }));
  std::string read;
  ASSERT_THAT(ReadAttachment(
                  province_->store(), report.id(), "bao-cao-quy-4.pdf", [](uint64_t, const std::string&) { return true; },
                  [&](const std::string& piece) {
                    read += piece;
                    return true;
                  }),
              IsOk());
  EXPECT_TRUE(read == content);
  child.Cancel();
}

// A node sends a file only to the peers that receive a record naming it:
// a directive kept local names a file no child may ask for.
TEST_F(HostileChunksTest, ChunkOfAFileNoRecordSentToThePeerNamesIsRefused) {
  v1::IssueDirectiveRequest d;
  d.set_title("Biên bản họp nội bộ");
  d.set_local(true);
  v1::AttachmentFile* file = d.add_attachments();
  file->set_name("bien-ban.pdf");
  file->set_content(Content());
  ASSERT_THAT(province_->IssueDirective(d), IsOk());
  const std::string sha = sync::Sha256Of(Content());
  FakeChild child(province_->sync_port(), kTinhPhong);
  ASSERT_TRUE(child.Hello(kTinhPhong));
  ASSERT_TRUE(child.SendChunkRequest(sha, 0));
  v1::SyncMessage answer;
  ASSERT_TRUE(child.ReadUntil([&](const v1::SyncMessage& m) {
    answer = m;
    return m.has_chunk() || m.has_chunk_refused();
  }));
  ASSERT_TRUE(answer.has_chunk_refused()) << "the file's bytes were sent";
  EXPECT_EQ(answer.chunk_refused().reason_code(), "NOT_NAMED");
  child.Cancel();
}

}  // namespace
}  // namespace steersync::node
