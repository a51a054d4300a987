#pragma once
// What every scenario of sync_bench shares: timing, percentiles, the two
// kinds of output line, in-process nodes on the test PKI, directives of
// ~300 bytes, and waiting for a record to become visible.
//
// Output: each figure is printed as a human line and as a machine line
// "peer=steersync scenario=<name> key=value ..." (the format of
// ../shared/peers/run, so the two can be read side by side).
//
// Thread safety: the free functions are thread-safe; a Latencies is not.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "node/node.h"
#include "tests/testutil/fixtures.h"

namespace steersync::bench {

using Clock = std::chrono::steady_clock;

inline constexpr char kProvince[] = "vn/quang-ngai";
inline constexpr char kCommune[] = "vn/quang-ngai/tinh-phong";
// A second commune of the test PKI: the catch-up that runs beside (b).
inline constexpr char kSecondCommune[] = "vn/quang-ngai/binh-son";

double Seconds(Clock::duration d);
double Millis(Clock::duration d);

// Exits the bench (status 1) with `what` and the status when it is not OK:
// a bench that cannot do what it measures has no figure to print.
void Check(const absl::Status& s, const char* what);
template <typename T>
T CheckOr(absl::StatusOr<T> v, const char* what) {
  Check(v.status(), what);
  return std::move(*v);
}
[[noreturn]] void Fail(const std::string& why);

// printf to stdout, flushed (figures appear as they are measured).
void Say(const char* format, ...) __attribute__((format(printf, 1, 2)));
// "peer=steersync scenario=<scenario> <fields>", flushed.
void Machine(const std::string& scenario, const std::string& fields);

// Latency samples in milliseconds.
class Latencies {
 public:
  void Add(double ms) { ms_.push_back(ms); }
  size_t n() const { return ms_.size(); }
  // The q-quantile (nearest rank below); 0 when empty.
  double At(double q) const;
  double p50() const { return At(0.50); }
  double p99() const { return At(0.99); }
  double max() const { return At(1.0); }
  // "n=.. p50_ms=.. p99_ms=.. max_ms=.."
  std::string Fields() const;

 private:
  std::vector<double> ms_;
};

// An in-process node `id` under `dir` on the test PKI (tests/testdata/certs):
// a 32 GiB (sparse) map, listening on an ephemeral loopback port when `parent_port`
// is 0, else dialling the parent there. No admin socket, no status records.
std::unique_ptr<node::Node> StartNode(const testing::TempDir& dir, const std::string& id, int parent_port);
// The same from options the caller made (its own certificate, data dir).
std::unique_ptr<node::Node> StartNode(node::NodeOptions options);

// Directive number `i` with a ~300-byte record body, addressed to the whole
// subtree of the issuer (every commune registers its receipt, S23).
v1::IssueDirectiveRequest Directive(int i);

// Issues directives first..first+n-1 from `callers` concurrent threads
// (the writer group-commits them), saying how far it is every 10 s.
void IssueMany(node::Node& province, int first, int n, int callers);

// Blocks until `node` holds record `id` or `timeout` passes; exits the bench
// on timeout. Woken by each commit (no polling sleep). `progress`, if set, is
// called about every 5 s while waiting (long syncs show their progress).
void AwaitRecord(const node::Node& node, const std::string& id, std::chrono::seconds timeout,
                 const std::function<void()>& progress = nullptr);

// Size of the record the province logged first (what one directive costs on
// the wire and on disk).
size_t FirstRecordBytes(const node::Node& node);

// A directory under `root`, removed with everything in it on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& root);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Resident set (KiB) and thread count of process `pid`, from /proc/<pid>/status.
struct ProcessFootprint {
  uint64_t rss_kib = 0;
  uint64_t peak_rss_kib = 0;
  uint64_t threads = 0;
};
ProcessFootprint FootprintOf(int pid);
// CPU seconds (user + system) process `pid` has used, from /proc/<pid>/stat.
double CpuSecondsOf(int pid);

}  // namespace steersync::bench
