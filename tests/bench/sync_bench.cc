// sync_bench: replication figures over real gRPC with mTLS on loopback and
// durable LMDB commits, beside this machine's own limit measured in the same
// run (the machine is shared and noisy: compare ratios, not absolutes).
//
//   (0) limit:    raw durable LMDB, ~300-byte records, 1,000 per transaction
//   (a) catch-up: N directives (~300 bytes) from a province to a new commune
//   (b) live:     latency of one directive from Issue to visible at the commune
//
// usage: sync_bench [--records N] [--live M]   (defaults 100000 and 300)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "node/lmdb/lmdb.h"
#include "node/node.h"
#include "tests/testutil/fixtures.h"

namespace steersync {
namespace {

using Clock = std::chrono::steady_clock;
using testing::CertDir;
using testing::NodeCert;
using testing::NodeKey;
using testing::TempDir;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/tinh-phong";

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "sync_bench: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// (0) The physical limit: sequential 8-byte keys, 300-byte values,
// 1,000 per durable transaction.
double RawLmdbRecordsPerSecond(const std::string& dir, int n) {
  node::lmdb::EnvOptions options;
  options.map_size = size_t{2} << 30;
  auto env = node::lmdb::Env::Open(dir, options);
  Check(env.status(), "open raw lmdb");
  const std::string value(300, 'v');
  const auto start = Clock::now();
  for (int done = 0; done < n;) {
    auto txn = node::lmdb::WriteTxn::Begin(**env);
    Check(txn.status(), "begin");
    auto dbi = txn->OpenDbi("raw");
    Check(dbi.status(), "dbi");
    for (int i = 0; i < 1000 && done < n; ++i, ++done) {
      Check(txn->Put(*dbi, node::lmdb::EncodeSeq(done + 1), value, MDB_APPEND), "put");
    }
    Check(txn->Commit(), "commit");
  }
  return n / Seconds(Clock::now() - start);
}

node::NodeOptions Options(const TempDir& dir, const std::string& id, int parent_port) {
  node::NodeOptions o;
  o.id = id;
  o.data_dir = dir.Sub("data/" + id);
  o.map_size_mb = 2048;
  o.tls = {CertDir() + "/ca.crt", NodeCert(id), NodeKey(id)};
  if (parent_port) o.parent_address = "127.0.0.1:" + std::to_string(parent_port);
  else o.listen_address = "127.0.0.1:0";
  return o;
}

std::unique_ptr<node::Node> Start(node::NodeOptions options) {
  node::NodeRuntimeOptions rt;
  rt.serve_admin = false;
  rt.backoff.initial_ms = 20;
  auto n = node::Node::Create(std::move(options), rt);
  Check(n.status(), "create node");
  Check((*n)->Start(), "start node");
  return std::move(*n);
}

v1::IssueDirectiveRequest Directive(int i) {
  v1::IssueDirectiveRequest r;
  r.set_number(std::to_string(i) + "/CT-BCĐ");
  r.set_doc_type("CT");
  r.set_title("Chỉ thị về chuyển đổi số");
  r.set_body(std::string(110, 'x'));  // ~300 bytes per record with the envelope
  return r;
}

// Issues n directives from `threads` concurrent callers (group commit).
void IssueMany(node::Node& province, int n, int threads) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) Check(province.IssueDirective(Directive(i + 1)).status(), "issue");
    });
  }
  for (auto& t : pool) t.join();
}

void AwaitHead(const node::Node& commune, uint64_t seq) {
  if (!commune.WaitForHead(seq, std::chrono::minutes(5))) {
    std::fprintf(stderr, "sync_bench: commune stuck at %lu of %lu\n",
                 static_cast<unsigned long>(commune.store().HeadSeq()),
                 static_cast<unsigned long>(seq));
    std::exit(1);
  }
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * (v.size() - 1))];
}

int Main(int argc, char** argv) {
  int records = 100'000, live = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--records")) records = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--live")) live = std::atoi(argv[i + 1]);
  }
  TempDir dir;
  const double limit = RawLmdbRecordsPerSecond(dir.Sub("raw"), records);

  auto province = Start(Options(dir, kProvince, 0));
  const auto fill_start = Clock::now();
  IssueMany(*province, records, 32);
  const double fill_s = Seconds(Clock::now() - fill_start);
  auto record = province->store().ReadLog(0, 1, 1 << 20);
  Check(record.status(), "read log");
  const size_t record_bytes = (*record)[0].record.ByteSizeLong();

  const auto catchup_start = Clock::now();
  auto commune = Start(Options(dir, kCommune, province->sync_port()));
  AwaitHead(*commune, records);
  const double catchup_s = Seconds(Clock::now() - catchup_start);
  const double catchup_rate = records / catchup_s;

  std::vector<double> latencies_ms;
  for (int i = 0; i < live; ++i) {
    const uint64_t target = commune->store().HeadSeq() + 1;
    const auto t0 = Clock::now();
    Check(province->IssueDirective(Directive(records + i + 1)).status(), "issue live");
    AwaitHead(*commune, target);
    latencies_ms.push_back(Seconds(Clock::now() - t0) * 1000.0);
  }

  std::printf("sync_bench: %d directives of %zu bytes, mTLS gRPC on loopback, durable LMDB\n",
              records, record_bytes);
  std::printf("limit     raw durable LMDB, 1000 records/txn: %10.0f records/s\n", limit);
  std::printf("issue     %d local directives, 32 callers:  %10.0f records/s\n", records,
              records / fill_s);
  std::printf("catch-up  province -> new commune:           %10.0f records/s  (%.2f s, %.1f%% of the limit)\n",
              catchup_rate, catchup_s, 100.0 * catchup_rate / limit);
  std::printf("live      issue -> visible at commune, n=%d:  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
              live, Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.99),
              Percentile(latencies_ms, 1.0));
  std::printf("peer=steersync scenario=A n=%d records_per_s=%.0f\n", records, catchup_rate);
  std::printf("peer=steersync scenario=C n=%d p50_ms=%.2f p99_ms=%.2f\n", live,
              Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.99));
  return 0;
}

}  // namespace
}  // namespace steersync

int main(int argc, char** argv) {
  // --verbose: the nodes' info lines too (e.g. the catch-up's progress).
  const bool verbose = argc > 1 && std::strcmp(argv[argc - 1], "--verbose") == 0;
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::warn);
  return steersync::Main(argc, argv);
}
