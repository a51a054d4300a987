// Process level, operating a node (issue 11, docs/operations.md): the real
// steersyncd and steerctl binaries. SIGHUP reloads without stopping; a second
// steersyncd on the same data_dir exits naming the first one's pid and leaves
// it serving; --version; --check-config; a store of a newer format refused;
// steerctl backup of a running node; --log-format json and the audit line
// of a steerctl act.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <nlohmann/json.hpp>

#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.grpc.pb.h"
#include "steersync/version.h"
#include "sync/meta_keys.h"
#include "sync/session.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/subprocess.h"

namespace steersync {
namespace {

using testing::BinaryPath;
using testing::CertDir;
using testing::Finished;
using testing::ReadText;
using testing::IsOk;
using testing::Subprocess;
using testing::TempDir;
using testing::WaitUntil;
using ::testing::EndsWith;
using ::testing::HasSubstr;

constexpr char kProvince[] = "vn/quang-ngai";

// Runs `argv` to completion, its output kept in the test's directory.
Finished RunCommand(const TempDir& dir, const std::vector<std::string>& argv) {
  static int n = 0;
  return testing::RunToCompletion(argv, dir.Sub("cmd" + std::to_string(++n)));
}

class Daemon {
 public:
  explicit Daemon(const TempDir& dir) : dir_(dir) {}

  // The top node's config; `extra` is appended (e.g. a [log] section).
  std::string WriteConfig(const std::string& extra = "") {
    std::ofstream out(config());
    out << "[node]\nid = \"" << kProvince << "\"\ndata_dir = \"data\"\n"
        << "[tls]\nca = \"" << CertDir() << "/ca.crt\"\ncert = \"" << CertDir()
        << "/vn_quang-ngai.crt\"\nkey = \"" << CertDir() << "/vn_quang-ngai.key\"\n"
        << "[admin]\nsocket = \"run/admin.sock\"\n"
        << extra;
    return config();
  }
  std::string config() const { return dir_.Sub("node.toml"); }
  std::string socket() const { return dir_.Sub("run/admin.sock"); }
  std::string data_dir() const { return dir_.Sub("data"); }

  std::unique_ptr<Subprocess> Start(const std::string& log, const std::vector<std::string>& flags = {}) {
    std::vector<std::string> argv{BinaryPath("node/steersyncd"), "--config", config()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return std::make_unique<Subprocess>(argv, dir_.Sub(log));
  }

  // A fresh channel per call (one that failed before the socket was bound
  // would wait out gRPC's reconnect backoff).
  std::unique_ptr<v1::Admin::Stub> Admin() const {
    return v1::Admin::NewStub(
        grpc::CreateChannel("unix:" + socket(), grpc::experimental::LocalCredentials(UDS)));
  }
  std::optional<v1::StatusReply> Status() const {
    auto admin = Admin();
    grpc::ClientContext ctx;
    ctx.set_deadline(testing::GrpcDeadline(std::chrono::seconds(5)));
    v1::StatusReply reply;
    if (!admin->GetStatus(&ctx, v1::StatusRequest(), &reply).ok()) return std::nullopt;
    return reply;
  }
  Finished Steerctl(std::vector<std::string> args) const {
    args.insert(args.begin(), {BinaryPath("cli/steerctl"), "--socket", socket()});
    return RunCommand(dir_, args);
  }

 private:
  const TempDir& dir_;
};

bool ExitedWith(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

// The service manager's end of sd_notify: a datagram socket whose path goes
// in NOTIFY_SOCKET for the daemon started while it is set.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
  }
  ~NotifySocket() { ::close(fd_); }
  // The next message, or "" when none came within `timeout`.
  std::string Next(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  // Skips messages until one starting with `prefix` (or none within the deadline).
  std::string NextStartingWith(const std::string& prefix) {
    for (int i = 0; i < 100; ++i) {
      std::string m = Next();
      if (m.empty() || m.rfind(prefix, 0) == 0) return m;
    }
    return "";
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// Issue 11 item 6: under systemd (Type=notify) the daemon says when it
// serves, that it is alive (WatchdogSec=), when it reloads and when it stops.
TEST(OperationsProcessTest, TheDaemonTellsSystemdWhenItServesIsAliveReloadsAndStops) {
  TempDir dir;
  Daemon d(dir);
  d.WriteConfig();
  NotifySocket systemd(dir.Sub("notify.sock"));
  ::setenv("NOTIFY_SOCKET", dir.Sub("notify.sock").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "400000", 1);  // 0.4 s: a ping every 0.2 s
  auto node = d.Start("node.log");
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_EQ(systemd.NextStartingWith("READY=1"), "READY=1\nSTATUS=serving vn/quang-ngai")
      << ReadText(dir.Sub("node.log"));
  EXPECT_TRUE(d.Status().has_value()) << "READY=1 comes once the node serves";
  EXPECT_EQ(systemd.NextStartingWith("WATCHDOG=1"), "WATCHDOG=1");
  node->Signal(SIGHUP);
  EXPECT_EQ(systemd.NextStartingWith("RELOADING=1"), "RELOADING=1");
  EXPECT_EQ(systemd.NextStartingWith("READY=1"), "READY=1\nSTATUS=serving vn/quang-ngai");
  node->Signal(SIGTERM);
  EXPECT_EQ(systemd.NextStartingWith("STOPPING=1"), "STOPPING=1\nSTATUS=stopping vn/quang-ngai");
  EXPECT_TRUE(ExitedWith(node->Wait(), 0));
}

TEST(OperationsProcessTest, SighupReloadsTheLogLevelAndTheDaemonKeepsServing) {
  TempDir dir;
  Daemon d(dir);
  d.WriteConfig();
  auto node = d.Start("node.log");
  ASSERT_TRUE(WaitUntil([&] { return d.Status().has_value(); })) << ReadText(dir.Sub("node.log"));

  // Without a [log] level in the file: the start-up level stays.
  node->Signal(SIGHUP);
  auto logged = [&](const std::string& text) {
    return ReadText(dir.Sub("node.log")).find(text) != std::string::npos;
  };
  ASSERT_TRUE(WaitUntil([&] { return logged("reload: log level info"); })) << ReadText(dir.Sub("node.log"));
  // With one: applied, and settings that need a restart are named.
  d.WriteConfig("[log]\nlevel = \"debug\"\n[metrics]\naddress = \"127.0.0.1:0\"\n");
  node->Signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] { return logged("reload: log level debug"); })) << ReadText(dir.Sub("node.log"));
  const std::string log = ReadText(dir.Sub("node.log"));
  EXPECT_THAT(log, HasSubstr("reload requested (SIGHUP)"));
  EXPECT_THAT(log, HasSubstr("re-read by file watchers"));
  EXPECT_THAT(log, HasSubstr("applied only at the next restart: metrics.address"));
  // A config broken in the meantime is reported, and the node goes on.
  d.WriteConfig("[log]\nlevel = \"loud\"\n");
  node->Signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] { return logged("nothing changed"); })) << ReadText(dir.Sub("node.log"));

  // Still the same process, serving the Admin API and steerctl.
  ASSERT_TRUE(d.Status().has_value());
  const Finished status = d.Steerctl({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr(kProvince));

  // SIGTERM still stops it cleanly, and it removes its socket.
  node->Signal(SIGTERM);
  EXPECT_TRUE(ExitedWith(node->Wait(), 0));
  EXPECT_FALSE(std::filesystem::exists(d.socket()));
}

TEST(OperationsProcessTest, ASecondDaemonOnTheSameDataDirExitsNamingThePidAndTheFirstKeepsServing) {
  TempDir dir;
  Daemon d(dir);
  d.WriteConfig();
  auto first = d.Start("first.log");
  ASSERT_TRUE(WaitUntil([&] { return d.Status().has_value(); })) << ReadText(dir.Sub("first.log"));

  auto second = d.Start("second.log");
  EXPECT_TRUE(ExitedWith(second->Wait(), 1));
  const std::string canonical = std::filesystem::canonical(d.data_dir()).string();
  EXPECT_THAT(ReadText(dir.Sub("second.log")),
              EndsWith("steersyncd: data_dir " + canonical + " is in use by pid " +
                       std::to_string(first->pid()) + " (another steersyncd?)\n"));

  // The first one's socket is untouched and it still answers.
  EXPECT_TRUE(std::filesystem::exists(d.socket()));
  EXPECT_TRUE(d.Status().has_value());
  EXPECT_EQ(d.Steerctl({"status"}).exit_code, 0);

  // Once it stopped, the data_dir is free again, even after a SIGKILL.
  first->Signal(SIGKILL);
  first->Wait();
  auto third = d.Start("third.log");
  ASSERT_TRUE(WaitUntil([&] { return d.Status().has_value(); })) << ReadText(dir.Sub("third.log"));
  third->Signal(SIGTERM);
  EXPECT_TRUE(ExitedWith(third->Wait(), 0));
}

TEST(OperationsProcessTest, ASecondDaemonOnAnotherDataDirButTheSameAdminSocketLeavesItAlone) {
  TempDir dir;
  Daemon d(dir);
  d.WriteConfig();
  auto first = d.Start("first.log");
  ASSERT_TRUE(WaitUntil([&] { return d.Status().has_value(); })) << ReadText(dir.Sub("first.log"));
  {
    std::string text = ReadText(d.config());
    text.replace(text.find("data_dir = \"data\""), 17, "data_dir = \"other\"");
    std::ofstream(dir.Sub("other.toml")) << text;
  }
  Subprocess second({BinaryPath("node/steersyncd"), "--config", dir.Sub("other.toml")}, dir.Sub("second.log"));
  EXPECT_TRUE(ExitedWith(second.Wait(), 1));
  EXPECT_THAT(ReadText(dir.Sub("second.log")),
              EndsWith("steersyncd: admin socket " + d.socket() +
                       " is served by another process (another steersyncd with the same [admin] socket?)\n"));
  EXPECT_TRUE(d.Status().has_value()) << "the first node's socket must stay";
  first->Signal(SIGTERM);
  EXPECT_TRUE(ExitedWith(first->Wait(), 0));
}

TEST(OperationsProcessTest, VersionFlags) {
  TempDir dir;
  const Finished daemon = RunCommand(dir, {BinaryPath("node/steersyncd"), "--version"});
  EXPECT_EQ(daemon.exit_code, 0);
  EXPECT_EQ(daemon.out, std::string("steersyncd ") + STEERSYNC_VERSION + " (store format " +
                            std::to_string(node::LmdbStore::kStoreFormat) + ", protocol " +
                            std::to_string(sync::kProtocolVersion) + ")\n");
  EXPECT_EQ(sync::kProtocolVersion, 3u);
  const Finished cli = RunCommand(dir, {BinaryPath("cli/steerctl"), "--version"});
  EXPECT_EQ(cli.exit_code, 0);
  EXPECT_EQ(cli.out, std::string("steerctl ") + STEERSYNC_VERSION + "\n");
  EXPECT_THAT(STEERSYNC_VERSION, ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
}

TEST(OperationsProcessTest, CheckConfigValidatesTheFileAndItsTlsFilesAndStartsNothing) {
  TempDir dir;
  Daemon d(dir);
  d.WriteConfig();
  const std::string steersyncd = BinaryPath("node/steersyncd");
  const Finished good = RunCommand(dir, {steersyncd, "--check-config", "--config", d.config()});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_THAT(good.out, EndsWith(std::string("config OK: node ") + kProvince + "\n"));
  EXPECT_EQ(good.err, "");
  EXPECT_FALSE(std::filesystem::exists(d.data_dir())) << "--check-config must not create the store";
  EXPECT_FALSE(std::filesystem::exists(d.socket()));

  // An unknown key.
  d.WriteConfig("[log]\nlevel = \"info\"\nfile = \"x\"\n");
  Finished bad = RunCommand(dir, {steersyncd, "--check-config", "--config", d.config()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.out, "");
  EXPECT_EQ(bad.err, "steersyncd: " + d.config() + ": unknown key 'log.file'\n");

  // Another node's certificate: parses, but is not this node's.
  {
    std::string text = ReadText(d.WriteConfig());
    const std::string from = CertDir() + "/vn_quang-ngai.crt";
    text.replace(text.find(from), from.size(), CertDir() + "/vn_quang-ngai_tinh-phong.crt");
    std::ofstream(d.config()) << text;
  }
  bad = RunCommand(dir, {steersyncd, "--check-config", "--config", d.config()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("steersyncd: " + d.config() + ": tls.cert/tls.key: "));

  // A CA that did not issue the certificate.
  {
    std::string text = ReadText(d.WriteConfig());
    const std::string from = CertDir() + "/ca.crt";
    text.replace(text.find(from), from.size(), CertDir() + "/other-ca.crt");
    std::ofstream(d.config()) << text;
  }
  bad = RunCommand(dir, {steersyncd, "--check-config", "--config", d.config()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("does not verify against tls.ca"));
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << "one line: " << bad.err;
  EXPECT_FALSE(std::filesystem::exists(d.data_dir()));
}

TEST(OperationsProcessTest, TheDaemonRefusesAStoreOfANewerFormatInOneLine) {
  TempDir dir;
  Daemon d(dir);
  d.WriteConfig();
  {
    auto store = node::LmdbStore::Open(d.data_dir(), {});
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->Write([](node::LmdbStore::View& view) {
      return view.MetaPut(node::LmdbStore::kStoreFormatKey,
                          sync::meta::EncodeU64(node::LmdbStore::kStoreFormat + 1));
    }), IsOk());
  }
  auto node = d.Start("node.log");
  EXPECT_TRUE(ExitedWith(node->Wait(), 1));
  EXPECT_EQ(ReadText(dir.Sub("node.log")),
            "steersyncd: data_dir " + d.data_dir() + ": store format " +
                std::to_string(node::LmdbStore::kStoreFormat + 1) + " is newer than this steersyncd (" +
                std::to_string(node::LmdbStore::kStoreFormat) + "): upgrade steersyncd\n");
  EXPECT_FALSE(std::filesystem::exists(d.socket()));
}

TEST(OperationsProcessTest, SteerctlBackupCopiesARunningNodesStore) {
  TempDir dir;
  Daemon d(dir);
  d.WriteConfig();
  auto node = d.Start("node.log");
  ASSERT_TRUE(WaitUntil([&] { return d.Status().has_value(); })) << ReadText(dir.Sub("node.log"));
  for (int i = 1; i <= 5; ++i) {
    const Finished issue = d.Steerctl(
        {"directive", "issue", "--type", "CT", "--title", "Chỉ thị " + std::to_string(i), "--body", "Nội"});
    ASSERT_EQ(issue.exit_code, 0) << issue.err;
  }
  auto status = d.Status();
  ASSERT_TRUE(status.has_value());

  const std::string dest = dir.Sub("backup-1");
  const Finished backup = d.Steerctl({"--json", "backup", dest});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_THAT(backup.out, HasSubstr("\"path\": \"" + dest + "\""));
  // An existing destination is refused, in one line.
  const Finished again = d.Steerctl({"backup", dest});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err, "steerctl: backup destination " + dest + " already exists: name a new directory\n");

  node::lmdb::EnvOptions read_only;
  read_only.read_only = true;
  auto copy = node::LmdbStore::Open(dest, read_only);
  ASSERT_THAT(copy, IsOk());
  EXPECT_EQ((*copy)->HeadSeq(), status->head_seq());
  EXPECT_EQ((*copy)->RecordCount(), status->record_count());
  node->Signal(SIGTERM);
  EXPECT_TRUE(ExitedWith(node->Wait(), 0));

  // Restore: the copy as the data_dir of a fresh start.
  std::filesystem::rename(d.data_dir(), dir.Sub("data.old"));
  copy->reset();
  std::filesystem::rename(dest, d.data_dir());
  auto restored = d.Start("restored.log");
  ASSERT_TRUE(WaitUntil([&] { return d.Status().has_value(); })) << ReadText(dir.Sub("restored.log"));
  EXPECT_EQ(d.Status()->head_seq(), status->head_seq());
  const Finished list = d.Steerctl({"directive", "list"});
  EXPECT_THAT(list.out, HasSubstr("Chỉ thị 5"));
  restored->Signal(SIGTERM);
  EXPECT_TRUE(ExitedWith(restored->Wait(), 0));
}

// Issue 11 item 1: a node on an empty store recovers from its neighbours
// before it makes acts. An act asked meanwhile is refused with the reason,
// in time for steerctl to print it (it used to wait out steerctl's own
// deadline, which printed only "Deadline Exceeded").
TEST(OperationsProcessTest, AnActWhileTheNodeRecoversIsRefusedWithTheReason) {
  TempDir dir;
  const std::string commune = std::string(kProvince) + "/tinh-phong";
  const std::string config = dir.Sub("commune.toml");
  {
    std::ofstream out(config);
    out << "[node]\nid = \"" << commune << "\"\ndata_dir = \"data\"\n"
        << "[parent]\naddress = \"127.0.0.1:1\"\n"  // nobody there: the recovery cannot end
        << "[tls]\nca = \"" << CertDir() << "/ca.crt\"\ncert = \"" << CertDir()
        << "/vn_quang-ngai_tinh-phong.crt\"\nkey = \"" << CertDir() << "/vn_quang-ngai_tinh-phong.key\"\n"
        << "[admin]\nsocket = \"run/admin.sock\"\n";
  }
  Subprocess node({BinaryPath("node/steersyncd"), "--config", config}, dir.Sub("commune.log"));
  const std::string socket = dir.Sub("run/admin.sock");
  auto steerctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {BinaryPath("cli/steerctl"), "--socket", socket});
    return RunCommand(dir, args);
  };
  ASSERT_TRUE(WaitUntil([&] { return steerctl({"status"}).exit_code == 0; })) << ReadText(dir.Sub("commune.log"));
  EXPECT_THAT(steerctl({"status"}).out, HasSubstr("recovering"));
  const Finished act = steerctl({"report", "submit", "--period", "2026-Q4", "--title", "Báo cáo", "--body", "Nội dung"});
  EXPECT_NE(act.exit_code, 0);
  EXPECT_THAT(act.err, HasSubstr("recovering (started on an empty store)"));
  EXPECT_THAT(act.err, ::testing::Not(HasSubstr("Deadline Exceeded")));
  EXPECT_THAT(act.err, ::testing::Not(HasSubstr("cannot reach"))) << "the node answered: it was reached";
  node.Signal(SIGTERM);
  EXPECT_TRUE(ExitedWith(node.Wait(), 0));
}

// --log-format json: every line the daemon writes is one JSON object
// {ts, level, msg}, and each steerctl act leaves an audit line naming the
// uid that made it (the kernel's word for the admin socket's peer).
TEST(OperationsProcessTest, JsonLogLinesAndTheAuditLineOfASteerctlAct) {
  TempDir dir;
  Daemon d(dir);
  d.WriteConfig();
  auto node = d.Start("node.log", {"--log-format", "json"});
  ASSERT_TRUE(WaitUntil([&] { return d.Status().has_value(); })) << ReadText(dir.Sub("node.log"));
  const Finished issue = d.Steerctl({"--json", "directive", "issue", "--type", "CT", "--title", "Chỉ thị \"gấp\"",
                                     "--body", "Nội dung"});
  ASSERT_EQ(issue.exit_code, 0) << issue.err;
  const std::string id = nlohmann::json::parse(issue.out)["id"];
  const Finished ack = d.Steerctl({"directive", "ack", "vn/quang-ngai/d/nope"});
  EXPECT_NE(ack.exit_code, 0);
  node->Signal(SIGTERM);
  EXPECT_TRUE(ExitedWith(node->Wait(), 0));

  std::vector<nlohmann::json> audits;
  std::istringstream lines(ReadText(dir.Sub("node.log")));
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(j.is_object()) << "not a JSON object: " << line;
    EXPECT_TRUE(j.contains("ts") && j["ts"].is_string()) << line;
    EXPECT_TRUE(j.contains("level") && j["level"].is_string()) << line;
    EXPECT_TRUE(j.contains("msg") && j["msg"].is_string()) << line;
    if (j.contains("act")) audits.push_back(j);
  }
  EXPECT_GT(n, 3) << "start, stop and the audit lines at least";
  ASSERT_EQ(audits.size(), 2u) << ReadText(dir.Sub("node.log"));
  const std::string who = "uid:" + std::to_string(::getuid());
  EXPECT_EQ(audits[0]["act"], "IssueDirective");
  EXPECT_THAT(audits[0]["who"].get<std::string>(), ::testing::StartsWith(who));
  EXPECT_EQ(audits[0]["target"], id);
  EXPECT_EQ(audits[0]["result"], "OK");
  EXPECT_EQ(audits[0]["msg"], "audit: who=" + audits[0]["who"].get<std::string>() +
                                   " act=IssueDirective target=" + id + " result=OK");
  EXPECT_EQ(audits[1]["act"], "AckDirective");
  EXPECT_EQ(audits[1]["target"], "vn/quang-ngai/d/nope");
  EXPECT_THAT(audits[1]["result"].get<std::string>(), ::testing::StartsWith("NOT_FOUND: "));

  // An unknown format is a usage error.
  const Finished bad = RunCommand(dir, {BinaryPath("node/steersyncd"), "--config", d.config(), "--log-format", "xml"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--log-format"));
}

}  // namespace
}  // namespace steersync
