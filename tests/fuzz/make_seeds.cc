// Writes the seed corpus of sync_frame_fuzzer (tests/fuzz/corpus/): inputs in
// the frames.h format holding records signed with the test keys of
// tests/testdata/certs, which the fuzzer cannot forge but recombines.
//
//   make_seeds OUT_DIR
//
// Built by the `fuzz_make_seeds` target (not part of `all`); the corpus is
// committed, so run it only to change the seeds. ECDSA signatures are
// randomised: each run writes different bytes of equal meaning.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "node/identity.h"
#include "steersync/v1/sync.pb.h"
#include "sync/session.h"
#include "tests/fuzz/frames.h"

#ifndef STEERSYNC_FUZZ_CERTS
#error "STEERSYNC_FUZZ_CERTS (tests/testdata/certs) must be defined"
#endif

namespace steersync::fuzz {
namespace {


std::unique_ptr<node::Signer> LoadSigner(const std::string& file_stem) {
  const std::string dir = STEERSYNC_FUZZ_CERTS;
  auto s = node::Signer::Load(dir + "/" + file_stem + ".crt", dir + "/" + file_stem + ".key");
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*s);
}

struct VersionSpec {
  std::vector<std::pair<std::string, uint64_t>> vector;  // sorted by node id
  int64_t hlc_offset = 0;
  std::string title = "Báo cáo quý IV";
};

// A report by the peer, addressed up to this node.
v1::RecordBody Report(const std::string& id, const VersionSpec& v) {
  v1::RecordBody body;
  body.set_id(id);
  body.set_kind(v1::REPORT);
  auto* version = body.mutable_version();
  version->mutable_hlc()->set_wall_micros(kNow + v.hlc_offset);
  version->set_writer(kPeer);
  for (const auto& [node, counter] : v.vector) {
    auto* e = version->add_vector();
    e->set_node_id(node);
    e->set_counter(counter);
  }
  // As the commune's node signs a report made by a clerk of a committee
  // without a roster (rank STAFF), on the signing day of kNow.
  version->mutable_authority()->set_unit_depth(2);
  version->mutable_authority()->set_role_rank(10);
  version->mutable_authority()->set_capacity("STAFF");
  version->mutable_authority()->set_body_id(std::string(kPeer) + "/committee");
  version->set_legal_date(kLegalDate);
  body.mutable_audience()->set_direction(v1::Audience::UP);
  body.mutable_audience()->set_root(kSelf);
  v1::Report report;
  report.set_period("2026-Q4");
  report.set_title(v.title);
  report.set_body("Tình hình thực hiện chỉ thị.");
  report.set_from_unit(kPeer);
  body.set_payload(report.SerializeAsString());
  return body;
}

v1::RecordBody Acknowledgement(uint64_t counter) {
  v1::RecordBody body;
  // "<unit>/a/<directive id>": one receipt per unit and directive.
  body.set_id(std::string(kPeer) + "/a/vn/quang-ngai/d/1");
  body.set_kind(v1::ACKNOWLEDGEMENT);
  auto* version = body.mutable_version();
  version->mutable_hlc()->set_wall_micros(kNow + 50);
  version->set_writer(kPeer);
  auto* e = version->add_vector();
  e->set_node_id(kPeer);
  e->set_counter(counter);
  version->mutable_authority()->set_unit_depth(2);
  version->mutable_authority()->set_role_rank(10);
  version->mutable_authority()->set_capacity("STAFF");
  version->mutable_authority()->set_body_id(std::string(kPeer) + "/committee");
  version->set_legal_date(kLegalDate);
  body.mutable_audience()->set_direction(v1::Audience::UP);
  body.mutable_audience()->set_root(kSelf);
  v1::Acknowledgement ack;
  ack.set_directive_id("vn/quang-ngai/d/1");
  ack.set_unit(kPeer);
  ack.set_acknowledged_date("2026-12-02");
  body.set_payload(ack.SerializeAsString());
  return body;
}

v1::Record Signed(const node::Signer& signer, const v1::RecordBody& body) {
  v1::Record r;
  r.set_body(body.SerializeAsString());
  if (absl::Status s = signer.Sign(r); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
  // The seeds carry their signer's certificate in the record (the format
  // before 0.2.0, still accepted): a lone frame verifies without a stream
  // that sent the certificate earlier.
  r.set_signer_chain(signer.cert_der());
  r.clear_signer_digest();
  return r;
}

std::string Hello(uint64_t applied_seq) {
  v1::SyncMessage m;
  m.mutable_hello()->set_node_id(kPeer);
  m.mutable_hello()->set_applied_seq(applied_seq);
  m.mutable_hello()->set_protocol_version(sync::kProtocolVersion);
  return m.SerializeAsString();
}

std::string Batch(uint64_t after, uint64_t last, const std::vector<v1::Record>& records) {
  v1::SyncMessage m;
  m.mutable_batch()->set_after_seq(after);
  m.mutable_batch()->set_last_seq(last);
  for (const auto& r : records) *m.mutable_batch()->add_records() = r;
  return m.SerializeAsString();
}

std::string Ack(uint64_t seq) {
  v1::SyncMessage m;
  m.mutable_ack()->set_applied_seq(seq);
  return m.SerializeAsString();
}

std::string Rejection() {
  v1::SyncMessage m;
  m.mutable_rejection()->set_record_id("vn/quang-ngai/d/2");
  m.mutable_rejection()->set_reason_code("NOT_ADDRESSED");
  return m.SerializeAsString();
}

void Write(const std::string& dir, const std::string& name, const std::vector<std::string>& msgs) {
  std::string out;
  for (const auto& m : msgs) AppendFrame(out, m);
  std::ofstream f(dir + "/" + name, std::ios::binary);
  f << out;
  if (!f) {
    std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
  std::printf("%s: %zu frames, %zu bytes\n", name.c_str(), msgs.size(), out.size());
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
  const std::string dir = argv[1];
  auto peer = LoadSigner("vn_quang-ngai_tinh-phong");
  auto foreign = LoadSigner("other-ca-vn_quang-ngai_tinh-phong");  // right name, wrong CA
  auto sibling = LoadSigner("vn_quang-ngai_ly-son");
  const std::string r1 = std::string(kPeer) + "/r/1";

  // Versions of one report: v1, a descendant v2, and v3 concurrent with v2.
  const v1::Record v1_ = Signed(*peer, Report(r1, {{{kPeer, 1}}, 0}));
  const v1::Record v2 = Signed(*peer, Report(r1, {{{kPeer, 2}}, 10, "Báo cáo quý IV (sửa)"}));
  const v1::Record v3 =
      Signed(*peer, Report(r1, {{{kSelf, 1}, {kPeer, 1}}, 20, "Báo cáo quý IV (bổ sung)"}));
  const v1::Record ack = Signed(*peer, Acknowledgement(3));

  // 1. A Hello, one signed report, and an Ack of part of our feed.
  Write(dir, "seed-one-report", {Hello(0), Batch(0, 5, {v1_}), Ack(2)});

  // 2. Versions in and out of causal order, duplicates, an empty Batch (no
  //    Hello frame: the fuzzer's default Hello is used).
  Write(dir, "seed-versions",
        {Batch(0, 3, {v1_, ack}), Batch(3, 4, {}), Batch(4, 9, {v3, v2, v1_, v3}), Ack(4),
         Rejection(), Batch(9, 10, {ack, v2})});

  // 3. What admission must quarantine, next to one good record; then an Ack
  //    of more than was sent, which closes the link.
  std::vector<v1::Record> hostile;
  {
    v1::Record unsigned_record;
    unsigned_record.set_body(Report(std::string(kPeer) + "/r/2", {{{kPeer, 5}}, 30}).SerializeAsString());
    hostile.push_back(unsigned_record);
    hostile.push_back(Signed(*foreign, Report(std::string(kPeer) + "/r/3", {{{kPeer, 6}}, 31})));
    v1::Record tampered = Signed(*peer, Report(std::string(kPeer) + "/r/4", {{{kPeer, 7}}, 32}));
    v1::RecordBody b;
    b.ParseFromString(tampered.body());
    b.mutable_version()->mutable_authority()->set_unit_depth(0);
    tampered.set_body(b.SerializeAsString());
    hostile.push_back(tampered);
    v1::RecordBody wrong_way = Report(std::string(kPeer) + "/r/5", {{{kPeer, 8}}, 33});
    wrong_way.mutable_audience()->set_direction(v1::Audience::DOWN);
    hostile.push_back(Signed(*peer, wrong_way));
    v1::RecordBody sib = Report("vn/quang-ngai/ly-son/r/1", {{{"vn/quang-ngai/ly-son", 1}}, 34});
    sib.mutable_version()->set_writer("vn/quang-ngai/ly-son");
    v1::Report rep;
    rep.ParseFromString(sib.payload());
    rep.set_from_unit("vn/quang-ngai/ly-son");
    sib.set_payload(rep.SerializeAsString());
    hostile.push_back(Signed(*sibling, sib));
    v1::Record malformed;
    malformed.set_body("\xff\xff\xff");
    hostile.push_back(malformed);
    v1::RecordBody no_id = Report("", {{{kPeer, 9}}, 35});
    hostile.push_back(Signed(*peer, no_id));
    v1::RecordBody unsorted =
        Report(std::string(kPeer) + "/r/6", {{{kPeer, 10}, {kSelf, 1}}, 36});
    hostile.push_back(Signed(*peer, unsorted));
    hostile.push_back(v2);
  }
  Write(dir, "seed-hostile", {Hello(1), Batch(0, 2, hostile), Ack(9)});

  // 4. Resuming: we hold the peer's log up to 4 (a leading Ack frame is our
  //    stored checkpoint), and the peer goes on from there.
  Write(dir, "seed-resume", {Ack(4), Hello(0), Batch(4, 6, {ack}), Batch(6, 9, {v2})});

  // 5. Restarting: we hold the peer's log up to 7, but its first Batch starts
  //    at 0 (its store was replaced): the feed is taken again from the start.
  Write(dir, "seed-restart", {Ack(7), Hello(3), Batch(0, 2, {v1_}), Batch(2, 3, {}),
                              Batch(3, 8, {v2, ack})});
  return 0;
}
