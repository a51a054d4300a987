#pragma once
// The workload of the process-level fault tests (kill campaign, fault proxy,
// disk full): acts made through the Admin API of a province and one of its
// communes, a ledger of what the API acknowledged, and the wait until the
// two converged with every check of store_audit.h passing.
//
// Thread safety: Ledger and the acts are thread-safe; a Traffic object is
// driven from one thread (it runs two of its own).

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/testutil/daemons.h"
#include "tests/testutil/store_audit.h"

namespace steersync::testing {

// What the Admin API acknowledged.
class Ledger {
 public:
  void Acked(const std::string& id);
  void Directive(const std::string& id);       // acked, and a directive to acknowledge
  void Report(const std::string& id);          // acked, and a report to accept
  void Acknowledged(const std::string& receipt);  // acked, state ACKNOWLEDGED
  void Accepted(const std::string& status);       // acked, state ACCEPTED
  // A directive (report) acknowledged so far, at random; "" if none.
  std::string AnyDirective(std::mt19937_64& rng) const;
  std::string AnyReport(std::mt19937_64& rng) const;

  std::set<std::string> acked() const;
  std::set<std::string> acknowledged() const;
  std::set<std::string> accepted() const;

 private:
  std::string Any(const std::vector<std::string>& from, std::mt19937_64& rng) const;

  mutable std::mutex mu_;
  std::set<std::string> acked_;
  std::vector<std::string> directives_, reports_;
  std::set<std::string> acknowledged_, accepted_;
};

// Each act is one Admin call on a fresh channel with a deadline of
// kActDeadline, made as the committee's HEAD. It returns whether the API
// acknowledged it, and records what it acknowledged in `ledger`.
inline constexpr std::chrono::seconds kActDeadline{3};
bool IssueDirective(const Daemon& province, Ledger& ledger, int n, size_t body_bytes = 200);
bool AckDirective(const Daemon& commune, Ledger& ledger, std::mt19937_64& rng);
bool SubmitReport(const Daemon& commune, Ledger& ledger, int n, size_t body_bytes = 300);
bool AcceptReport(const Daemon& province, Ledger& ledger, std::mt19937_64& rng);
// A member, a body or (on the province) a unit, at random.
bool AddRosterEntry(const Daemon& node, Ledger& ledger, std::mt19937_64& rng, int n);

// Starts nothing: with both nodes serving, makes each node's HEAD and
// registers the commune at the province (the acts above need them).
// Failures are the test's.
void RegisterRosters(const Daemon& province, const Daemon& commune, Ledger& ledger);

// Acts on both nodes, one thread each, until Stop(): directives issued and
// reports accepted at the province, directives acknowledged and reports
// submitted at the commune (kActs), or roster entries on both (kRoster). A
// refused call (a node down) is followed by a 10 ms pause.
class Traffic {
 public:
  enum class Mix { kActs, kRoster };
  Traffic(const Daemon& province, const Daemon& commune, Ledger& ledger, Mix mix, uint64_t seed);
  ~Traffic();
  Traffic(const Traffic&) = delete;
  Traffic& operator=(const Traffic&) = delete;
  // Joins both threads (each ends within kActDeadline). Idempotent.
  void Stop();
  uint64_t ok() const { return ok_; }
  uint64_t failed() const { return failed_; }

 private:
  void Run(bool on_province, uint64_t seed);

  const Daemon& province_;
  const Daemon& commune_;
  Ledger& ledger_;
  const Mix mix_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ok_{0}, failed_{0};
  std::vector<std::thread> threads_;
};

// Waits, up to `deadline`, until the province and the commune are both
// serving, connected, not recovering, with no entry behind on either link,
// the same record count, and CheckPair passes on their stores.
struct Convergence {
  bool converged = false;
  Tally tally;           // the last check's findings
  std::string why;       // what was still missing at the deadline
  std::chrono::milliseconds took{0};
};
Convergence WaitConverged(const Daemon& province, const Daemon& commune, const Ledger& ledger,
                          std::chrono::milliseconds deadline);

// The last `lines` lines of `log`.
std::string Tail(const std::string& log, size_t lines = 40);

}  // namespace steersync::testing
