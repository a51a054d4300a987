// Writes the seeds of every record kind into tests/fuzz/corpus/: versions of
// every kind as the fuzzers' peer (the commune "vn/quang-ngai/tinh-phong",
// frames.h) sends them to its province. They are made by the real code, not
// by hand: an in-process province and commune (real Nodes, mTLS gRPC, LMDB,
// the test keys) on a manual clock stopped at frames.h's kNow perform acts of
// every kind through the Node API; once the commune holds everything, what
// its link would send up is written as the commune's side of a link, a Hello
// and Batches: the records addressed to the province, and the province's own
// versions it holds (which the province admits as returned to it: the
// recovery path). Signed with the real test keys, so both fuzzers admit them.
//
//   seed-every-kind     the whole log (43 versions of the 11 kinds)
//   seed-kind-<kind>[-province]
//                       the first version of one kind (by the commune, or by
//                       the province) with the roster records, directive or
//                       report its admission reads: short inputs that the
//                       fuzzers mutate fast
//
//   make_kind_seeds OUT_DIR
//
// Built by the `fuzz_kind_seeds` target (g++, the project's libraries; not
// part of `all`). The seeds are committed: run it only to change them. ECDSA
// signatures are randomised, so each run writes different bytes of equal
// meaning. Check what the fuzzers admit of a seed with
//   STEERSYNC_FUZZ_VERBOSE=1 build/tests/fuzz/sync_frame_fuzzer SEED

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "node/node.h"
#include "steersync/v1/sync.pb.h"
#include "sync/session.h"
#include "sync/merge.h"
#include "sync/routing.h"
#include "tests/fuzz/frames.h"
#include "tests/testutil/fixtures.h"

namespace steersync::fuzz {
namespace {

using steersync::testing::TempDir;
using steersync::testing::WaitUntil;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/tinh-phong";
static_assert(std::string_view(kProvince) == kSelf && std::string_view(kCommune) == kPeer);

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "make_kind_seeds: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(absl::StatusOr<T> r, const std::string& what) {
  if (!r.ok()) Fail(what + ": " + r.status().ToString());
  return std::move(*r);
}

void Await(const std::function<bool()>& condition, const std::string& what) {
  if (!WaitUntil(condition, std::chrono::seconds(60))) Fail("timed out waiting until " + what);
}

std::unique_ptr<node::Node> Start(const TempDir& dir, const std::string& id, const std::string& parent,
                                  const sync::Clock& clock) {
  auto n = steersync::testing::InProcessNodeOptions(dir, id, parent);
  n.runtime.clock = &clock;
  auto node = Must(node::Node::Create(std::move(n.options), n.runtime), "create " + id);
  if (absl::Status s = node->Start(); !s.ok()) Fail("start " + id + ": " + s.ToString());
  return node;
}

bool Holds(const node::Node& node, const std::string& id) {
  auto r = node.store().GetRecord(id);
  return r.ok() && r->has_value();
}

std::string ReportState(const node::Node& node, const std::string& report_id) {
  auto reports = node.ListReports();
  if (!reports.ok()) return "";
  for (const auto& r : reports->reports()) {
    if (r.id() == report_id) return r.status();
  }
  return "";
}

std::string VersionOf(const node::Node& node, const std::string& id) {
  auto r = node.store().GetRecord(id);
  v1::RecordBody body;
  if (!r.ok() || !r->has_value() || !body.ParseFromString((*r)->body())) Fail("no record " + id);
  return sync::VersionKey(body.version());
}

v1::ActAs As(const std::string& role) {
  v1::ActAs as;
  as.set_role(role);
  return as;
}

std::string AddMember(node::Node& node, const std::string& person, const std::string& role) {
  v1::AddMemberRequest r;
  r.set_person_id(person);
  r.set_full_name(person);
  r.set_role(role);
  r.set_valid_from("2026-01-01");
  r.set_decision("1742/QĐ-UBND");
  return Must(node.AddMember(r), node.options().id + " adds " + role).id();
}

std::string Issue(node::Node& province, const std::string& role, const std::string& type,
                  const std::string& formula = "") {
  v1::IssueDirectiveRequest r;
  r.set_title("Văn bản " + type + " (" + role + ")");
  r.set_body("Nội dung chỉ đạo về chuyển đổi số.");
  r.set_doc_type(type);
  r.add_to_units(kCommune);
  *r.mutable_act() = As(role);
  r.mutable_act()->set_formula(formula);
  return Must(province.IssueDirective(r), "issue " + type + " as " + role);
}

std::string SubmitReport(node::Node& commune, const std::string& period, const std::string& in_reply_to) {
  v1::SubmitReportRequest r;
  r.set_period(period);
  r.set_title("Báo cáo " + period);
  r.set_body("Kết quả thực hiện chuyển đổi số.");
  r.set_in_reply_to(in_reply_to);
  *r.mutable_act() = As("HEAD");
  return Must(commune.SubmitReport(r), "submit report " + period);
}

// A CRL signed by the test CA revoking a unit that takes no part in the
// seeds (deploy/pki.sh over a private copy of the test PKI).
std::string RevocationList(const TempDir& dir) {
  const std::string pki = dir.Sub("pki");
  std::filesystem::copy(steersync::testing::CertDir(), pki, std::filesystem::copy_options::recursive);
  const std::string cmd = "bash " + std::string(STEERSYNC_SOURCE_DIR) + "/deploy/pki.sh revoke " + pki +
                          " vn/da-nang/hai-chau >/dev/null";
  if (std::system(cmd.c_str()) != 0) Fail(cmd);
  std::ifstream f(pki + "/crl.pem", std::ios::binary);
  std::string crl((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (crl.empty()) Fail("no " + pki + "/crl.pem");
  return crl;
}

// What the acts leave for the final wait.
struct Acts {
  std::string last_directive;
  std::string accepted_report;
};

// The acts, one or more of every record kind; the comments name the kinds
// each writes.
Acts PerformActs(const TempDir& dir, node::Node& province, node::Node& commune) {
  // The province: its unit registry (UNIT), its committee (BODY, MEMBERSHIP),
  // another body (BODY), a written authorisation (SIGNING_AUTHORISATION).
  v1::AddUnitRequest unit;
  unit.set_unit(kCommune);
  unit.set_name("Xã Tịnh Phong");
  unit.set_commune_kind("XA");
  Must(province.AddUnit(unit), "province registers the commune");
  const std::string province_head = AddMember(province, "dang-van-minh", "HEAD");
  const std::string standing = AddMember(province, "tran-phuoc-hien", "STANDING_DEPUTY_HEAD");
  AddMember(province, "so-khcn", "STANDING_AGENCY");
  const std::string office = AddMember(province, "chanh-van-phong", "MEMBER");
  v1::AddBodyRequest team;
  team.set_slug("to-giup-viec");
  team.set_name("Tổ giúp việc Ban Chỉ đạo");
  team.set_kind("ASSISTANCE_TEAM");
  team.set_abbrev("TGV");
  Must(province.AddBody(team), "province adds an assistance team");
  v1::AddAuthorisationRequest tuq;
  tuq.set_delegate_membership_id(office);
  tuq.set_formula("TUQ");
  tuq.add_scope("CV");
  tuq.set_from("2026-01-01");
  tuq.set_to("2026-12-31");
  tuq.set_granted_by_doc("20/QĐ-BCĐ");
  Must(province.AddAuthorisation(tuq), "province authorises TUQ");

  // The commune: itself in the registry (UNIT), its committee (BODY,
  // MEMBERSHIP), a working team (BODY), a TL. authorisation, an acting
  // window and the Head's absence later this year (ACTING_WINDOW,
  // ABSENCE_WINDOW; the absence sets a second acting window).
  v1::AddUnitRequest self;
  self.set_unit(kCommune);
  self.set_name("Xã Tịnh Phong");
  self.set_commune_kind("XA");
  self.set_admin_code("21145");
  Must(commune.AddUnit(self), "commune registers itself");
  const std::string commune_head = AddMember(commune, "nguyen-van-a", "HEAD");
  const std::string commune_deputy = AddMember(commune, "le-thi-b", "DEPUTY_HEAD");
  const std::string commune_member = AddMember(commune, "pham-van-c", "MEMBER");
  v1::AddBodyRequest working;
  working.set_slug("to-cong-tac");
  working.set_name("Tổ công tác chuyển đổi số");
  working.set_kind("WORKING_TEAM");
  Must(commune.AddBody(working), "commune adds a working team");
  v1::AddAuthorisationRequest tl;
  tl.set_delegate_membership_id(commune_member);
  tl.set_formula("TL");
  tl.add_scope("CV");
  tl.add_scope("TB");
  tl.set_from("2026-01-01");
  tl.set_to("2026-12-31");
  tl.set_granted_by_doc("05/QĐ-BCĐ");
  Must(commune.AddAuthorisation(tl), "commune authorises TL");
  v1::SetActingRequest acting;
  acting.set_acting_membership_id(commune_deputy);
  acting.set_from("2026-10-01");
  acting.set_to("2026-10-05");
  acting.set_reason("Chủ tịch đi học tập trung");
  Must(commune.SetActing(acting), "commune sets an acting window");
  v1::SetAbsenceRequest absence;
  absence.set_membership_id(commune_head);
  absence.set_from("2026-10-12");
  absence.set_to("2026-10-14");
  absence.set_reason("nghỉ phép");
  Must(commune.SetAbsence(absence), "commune's Head is absent");
  v1::SetAbsenceRequest member_absence;
  member_absence.set_membership_id(commune_member);
  member_absence.set_from("2026-11-02");
  member_absence.set_to("2026-11-03");
  member_absence.set_reason("công tác");
  Must(commune.SetAbsence(member_absence), "commune's member is absent");

  // Directives to the commune (DIRECTIVE): the Head's plan, a TUQ. công văn,
  // the Standing Agency's invitation (later recalled) and notice. The
  // commune registers each RECEIVED on arrival (ACKNOWLEDGEMENT).
  Await([&] { return Holds(province, commune_member); }, "the province holds the commune's roster");
  const std::string plan = Issue(province, "HEAD", "KH");
  const std::string by_tuq = Issue(province, "MEMBER", "CV", "TUQ");
  const std::string invitation = Issue(province, "STANDING_AGENCY", "GM");
  const std::string notice = Issue(province, "STANDING_AGENCY", "TB");
  Await([&] {
    for (const std::string& d : {plan, by_tuq, invitation, notice}) {
      if (!Holds(commune, std::string(kCommune) + "/a/" + d)) return false;
    }
    return true;
  }, "the commune registers every directive RECEIVED");

  // The commune's officers acknowledge one and return another
  // (ACKNOWLEDGEMENT over the registry's RECEIVED).
  v1::AckDirectiveRequest ack;
  ack.set_directive_id(plan);
  *ack.mutable_act() = As("HEAD");
  Must(commune.AckDirective(ack), "commune acknowledges the plan");
  v1::AckDirectiveRequest ret;
  ret.set_directive_id(notice);
  ret.set_state("RETURNED");
  ret.set_reason("gửi nhầm đơn vị");
  *ret.mutable_act() = As("HEAD");
  Must(commune.AckDirective(ret), "commune returns the notice");

  // The province recalls the invitation (ACKNOWLEDGEMENT RECALLED, the
  // province's version of the commune's receipt).
  v1::RecallDirectiveRequest recall;
  recall.set_directive_id(invitation);
  recall.set_reason("hoãn cuộc họp");
  *recall.mutable_act() = As("STANDING_AGENCY");
  Must(province.RecallDirective(recall), "province recalls the invitation");

  // Reports (REPORT) and their status (REPORT_STATUS): SUBMITTED by the
  // commune, RECEIVED on arrival and ACCEPTED by the province; a second one
  // withdrawn by the commune concurrently with its receipt (both admitted,
  // the province's wins by R1).
  const std::string first = SubmitReport(commune, "2026-Q3", plan);
  const std::string second = SubmitReport(commune, "2026-09", "");
  const std::string second_base = VersionOf(commune, second + "/status");
  Await([&] {
    return ReportState(province, first) == "RECEIVED" && ReportState(province, second) == "RECEIVED";
  }, "the province registers both reports RECEIVED");
  v1::SetReportStatusRequest accept;
  accept.set_report_id(first);
  accept.set_state("ACCEPTED");
  *accept.mutable_act() = As("STANDING_AGENCY");
  Must(province.SetReportStatus(accept), "province accepts the report");
  v1::SetReportStatusRequest withdraw;
  withdraw.set_report_id(second);
  withdraw.set_state("WITHDRAWN");
  withdraw.set_reason("số liệu chưa đầy đủ");
  withdraw.set_if_version(second_base);
  *withdraw.mutable_act() = As("HEAD");
  Must(commune.SetReportStatus(withdraw), "commune withdraws its second report");

  // The province's Head is absent today: the Standing Deputy acts (the
  // province's ABSENCE_WINDOW and, set with it, ACTING_WINDOW) and signs a
  // plan KT.
  v1::SetAbsenceRequest head_absent;
  head_absent.set_membership_id(province_head);
  head_absent.set_from(province.Today());
  head_absent.set_to(province.Today());
  head_absent.set_reason("công tác nước ngoài");
  const v1::SetAbsenceReply set = Must(province.SetAbsence(head_absent), "province's Head is absent");
  if (set.acting_membership_id() != standing) Fail("the Standing Deputy does not act: " + set.warning());
  const std::string signed_kt = Issue(province, "STANDING_DEPUTY_HEAD", "KH");

  // The federation CA's revocation list, published by the province
  // (REVOCATION_LIST).
  Must(province.PublishRevocationList(RevocationList(dir)), "province publishes a revocation list");
  return Acts{signed_kt, first};
}

// The last entry of the commune's log addressed to the province (what its
// link sends up; the province's own versions are not sent back to it).
uint64_t LastSentUp(const node::Node& commune) {
  const std::vector<sync::LogEntry> log =
      Must(commune.store().ReadLog(0, commune.store().HeadSeq(), size_t{1} << 30), "read the commune's log");
  uint64_t last = 0;
  for (const sync::LogEntry& entry : log) {
    v1::RecordBody body;
    if (body.ParseFromString(entry.record.body()) && sync::AddressedTo(body, kCommune, kProvince)) {
      last = entry.seq;
    }
  }
  return last;
}

// The commune holds the province's log to its head, and the province the
// commune's to its last entry sent up.
bool Settled(const node::Node& province, const node::Node& commune) {
  auto commune_has = commune.store().AppliedSeq(kProvince);
  auto province_has = province.store().AppliedSeq(kCommune);
  return commune_has.ok() && province_has.ok() && *commune_has == province.store().HeadSeq() &&
         *province_has >= LastSentUp(commune);
}

std::string HelloFrame() {
  v1::SyncMessage m;
  m.mutable_hello()->set_node_id(kCommune);
  m.mutable_hello()->set_applied_seq(0);
  m.mutable_hello()->set_protocol_version(sync::kProtocolVersion);
  return m.SerializeAsString();
}

// What the commune's link would send the province from its log: the records
// addressed to the province, and the province's own versions (returned to
// it, as to a recovering node), in log order.
std::vector<sync::LogEntry> SentUp(const node::Node& commune) {
  const uint64_t head = commune.store().HeadSeq();
  std::vector<sync::LogEntry> log = Must(commune.store().ReadLog(0, head, size_t{1} << 30), "read the commune's log");
  if (log.size() != head) Fail("the commune's log has holes");
  std::erase_if(log, [](const sync::LogEntry& entry) {
    v1::RecordBody body;
    if (!body.ParseFromString(entry.record.body())) Fail("a record of the commune's log does not parse");
    return body.version().writer() != kProvince && !sync::AddressedTo(body, kCommune, kProvince);
  });
  return log;
}

v1::RecordBody BodyOf(const sync::LogEntry& entry) {
  v1::RecordBody body;
  body.ParseFromString(entry.record.body());
  return body;
}

// "REPORT", or "REPORT (province's)" for a version the province wrote.
std::string Label(const v1::RecordBody& body) {
  return v1::RecordKind_Name(body.kind()) + (body.version().writer() == kProvince ? " (province's)" : "");
}

// The certificates the batch's records name, as a node's link sends them
// (node/certificate_book.h), from `store`, which holds every one of them.
void AttachCertificates(v1::Batch& batch, const node::LmdbStore& store) {
  std::set<std::string> named;
  for (const v1::Record& r : batch.records()) {
    if (r.signer_digest().empty() || !named.insert(r.signer_digest()).second) continue;
    std::optional<std::string> der = Must(store.MetaGet(node::kCertificatePrefix + r.signer_digest()),
                                          "read a certificate");
    if (!der.has_value()) Fail("a record names a certificate the store does not hold");
    batch.add_certificates(*der);
  }
}

// `entries` as Batches of at most kMaxBatch records, well under a frame's
// 64 KiB, covering the commune's log to `head`.
std::vector<std::string> BatchFrames(const std::vector<sync::LogEntry>& entries, uint64_t head,
                                     const node::LmdbStore& store) {
  constexpr size_t kMaxBatch = 8;
  constexpr size_t kMaxBatchBytes = 48 << 10;
  std::vector<std::string> frames;
  v1::SyncMessage batch;
  uint64_t after = 0;
  auto flush = [&](uint64_t last) {
    batch.mutable_batch()->set_after_seq(after);
    batch.mutable_batch()->set_last_seq(last);
    AttachCertificates(*batch.mutable_batch(), store);
    frames.push_back(batch.SerializeAsString());
    if (frames.back().size() > 0xffff) Fail("a frame over 64 KiB");
    batch.Clear();
    after = last;
  };
  for (const sync::LogEntry& entry : entries) {
    if (batch.batch().records_size() > 0 &&
        batch.ByteSizeLong() + entry.record.ByteSizeLong() > kMaxBatchBytes) {
      flush(entry.seq - 1);
    }
    *batch.mutable_batch()->add_records() = entry.record;
    if (static_cast<size_t>(batch.batch().records_size()) == kMaxBatch) flush(entry.seq);
  }
  if (after < head) flush(head);
  return frames;
}

// The ids a version's admission in context reads: the roster records its
// authority names, those a roster record names, the directive a receipt is
// about and the report a status is about.
std::vector<std::string> Needs(const v1::RecordBody& body) {
  const v1::Authority& a = body.version().authority();
  std::vector<std::string> ids{a.membership_id(), a.delegation_ref(), a.body_id()};
  switch (body.kind()) {
    case v1::MEMBERSHIP: {
      v1::Membership m;
      if (m.ParseFromString(body.payload())) ids.push_back(m.body_id());
      break;
    }
    case v1::ACTING_WINDOW: {
      v1::ActingWindow w;
      if (w.ParseFromString(body.payload())) ids.insert(ids.end(), {w.acting_membership_id(), w.body_id()});
      break;
    }
    case v1::ABSENCE_WINDOW: {
      v1::AbsenceWindow w;
      if (w.ParseFromString(body.payload())) ids.insert(ids.end(), {w.membership_id(), w.body_id()});
      break;
    }
    case v1::SIGNING_AUTHORISATION: {
      v1::SigningAuthorisation g;
      if (g.ParseFromString(body.payload())) ids.insert(ids.end(), {g.delegate_membership_id(), g.body_id()});
      break;
    }
    case v1::ACKNOWLEDGEMENT: {
      v1::Acknowledgement r;
      if (r.ParseFromString(body.payload())) ids.push_back(r.directive_id());
      break;
    }
    case v1::REPORT_STATUS: {
      v1::ReportStatus st;
      if (st.ParseFromString(body.payload())) ids.push_back(st.report_id());
      break;
    }
    default:
      break;
  }
  std::erase(ids, std::string());
  return ids;
}

// Small seeds, one per kind and writer: the first version of that kind and
// what it needs (Needs(), transitively, each the last version before it in
// the log), in log order, as one Batch. A few records each, so the fuzzers
// mutate every kind in short, fast inputs.
std::map<std::string, std::vector<std::string>> KindFrames(const std::vector<sync::LogEntry>& entries,
                                                           const node::LmdbStore& store) {
  std::map<std::string, std::vector<std::string>> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string label = Label(BodyOf(entries[i]));
    if (out.contains(label)) continue;
    std::set<size_t> take{i};
    std::vector<size_t> todo{i};
    while (!todo.empty()) {
      const size_t at = todo.back();
      todo.pop_back();
      for (const std::string& id : Needs(BodyOf(entries[at]))) {
        for (size_t j = at; j-- > 0;) {
          if (BodyOf(entries[j]).id() != id) continue;
          if (take.insert(j).second) todo.push_back(j);
          break;
        }
      }
    }
    v1::SyncMessage batch;
    batch.mutable_batch()->set_after_seq(0);
    batch.mutable_batch()->set_last_seq(entries[i].seq);
    for (size_t j : take) *batch.mutable_batch()->add_records() = entries[j].record;
    AttachCertificates(*batch.mutable_batch(), store);
    out[label] = {HelloFrame(), batch.SerializeAsString()};
  }
  return out;
}

void WriteFrames(const std::string& path, const std::vector<std::string>& frames) {
  if (frames.size() > kMaxFrames) Fail("more frames than the fuzzer reads");
  std::string out;
  for (const std::string& f : frames) {
    if (f.size() > 0xffff) Fail("a frame over 64 KiB");
    AppendFrame(out, f);
  }
  std::ofstream f(path, std::ios::binary);
  f << out;
  if (!f) Fail("cannot write " + path);
  std::printf("%s: %zu frames, %zu bytes\n", path.c_str(), frames.size(), out.size());
}

// "seed-kind-report-status-province", from "REPORT_STATUS (province's)".
std::string FileName(const std::string& label) {
  std::string name = "seed-kind-";
  for (char c : label) {
    if (c == '_' || c == ' ') {
      name += '-';
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (name.ends_with("-provinces")) name = name.substr(0, name.size() - 1);
  return name;
}

}  // namespace
}  // namespace steersync::fuzz

int main(int argc, char** argv) {
  using namespace steersync;
  using namespace steersync::fuzz;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string out_dir = argv[1];
  steersync::testing::TempDir dir;
  // Both nodes read frames.h's kNow, the fuzzers' clock: every version is
  // stamped then and dated that day.
  steersync::testing::ManualClock clock(kNow);
  auto province = Start(dir, kProvince, "", clock);
  auto commune = Start(dir, kCommune, "127.0.0.1:" + std::to_string(province->sync_port()), clock);
  Await([&] { return province->GetStatus().children_seen_size() == 1; }, "the commune links");
  const Acts acts = PerformActs(dir, *province, *commune);
  auto everything = [&] {
    return Holds(*commune, acts.last_directive) && Holds(*commune, std::string(kProvince) + "/crl") &&
           ReportState(*commune, acts.accepted_report) == "ACCEPTED" && Settled(*province, *commune);
  };
  if (!WaitUntil(everything, std::chrono::seconds(60))) {
    Fail("timed out waiting until the commune holds everything: last directive " +
         std::to_string(Holds(*commune, acts.last_directive)) + ", list " +
         std::to_string(Holds(*commune, std::string(kProvince) + "/crl")) + ", report " +
         ReportState(*commune, acts.accepted_report) + "; the province's log to " +
         std::to_string(province->store().HeadSeq()) + ", held by the commune to " +
         std::to_string(commune->store().AppliedSeq(kProvince).value_or(0)) + "; the commune's to " +
         std::to_string(commune->store().HeadSeq()) + ", held by the province to " +
         std::to_string(province->store().AppliedSeq(kCommune).value_or(0)));
  }
  for (const node::Node* n : {province.get(), commune.get()}) {
    if (n->store().QuarantineCount() != 0) {
      Fail(n->options().id + " quarantined " + std::to_string(n->store().QuarantineCount()) + " versions");
    }
  }

  const std::vector<sync::LogEntry> entries = SentUp(*commune);
  std::vector<std::string> frames{HelloFrame()};
  for (std::string& f : BatchFrames(entries, commune->store().HeadSeq(), commune->store())) frames.push_back(std::move(f));
  WriteFrames(out_dir + "/seed-every-kind", frames);
  std::map<std::string, int> kinds;
  for (const sync::LogEntry& entry : entries) ++kinds[Label(BodyOf(entry))];
  for (const auto& [kind, n] : kinds) std::printf("  %-40s %d\n", kind.c_str(), n);
  for (const auto& [label, kind_frames] : KindFrames(entries, commune->store())) {
    WriteFrames(out_dir + "/" + FileName(label), kind_frames);
  }
  commune.reset();
  province.reset();
  return 0;
}
