// Issue 11 item 9 (a): a kill -9 campaign with the real binaries. A province
// and a commune steersyncd are killed with SIGKILL at random instants of
// four kinds of work:
//
//   catch-up   the commune, stopped, is started with a backlog of 500 to
//              3,000 directives; the commune (or the province) is killed
//              once the commune holds a random share of them and their
//              receipts (or at a random time: during its start-up, or after)
//   live       directives issued and acknowledged, reports submitted and
//              accepted, through the Admin API, on both nodes at once
//   roster     members, bodies and units added on both nodes at once
//   recovery   the commune, restarted on an empty data_dir, recovers its own
//              versions from the province (docs/operations.md) while both
//              nodes take acts; the commune (or the province) is killed
//              once the commune holds a random share of the province's
//              records (or at a random time)
//
// After each kill the node is restarted at once; the test waits (with a
// deadline) until both nodes converged, then checks every record exactly
// once on each side: the same ids with the same current version on both,
// every write the Admin API acknowledged present, every directive's receipt
// and every report's reception registered, no version with two change-log
// entries, no conflict (an id given twice), nothing quarantined or returned,
// no audience gap (tests/testutil/store_audit.h). The killed node's store is
// also checked alone before its restart.
//
// The instants are drawn from a seed, printed first; a failure names the
// seed and the instant (number, kind, victim, when). The number of instants:
// STEERSYNC_KILL_INSTANTS (default 8, the ctest slice); the seed:
// STEERSYNC_KILL_SEED. The kill instants are real time, so a seed replays
// the same plan (kinds, victims, delays, backlogs), not the same
// interleaving. The last line is machine-readable:
//   kill_campaign instants=N lost=L duplicated=D seconds=S
// The full run (docs/operations.md, "Fault campaigns"):
//   STEERSYNC_KILL_INSTANTS=1000 build/tests/kill_campaign_test
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "steersync/v1/admin.grpc.pb.h"
#include "tests/testutil/daemons.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/store_audit.h"
#include "tests/testutil/subprocess.h"
#include "tests/testutil/workload.h"

namespace steersync {
namespace {

using namespace std::chrono_literals;
using testing::AuditStore;
using testing::Daemon;
using testing::IssueDirective;
using testing::Ledger;
using testing::PickFreeListenPort;
using testing::SingleStoreProblems;
using testing::StoreAudit;
using testing::Tail;
using testing::TempDir;
using testing::Traffic;
using testing::WaitUntil;
using Clock = std::chrono::steady_clock;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/tinh-phong";
// A federation (fresh data directories) lives this many instants: its stores
// grow with each, and a recovery re-reads the province's whole log.
constexpr int kInstantsPerLifetime = 12;
// Until both nodes converge after a restart.
constexpr auto kConvergeDeadline = 90s;

uint64_t EnvU64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

int64_t Ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

enum class Phase { kCatchUp, kLive, kRoster, kRecovery };

const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kCatchUp: return "catch-up";
    case Phase::kLive: return "live";
    case Phase::kRoster: return "roster";
    case Phase::kRecovery: return "recovery";
  }
  return "?";
}

// One kill: drawn from the seed before it runs.
struct Instant {
  int index = 0;  // 1-based
  Phase phase = Phase::kLive;
  bool kill_province = false;  // else the commune
  // Catch-up: the directives issued while the commune is down.
  int backlog = 0;
  // Catch-up and recovery: the kill comes once the commune holds this
  // fraction of what it has to take (its record count, polled), or, when
  // `progress` is 0, kill_after_ms after its start (its start-up, or after
  // the end).
  double progress = 0;
  // The kill's delay after the start (the workload's, for live and roster).
  int kill_after_ms = 0;
  // How long the workload goes on after the restarted node serves.
  int tail_ms = 0;

  std::string Describe(int64_t killed_at_ms) const {
    std::ostringstream s;
    s << "instant " << index << " (" << PhaseName(phase) << ", killed the "
      << (kill_province ? "province" : "commune") << " at " << killed_at_ms << " ms";
    if (phase == Phase::kCatchUp) s << ", backlog " << backlog;
    s << ")";
    return s.str();
  }
};

Instant Plan(int index, std::mt19937_64& rng) {
  Instant i;
  i.index = index;
  i.phase = static_cast<Phase>((index - 1) % 4);  // every kind in any slice of four
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  switch (i.phase) {
    case Phase::kCatchUp:
    case Phase::kRecovery:
      i.kill_province = unit(rng) < 0.25;
      i.backlog = std::uniform_int_distribution<int>(500, 3000)(rng);
      if (unit(rng) < 0.8) {
        i.progress = 0.02 + 0.96 * unit(rng);
      } else {
        i.kill_after_ms = std::uniform_int_distribution<int>(0, 1500)(rng);
      }
      break;
    case Phase::kLive:
    case Phase::kRoster:
      i.kill_province = unit(rng) < 0.5;
      i.kill_after_ms = std::uniform_int_distribution<int>(20, 1200)(rng);
      break;
  }
  i.tail_ms = std::uniform_int_distribution<int>(0, 500)(rng);
  return i;
}

// Statistics of the whole campaign.
struct Totals {
  uint64_t lost = 0, duplicated = 0;
  int catch_up_kills = 0, catch_up_mid = 0;
  int recovery_kills = 0, recovery_mid = 0;
  uint64_t acts_ok = 0, acts_failed = 0;
  int64_t converge_ms_max = 0;
};

// A province and a commune, their data directories kept for a lifetime.
class Federation {
 public:
  Federation()
      : port_(PickFreeListenPort()),  // the province restarts on it hundreds of times
        province_(dir_, {.id = kProvince, .name = "province", .listen_port = port_}),
        commune_(dir_, {.id = kCommune, .name = "commune", .parent_port = port_}) {}

  Daemon& province() { return province_; }
  Daemon& commune() { return commune_; }

  // Starts both nodes and registers the roster the acts are made under.
  void Setup() {
    province_.Start();
    commune_.Start();
    ASSERT_TRUE(province_.WaitServing()) << province_.ReadLog();
    ASSERT_TRUE(commune_.WaitServing()) << commune_.ReadLog();
    testing::RegisterRosters(province_, commune_, ledger_);
  }

  // Runs one instant: its workload, the kill, the restart, convergence and
  // the checks. Failures are the test's, described with the instant.
  void Run(const Instant& instant, uint64_t seed, Totals& totals) {
    switch (instant.phase) {
      case Phase::kCatchUp: return RunCatchUp(instant, totals);
      case Phase::kLive:
      case Phase::kRoster: return RunTraffic(instant, seed, totals);
      case Phase::kRecovery: return RunRecovery(instant, seed, totals);
    }
  }

  // SIGTERM both: each must exit 0.
  void StopCleanly() {
    for (Daemon* d : {&commune_, &province_}) {
      const int status = d->Stop();
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << d->spec().name << " did not stop cleanly: wait status " << status << "\n"
          << Tail(d->ReadLog());
    }
  }

  const std::string& last_description() const { return description_; }
  int64_t last_converge_ms() const { return last_converge_ms_; }

 private:
  // The dead victim's store alone: nothing applied twice, every current
  // version logged.
  void CheckKilledStore(const Daemon& victim, StoreAudit* audit) {
    *audit = StoreAudit();
    // Killed before it created its store: nothing on disk to check.
    if (!std::filesystem::exists(std::filesystem::path(victim.data_dir()) / "data.mdb")) return;
    auto a = AuditStore(victim.data_dir());
    ASSERT_TRUE(a.ok()) << description_ << ": " << a.status();
    for (const std::string& p : SingleStoreProblems(victim.spec().name + " (killed)", *a)) {
      // Quarantine, conflicts and the rest are checked once converged.
      if (p.find("logged twice") != std::string::npos || p.find("not in the change log") != std::string::npos) {
        ADD_FAILURE() << description_ << ": " << p;
      }
    }
    totals_duplicated_ += a->duplicate_log_versions.size();
    *audit = std::move(*a);
  }

  void Restart(Daemon& victim) {
    victim.Start();
    ASSERT_TRUE(victim.WaitServing()) << description_ << ": " << victim.spec().name << " never served again\n"
                                      << Tail(victim.ReadLog());
  }

  // Waits until both nodes hold the same records and every check passes.
  void Converge(Totals& totals) {
    const testing::Convergence c = testing::WaitConverged(province_, commune_, ledger_, kConvergeDeadline);
    last_converge_ms_ = c.took.count();
    totals.converge_ms_max = std::max<int64_t>(totals.converge_ms_max, c.took.count());
    totals.duplicated += totals_duplicated_;
    totals_duplicated_ = 0;
    if (c.converged) return;
    totals.lost += c.tally.lost;
    totals.duplicated += c.tally.duplicated;
    std::ostringstream msg;
    msg << description_ << ": did not converge within " << Ms(kConvergeDeadline) << " ms (" << c.why << ")";
    for (const auto& p : c.tally.problems) msg << "\n  " << p;
    msg << "\n--- province log (tail)\n" << Tail(province_.ReadLog()) << "--- commune log (tail)\n"
        << Tail(commune_.ReadLog());
    ADD_FAILURE() << msg.str();
  }

  // Kills `victim` `delay` after `start` (the kill instant itself is what
  // the test varies, not a wait for sync). Returns it, ms from start.
  int64_t KillAt(Daemon& victim, Clock::time_point start, Clock::duration delay) {
    std::this_thread::sleep_until(start + delay);
    victim.Kill();
    return Ms(Clock::now() - start);
  }

  // The commune's record count now; 0 while it does not answer.
  uint64_t CommuneRecords() const {
    auto s = commune_.Status();
    return s.has_value() ? s->record_count() : 0;
  }

  // Kills `victim` once the commune holds `target` records (polled every
  // 2 ms), or at instant.kill_after_ms when the instant is not by progress
  // (or when the deadline passed: then the commune had taken everything).
  int64_t KillDuringTransfer(Daemon& victim, Clock::time_point start, const Instant& instant, uint64_t target) {
    if (instant.progress == 0) return KillAt(victim, start, std::chrono::milliseconds(instant.kill_after_ms));
    WaitUntil([&] { return CommuneRecords() >= target; }, kConvergeDeadline, 2ms);
    victim.Kill();
    return Ms(Clock::now() - start);
  }

  void RunCatchUp(const Instant& instant, Totals& totals) {
    // The commune is down while the province issues the backlog.
    commune_.Kill();
    std::atomic<int> next{0}, failures{0};
    {
      std::vector<std::thread> issuers;  // many clients: larger group commits
      for (int t = 0; t < 16; ++t) {
        issuers.emplace_back([&] {
          for (int i = next++; i < instant.backlog; i = next++) {
            if (!IssueDirective(province_, ledger_, i)) ++failures;
          }
        });
      }
      for (auto& t : issuers) t.join();
    }
    ASSERT_EQ(failures.load(), 0) << "instant " << instant.index << ": issuing the backlog failed";
    auto before = AuditStore(commune_.data_dir());
    ASSERT_TRUE(before.ok()) << before.status();
    const size_t held_before = before->CountKind(v1::DIRECTIVE);

    Daemon& victim = instant.kill_province ? province_ : commune_;
    const auto start = Clock::now();
    commune_.Start();
    // Each directive comes with the commune's receipt of it.
    const uint64_t target =
        before->current.size() + static_cast<uint64_t>(instant.progress * 2 * instant.backlog);
    const int64_t at = KillDuringTransfer(victim, start, instant, target);
    description_ = instant.Describe(at);
    StoreAudit killed;
    if (!instant.kill_province) {
      CheckKilledStore(commune_, &killed);
      // Directives and receipts: mid-transfer while some, not all, are in.
      const size_t directives = killed.CountKind(v1::DIRECTIVE) - held_before;
      const size_t records = killed.current.size() - before->current.size();
      ++totals.catch_up_kills;
      if (records > 0 && records < 2 * static_cast<size_t>(instant.backlog)) ++totals.catch_up_mid;
      description_ += " with " + std::to_string(directives) + " of " + std::to_string(instant.backlog) +
                      " directives and " + std::to_string(records - directives) + " receipts on disk";
    } else {
      CheckKilledStore(province_, &killed);
    }
    if (::testing::Test::HasFatalFailure()) return;
    Restart(victim);
    if (::testing::Test::HasFatalFailure()) return;
    Converge(totals);
  }

  void RunTraffic(const Instant& instant, uint64_t seed, Totals& totals) {
    Daemon& victim = instant.kill_province ? province_ : commune_;
    Traffic traffic(province_, commune_, ledger_,
                    instant.phase == Phase::kRoster ? Traffic::Mix::kRoster : Traffic::Mix::kActs, seed);
    const int64_t at = KillAt(victim, Clock::now(), std::chrono::milliseconds(instant.kill_after_ms));
    description_ = instant.Describe(at);
    StoreAudit killed;
    CheckKilledStore(victim, &killed);
    if (::testing::Test::HasFatalFailure()) return;
    Restart(victim);
    if (::testing::Test::HasFatalFailure()) return;
    // The workload goes on over the restarted node a little.
    std::this_thread::sleep_for(std::chrono::milliseconds(instant.tail_ms));
    traffic.Stop();
    totals.acts_ok += traffic.ok();
    totals.acts_failed += traffic.failed();
    Converge(totals);
  }

  void RunRecovery(const Instant& instant, uint64_t seed, Totals& totals) {
    // A lost disk: the commune's store is gone, its versions are at the
    // province (the last instant converged).
    commune_.Kill();
    std::filesystem::remove_all(commune_.data_dir());
    auto province_held = province_.Status();
    ASSERT_TRUE(province_held.has_value());
    Daemon& victim = instant.kill_province ? province_ : commune_;
    const auto start = Clock::now();
    commune_.Start();
    // Both nodes take acts meanwhile (the commune's wait for its recovery).
    Traffic traffic(province_, commune_, ledger_, Traffic::Mix::kActs, seed);
    const uint64_t target = static_cast<uint64_t>(instant.progress * province_held->record_count());
    const int64_t at = KillDuringTransfer(victim, start, instant, target);
    description_ = instant.Describe(at);
    StoreAudit killed;
    CheckKilledStore(victim, &killed);
    if (!instant.kill_province) {
      ++totals.recovery_kills;
      if (!killed.current.empty() && killed.current.size() < province_held->record_count()) ++totals.recovery_mid;
      description_ += " with " + std::to_string(killed.current.size()) + " of " +
                      std::to_string(province_held->record_count()) + " records on disk";
    }
    if (::testing::Test::HasFatalFailure()) return;
    Restart(victim);
    if (::testing::Test::HasFatalFailure()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(instant.tail_ms));
    traffic.Stop();
    totals.acts_ok += traffic.ok();
    totals.acts_failed += traffic.failed();
    Converge(totals);
  }

  TempDir dir_;
  const int port_;
  Daemon province_;
  Daemon commune_;
  Ledger ledger_;
  std::string description_;
  uint64_t totals_duplicated_ = 0;
  int64_t last_converge_ms_ = 0;
};

TEST(KillCampaignTest, EveryRecordExactlyOnceAcrossKillsAtRandomInstants) {
  const int instants = static_cast<int>(EnvU64("STEERSYNC_KILL_INSTANTS", 8));
  const uint64_t seed = EnvU64("STEERSYNC_KILL_SEED", std::random_device()());
  ASSERT_GT(instants, 0);
  std::cout << "kill_campaign seed=" << seed << " instants=" << instants
            << " (replay the plan: STEERSYNC_KILL_SEED=" << seed << " STEERSYNC_KILL_INSTANTS=" << instants
            << ")" << std::endl;
  std::mt19937_64 rng(seed);
  Totals totals;
  const auto began = Clock::now();
  int done = 0;
  while (done < instants && !::testing::Test::HasFailure()) {
    Federation federation;
    federation.Setup();
    if (::testing::Test::HasFatalFailure()) break;
    for (int k = 0; k < kInstantsPerLifetime && done < instants && !::testing::Test::HasFailure(); ++k) {
      const Instant instant = Plan(done + 1, rng);
      const uint64_t traffic_seed = rng();
      SCOPED_TRACE("seed " + std::to_string(seed) + ", instant " + std::to_string(instant.index));
      const auto t0 = Clock::now();
      federation.Run(instant, traffic_seed, totals);
      ++done;
      std::cout << federation.last_description() << ": converged in " << federation.last_converge_ms()
                << " ms, instant took " << Ms(Clock::now() - t0) << " ms"
                << (::testing::Test::HasFailure() ? " FAILED (seed " + std::to_string(seed) + ")" : "")
                << std::endl;
    }
    if (!::testing::Test::HasFailure()) federation.StopCleanly();
  }
  const int64_t seconds = Ms(Clock::now() - began) / 1000;
  std::cout << "catch-up kills " << totals.catch_up_kills << " (" << totals.catch_up_mid
            << " mid-transfer), recovery kills " << totals.recovery_kills << " (" << totals.recovery_mid
            << " mid-recovery), acts acknowledged " << totals.acts_ok << ", refused or cut " << totals.acts_failed
            << ", slowest convergence " << totals.converge_ms_max << " ms" << std::endl;
  std::cout << "kill_campaign instants=" << done << " lost=" << totals.lost << " duplicated=" << totals.duplicated
            << " seconds=" << seconds << std::endl;
  EXPECT_EQ(done, instants) << "seed " << seed;
  EXPECT_EQ(totals.lost, 0u) << "seed " << seed;
  EXPECT_EQ(totals.duplicated, 0u) << "seed " << seed;
}

}  // namespace
}  // namespace steersync
