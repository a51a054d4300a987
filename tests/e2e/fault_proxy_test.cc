// Issue 11 item 9 (b): a commune talks to its province through a
// fault-injecting TCP proxy (tests/testutil/fault_proxy.h; the commune's
// [parent] address is the proxy's). While directives are issued and
// acknowledged and reports submitted and accepted on both real steersyncd
// processes, the proxy injects, at random moments drawn from a seed:
// partitions that black-hole everything, partitions that refuse (reset)
// every connection, added delays, and connection resets (RST). Afterwards
// the federation converges: every directive and report on both sides, the
// acknowledgements and acceptances back, nothing quarantined, nothing logged
// twice (tests/testutil/store_audit.h). The seed is printed;
// STEERSYNC_FAULT_SEED replays the schedule (not the interleaving).
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/testutil/daemons.h"
#include "tests/testutil/fault_proxy.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/subprocess.h"
#include "tests/testutil/workload.h"

namespace steersync {
namespace {

using namespace std::chrono_literals;
using testing::Daemon;
using testing::FaultProxy;
using testing::Ledger;
using testing::PickFreePort;
using testing::Tail;
using testing::TempDir;
using testing::Traffic;
using Mode = FaultProxy::PartitionMode;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/tinh-phong";

enum class Fault { kStall, kRefuse, kDelay, kReset, kClear };

const char* FaultName(Fault f) {
  switch (f) {
    case Fault::kStall: return "black-hole partition";
    case Fault::kRefuse: return "refusing partition";
    case Fault::kDelay: return "delay";
    case Fault::kReset: return "reset";
    case Fault::kClear: return "clear";
  }
  return "?";
}

TEST(FaultProxyTest, TheFederationConvergesThroughPartitionsDelaysAndResets) {
  const char* env = std::getenv("STEERSYNC_FAULT_SEED");
  const uint64_t seed = env != nullptr && *env != '\0' ? std::strtoull(env, nullptr, 10) : std::random_device()();
  std::cout << "fault proxy seed=" << seed << " (replay the schedule: STEERSYNC_FAULT_SEED=" << seed << ")"
            << std::endl;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);

  TempDir dir;
  const int port = PickFreePort();
  Daemon province(dir, {.id = kProvince, .name = "province", .listen_port = port});
  province.Start();
  ASSERT_TRUE(province.WaitServing()) << province.ReadLog();
  FaultProxy proxy(port);
  Daemon commune(dir, {.id = kCommune, .name = "commune", .parent_port = proxy.port()});
  commune.Start();
  ASSERT_TRUE(commune.WaitServing()) << commune.ReadLog();
  Ledger ledger;
  testing::RegisterRosters(province, commune, ledger);
  if (::testing::Test::HasFatalFailure()) return;

  // The schedule: every kind of fault twice, in a seeded order, each for a
  // seeded time, with clear stretches between some of them.
  std::vector<Fault> schedule;
  for (Fault f : {Fault::kStall, Fault::kRefuse, Fault::kDelay, Fault::kReset}) {
    schedule.push_back(f);
    schedule.push_back(f);
    schedule.push_back(Fault::kClear);
  }
  std::shuffle(schedule.begin(), schedule.end(), rng);

  Traffic traffic(province, commune, ledger, Traffic::Mix::kActs, rng());
  std::ostringstream log;
  const auto began = std::chrono::steady_clock::now();
  for (Fault f : schedule) {
    auto ms = std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 2000)(rng));
    proxy.Heal();
    switch (f) {
      case Fault::kStall:
        proxy.Partition(Mode::kStall);
        ms = std::max(ms, std::chrono::milliseconds(600));
        break;
      case Fault::kRefuse:
        proxy.Partition(Mode::kRefuse);
        ms = std::max(ms, std::chrono::milliseconds(600));  // long enough for a reconnection to be refused
        break;
      case Fault::kDelay: proxy.SetDelay(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(rng))); break;
      case Fault::kReset:
        proxy.ResetAll();
        ms = std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 600)(rng));
        break;
      case Fault::kClear: break;
    }
    log << FaultName(f) << " " << ms.count() << " ms; ";
    // The fault lasts this long while the traffic flows (the time is what
    // the schedule varies, not a wait for sync).
    std::this_thread::sleep_for(ms);
  }
  proxy.Heal();
  std::cout << "faults: " << log.str() << "in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count()
            << " ms" << std::endl;
  // A little traffic over the healed link, then none.
  std::this_thread::sleep_for(300ms);
  traffic.Stop();

  const testing::Convergence c = testing::WaitConverged(province, commune, ledger, 60s);
  std::ostringstream problems;
  for (const auto& p : c.tally.problems) problems << "\n  " << p;
  ASSERT_TRUE(c.converged) << "not converged within 60 s (" << c.why << ") after " << log.str() << problems.str()
                           << "\n--- province log (tail)\n" << Tail(province.ReadLog())
                           << "--- commune log (tail)\n" << Tail(commune.ReadLog());
  const FaultProxy::Counters counters = proxy.counters();
  std::cout << "converged in " << c.took.count() << " ms; acts acknowledged " << traffic.ok() << ", refused or cut "
            << traffic.failed() << "; proxy: " << counters.accepted << " connections, " << counters.resets
            << " reset, " << counters.refused << " refused, " << counters.bytes_to_target << " bytes up, "
            << counters.bytes_from_target << " bytes down" << std::endl;
  // The faults happened, and the link came back after each.
  EXPECT_GE(counters.resets, 2u) << "no connection was reset";
  EXPECT_GE(counters.refused, 1u) << "no connection was refused during a refusing partition";
  EXPECT_GE(counters.accepted, 3u) << "the commune never reconnected";
  EXPECT_GT(traffic.ok(), 20u) << "too little traffic to prove anything";
  EXPECT_GT(ledger.acknowledged().size(), 0u);
  EXPECT_GT(ledger.accepted().size(), 0u);

  for (Daemon* d : {&commune, &province}) {
    const int status = d->Stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << d->spec().name << ": wait status " << status;
  }
}

}  // namespace
}  // namespace steersync
