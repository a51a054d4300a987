// Security across the tree (issue: signed versions at every hop, revocation,
// rotation): national → province → commune over real mTLS gRPC.
#include <cstdlib>
#include <filesystem>
#include <set>

#include "node/node.h"
#include "sync/node_path.h"
#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::IsOk;
using steersync::testing::TempDir;
using steersync::testing::WaitUntil;

class SecurityTest : public ::testing::Test {
 protected:
  // A private copy of the test PKI, so deploy/pki.sh may revoke and renew.
  void SetUp() override {
    std::filesystem::copy(steersync::testing::CertDir(), pki(),
                          std::filesystem::copy_options::recursive);
  }

  std::string pki() const { return dir_.Sub("pki"); }
  std::string File(const std::string& id, const char* ext) const {
    std::string base = id;
    for (char& c : base) c = c == '/' ? '_' : c;
    return pki() + "/" + base + ext;
  }
  void Pki(const std::string& args) {
    const std::string cmd = "bash " + std::string(STEERSYNC_SOURCE_DIR) + "/deploy/pki.sh " + args +
                            " >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }

  Node& Start(const std::string& id, const Node* parent = nullptr) {
    NodeOptions o;
    o.id = id;
    o.data_dir = dir_.Sub("data/" + id);
    o.map_size_mb = 64;
    o.tls = {pki() + "/ca.crt", File(id, ".crt"), File(id, ".key")};
    if (parent != nullptr) o.parent_address = "127.0.0.1:" + std::to_string(parent->sync_port());
    if (sync::DepthOf(id) < 2) o.listen_address = "127.0.0.1:0";
    NodeRuntimeOptions rt;
    rt.serve_admin = false;
    rt.backoff.initial_ms = 20;
    rt.backoff.max_ms = 200;
    rt.tls.refresh_interval_sec = 1;
    auto node = Node::Create(o, rt);
    EXPECT_THAT(node, IsOk());
    EXPECT_THAT((*node)->Start(), IsOk());
    nodes_[id] = std::move(*node);
    return *nodes_[id];
  }
  void Stop(const std::string& id) { nodes_.erase(id); }

  static bool Has(const Node& node, const std::string& record_id) {
    auto r = node.store().GetRecord(record_id);
    return r.ok() && r->has_value();
  }
  static std::set<std::string> Acks(const Node& node, const std::string& directive_id) {
    std::set<std::string> out;
    auto list = node.ListDirectives();
    if (!list.ok()) return out;
    for (const auto& d : list->directives()) {
      if (d.id() == directive_id) out.insert(d.acks().begin(), d.acks().end());
    }
    return out;
  }
  static v1::IssueDirectiveRequest Directive(const std::string& number) {
    v1::IssueDirectiveRequest r;
    r.set_number(number);
    r.set_doc_type("CT");
    r.set_title("Chuyển đổi số");
    return r;
  }

  TempDir dir_;
  std::map<std::string, std::unique_ptr<Node>> nodes_;
};

// A national directive reaches communes of two provinces through their
// provinces and verifies at every hop; acknowledgements climb two levels.
TEST_F(SecurityTest, NationalDirectiveIsRelayedAndVerifiedAtEveryHop) {
  Node& vn = Start("vn");
  Node& quang_ngai = Start("vn/quang-ngai", &vn);
  Node& da_nang = Start("vn/da-nang", &vn);
  Node& tinh_phong = Start("vn/quang-ngai/tinh-phong", &quang_ngai);
  Node& hai_chau = Start("vn/da-nang/hai-chau", &da_nang);

  auto id = vn.IssueDirective(Directive("01/CT-BCĐTW"));
  ASSERT_THAT(id, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return Has(tinh_phong, *id) && Has(hai_chau, *id); }));
  // Each hop verified the national signature, not just the TLS peer.
  for (Node* n : {&quang_ngai, &da_nang, &tinh_phong, &hai_chau}) {
    EXPECT_EQ(n->store().QuarantineCount(), 0u) << n->options().id;
    EXPECT_EQ(n->GetStatus().warnings_size(), 0) << n->options().id;
  }
  ASSERT_THAT(tinh_phong.AckDirective(*id), IsOk());
  ASSERT_THAT(hai_chau.AckDirective(*id), IsOk());
  // The provinces registered it RECEIVED on arrival (S23); only the
  // communes' officers acknowledged it.
  ASSERT_TRUE(WaitUntil([&] {
    return Acks(vn, *id) == std::set<std::string>{"vn/da-nang/hai-chau", "vn/quang-ngai/tinh-phong"};
  }));
  // A commune's report goes to its province only.
  v1::SubmitReportRequest report;
  report.set_period("2026-Q4");
  report.set_title("Báo cáo quý");
  auto report_id = tinh_phong.SubmitReport(report);
  ASSERT_THAT(report_id, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return Has(quang_ngai, *report_id); }));
  EXPECT_FALSE(Has(vn, *report_id));
  EXPECT_FALSE(Has(da_nang, *report_id));
}

// Revocation: a revoked commune is refused at the handshake; its sibling
// goes on; the list itself flows down as a record.
TEST_F(SecurityTest, RevokedCertificateIsRefusedAndTheListFlowsDown) {
  Node& province = Start("vn/quang-ngai");
  Node& tinh_phong = Start("vn/quang-ngai/tinh-phong", &province);
  Node& binh_son = Start("vn/quang-ngai/binh-son", &province);
  ASSERT_TRUE(WaitUntil([&] { return province.GetStatus().children_seen_size() == 2; }));

  Pki("revoke " + pki() + " vn/quang-ngai/tinh-phong");
  auto crl = ReadFileToString(pki() + "/crl.pem");
  ASSERT_THAT(crl, IsOk());
  auto published = province.PublishRevocationList(*crl);
  ASSERT_THAT(published, IsOk());
  EXPECT_EQ(published->revoked(), 1u);

  auto id = province.IssueDirective(Directive("02/CT-BCĐ"));
  ASSERT_THAT(id, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return Has(binh_son, *id); }));
  EXPECT_TRUE(WaitUntil([&] { return binh_son.GetStatus().revoked_certificates() == 1; }));
  ASSERT_TRUE(WaitUntil([&] {
    return province.GetStatus().last_refusal().find("is revoked") != std::string::npos;
  }));
  EXPECT_FALSE(Has(tinh_phong, *id));
  EXPECT_FALSE(tinh_phong.GetStatus().parent_connected());
}

// Rotation: the province's certificate and key are renewed on disk while it
// runs; new handshakes present the new certificate, versions signed after
// the renewal verify, and nothing issued across the rotation is lost.
TEST_F(SecurityTest, RenewedCertificateTakesEffectWithoutRestart) {
  Node& province = Start("vn/quang-ngai");
  Start("vn/quang-ngai/tinh-phong", &province);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(*province.IssueDirective(Directive(std::to_string(i + 1) + "/CT-BCĐ")));

  auto parent_not_after = [&](const Node& n) {
    const v1::PeersReply peers = n.ListPeers();
    for (const auto& p : peers.peers()) {
      if (p.relation() == "parent") return p.cert_not_after();
    }
    return int64_t{0};
  };
  ASSERT_TRUE(WaitUntil([&] { return parent_not_after(*nodes_["vn/quang-ngai/tinh-phong"]) != 0; }));
  const int64_t before = parent_not_after(*nodes_["vn/quang-ngai/tinh-phong"]);

  Pki("renew " + pki() + " vn/quang-ngai --days 400");
  for (int i = 20; i < 40; ++i) ids.push_back(*province.IssueDirective(Directive(std::to_string(i + 1) + "/CT-BCĐ")));

  // A commune that connects now sees the renewed certificate (the file
  // watcher picks it up within its refresh interval).
  Stop("vn/quang-ngai/tinh-phong");
  ASSERT_TRUE(WaitUntil([&] {
    Node& c = Start("vn/quang-ngai/tinh-phong", &province);
    const bool renewed = WaitUntil([&] { return parent_not_after(c) != 0; }) &&
                         parent_not_after(c) != before;
    if (!renewed) Stop("vn/quang-ngai/tinh-phong");
    return renewed;
  }, std::chrono::seconds(30)));
  Node& commune = *nodes_["vn/quang-ngai/tinh-phong"];
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& id : ids) {
      if (!Has(commune, id)) return false;
    }
    return true;
  }));
  EXPECT_EQ(commune.store().QuarantineCount(), 0u);
}

}  // namespace
}  // namespace steersync::node

namespace steersync::node {
namespace {

// steerctl status warns about certificates expiring within 30 days: the
// node's own, and those its parent and children presented.
TEST_F(SecurityTest, StatusWarnsAboutCertificatesExpiringWithin30Days) {
  Pki("renew " + pki() + " vn/quang-ngai --days 10");
  Node& province = Start("vn/quang-ngai");
  Node& commune = Start("vn/quang-ngai/tinh-phong", &province);
  auto has_warning = [](const Node& n, const std::string& needle) {
    const v1::StatusReply status = n.GetStatus();
    for (const auto& w : status.warnings()) {
      if (w.find(needle) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_warning(province, "certificate of vn/quang-ngai (this node) expires in"));
  // The commune learns it from the handshake with its parent.
  EXPECT_TRUE(WaitUntil([&] { return has_warning(commune, "certificate of vn/quang-ngai expires in"); }));
  EXPECT_FALSE(has_warning(commune, "vn/quang-ngai/tinh-phong (this node)"));
}

}  // namespace
}  // namespace steersync::node
