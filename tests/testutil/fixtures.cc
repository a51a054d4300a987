#include "tests/testutil/fixtures.h"

#include "sync/node_path.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

namespace steersync::testing {

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  return WaitUntil(condition, timeout, std::chrono::milliseconds(5));
}

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return condition();
    // Poll interval while waiting for a condition, not a wait "for sync".
    std::this_thread::sleep_for(poll);
  }
  return true;
}

TempDir::TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::filesystem::path root = base ? base : std::filesystem::temp_directory_path();
  std::random_device rd;
  path_ = root / ("steersync-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string CertDir() { return std::string(STEERSYNC_TESTDATA_DIR) + "/certs"; }

namespace {
std::string FileBase(const std::string& node_id) {
  std::string base = node_id;
  for (char& c : base) {
    if (c == '/') c = '_';
  }
  return CertDir() + "/" + base;
}
}  // namespace

std::string NodeCert(const std::string& node_id) { return FileBase(node_id) + ".crt"; }
std::string NodeKey(const std::string& node_id) { return FileBase(node_id) + ".key"; }

node::TlsFiles IssueTestCertificate(const TempDir& dir, const std::string& name,
                                    const std::string& node_id, const std::string& genpkey_args,
                                    const std::string& digest) {
  const std::string base = dir.Sub(name);
  {
    std::ofstream ext(base + ".ext");
    ext << "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\n"
           "extendedKeyUsage = serverAuth,clientAuth\n"
           "subjectAltName = URI:urn:steersync:node:" << node_id << ", DNS:localhost, IP:127.0.0.1\n";
  }
  const std::string cmd =
      "openssl genpkey " + genpkey_args + " -out '" + base + ".key' 2>/dev/null && "
      "openssl req -new -key '" + base + ".key' -subj '/CN=" + name + "' -out '" + base + ".csr' && "
      "openssl x509 -req -in '" + base + ".csr' -CA '" + CertDir() + "/ca.crt' -CAkey '" + CertDir() +
      "/ca.key' -set_serial 0x" + std::to_string(std::random_device()()) + " -days 30 -" + digest +
      " -extfile '" + base + ".ext' -out '" + base + ".crt' 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return {CertDir() + "/ca.crt", base + ".crt", base + ".key"};
}

InProcessNode InProcessNodeOptions(const TempDir& dir, const std::string& id,
                                   const std::string& parent_address) {
  InProcessNode n;
  n.options.id = id;
  n.options.data_dir = dir.Sub("data/" + id);
  n.options.map_size_mb = 64;
  n.options.tls = {CertDir() + "/ca.crt", NodeCert(id), NodeKey(id)};
  n.options.parent_address = parent_address;
  if (sync::DepthOf(id) < 2) n.options.listen_address = "127.0.0.1:0";
  n.runtime.serve_admin = false;
  n.runtime.backoff.initial_ms = 20;
  n.runtime.backoff.max_ms = 200;
  return n;
}

v1::AddMemberRequest MemberSince2026(const std::string& person, const std::string& role) {
  v1::AddMemberRequest r;
  r.set_person_id(person);
  r.set_full_name(person);
  r.set_role(role);
  r.set_valid_from("2026-01-01");
  r.set_decision("1742/QĐ-UBND");
  return r;
}

std::unique_ptr<node::Node> StartInProcessNode(const TempDir& dir, const std::string& id,
                                               const std::string& parent_address) {
  return StartInProcessNode(InProcessNodeOptions(dir, id, parent_address));
}

std::unique_ptr<node::Node> StartInProcessNode(InProcessNode n) {
  auto node = node::Node::Create(std::move(n.options), n.runtime);
  EXPECT_THAT(node, IsOk());
  if (!node.ok()) return nullptr;
  EXPECT_THAT((*node)->Start(), IsOk());
  return std::move(*node);
}

}  // namespace steersync::testing
