// Process level: the real steersyncd binaries, killed with SIGKILL in the
// middle of a large catch-up and restarted. Every record must arrive exactly
// once: same ids, same count, one change-log entry each, on both sides.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include "absl/synchronization/mutex.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.grpc.pb.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/store_audit.h"
#include "tests/testutil/subprocess.h"

namespace steersync {
namespace {

using testing::BinaryPath;
using testing::CertDir;
using testing::IsOk;
using testing::PickFreePort;
using testing::Subprocess;
using testing::TempDir;
using testing::WaitUntil;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/tinh-phong";
constexpr int kDirectives = 20'000;

class DaemonHarness {
 public:
  explicit DaemonHarness(const TempDir& dir) : dir_(dir) {}

  std::string WriteConfig(const std::string& id, const std::string& name, int listen_port,
                          int parent_port, const std::string& cert_dir = CertDir()) {
    std::string base = id;
    for (char& c : base) c = c == '/' ? '_' : c;
    const std::string path = dir_.Sub(name + ".toml");
    std::ofstream out(path);
    out << "[node]\nid = \"" << id << "\"\ndata_dir = \"data/" << name << "\"\n";
    // These tests count the records a node holds exactly; a signed head
    // joins them whenever a sequence has rested for an interval, so it
    // must not come within a test (signed heads: SignedHeadsTest, and
    // HostileInputTest against a real province).
    out << "head_interval_seconds = 3600\n";
    if (listen_port) out << "[listen]\naddress = \"127.0.0.1:" << listen_port << "\"\n";
    if (parent_port) out << "[parent]\naddress = \"127.0.0.1:" << parent_port << "\"\n";
    out << "[tls]\nca = \"" << cert_dir << "/ca.crt\"\ncert = \"" << cert_dir << "/" << base
        << ".crt\"\nkey = \"" << cert_dir << "/" << base << ".key\"\n";
    out << "[admin]\nsocket = \"run/" << name << ".sock\"\n";
    return path;
  }

  std::unique_ptr<Subprocess> Start(const std::string& config, const std::string& name) {
    return std::make_unique<Subprocess>(
        std::vector<std::string>{BinaryPath("node/steersyncd"), "--config", config},
        dir_.Sub(name + ".log"));
  }

  std::unique_ptr<v1::Admin::Stub> Admin(const std::string& name) {
    auto channel = grpc::CreateChannel("unix:" + dir_.Sub("run/" + name + ".sock"),
                                       grpc::experimental::LocalCredentials(UDS));
    return v1::Admin::NewStub(channel);
  }

  // A fresh channel per call: a channel that failed to connect before the
  // daemon bound its socket would otherwise wait out gRPC's reconnect backoff.
  std::optional<v1::StatusReply> Status(const std::string& name) {
    auto admin = Admin(name);
    grpc::ClientContext ctx;
    ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(5)));
    v1::StatusReply reply;
    if (!admin->GetStatus(&ctx, v1::StatusRequest(), &reply).ok()) return std::nullopt;
    return reply;
  }

 private:
  const TempDir& dir_;
};

std::set<std::string> DirectiveIds(node::LmdbStore& store, size_t* count) {
  std::set<std::string> ids;
  *count = 0;
  EXPECT_THAT(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& b) {
    if (b.kind() == v1::DIRECTIVE) {
      ids.insert(b.id());
      ++*count;
    }
  }), IsOk());
  return ids;
}

TEST(ProcessTest, KilledCommuneResumesLargeCatchUpWithEveryRecordExactlyOnce) {
  TempDir dir;
  DaemonHarness h(dir);
  const int port = PickFreePort();
  auto province_cfg = h.WriteConfig(kProvince, "province", port, 0);
  auto commune_cfg = h.WriteConfig(kCommune, "commune", 0, port);

  auto province = h.Start(province_cfg, "province");
  ASSERT_TRUE(WaitUntil([&] { return h.Status("province").has_value(); }))
      << "province admin socket never answered";

  // Issue the directives from a few concurrent clients (group commit).
  std::atomic<int> next{0}, failures{0};
  absl::Mutex first_failure_mu;
  std::string first_failure;  // guarded by first_failure_mu: what the province said, for the report
  std::vector<std::thread> issuers;
  for (int t = 0; t < 8; ++t) {
    issuers.emplace_back([&] {
      auto admin = h.Admin("province");
      for (int i = next++; i < kDirectives; i = next++) {
        v1::IssueDirectiveRequest req;
        req.set_number(std::to_string(i + 1) + "/CT-BCĐ");
        req.set_doc_type("CT");
        req.set_title("Chỉ thị số " + std::to_string(i + 1));
        req.set_body(std::string(200, 'x'));
        v1::IssueDirectiveReply reply;
        grpc::ClientContext ctx;
        if (const grpc::Status st = admin->IssueDirective(&ctx, req, &reply); !st.ok()) {
          absl::MutexLock lock(&first_failure_mu);
          if (failures++ == 0) first_failure = std::to_string(st.error_code()) + ": " + st.error_message();
        }
      }
    });
  }
  for (auto& t : issuers) t.join();
  ASSERT_EQ(failures.load(), 0) << "the first: " << first_failure;

  // Kill the commune with SIGKILL as soon as its first records are in, and
  // check on disk that it died mid catch-up (some records, not all). A
  // machine fast enough to finish first gets a fresh commune and another try.
  std::unique_ptr<Subprocess> commune;
  size_t on_disk_after_kill = 0;
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::filesystem::remove_all(dir.Sub("data/commune"));
    commune = h.Start(commune_cfg, "commune");
    ASSERT_TRUE(WaitUntil([&] {
      auto s = h.Status("commune");
      return s.has_value() && s->record_count() > 0;
    }));
    commune->Signal(SIGKILL);
    commune->Wait();
    auto killed_store = node::LmdbStore::Open(dir.Sub("data/commune"), {});
    ASSERT_THAT(killed_store, IsOk());
    on_disk_after_kill = (*killed_store)->RecordCount();
    if (on_disk_after_kill < static_cast<size_t>(kDirectives)) break;
  }
  ASSERT_GT(on_disk_after_kill, 0u);
  ASSERT_LT(on_disk_after_kill, static_cast<size_t>(kDirectives))
      << "every catch-up finished before the kill; the test proves nothing";
  std::cout << "killed the commune with " << on_disk_after_kill << " of " << kDirectives
            << " directives on disk\n";

  const auto restart = std::chrono::steady_clock::now();
  commune = h.Start(commune_cfg, "commune");
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto s = h.Status("commune");
        // Every directive, and the commune's own receipt of each (S23), and
        // its own status record (node/domain/unit_status.h).
        return s.has_value() && s->record_count() == 2 * kDirectives + 1;
      },
      std::chrono::seconds(120)));
  std::cout << "restarted commune caught up in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - restart).count()
            << " ms\n";
  // Read-only inspection of a running daemon's store from another process.
  {
    node::lmdb::EnvOptions read_only;
    read_only.read_only = true;
    ASSERT_TRUE(WaitUntil([&] {
      auto s = h.Status("province");
      // The receipts came up, and the commune's status (with the province's own).
      return s.has_value() && s->record_count() == 2 * kDirectives + 2;
    }));
    auto live = node::LmdbStore::Open(dir.Sub("data/province"), read_only);
    ASSERT_THAT(live, IsOk());
    EXPECT_EQ((*live)->RecordCount(), static_cast<uint64_t>(2 * kDirectives + 2));
    live->reset();  // one environment per path in a process: the audit opens its own
    // Exactly once: one log entry per record (a status keeps only its
    // newest version's entry, so the head may be further on).
    auto audit = testing::AuditStore(dir.Sub("data/province"));
    ASSERT_THAT(audit, IsOk());
    EXPECT_EQ(audit->committee_log_entries, audit->CommitteeRecords());
    EXPECT_TRUE(audit->duplicate_log_versions.empty());
    EXPECT_TRUE(audit->unlogged.empty()) << audit->unlogged.size() << " unlogged, first: " << audit->unlogged.front();
    EXPECT_EQ(audit->CommitteeRecords(), static_cast<size_t>(2 * kDirectives));
  }
  // Clean stops: SIGTERM, exit code 0.
  commune->Signal(SIGTERM);
  int status = commune->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  province->Signal(SIGTERM);
  status = province->Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;

  // Both stores, read directly: same ids, each exactly once.
  auto province_store = node::LmdbStore::Open(dir.Sub("data/province"), {});
  ASSERT_THAT(province_store, IsOk());
  auto commune_store = node::LmdbStore::Open(dir.Sub("data/commune"), {});
  ASSERT_THAT(commune_store, IsOk());
  size_t province_count = 0, commune_count = 0;
  auto province_ids = DirectiveIds(**province_store, &province_count);
  auto commune_ids = DirectiveIds(**commune_store, &commune_count);
  EXPECT_EQ(province_count, static_cast<size_t>(kDirectives));
  EXPECT_EQ(commune_count, static_cast<size_t>(kDirectives));
  EXPECT_EQ(province_ids, commune_ids);
  // The commune applied the province's log up to its last directive (the
  // province's status versions between them are not addressed to it).
  EXPECT_GE((*commune_store)->AppliedSeq(kProvince).value(), static_cast<uint64_t>(kDirectives));
  EXPECT_LE((*commune_store)->AppliedSeq(kProvince).value(), (*province_store)->HeadSeq());
  province_store->reset();  // the audit opens each store itself
  commune_store->reset();
  // One change-log entry per record (each directive and its receipt, and
  // the newest version of each status record): nothing was applied twice.
  for (const char* name : {"data/province", "data/commune"}) {
    auto audit = testing::AuditStore(dir.Sub(name));
    ASSERT_THAT(audit, IsOk());
    EXPECT_EQ(audit->committee_log_entries, audit->CommitteeRecords()) << name;
    EXPECT_TRUE(audit->duplicate_log_versions.empty()) << name;
    EXPECT_EQ(audit->CommitteeRecords(), static_cast<size_t>(2 * kDirectives))
        << name;
  }
}

// Rotation and revocation with the real daemons: the province's certificate
// is renewed on disk while it runs (no restart, nothing lost), then a
// commune's certificate is revoked and the CA's list published: that commune
// is refused from then on while its sibling goes on.
TEST(ProcessTest, CertificateRotationAndRevocationWithRunningDaemons) {
  TempDir dir;
  DaemonHarness h(dir);
  const std::string pki = dir.Sub("pki");
  std::filesystem::copy(CertDir(), pki);
  auto run_pki = [&](const std::string& args) {
    const std::string cmd =
        "bash " + std::string(STEERSYNC_SOURCE_DIR) + "/deploy/pki.sh " + args + " >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  };
  const int port = PickFreePort();
  const char* kBinhSon = "vn/quang-ngai/binh-son";
  auto province = h.Start(h.WriteConfig(kProvince, "province", port, 0, pki), "province");
  const std::string tinh_phong_cfg = h.WriteConfig(kCommune, "tinh-phong", 0, port, pki);
  auto tinh_phong = h.Start(tinh_phong_cfg, "tinh-phong");
  auto binh_son = h.Start(h.WriteConfig(kBinhSon, "binh-son", 0, port, pki), "binh-son");
  ASSERT_TRUE(WaitUntil([&] {
    auto s = h.Status("province");
    return s.has_value() && s->children_seen_size() == 2;
  }));

  auto issue = [&](const std::string& number) {
    auto admin = h.Admin("province");
    v1::IssueDirectiveRequest req;
    req.set_number(number);
    req.set_doc_type("CT");
    req.set_title("Chỉ thị");
    v1::IssueDirectiveReply reply;
    grpc::ClientContext ctx;
    EXPECT_TRUE(admin->IssueDirective(&ctx, req, &reply).ok());
    return reply.id();
  };
  auto parent_not_after = [&](const std::string& name) -> int64_t {
    auto admin = h.Admin(name);
    grpc::ClientContext ctx;
    v1::PeersReply peers;
    if (!admin->ListPeers(&ctx, v1::PeersRequest(), &peers).ok()) return 0;
    for (const auto& p : peers.peers()) {
      if (p.relation() == "parent" && p.connected()) return p.cert_not_after();
    }
    return 0;
  };
  // The records a commune holds, its own status record aside (written when
  // the node starts and rewritten as it goes: node/status_reporter.h).
  auto records = [&](const std::string& name) -> uint64_t {
    auto audit = testing::AuditStore(dir.Sub("data/" + name));
    return audit.ok() ? audit->CommitteeRecords() : 0;
  };

  // --- Rotation: renew the province's pair on disk while it runs.
  ASSERT_TRUE(WaitUntil([&] { return parent_not_after("tinh-phong") != 0; }));
  const int64_t old_not_after = parent_not_after("tinh-phong");
  issue("1/CT-BCĐ");
  run_pki("renew " + pki + " vn/quang-ngai --days 400");
  issue("2/CT-BCĐ");
  // A new connection (the commune restarts) sees the renewed certificate
  // once the province's file watcher has picked it up.
  ASSERT_TRUE(WaitUntil(
      [&] {
        tinh_phong->Signal(SIGTERM);
        tinh_phong->Wait();
        tinh_phong = h.Start(tinh_phong_cfg, "tinh-phong");
        const bool connected = WaitUntil([&] { return parent_not_after("tinh-phong") != 0; },
                                         std::chrono::seconds(10));
        return connected && parent_not_after("tinh-phong") != old_not_after;
      },
      std::chrono::seconds(60)));
  issue("3/CT-BCĐ");
  // Three directives and each commune's receipt of them.
  ASSERT_TRUE(WaitUntil([&] { return records("tinh-phong") == 6 && records("binh-son") == 6; }))
      << "directives issued across the rotation were lost";

  // --- Revocation: binh-son's certificate is revoked and the list published.
  run_pki("revoke " + pki + " " + kBinhSon);
  {
    std::ifstream in(pki + "/crl.pem");
    std::stringstream crl;
    crl << in.rdbuf();
    auto admin = h.Admin("province");
    v1::PublishRevocationListRequest req;
    req.set_crl(crl.str());
    v1::PublishRevocationListReply reply;
    grpc::ClientContext ctx;
    ASSERT_TRUE(admin->PublishRevocationList(&ctx, req, &reply).ok());
    EXPECT_EQ(reply.revoked(), 1u);
  }
  const std::string after_revocation = issue("4/CT-BCĐ");
  // tinh-phong gets the directive and the list itself; binh-son is refused.
  ASSERT_TRUE(WaitUntil([&] { return records("tinh-phong") == 9; }));  // 4 directives, 4 receipts, the list
  ASSERT_TRUE(WaitUntil([&] {
    auto s = h.Status("province");
    return s.has_value() && s->last_refusal().find("is revoked") != std::string::npos;
  }));
  auto has_directive = [&](const std::string& name, const std::string& id) {
    auto admin = h.Admin(name);
    grpc::ClientContext ctx;
    v1::ListDirectivesReply list;
    EXPECT_TRUE(admin->ListDirectives(&ctx, v1::ListDirectivesRequest(), &list).ok());
    for (const auto& d : list.directives()) {
      if (d.id() == id) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_directive("tinh-phong", after_revocation));
  EXPECT_FALSE(has_directive("binh-son", after_revocation));
  EXPECT_EQ(h.Status("tinh-phong")->revoked_certificates(), 1u);

  for (auto* p : {&tinh_phong, &binh_son, &province}) {
    (*p)->Signal(SIGTERM);
    const int status = (*p)->Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
}


// Issue 3, process level (DOMAIN-MODEL.md §6 R1; D30 Art. 18.4, Art. 21.2):
// while the commune is offline (its daemon stopped) the province recalls a
// directive from it; while the province is down, the commune, still unaware,
// acknowledges that directive. Both edit the same shared field (the commune's
// receipt) concurrently. After reconnection both nodes hold the province's
// RECALLED as the winner and the commune's ACKNOWLEDGED as a conflict lost by
// R1: nothing overwritten silently, nothing lost.
TEST(ProcessTest, OfflineCommuneEditLosesToTheProvinceByR1OnBothNodes) {
  TempDir dir;
  DaemonHarness h(dir);
  const int port = PickFreePort();
  auto province_cfg = h.WriteConfig(kProvince, "province", port, 0);
  auto commune_cfg = h.WriteConfig(kCommune, "commune", 0, port);
  auto start = [&](const std::string& cfg, const std::string& name) {
    auto p = h.Start(cfg, name);
    EXPECT_TRUE(WaitUntil([&] { return h.Status(name).has_value(); })) << name << " never answered";
    return p;
  };
  auto stop = [](std::unique_ptr<Subprocess>& p) {
    p->Signal(SIGTERM);
    const int status = p->Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    p.reset();
  };
  // One unary Admin call on a fresh channel; fails the test on error.
  auto call = [&](const std::string& name, auto method, const auto& request, auto* reply) {
    auto admin = h.Admin(name);
    grpc::ClientContext ctx;
    ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(10)));
    const grpc::Status s = ((*admin).*method)(&ctx, request, reply);
    EXPECT_TRUE(s.ok()) << name << ": " << s.error_message();
    return s.ok();
  };
  auto add_head = [&](const std::string& name, const std::string& person) {
    v1::AddMemberRequest m;
    m.set_person_id(person);
    m.set_full_name(person);
    m.set_role("HEAD");
    m.set_valid_from("2026-01-01");
    m.set_decision("1742/QĐ-UBND");
    v1::WriteReply w;
    ASSERT_TRUE(call(name, &v1::Admin::Stub::AddMember, m, &w));
  };
  v1::ActAs head;
  head.set_role("HEAD");

  auto province = start(province_cfg, "province");
  auto commune = start(commune_cfg, "commune");
  add_head("province", "dang-van-minh");
  add_head("commune", "chu-tich-binh-son");
  v1::AddUnitRequest unit;  // a directive is addressed to a registered unit
  unit.set_unit(kCommune);
  unit.set_name("Xã Tịnh Phong");
  v1::WriteReply registered;
  ASSERT_TRUE(call("province", &v1::Admin::Stub::AddUnit, unit, &registered));
  v1::IssueDirectiveRequest issue;
  issue.set_title("Triển khai nền tảng số dùng chung");
  issue.set_doc_type("CV");
  issue.add_to_units(kCommune);
  *issue.mutable_act() = head;
  v1::IssueDirectiveReply issued;
  ASSERT_TRUE(call("province", &v1::Admin::Stub::IssueDirective, issue, &issued));
  auto commune_has = [&](const std::string& id) {
    v1::WhyRequest q;
    q.set_record_id(id);
    v1::WhyReply r;
    auto admin = h.Admin("commune");
    grpc::ClientContext ctx;
    return admin->Why(&ctx, q, &r).ok();
  };
  ASSERT_TRUE(WaitUntil([&] { return commune_has(issued.id()); }));
  // The commune registered its receipt on arrival (S23) and the province
  // holds it: the recall below is made over it.
  const std::string receipt = std::string(kCommune) + "/a/" + issued.id();
  ASSERT_TRUE(WaitUntil([&] {
    v1::WhyRequest q;
    q.set_record_id(receipt);
    v1::WhyReply r;
    auto admin = h.Admin("province");
    grpc::ClientContext ctx;
    return admin->Why(&ctx, q, &r).ok();
  }));

  stop(commune);  // offline
  v1::RecallDirectiveRequest recall;
  recall.set_directive_id(issued.id());
  recall.set_reason("thay thế bằng văn bản khác");
  *recall.mutable_act() = head;
  v1::RecallDirectiveReply recalled;
  ASSERT_TRUE(call("province", &v1::Admin::Stub::RecallDirective, recall, &recalled));
  ASSERT_EQ(recalled.ids_size(), 1);
  ASSERT_EQ(recalled.ids(0), receipt);
  stop(province);

  // Offline, the commune returns the directive it holds (D30 Art. 21.2).
  commune = start(commune_cfg, "commune");  // its parent is down: still offline
  v1::AckDirectiveRequest ack;
  ack.set_directive_id(issued.id());
  ack.set_state("RETURNED");
  ack.set_reason("gửi nhầm đơn vị");
  *ack.mutable_act() = head;
  v1::AckDirectiveReply acked;
  ASSERT_TRUE(call("commune", &v1::Admin::Stub::AckDirective, ack, &acked));
  ASSERT_EQ(acked.id(), receipt);

  province = start(province_cfg, "province");
  for (const std::string name : {"province", "commune"}) {
    v1::WhyRequest q;
    q.set_record_id(receipt);
    v1::WhyReply why;
    ASSERT_TRUE(WaitUntil([&] {
      auto admin = h.Admin(name);
      grpc::ClientContext ctx;
      return admin->Why(&ctx, q, &why).ok() && why.versions_size() == 2;
    })) << name << " never held both versions of " << receipt;
    EXPECT_EQ(why.versions(0).writer(), kProvince) << name;
    EXPECT_EQ(why.versions(0).outcome(), "winner") << name;
    EXPECT_EQ(why.versions(1).writer(), kCommune) << name;
    EXPECT_EQ(why.versions(1).outcome(), "R1") << name;
    v1::ListDirectivesReply listed;
    ASSERT_TRUE(call(name, &v1::Admin::Stub::ListDirectives, v1::ListDirectivesRequest(), &listed));
    ASSERT_EQ(listed.directives_size(), 1);
    EXPECT_EQ(listed.directives(0).status(), "RECALLED") << name;
    EXPECT_EQ(listed.directives(0).returned_by_size(), 0) << name << ": the losing return must not count";
  }
  stop(commune);
  stop(province);
}

}  // namespace
}  // namespace steersync
