// sync_bench: replication figures over real gRPC with mTLS on loopback and
// durable LMDB commits, beside this machine's own limits measured in the
// same run (the machine is shared and noisy: compare ratios, not absolutes).
// (a) to (d) drive the product only through its public surfaces: node::Node,
// the steersyncd binary and its Admin API; (e) runs the shipped replica core
// in the deterministic simulation of tests/sim, on simulated time.
// docs/performance.md explains each figure and how to put ../shared/peers/run
// beside it.
//
//   (0) limits:   (0a) durable LMDB, (0b) an mTLS gRPC stream into it,
//                 (0c) the live floor                        (raw_limits.cc)
//   (a) catch-up: N directives (~300 bytes) to a new commune   (catch_up.cc)
//   (b) live:     issue -> visible at the commune, alone and beside a
//                 catch-up to a second commune                 (live.cc)
//   (c) initial sync of a new commune (--initial-sync N)       (catch_up.cc)
//   (d) one steersyncd province and N communes (--communes N)  (communes.cc)
//   (e) the whole country in the simulation (--country 1): the
//       shipped replica core on simulated time and links     (country.cc)
//
// usage: sync_bench [--records N] [--live M] [--floor F] [--initial-sync N]
//                   [--communes N] [--directives D] [--country 1]
//                   [--country-provinces P] [--country-communes N]
//                   [--country-seed S] [--verbose]
//   --records N       (a) and (b)'s log, and (0a)/(0b)'s records (100000);
//                     0 skips (a) and (b) (and (0) when (c) and (d) are off)
//   --live M          (b)'s issues measured alone (1000)
//   --floor F         (0c)'s samples (1000)
//   --initial-sync N  (c) with N records (off: 1,000,000 takes minutes)
//   --communes N      (d) with N communes (off; the target is 1000)
//   --directives D    (d)'s directives timed (20)
//   --country 1       (e): 1 nation, 34 provinces, 3,321 communes (off)
//   --country-provinces P, --country-communes N, --country-seed S
//                     (e)'s provinces (34), communes (3321) and seed (1)
//   --verbose         the nodes' info lines too
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>

#include "node/lock_order.h"
#include "tests/bench/scenarios.h"

namespace steersync::bench {
namespace {

struct Flags {
  int records = 100'000;
  int live = 1000;
  int floor = 1000;
  int initial_sync = 0;
  CommunesOptions communes;
  bool country = false;
  CountryOptions country_options;
  bool verbose = false;
};

Flags Parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--verbose") {
      f.verbose = true;
      continue;
    }
    if (i + 1 >= argc) Fail("missing value of " + flag);
    const int value = std::atoi(argv[++i]);
    if (flag == "--records") f.records = value;
    else if (flag == "--live") f.live = value;
    else if (flag == "--floor") f.floor = value;
    else if (flag == "--initial-sync") f.initial_sync = value;
    else if (flag == "--communes") f.communes.communes = value;
    else if (flag == "--directives") f.communes.directives = value;
    else if (flag == "--country") f.country = value != 0;
    else if (flag == "--country-provinces") f.country_options.provinces = value;
    else if (flag == "--country-communes") f.country_options.communes = value;
    else if (flag == "--country-seed") f.country_options.seed = static_cast<uint64_t>(value);
    else Fail("unknown flag " + flag + " (see the top of tests/bench/sync_bench.cc)");
    if (value < 0) Fail(flag + " must not be negative");
  }
  if (f.country && (f.country_options.provinces < 1 || f.country_options.communes < f.country_options.provinces)) {
    Fail("--country needs at least one province and one commune per province");
  }
  return f;
}

int Main(const Flags& flags) {
  const auto start = Clock::now();
  testing::TempDir dir;
  // (e) runs on simulated time and compares with no limit of this machine.
  const bool real = flags.records > 0 || flags.initial_sync > 0 || flags.communes.communes > 0;
  RawLimits limits;
  if (real) {
    Say("sync_bench: mTLS gRPC on loopback, durable LMDB; ratios are to limits measured in this run\n");
    limits = MeasureRawLimits(dir, flags.records > 0 ? flags.records : 100'000, flags.floor);
  }
  if (flags.records > 0) {
    FilledProvince province = FillProvince(dir, flags.records);
    CatchUp a = RunCatchUp(dir, province, limits);
    RunLive(dir, province, *a.commune, flags.live, limits);
  }
  if (flags.initial_sync > 0) {
    testing::TempDir own;  // its own province: a fresh log of exactly N records
    RunInitialSync(own, flags.initial_sync, limits);
  }
  if (flags.communes.communes > 0) {
    testing::TempDir own;
    RunCommunes(own, flags.communes, limits);
  }
  if (flags.country) RunCountry(flags.country_options);
  Say("sync_bench: done in %.0f s\n", Seconds(Clock::now() - start));
  return 0;
}

}  // namespace
}  // namespace steersync::bench

int main(int argc, char** argv) {
  steersync::node::SetLockOrderCheckFromEnvironment();  // as steersyncd runs (node/lock_order.h)
  const steersync::bench::Flags flags = steersync::bench::Parse(argc, argv);
  spdlog::set_level(flags.verbose ? spdlog::level::info : spdlog::level::warn);
  return steersync::bench::Main(flags);
}
