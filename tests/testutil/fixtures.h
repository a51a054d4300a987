#pragma once
// Shared test helpers: status matchers, waiting on a condition with a
// deadline (never a fixed sleep), temporary directories, a manual clock.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/net/grpc_deadline.h"
#include "node/node.h"
#include "sync/clock.h"

namespace steersync::testing {

// EXPECT_THAT(status, IsOk()); works for Status and StatusOr<T>.
MATCHER(IsOk, "is OK") {
  if constexpr (std::is_same_v<std::decay_t<arg_type>, absl::Status>) {
    *result_listener << arg.ToString();
    return arg.ok();
  } else {
    *result_listener << arg.status().ToString();
    return arg.ok();
  }
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  absl::Status s;
  if constexpr (std::is_same_v<std::decay_t<arg_type>, absl::Status>) {
    s = arg;
  } else {
    s = arg.status();
  }
  *result_listener << s.ToString();
  return s.code() == code;
}

// Polls `condition` until it holds or `timeout` passes. Returns whether it
// held. Polling yields the CPU between checks; it never decides by time alone.
bool WaitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));
// The same, checking every `poll` (for conditions that cost a few RPCs).
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll);

// An absolute gRPC deadline (see node/net/grpc_deadline.h).
using node::GrpcDeadline;

// A fresh directory under the test's temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Test certificate paths (tests/testdata/certs).
std::string CertDir();
std::string NodeCert(const std::string& node_id);  // <dir>/<id with / as _>.crt
std::string NodeKey(const std::string& node_id);

// Issues, with the openssl CLI and the test CA, a certificate for `node_id`
// (URI SAN urn:steersync:node:<node_id>) into `dir`/<name>.crt and .key: the
// key made by `openssl genpkey <genpkey_args>` (e.g. "-algorithm RSA -pkeyopt
// rsa_keygen_bits:1024"), signed by the CA with `digest` ("sha256", "sha1").
// For certificates the federation must refuse; the test CA is the trust root.
node::TlsFiles IssueTestCertificate(const TempDir& dir, const std::string& name,
                                    const std::string& node_id, const std::string& genpkey_args,
                                    const std::string& digest);

// Options of an in-process test node `id` under `dir`: the test PKI, a 64 MiB
// map, listening on an ephemeral loopback port when it may have children,
// no admin socket, fast reconnects. `parent_address` "" for the top node.
struct InProcessNode {
  node::NodeOptions options;
  node::NodeRuntimeOptions runtime;
};
InProcessNode InProcessNodeOptions(const TempDir& dir, const std::string& id,
                                   const std::string& parent_address);
// Creates and starts it (failures are test failures); null on failure.
std::unique_ptr<node::Node> StartInProcessNode(InProcessNode n);
// The same with InProcessNodeOptions(dir, id, parent_address) as they are.
std::unique_ptr<node::Node> StartInProcessNode(const TempDir& dir, const std::string& id,
                                               const std::string& parent_address);

// A membership of `person` in `role`, valid from 2026-01-01 under decision
// 1742/QĐ-UBND (the roster the tests act under).
v1::AddMemberRequest MemberSince2026(const std::string& person, const std::string& role);

// A clock the test moves by hand.
class ManualClock : public sync::Clock {
 public:
  explicit ManualClock(int64_t start_micros = 1'790'000'000'000'000) : now_(start_micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace steersync::testing
