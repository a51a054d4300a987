// An in-process federation: a province and communes as real Nodes, talking
// real gRPC with mTLS over loopback (port 0), storing in LMDB.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include <grpcpp/grpcpp.h>

#include "node/node.h"
#include "node/tls.h"
#include "sync/node_path.h"
#include "steersync/v1/admin.grpc.pb.h"
#include "steersync/v1/sync.grpc.pb.h"
#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::IsOk;
using steersync::testing::NodeCert;
using steersync::testing::NodeKey;
using steersync::testing::TempDir;
using steersync::testing::WaitUntil;

constexpr char kProvince[] = "vn/quang-ngai";
const std::vector<std::string> kCommunes = {"vn/quang-ngai/tinh-phong", "vn/quang-ngai/binh-son",
                                            "vn/quang-ngai/ly-son"};

class FederationTest : public ::testing::Test {
 protected:
  NodeOptions Options(const std::string& id, const std::string& parent_address) {
    NodeOptions o;
    o.id = id;
    o.data_dir = dir_.Sub("data/" + id);
    o.map_size_mb = 256;
    o.tls = {steersync::testing::CertDir() + "/ca.crt", NodeCert(id), NodeKey(id)};
    o.parent_address = parent_address;
    if (sync::DepthOf(id) < 2) o.listen_address = "127.0.0.1:0";
    return o;
  }

  std::unique_ptr<Node> StartNode(NodeOptions options) {
    NodeRuntimeOptions rt;
    rt.serve_admin = false;
    rt.backoff.initial_ms = 20;  // fast reconnects keep the test short
    rt.backoff.max_ms = 200;
    auto node = Node::Create(std::move(options), rt);
    EXPECT_THAT(node, IsOk());
    EXPECT_THAT((*node)->Start(), IsOk());
    return std::move(*node);
  }

  std::unique_ptr<Node> StartProvince() { return StartNode(Options(kProvince, "")); }
  std::unique_ptr<Node> StartCommune(const std::string& id, const Node& province) {
    return StartNode(Options(id, "127.0.0.1:" + std::to_string(province.sync_port())));
  }

  static size_t CountKind(const Node& node, v1::RecordKind kind) {
    size_t n = 0;
    EXPECT_THAT(node.store().ForEachRecord([&](const v1::Record&, const v1::RecordBody& b) {
      n += b.kind() == kind;
    }), IsOk());
    return n;
  }

  static const v1::PeerInfo* Peer(const v1::PeersReply& peers, const std::string& id) {
    for (const auto& p : peers.peers()) {
      if (p.peer() == id) return &p;
    }
    return nullptr;
  }

  TempDir dir_;
};

v1::IssueDirectiveRequest DirectiveRequest(const std::string& number) {
  v1::IssueDirectiveRequest r;
  r.set_number(number);
  r.set_doc_type("CT");
  r.set_title("Triển khai chuyển đổi số");
  r.set_body("Nội dung chỉ thị");
  return r;
}

// P 2.1 / C 2.1: the province committee directs; C 9: communes report back.
TEST_F(FederationTest, DirectiveReachesEveryCommuneAndReportsAndAcksReachTheProvince) {
  auto province = StartProvince();
  std::vector<std::unique_ptr<Node>> communes;
  for (const auto& id : kCommunes) communes.push_back(StartCommune(id, *province));

  auto id = province->IssueDirective(DirectiveRequest("01/CT-BCĐ"));
  ASSERT_THAT(id, IsOk());
  for (auto& c : communes) {
    ASSERT_TRUE(WaitUntil([&] { return CountKind(*c, v1::DIRECTIVE) == 1; }))
        << c->options().id << " never received the directive";
    ASSERT_THAT(c->AckDirective(*id), IsOk());
    v1::SubmitReportRequest report;
    report.set_period("2026-Q4");
    report.set_title("Báo cáo quý IV");
    report.set_in_reply_to(*id);
    ASSERT_THAT(c->SubmitReport(report), IsOk());
  }
  ASSERT_TRUE(WaitUntil([&] {
    auto list = province->ListDirectives();
    return list.ok() && list->directives_size() == 1 && list->directives(0).acks_size() == 3;
  }));
  ASSERT_TRUE(WaitUntil([&] { return CountKind(*province, v1::REPORT) == 3; }));
  auto reports = province->ListReports();
  ASSERT_THAT(reports, IsOk());
  std::set<std::string> from;
  for (const auto& r : reports->reports()) {
    from.insert(r.from());
    EXPECT_EQ(r.in_reply_to(), *id);
  }
  EXPECT_EQ(from, std::set<std::string>(kCommunes.begin(), kCommunes.end()));
  // Reports go up, never sideways: no commune holds another commune's report.
  for (auto& c : communes) EXPECT_EQ(CountKind(*c, v1::REPORT), 1u);
  EXPECT_EQ(province->store().QuarantineCount(), 0u);
  // Nothing went missing on the way: no gap (or other) warnings anywhere.
  EXPECT_EQ(province->GetStatus().warnings_size(), 0);
  for (auto& c : communes) EXPECT_EQ(c->GetStatus().warnings_size(), 0) << c->options().id;
}

TEST_F(FederationTest, DirectiveToListedUnitsReachesOnlyThem) {
  auto province = StartProvince();
  auto tinh_phong = StartCommune(kCommunes[0], *province);
  auto ly_son = StartCommune(kCommunes[2], *province);
  // A directive is addressed to units the province knows: registered, or
  // linked once.
  auto unknown = DirectiveRequest("01/CT-BCĐ");
  unknown.add_to_units(kCommunes[1]);
  EXPECT_EQ(province->IssueDirective(unknown).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(WaitUntil([&] { return province->GetStatus().children_seen_size() == 2; }));
  auto req = DirectiveRequest("02/CT-BCĐ");
  req.add_to_units(kCommunes[2]);
  ASSERT_THAT(province->IssueDirective(req), IsOk());
  ASSERT_THAT(province->IssueDirective(DirectiveRequest("03/CT-BCĐ")), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return CountKind(*ly_son, v1::DIRECTIVE) == 2; }));
  // Both directives were offered to tinh-phong's link in order; once it has
  // acknowledged past them, it holds only the one addressed to all.
  ASSERT_TRUE(WaitUntil([&] {
    const auto* p = Peer(province->ListPeers(), kCommunes[0]);
    return p != nullptr && p->behind() == 0;
  }));
  EXPECT_EQ(CountKind(*tinh_phong, v1::DIRECTIVE), 1u);
}

TEST_F(FederationTest, RestartResumesFromTheCheckpointWithoutResendingEverything) {
  auto province = StartProvince();
  auto commune = StartCommune(kCommunes[0], *province);
  for (int i = 1; i <= 300; ++i) {
    ASSERT_THAT(province->IssueDirective(DirectiveRequest(std::to_string(i) + "/CT-BCĐ")), IsOk());
  }
  ASSERT_TRUE(WaitUntil([&] { return CountKind(*commune, v1::DIRECTIVE) == 300; }));
  commune.reset();  // stop the commune (clean shutdown)
  ASSERT_TRUE(WaitUntil([&] {
    const auto* p = Peer(province->ListPeers(), kCommunes[0]);
    return p != nullptr && !p->connected();
  }));
  for (int i = 301; i <= 350; ++i) {
    ASSERT_THAT(province->IssueDirective(DirectiveRequest(std::to_string(i) + "/CT-BCĐ")), IsOk());
  }
  commune = StartCommune(kCommunes[0], *province);
  ASSERT_TRUE(WaitUntil([&] { return CountKind(*commune, v1::DIRECTIVE) == 350; }));
  ASSERT_TRUE(WaitUntil([&] { return Peer(province->ListPeers(), kCommunes[0])->behind() == 0; }));
  // 300 before the restart, 50 after: nothing sent twice.
  EXPECT_EQ(Peer(province->ListPeers(), kCommunes[0])->records_sent(), 350u);
  // One log entry per record: each directive and the commune's automatic
  // receipt of it (S23).
  ASSERT_TRUE(WaitUntil([&] { return CountKind(*commune, v1::ACKNOWLEDGEMENT) == 350; }));
  EXPECT_EQ(commune->store().HeadSeq(), 700u);
}

// A raw client with the given credentials opens a Sync stream to `port` and
// returns how the stream ended.
grpc::Status DialSync(int port, std::shared_ptr<grpc::ChannelCredentials> creds) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), creds);
  auto stub = v1::Sync::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(10)));
  auto stream = stub->Link(&ctx);
  v1::SyncMessage m;
  while (stream->Read(&m)) {
  }
  return stream->Finish();
}

TEST_F(FederationTest, CertificateFromAnotherCaIsRefused) {
  auto province = StartProvince();
  TlsFiles forged{steersync::testing::CertDir() + "/ca.crt",
                  steersync::testing::CertDir() + "/other-ca-vn_quang-ngai_tinh-phong.crt",
                  steersync::testing::CertDir() + "/other-ca-vn_quang-ngai_tinh-phong.key"};
  auto creds = MakeChannelCredentials(forged);
  ASSERT_THAT(creds, IsOk());
  grpc::Status s = DialSync(province->sync_port(), *creds);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(CountKind(*province, v1::REPORT), 0u);
  // Counted and explained on the province.
  EXPECT_GE(province->GetStatus().refused_handshakes(), 1u);
  EXPECT_THAT(province->GetStatus().last_refusal(),
              ::testing::HasSubstr("not accepted by the federation CA"));
}

TEST_F(FederationTest, ClientWithoutCertificateIsRefused) {
  auto province = StartProvince();
  grpc::SslCredentialsOptions no_cert;
  auto ca = ReadFileToString(steersync::testing::CertDir() + "/ca.crt");
  ASSERT_THAT(ca, IsOk());
  no_cert.pem_root_certs = *ca;
  grpc::Status s = DialSync(province->sync_port(), grpc::SslCredentials(no_cert));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  // Issue 10 round two, item 2b: counted and named like any other refusal,
  // with the listener that refused.
  const v1::StatusReply status = province->GetStatus();
  EXPECT_GE(status.refused_handshakes(), 1u);
  EXPECT_THAT(status.last_refusal(),
              ::testing::HasSubstr("vn/quang-ngai (serving children): peer presented no certificate"));
}

TEST_F(FederationTest, ValidNodeThatIsNotAChildIsRefusedAndCounted) {
  auto province = StartProvince();
  auto creds = MakeChannelCredentials({steersync::testing::CertDir() + "/ca.crt",
                                       NodeCert("vn/da-nang/hai-chau"),
                                       NodeKey("vn/da-nang/hai-chau")});
  ASSERT_THAT(creds, IsOk());
  grpc::Status s = DialSync(province->sync_port(), *creds);
  // Refused in the TLS handshake: the client only sees the connection fail.
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  const v1::StatusReply status = province->GetStatus();
  EXPECT_GE(status.refused_handshakes(), 1u);
  EXPECT_THAT(status.last_refusal(), ::testing::HasSubstr("'vn/da-nang/hai-chau' is not a peer"));
}

TEST_F(FederationTest, CommuneRefusesAParentPresentingAnotherIdentity) {
  // Da Nang's node listens; tinh-phong is pointed at it by mistake.
  auto da_nang = StartNode(Options("vn/da-nang", ""));
  auto commune = StartCommune(kCommunes[0], *da_nang);
  ASSERT_THAT(da_nang->IssueDirective(DirectiveRequest("01/CT-BCĐ")), IsOk());
  // Da Nang refuses the commune (not its child) and the commune refuses Da
  // Nang's identity (not its parent), in the handshake; nothing is exchanged.
  ASSERT_TRUE(WaitUntil([&] {
    return da_nang->GetStatus().refused_handshakes() >= 1 &&
           commune->GetStatus().refused_handshakes() >= 1;
  }));
  // Named with the side that refused (item 2c): the commune's dialler.
  EXPECT_THAT(commune->GetStatus().last_refusal(),
              ::testing::HasSubstr("vn/quang-ngai/tinh-phong (dialling parent): 'vn/da-nang' is not a peer"));
  EXPECT_EQ(CountKind(*commune, v1::DIRECTIVE), 0u);
  EXPECT_FALSE(commune->GetStatus().parent_connected());
}

// The optional TCP admin listener admits only admin client certificates
// (urn:steersync:admin:<name>) from the federation CA.
TEST_F(FederationTest, TcpAdminListenerRequiresAnAdminCertificate) {
  NodeOptions o = Options(kProvince, "");
  o.admin_tcp_address = "127.0.0.1:0";
  auto province = StartNode(o);
  ASSERT_GT(province->admin_tcp_port(), 0);
  auto status_with = [&](const std::string& cert, const std::string& key, v1::StatusReply* reply) {
    auto creds = MakeChannelCredentials({steersync::testing::CertDir() + "/ca.crt", cert, key});
    EXPECT_THAT(creds, IsOk());
    auto stub = v1::Admin::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(province->admin_tcp_port()), *creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(10)));
    return stub->GetStatus(&ctx, v1::StatusRequest(), reply);
  };
  v1::StatusReply reply;
  grpc::Status ok = status_with(steersync::testing::CertDir() + "/admin-ops.crt",
                                steersync::testing::CertDir() + "/admin-ops.key", &reply);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(reply.node_id(), kProvince);
  // A node certificate is not an admin certificate.
  grpc::Status refused = status_with(NodeCert(kCommunes[0]), NodeKey(kCommunes[0]), &reply);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(province->GetStatus().last_refusal(),
              ::testing::HasSubstr("vn/quang-ngai (admin over TCP): certificate has no urn:steersync:admin: URI SAN"));
  // No certificate at all: refused in the handshake, counted, named (items 2b, 2c).
  const uint64_t refused_before = province->GetStatus().refused_handshakes();
  grpc::SslCredentialsOptions no_cert;
  no_cert.pem_root_certs = *ReadFileToString(steersync::testing::CertDir() + "/ca.crt");
  auto stub = v1::Admin::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(province->admin_tcp_port()), grpc::SslCredentials(no_cert)));
  grpc::ClientContext ctx;
  ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(10)));
  EXPECT_EQ(stub->GetStatus(&ctx, v1::StatusRequest(), &reply).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_GT(province->GetStatus().refused_handshakes(), refused_before);
  EXPECT_THAT(province->GetStatus().last_refusal(),
              ::testing::HasSubstr("vn/quang-ngai (admin over TCP): peer presented no certificate"));
}

// Plain HTTP GET on loopback (enough for a Prometheus scrape in a test).
std::string HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
    ::send(fd, req.data(), req.size(), 0);
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, n);
  }
  ::close(fd);
  return out;
}

TEST_F(FederationTest, MetricsShowLinksLagAndQuarantine) {
  NodeOptions o = Options(kProvince, "");
  o.metrics_address = "127.0.0.1:0";
  auto province = StartNode(o);
  ASSERT_GT(province->metrics_port(), 0);
  auto commune = StartCommune(kCommunes[0], *province);
  ASSERT_THAT(province->IssueDirective(DirectiveRequest("01/CT-BCĐ")), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return CountKind(*commune, v1::DIRECTIVE) == 1; }));
  ASSERT_TRUE(WaitUntil([&] {
    const std::string page = HttpGet(province->metrics_port(), "/metrics");
    return page.find("steersync_peer_connected{peer=\"vn/quang-ngai/tinh-phong\",relation=\"child\"} 1") !=
               std::string::npos &&
           page.find("steersync_peer_records_sent_total{peer=\"vn/quang-ngai/tinh-phong\",relation=\"child\"} 1") !=
               std::string::npos &&
           page.find("steersync_log_head_seq 2") != std::string::npos;  // the directive, its receipt
  })) << HttpGet(province->metrics_port(), "/metrics");
}

}  // namespace
}  // namespace steersync::node
