// steersyncd: one process per node. `steersyncd --config node.toml`.
// Logs to stderr. Operations (docs/operations.md):
//   SIGTERM, SIGINT  stop cleanly (links closed, writes flushed, socket removed)
//   SIGHUP           reload: re-applies the config file's [log] level; the TLS
//                    files are re-read by file watchers without a signal
//   --version        "steersyncd <version> (store format N, protocol P)"
//   --check-config   parse and validate the config and its TLS files, start
//                    nothing; "config OK: node <id>", exit 0, or the error, exit 1
//   --log-format     text (default) or json: one JSON object per line
//                    (node/logging.h); overrides the config's [log] format
// One process per data_dir: <data_dir>/steersyncd.lock (DataDirLock) is taken
// before anything else touches the node's files (store, admin socket); a
// second steersyncd on the same data_dir exits 1 naming the holder's pid, and
// one whose admin socket another process serves exits 1 without touching it.
// Errors before the node runs are one line on stderr: "steersyncd: ...".

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "node/config.h"
#include "node/identity.h"
#include "node/lock_order.h"
#include "node/logging.h"
#include "node/node.h"
#include "node/service_notify.h"
#include "node/store/lmdb_store.h"
#include "node/system_clock.h"
#include "node/tls.h"
#include "steersync/version.h"
#include "sync/session.h"

namespace {

using steersync::node::DataDirLock;
using steersync::node::LmdbStore;
using steersync::node::NodeOptions;

constexpr int kExitError = 1;
constexpr int kExitUsageError = 2;  // a bad command line or config file
// A certificate expiring sooner than this is warned about by --check-config
// (steerctl status warns with the same bound).
constexpr int64_t kExpiryWarningSeconds = 30 * 86'400;

std::string VersionLine() {
  return std::string("steersyncd ") + STEERSYNC_VERSION + " (store format " +
         std::to_string(LmdbStore::kStoreFormat) + ", protocol " +
         std::to_string(steersync::sync::kProtocolVersion) + ")";
}

// Set once the log format is known to be JSON: then Fail() writes its line
// as a JSON object too, so that every line of the output parses.
bool json_log = false;

// One line on stderr, before the node runs (no log prefix to parse around).
void Fail(const std::string& line) {
  std::string one = line;
  for (char& c : one) {
    if (c == '\n') c = ' ';
  }
  if (json_log) {
    spdlog::error("steersyncd: {}", one);
    return;
  }
  std::cerr << "steersyncd: " << one << "\n";
}

std::string UtcDate(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

// The node's TLS files as Node::Create will use them: the key and
// certificate load and meet the federation's minimum, the certificate names
// this node, the CA loads, and a probe signed with the key verifies against
// the CA (so the pair matches and chains to the CA, and is within its
// validity). Adds a warning for a certificate expiring within 30 days.
absl::Status CheckTls(const NodeOptions& options, std::vector<std::string>* warnings) {
  namespace n = steersync::node;
  auto signer = n::Signer::Load(options.tls.cert, options.tls.key);
  if (!signer.ok()) {
    return absl::Status(signer.status().code(),
                        "tls.cert/tls.key: " + std::string(signer.status().message()));
  }
  if ((*signer)->node_id() != options.id) {
    return absl::InvalidArgumentError("tls.cert " + options.tls.cert + " is the certificate of node '" +
                                      (*signer)->node_id() + "', but node.id is '" + options.id + "'");
  }
  n::CertificateBook certificates;
  certificates.Add((*signer)->cert_digest(), (*signer)->cert_der());
  auto verifier = n::Verifier::Load(options.tls.ca, nullptr, &certificates);
  if (!verifier.ok()) {
    return absl::Status(verifier.status().code(),
                        "tls.ca " + options.tls.ca + ": " + std::string(verifier.status().message()));
  }
  steersync::v1::RecordBody body;
  body.set_id(options.id + "/check-config");
  body.mutable_version()->set_writer(options.id);
  body.mutable_version()->mutable_hlc()->set_wall_micros(
      static_cast<uint64_t>(steersync::node::SystemClock().NowMicros()));
  steersync::v1::Record probe;
  probe.set_body(body.SerializeAsString());
  if (auto s = (*signer)->Sign(probe); !s.ok()) {
    return absl::Status(s.code(),
                        "signing with tls.key " + options.tls.key + ": " + std::string(s.message()));
  }
  if (auto s = (*verifier)->Verify(probe, body); !s.ok()) {
    return absl::Status(s.code(), "tls.cert " + options.tls.cert + " with tls.key " + options.tls.key +
                                      " does not verify against tls.ca " + options.tls.ca + ": " +
                                      std::string(s.message()));
  }
  auto cert_pem = n::ReadFileToString(options.tls.cert);
  if (cert_pem.ok()) {
    const int64_t not_after = n::Verifier::NotAfter(*cert_pem);
    const int64_t now = steersync::node::SystemClock().NowMicros() / 1'000'000;
    if (not_after != 0 && not_after - now < kExpiryWarningSeconds) {
      warnings->push_back("tls.cert " + options.tls.cert + " expires on " + UtcDate(not_after) + " (in " +
                          std::to_string((not_after - now) / 86'400) +
                          " days): renew it (deploy/pki.sh renew)");
    }
  }
  return absl::OkStatus();
}

int CheckConfig(const std::string& config_path) {
  auto options = steersync::node::LoadConfig(config_path);
  if (!options.ok()) {
    Fail(std::string(options.status().message()));
    return kExitError;
  }
  std::vector<std::string> warnings;
  if (auto s = CheckTls(*options, &warnings); !s.ok()) {
    Fail(config_path + ": " + std::string(s.message()));
    return kExitError;
  }
  for (const auto& w : warnings) std::cout << "warning: " << w << "\n";
  std::cout << "config OK: node " << options->id << "\n";
  return 0;
}

// Whether a process accepts connections on the Unix socket `path` now (a
// node started on it would unlink it and take it over).
bool SocketIsServed(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool served = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return served;
}

// The settings a reload does not apply (they need a restart), by key.
std::vector<std::string> ChangedSettings(const NodeOptions& running, const NodeOptions& file) {
  std::vector<std::string> changed;
  auto check = [&](bool differs, const char* key) {
    if (differs) changed.push_back(key);
  };
  check(running.id != file.id, "node.id");
  check(running.data_dir != file.data_dir, "node.data_dir");
  check(running.map_size_mb != file.map_size_mb, "node.map_size_mb");
  check(running.max_clock_skew_seconds != file.max_clock_skew_seconds, "node.max_clock_skew_seconds");
  check(running.status_interval_seconds != file.status_interval_seconds, "node.status_interval_seconds");
  check(running.status_heartbeat_seconds != file.status_heartbeat_seconds, "node.status_heartbeat_seconds");
  check(running.listen_address != file.listen_address, "listen.address");
  check(running.parent_address != file.parent_address, "parent.address");
  check(running.tls.ca != file.tls.ca, "tls.ca");
  check(running.tls.cert != file.tls.cert, "tls.cert");
  check(running.tls.key != file.tls.key, "tls.key");
  check(running.admin_socket != file.admin_socket, "admin.socket");
  check(running.admin_group != file.admin_group, "admin.group");
  check(running.admin_tcp_address != file.admin_tcp_address, "admin.tcp_address");
  check(running.metrics_address != file.metrics_address, "metrics.address");
  check(running.log_format != file.log_format, "log.format");
  return changed;
}

// SIGHUP: re-reads the config file and applies its log level (or, when it
// has none, the level steersyncd started with). Never stops the node: a
// config that no longer parses is logged and the running settings kept.
void Reload(const std::string& config_path, const NodeOptions& running, const std::string& start_level) {
  spdlog::info("{}: reload requested (SIGHUP): re-reading {}", running.id, config_path);
  auto file = steersync::node::LoadConfig(config_path);
  if (!file.ok()) {
    spdlog::error("{}: reload: {}; nothing changed (the node goes on with the settings it started with)",
                  running.id, std::string(file.status().message()));
    return;
  }
  const std::string level = file->log_level.empty() ? start_level : file->log_level;
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::info("{}: reload: log level {} ({})", running.id, level,
               file->log_level.empty() ? "the config has no [log] level: the start-up level"
                                       : "from [log] level");
  spdlog::info("{}: reload: the certificate, key and CA files are re-read by file watchers when they "
               "change (no signal needed); revocation lists arrive as records (steerctl revocation publish)",
               running.id);
  const auto changed = ChangedSettings(running, *file);
  if (!changed.empty()) {
    spdlog::warn("{}: reload: changed in {} but applied only at the next restart: {}", running.id,
                 config_path, absl::StrJoin(changed, ", "));
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Block the signals steersyncd handles in every thread, before any thread
  // starts (threads inherit the mask); main waits for them below with
  // sigwait, so none of them can kill the process (SIGHUP's default action
  // would), even while it starts.
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &handled, nullptr);

  steersync::node::SetLockOrderCheckFromEnvironment();  // node/lock_order.h
  CLI::App app{"steersyncd: steersync node daemon (operations: docs/operations.md)", "steersyncd"};
  std::string config_path;
  std::string cli_level;  // empty: not given
  std::string cli_format;  // empty: not given
  bool check_config = false;
  bool recover = false;
  app.set_version_flag("--version", VersionLine(), "Print the version, store format and protocol, and exit");
  app.add_option("--config", config_path, "node configuration (TOML)")->required();
  app.add_option("--log-level", cli_level,
                 "trace, debug, info, warn, error (default: the config's [log] level, else info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-format", cli_format,
                 "text or json: one JSON object per line {ts, level, msg} (default: the config's [log] "
                 "format, else text)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--check-config", check_config,
               "Validate the config and its TLS files, print 'config OK: node <id>' (exit 0) or the "
               "error (exit 1); starts nothing");
  app.add_flag("--recover", recover,
               "After restoring a backup: make no act until the neighbours have returned this node's "
               "versions written since (automatic on an empty data_dir; docs/operations.md)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print to stdout and exit 0; a usage error is one
    // line on stderr, exit 2.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    Fail(std::string(e.what()) + " (see steersyncd --help)");
    return kExitUsageError;
  }

  if (check_config) return CheckConfig(config_path);

  auto options = steersync::node::LoadConfig(config_path);
  if (!options.ok()) {
    Fail(std::string(options.status().message()));
    return kExitUsageError;
  }
  const std::string start_level =
      !cli_level.empty() ? cli_level : !options->log_level.empty() ? options->log_level : "info";
  const std::string format_name =
      !cli_format.empty() ? cli_format : !options->log_format.empty() ? options->log_format : "text";
  const auto format = steersync::node::ParseLogFormat(format_name);
  if (!format.ok()) {  // both sources are checked: cannot happen
    Fail(std::string(format.status().message()));
    return kExitUsageError;
  }
  // JSON lines carry no colour codes: a plain stderr sink.
  spdlog::sink_ptr sink;
  if (*format == steersync::node::LogFormat::kJson) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  }
  steersync::node::InstallLogging(sink, *format, spdlog::level::from_str(start_level));
  json_log = *format == steersync::node::LogFormat::kJson;

  // Before the node: every check that would otherwise fail inside
  // Node::Create, each reported in one line.
  std::vector<std::string> warnings;
  if (auto s = CheckTls(*options, &warnings); !s.ok()) {
    Fail(config_path + ": " + std::string(s.message()));
    return kExitError;
  }
  for (const auto& w : warnings) spdlog::warn("{}: {}", options->id, w);

  // One process per data_dir, held until main returns (after the node
  // stopped and removed its socket). A second steersyncd stops here, before
  // it touches the store or the running node's admin socket.
  std::error_code ec;
  std::filesystem::create_directories(options->data_dir, ec);
  if (ec) {
    Fail("cannot create data_dir " + options->data_dir + ": " + ec.message());
    return kExitError;
  }
  auto lock = DataDirLock::Acquire(options->data_dir);
  if (!lock.ok()) {
    Fail(std::string(lock.status().message()));
    return kExitError;
  }
  // Another node (another data_dir) serving on the same admin socket path
  // keeps it: Node::Start would replace it as if it were stale.
  if (SocketIsServed(options->admin_socket)) {
    Fail("admin socket " + options->admin_socket +
         " is served by another process (another steersyncd with the same [admin] socket?)");
    return kExitError;
  }
  {
    // The store this binary must be able to open (format, permissions),
    // opened once and closed before the node opens it.
    steersync::node::lmdb::EnvOptions env;
    env.map_size = static_cast<size_t>(options->map_size_mb) << 20;
    auto store = LmdbStore::Open(options->data_dir, env);
    if (!store.ok()) {
      Fail("data_dir " + options->data_dir + ": " + std::string(store.status().message()));
      return kExitError;
    }
  }

  spdlog::info("{}: {} (pid {})", options->id, VersionLine(), ::getpid());
  steersync::node::NodeRuntimeOptions runtime;
  runtime.recover = recover;
  runtime.quarantine_quota = {.max_entries_per_peer = options->quarantine_entries_per_peer,
                              .max_bytes_per_peer = options->quarantine_mb_per_peer << 20};
  runtime.write_status = true;  // the units above see this one (`steerctl subtree`)
  runtime.publish_heads = true;  // its receivers see a dropped last version (docs/security.md)
  auto node = steersync::node::Node::Create(*options, runtime);
  if (!node.ok()) {
    spdlog::error("cannot open node {}: {}", options->id, node.status().ToString());
    return kExitError;
  }
  if (auto s = (*node)->Start(); !s.ok()) {
    spdlog::error("cannot start node {}: {}", options->id, s.ToString());
    return kExitError;
  }
  // systemd (Type=notify): serving now; alive while the store writer makes
  // progress (WatchdogSec=).
  steersync::node::service::NotifyReady("serving " + options->id);
  std::optional<steersync::node::WatchdogPinger> watchdog;
  if (const auto interval = steersync::node::service::WatchdogInterval(); interval.count() > 0) {
    steersync::node::Node* n = node->get();
    watchdog.emplace(interval, [n, interval] { return n->WriterResponsive(absl::FromChrono(interval) / 4); });
  }
  for (;;) {
    int signal = 0;
    if (sigwait(&handled, &signal) != 0) continue;
    if (signal == SIGHUP) {
      // RELOADING=1 ... READY=1 brackets a reload for `systemctl reload`.
      steersync::node::service::NotifyReloading();
      Reload(config_path, *options, start_level);
      steersync::node::service::NotifyReady("serving " + options->id);
      continue;
    }
    spdlog::info("received signal {} ({}), stopping", signal, signal == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  steersync::node::service::NotifyStopping("stopping " + options->id);
  watchdog.reset();
  (*node)->Stop();
  return 0;
}
