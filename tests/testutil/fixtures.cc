#include "tests/testutil/fixtures.h"

#include <unistd.h>

#include <random>
#include <thread>

namespace steersync::testing {

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return condition();
    // Poll interval while waiting for a condition, not a wait "for sync".
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
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

}  // namespace steersync::testing
