#include "tests/bench/bench_util.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace steersync::bench {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double Millis(Clock::duration d) { return Seconds(d) * 1000.0; }

void Fail(const std::string& why) {
  std::fflush(stdout);
  std::fprintf(stderr, "sync_bench: %s\n", why.c_str());
  std::exit(1);
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) Fail(std::string(what) + ": " + s.ToString());
}

void Say(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vprintf(format, args);
  va_end(args);
  std::fflush(stdout);
}

void Machine(const std::string& scenario, const std::string& fields) {
  std::printf("peer=steersync scenario=%s %s\n", scenario.c_str(), fields.c_str());
  std::fflush(stdout);
}

double Latencies::At(double q) const {
  if (ms_.empty()) return 0;
  std::vector<double> sorted = ms_;
  std::sort(sorted.begin(), sorted.end());
  return sorted[static_cast<size_t>(q * static_cast<double>(sorted.size() - 1))];
}

std::string Latencies::Fields() const {
  return absl::StrFormat("n=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f", n(), p50(), p99(), max());
}

std::unique_ptr<node::Node> StartNode(node::NodeOptions options) {
  node::NodeRuntimeOptions rt;
  rt.serve_admin = false;
  rt.backoff.initial_ms = 20;
  auto n = node::Node::Create(std::move(options), rt);
  Check(n.status(), "create node");
  Check((*n)->Start(), "start node");
  return std::move(*n);
}

std::unique_ptr<node::Node> StartNode(const testing::TempDir& dir, const std::string& id, int parent_port) {
  node::NodeOptions o;
  o.id = id;
  o.data_dir = dir.Sub("data/" + id);
  o.map_size_mb = 32768;  // sparse; a million directives take a few GiB
  o.tls = {testing::CertDir() + "/ca.crt", testing::NodeCert(id), testing::NodeKey(id)};
  if (parent_port != 0) {
    o.parent_address = "127.0.0.1:" + std::to_string(parent_port);
  } else {
    o.listen_address = "127.0.0.1:0";
  }
  return StartNode(std::move(o));
}

v1::IssueDirectiveRequest Directive(int i) {
  v1::IssueDirectiveRequest r;
  r.set_number(std::to_string(i) + "/CT-BCĐ");
  r.set_doc_type("CT");
  r.set_title("Chỉ thị về chuyển đổi số");
  r.set_body(std::string(110, 'x'));  // ~300 bytes of directive in the record body
  return r;
}

void IssueMany(node::Node& province, int first, int n, int callers) {
  std::atomic<int> next{0}, issued{0}, running{callers};
  absl::Notification all_done;
  std::vector<std::thread> pool;
  for (int t = 0; t < callers; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        Check(province.IssueDirective(Directive(first + i)).status(), "issue");
        ++issued;
      }
      if (--running == 0) all_done.Notify();
    });
  }
  // Long fills (the initial sync's million) show that they are moving.
  const auto start = Clock::now();
  while (!all_done.WaitForNotificationWithTimeout(absl::Seconds(10))) {
    Say("       ... %d of %d issued in %.0f s\n", issued.load(), n, Seconds(Clock::now() - start));
  }
  for (auto& t : pool) t.join();
}

void AwaitRecord(const node::Node& node, const std::string& id, std::chrono::seconds timeout,
                 const std::function<void()>& progress) {
  const auto deadline = Clock::now() + timeout;
  auto next_progress = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    // The head is read before the record is looked up, so a commit between
    // the two wakes the wait below: no commit is missed.
    const uint64_t head = node.store().HeadSeq();
    if (CheckOr(node.store().GetRecord(id), "read record").has_value()) return;
    const auto now = Clock::now();
    if (now >= deadline) {
      Fail(absl::StrFormat("%s never held %s (head %d) within %ds", node.options().id, id, head,
                           static_cast<int>(timeout.count())));
    }
    if (progress && now >= next_progress) {
      progress();
      next_progress = now + std::chrono::seconds(5);
    }
    node.WaitForHead(head + 1, std::chrono::milliseconds(200));
  }
}

size_t FirstRecordBytes(const node::Node& node) {
  auto first = CheckOr(node.store().ReadLog(0, 1, 1 << 20), "read log");
  return first.empty() ? 0 : first[0].record.ByteSizeLong();
}

ScratchDir::ScratchDir(const std::string& root) {
  std::random_device rd;
  path_ = root + "/steersync-bench-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ProcessFootprint FootprintOf(int pid) {
  ProcessFootprint f;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") in >> f.rss_kib;
    else if (key == "VmHWM:") in >> f.peak_rss_kib;
    else if (key == "Threads:") in >> f.threads;
    in.ignore(1 << 12, '\n');
  }
  return f;
}

double CpuSecondsOf(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces), from field 3 on.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace steersync::bench
