// (d) One steersyncd province (the real daemon, spawned from the build
// directory, its store on the real disk) and N communes, each with its own
// certificate from the test CA, each on its own mTLS connection:
//   directive -> all N receipts (S23) at the province, p50/p99 over
//   CommunesOptions::directives directives; the province's RSS and thread
//   count from /proc; then N reports at once -> all applied at the province.
//
// The communes are the product's own node::Node, in this process: the same
// session, verification and signing code as a commune's steersyncd, each
// with its own threads (store writer, parent link, certificate watcher) and
// gRPC's shared pools; the bench prints that process's threads and RSS too. A thousand steersyncd processes would not fit a
// 2-core machine beside the province, and a hand-written client speaking
// the sync protocol would measure that client, not the product (and would
// drift from it as the protocol changes). Their stores are on tmpfs
// (/dev/shm): a thousand durable stores on one disk would measure the
// communes' fsyncs, not the province, which is what (d) is about.
#include <unistd.h>

#include <atomic>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "absl/strings/str_format.h"
#include "tests/bench/bench_certs.h"
#include "tests/bench/scenarios.h"
#include "tests/testutil/daemons.h"

namespace steersync::bench {
namespace {

constexpr char kPeriod[] = "2026-Q4";

std::string CommuneId(int i) { return absl::StrFormat("%s/xa-%04d", kProvince, i); }

// The province's Admin API over its Unix socket, on one channel.
class ProvinceAdmin {
 public:
  explicit ProvinceAdmin(const testing::Daemon& daemon) : stub_(daemon.Admin()) {}

  std::string Issue(int number) {
    grpc::ClientContext ctx;
    v1::IssueDirectiveReply reply;
    Expect(stub_->IssueDirective(&ctx, Directive(number), &reply), "issue at the province");
    return reply.id();
  }
  // Communes whose receipt of `id` the province holds.
  int Receipts(const std::string& id) {
    grpc::ClientContext ctx;
    v1::ShowRequest q;
    q.set_id(id);
    v1::DirectiveInfo info;
    Expect(stub_->ShowDirective(&ctx, q, &info), "show directive");
    return info.received_by_size() + info.acks_size() + info.returned_by_size();
  }
  int Reports() {
    grpc::ClientContext ctx;
    v1::ListReportsRequest q;
    q.set_period(kPeriod);
    v1::ListReportsReply reply;
    Expect(stub_->ListReports(&ctx, q, &reply), "list reports");
    return reply.reports_size();
  }
  int ConnectedChildren() {
    grpc::ClientContext ctx;
    v1::PeersReply reply;
    Expect(stub_->ListPeers(&ctx, v1::PeersRequest(), &reply), "list peers");
    int n = 0;
    for (const auto& p : reply.peers()) n += p.relation() == "child" && p.connected();
    return n;
  }

 private:
  static void Expect(const grpc::Status& s, const char* what) {
    if (!s.ok()) Fail(std::string(what) + ": " + s.error_message());
  }
  std::unique_ptr<v1::Admin::Stub> stub_;
};

// Asks `done` (a question to the province's Admin API) every `poll` until
// it holds; exits the bench after `timeout`.
void PollUntil(const std::function<bool()>& done, std::chrono::milliseconds poll, std::chrono::seconds timeout,
               const std::string& what) {
  if (!testing::WaitUntil(done, timeout, poll)) Fail("(d): timed out waiting for " + what);
}

// Runs `fn(i)` for i in [0, n) on `threads` threads.
void ForEachParallel(int n, int threads, const std::function<void(int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) fn(i);
    });
  }
  for (auto& t : pool) t.join();
}

void SayFootprint(const char* when, const testing::Daemon& province) {
  const ProcessFootprint f = FootprintOf(province.pid());
  Say("       province process %s: RSS %.0f MiB (peak %.0f MiB), %lu threads\n", when, f.rss_kib / 1024.0,
      f.peak_rss_kib / 1024.0, static_cast<unsigned long>(f.threads));
}

}  // namespace

void RunCommunes(const testing::TempDir& dir, const CommunesOptions& options, const RawLimits& limits) {
  const int n = options.communes;
  Say("(d)    one steersyncd province, %d communes over mTLS, each with its own certificate\n", n);
  ScratchDir shm("/dev/shm");
  std::filesystem::create_directories(shm.Sub("certs"));
  auto t0 = Clock::now();
  TestCa ca;
  std::vector<node::TlsFiles> certs;
  for (int i = 0; i < n; ++i) certs.push_back(ca.Issue(shm.Sub("certs"), i, CommuneId(i)));
  Say("       %d certificates issued by the test CA in %.2f s\n", n, Seconds(Clock::now() - t0));

  testing::DaemonSpec spec;
  spec.id = kProvince;
  spec.name = "province";
  spec.listen_port = testing::PickFreePort();
  testing::Daemon province(dir, spec);
  province.Start();
  if (!province.WaitServing(std::chrono::seconds(60))) Fail("(d): the province never served; see " + province.log());
  ProvinceAdmin admin(province);

  t0 = Clock::now();
  // Every new commune warns once that it has no roster yet, and once that
  // it recovers on an empty store: N times the same two lines. Errors still
  // show (--verbose: everything).
  const spdlog::level::level_enum level = spdlog::get_level();
  if (level >= spdlog::level::warn) spdlog::set_level(spdlog::level::err);
  std::vector<std::unique_ptr<node::Node>> communes(n);
  for (int i = 0; i < n; ++i) {
    node::NodeOptions o;
    o.id = CommuneId(i);
    o.data_dir = shm.Sub("data/" + std::to_string(i));
    o.map_size_mb = 64;
    o.tls = certs[i];
    o.parent_address = absl::StrFormat("127.0.0.1:%d", spec.listen_port);
    communes[i] = StartNode(std::move(o));
  }
  PollUntil([&] { return admin.ConnectedChildren() == n; }, std::chrono::milliseconds(200),
            std::chrono::minutes(10), "every commune to connect");
  Say("       %d communes started and connected in %.1f s\n", n, Seconds(Clock::now() - t0));
  SayFootprint("with every commune connected", province);
  const ProcessFootprint communes_side = FootprintOf(::getpid());
  Say("       (the communes' process: RSS %.0f MiB, %lu threads)\n", communes_side.rss_kib / 1024.0,
      static_cast<unsigned long>(communes_side.threads));

  Latencies acked;
  const double province_cpu0 = CpuSecondsOf(province.pid()), communes_cpu0 = CpuSecondsOf(::getpid());
  for (int d = 1; d <= options.directives; ++d) {
    const auto start = Clock::now();
    const std::string id = admin.Issue(d);
    PollUntil([&] { return admin.Receipts(id) >= n; }, std::chrono::milliseconds(2), std::chrono::minutes(5),
              "every receipt of " + id);
    acked.Add(Millis(Clock::now() - start));
  }
  const ProcessFootprint after = FootprintOf(province.pid());
  // Where the time went: both sides share the machine's cores.
  const double province_cpu = (CpuSecondsOf(province.pid()) - province_cpu0) / acked.n();
  const double communes_cpu = (CpuSecondsOf(::getpid()) - communes_cpu0) / acked.n();
  Say("(d)    directive -> all %d receipts at the province: p50 %.0f ms  p99 %.0f ms  max %.0f ms  (n=%zu; "
      "p50 %.0fx the 0c floor)\n",
      n, acked.p50(), acked.p99(), acked.max(), acked.n(), acked.p50() / limits.floor.p50());
  Say("       CPU per directive: province %.2f s, the %d communes together %.2f s\n", province_cpu, n, communes_cpu);
  SayFootprint("after the directives", province);

  t0 = Clock::now();
  ForEachParallel(n, 8, [&](int i) {
    v1::SubmitReportRequest r;
    r.set_period(kPeriod);
    r.set_title("Báo cáo quý IV về chuyển đổi số");
    r.set_body(std::string(200, 'r'));
    Check(communes[i]->SubmitReport(r).status(), "submit report");
  });
  const double submitted_s = Seconds(Clock::now() - t0);
  PollUntil([&] { return admin.Reports() >= n; }, std::chrono::milliseconds(10), std::chrono::minutes(5),
            "every report at the province");
  const double reports_s = Seconds(Clock::now() - t0);
  spdlog::set_level(level);
  Say("(d)    %d reports at once -> all applied at the province: %.2f s  (submitted in %.2f s)\n", n, reports_s,
      submitted_s);
  SayFootprint("after the reports", province);
  const ProcessFootprint end = FootprintOf(province.pid());
  Machine("communes", absl::StrFormat("k=%d directives=%zu ack_all_p50_ms=%.0f ack_all_p99_ms=%.0f ack_all_max_ms=%.0f "
                                      "province_cpu_s_per_directive=%.3f rss_mib=%.0f peak_rss_mib=%.0f threads=%lu reports_all_s=%.2f",
                                      n, acked.n(), acked.p50(), acked.p99(), acked.max(), province_cpu, after.rss_kib / 1024.0,
                                      end.peak_rss_kib / 1024.0, static_cast<unsigned long>(after.threads),
                                      reports_s));
  t0 = Clock::now();
  communes.clear();
  province.Stop();
  Say("       stopped in %.1f s\n", Seconds(Clock::now() - t0));
}

}  // namespace steersync::bench
