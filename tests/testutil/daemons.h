#pragma once
// A real steersyncd of a process-level test: its config, log, admin socket
// and (by default) data directory under a TempDir, started, killed and
// stopped as a child process, and asked over its Admin API.
//
// Thread safety: Start/Kill/Stop from one thread; Admin(), Status() and
// Peers() from any thread (each makes its own channel).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "steersync/v1/admin.grpc.pb.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/subprocess.h"

namespace steersync::testing {

struct DaemonSpec {
  std::string id;    // node id, e.g. "vn/quang-ngai"
  std::string name;  // short name: <name>.toml, <name>.log, run/<name>.sock
  int listen_port = 0;  // 0: no [listen] section
  int parent_port = 0;  // 0: no [parent] section (the top node)
  // Absolute path of the data directory; "": <dir>/data/<name>.
  std::string data_dir;
  // Lines added to [node] (e.g. "map_size_mb = 64\n").
  std::string node_extra;
};

class Daemon {
 public:
  // Writes the config (test PKI of tests/testdata/certs). Starts nothing.
  Daemon(const TempDir& dir, DaemonSpec spec);
  ~Daemon();  // kills a running daemon (SIGKILL)

  // REQUIRES: not running. Starts steersyncd with stderr/stdout appended to
  // log(); does not wait for it to serve (WaitServing).
  void Start(const std::vector<std::string>& flags = {});
  // Whether the admin socket answers GetStatus within `timeout`.
  bool WaitServing(std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // SIGKILL, reaped. No-op when not running.
  void Kill();
  // SIGTERM; returns the raw wait status (-1 when it was not running).
  int Stop();
  bool running() const { return process_ != nullptr; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  // A stub on a fresh channel (a channel that failed before the socket was
  // bound would otherwise wait out gRPC's reconnect back-off).
  std::unique_ptr<v1::Admin::Stub> Admin() const;
  // One call with a 5 s deadline; nullopt when it failed.
  std::optional<v1::StatusReply> Status() const;
  std::optional<v1::PeersReply> Peers() const;

  const DaemonSpec& spec() const { return spec_; }
  const std::string& config() const { return config_; }
  const std::string& log() const { return log_; }
  const std::string& socket() const { return socket_; }
  const std::string& data_dir() const { return spec_.data_dir; }
  // The whole log so far.
  std::string ReadLog() const;

 private:
  DaemonSpec spec_;
  std::string config_, log_, socket_;
  std::unique_ptr<Subprocess> process_;
};

// `steerctl --socket <node's socket> args...` run to completion, its output
// kept in numbered files under `dir`.
Finished Steerctl(const TempDir& dir, const Daemon& node, std::vector<std::string> args);

}  // namespace steersync::testing
