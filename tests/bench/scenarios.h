#pragma once
// The scenarios of sync_bench, one file each. Every scenario prints its own
// human and machine lines as soon as it has measured (bench_util.h), and
// returns what later scenarios compare with.

#include <string>

#include "tests/bench/bench_util.h"

namespace steersync::bench {

// ---- (0) the machine's limits, measured in the same run (raw_limits.cc) ----
// (0c) one sample at a time on a channel that stays open, so that (b) can
// take a floor sample before each of its own: on a shared, noisy machine
// both then see the same disk and the same cores.
class FloorProbe {
 public:
  explicit FloorProbe(const testing::TempDir& dir);
  ~FloorProbe();
  // One durable single-record commit, one message over mTLS, one durable
  // single-record commit at the receiver, its ack back: milliseconds.
  struct Sample {
    double total_ms = 0;
    double first_commit_ms = 0;  // the sender's commit alone
  };
  Sample Take();
  double SampleMs() { return Take().total_ms; }

 private:
  struct Channel;
  std::unique_ptr<Channel> channel_;
};

struct RawLimits {
  double lmdb_records_per_s = 0;       // (0a) durable LMDB, 1,000 records/txn
  double grpc_lmdb_records_per_s = 0;  // (0b) mTLS gRPC stream into (0a)
  Latencies floor;                     // (0c) two durable commits + one round trip
  std::shared_ptr<FloorProbe> probe;   // (0c)'s channel, for later samples
};
// `records`: how many records (0a) and (0b) write; `floor_samples`: (0c)'s n.
RawLimits MeasureRawLimits(const testing::TempDir& dir, int records, int floor_samples);

// ---- (a) catch-up and (c) initial sync (catch_up.cc) ----
// A province holding `records` directives (issued by 32 callers), and the
// id of the last one (issued alone, after the others: a commune that holds
// it holds them all, as a catch-up applies in the province's log order).
struct FilledProvince {
  std::unique_ptr<node::Node> node;
  std::string last_id;
  int records = 0;
  size_t record_bytes = 0;
  double issue_records_per_s = 0;
};
FilledProvince FillProvince(const testing::TempDir& dir, int records);
// Starts commune `id` on an empty store and waits until it holds every
// directive of `province`. Returns the commune and the seconds it took.
struct CatchUp {
  std::unique_ptr<node::Node> commune;
  double seconds = 0;
  double records_per_s = 0;
};
CatchUp CatchUpCommune(const testing::TempDir& dir, const FilledProvince& province, const std::string& id,
                       bool show_progress);
// (a): catch-up of a new commune, printed as ratios to the limits.
CatchUp RunCatchUp(const testing::TempDir& dir, const FilledProvince& province, const RawLimits& limits);
// (c): `records` directives to a new commune, with progress, in seconds.
void RunInitialSync(const testing::TempDir& dir, int records, const RawLimits& limits);

// ---- (b) live latency (live.cc) ----
// Issues `samples` directives one at a time at the province and times each
// until the caught-up commune holds it; then again while a second commune
// catches up on the province's log.
// Each sample follows a (0c) sample taken at that moment; ratios are to those.
void RunLive(const testing::TempDir& dir, FilledProvince& province, node::Node& commune, int samples,
             const RawLimits& limits);

// ---- (d) one steersyncd province, many commune streams (communes.cc) ----
struct CommunesOptions {
  int communes = 0;
  int directives = 20;  // each timed until every commune's receipt is at the province
};
void RunCommunes(const testing::TempDir& dir, const CommunesOptions& options, const RawLimits& limits);

// ---- (e) the whole country, simulated (country.cc) ----
struct CountryOptions {
  int provinces = 34;
  int communes = 3321;
  uint64_t seed = 1;
};
void RunCountry(const CountryOptions& options);

}  // namespace steersync::bench
