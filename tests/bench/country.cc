// (e) The whole country in the simulation (tests/sim/country.h): one national
// node, its provinces and their communes (34 and 3,321 since the two-tier
// reform), each running the shipped replica core (sync::Session,
// sync::Replica, domain::CommitteeAdmission, routing, merge, HLC) over an
// in-memory store, in one thread, on simulated time with the link delays of
// CountryOptions. The nation issues one directive to the whole country;
// every unit registers its receipt on verified arrival (S23) and sends it up.
//
// Printed: simulated time from the issue until each commune holds the
// directive and until the nation holds each unit's receipt; the events run
// and the wall-clock seconds they took; the process's RSS before the country
// exists, once it is built and settled, and at the end, per node.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "tests/bench/scenarios.h"
#include "tests/sim/country.h"

namespace steersync::bench {
namespace {

double MiB(uint64_t kib) { return static_cast<double>(kib) / 1024.0; }
// Bytes the process's heap holds allocated now (glibc): RSS also counts what
// was freed and kept by the allocator.
uint64_t HeapInUseKib() { return mallinfo2().uordblks / 1024; }
double SimMs(int64_t micros) { return static_cast<double>(micros) / 1000.0; }

std::string DelayText(const sim::LinkDelay& d) {
  return absl::StrFormat("%.0f-%.0f ms, 1 in %d %.0f-%.0f ms", SimMs(d.min_micros), SimMs(d.max_micros),
                         d.slow_one_in, SimMs(d.slow_min_micros), SimMs(d.slow_max_micros));
}

}  // namespace

void RunCountry(const CountryOptions& options) {
  sim::CountryOptions o;
  o.seed = options.seed;
  o.provinces = options.provinces;
  o.communes = options.communes;
  const int nodes = 1 + o.provinces + o.communes;
  Say("(e) the whole country, simulated: 1 nation, %d provinces, %d communes (seed %llu); one way: "
      "nation-province %s, province-commune %s\n",
      o.provinces, o.communes, static_cast<unsigned long long>(o.seed), DelayText(o.province_links).c_str(),
      DelayText(o.commune_links).c_str());

  const ProcessFootprint before = FootprintOf(getpid());
  const uint64_t heap_before = HeapInUseKib();
  const auto start = Clock::now();
  sim::Country country(o);
  const auto built = Clock::now();
  const ProcessFootprint at_built = FootprintOf(getpid());
  Check(country.Settle(), "settle the country");
  const auto settled = Clock::now();
  const ProcessFootprint at_settled = FootprintOf(getpid());
  const uint64_t heap_settled = HeapInUseKib();
  Check(country.IssueDirective(), "issue the national directive");
  Check(country.RunUntilQuiescent(), "run until every receipt is at the nation");
  const auto done = Clock::now();
  const ProcessFootprint at_end = FootprintOf(getpid());
  const uint64_t heap_end = HeapInUseKib();

  const sim::Sim& sim = country.sim();
  Latencies directive;  // communes
  Latencies receipts;   // every unit's, at the nation
  for (int unit = 1; unit < sim.node_count(); ++unit) {
    const std::optional<int64_t> held = country.DirectiveHeldAfter(unit);
    const std::optional<int64_t> receipt = country.ReceiptAtNationAfter(unit);
    if (!held.has_value() || !receipt.has_value()) {
      Fail(sim.node_id(unit) +
           (held.has_value() ? "'s receipt never reached the nation" : " never held the directive"));
    }
    if (unit >= sim.first_commune()) directive.Add(SimMs(*held));
    receipts.Add(SimMs(*receipt));
  }
  const double wall_s = Seconds(done - start);
  const uint64_t events = sim.stats().steps;
  const double kib_per_node =
      static_cast<double>(at_settled.rss_kib - std::min(before.rss_kib, at_settled.rss_kib)) / nodes;
  const double kib_per_node_end =
      static_cast<double>(at_end.rss_kib - std::min(before.rss_kib, at_end.rss_kib)) / nodes;

  // What the stores hold: each record once as current and once in the log.
  uint64_t log_entries = 0, log_bytes = 0;
  for (int n = 0; n < sim.node_count(); ++n) {
    const auto entries = sim.store(n).ReadLog(0, ~size_t{0}, ~size_t{0});
    Check(entries.status(), "read a log");
    log_entries += entries->size();
    for (const sync::LogEntry& e : *entries) log_bytes += e.record.ByteSizeLong();
  }
  Say("  built %d nodes and %d links in %.2f s (+%.1f MiB RSS); settled (every committee's Head membership "
      "everywhere it flows) in %llu events, %.2f s\n",
      nodes, nodes - 1, Seconds(built - start),
      MiB(at_built.rss_kib - std::min(before.rss_kib, at_built.rss_kib)),
      static_cast<unsigned long long>(country.settle_steps()), Seconds(settled - built));
  Say("  directive -> every commune holds it (simulated): p50 %.0f ms, p99 %.0f ms, max %.0f ms over %zu "
      "communes\n",
      directive.p50(), directive.p99(), directive.max(), directive.n());
  Say("  every unit's receipt at the nation (simulated): p50 %.0f ms, p99 %.0f ms, all %.0f ms (%zu receipts, "
      "%llu batches applied at the nation)\n",
      receipts.p50(), receipts.p99(), receipts.max(), receipts.n(),
      static_cast<unsigned long long>(country.nation_applies()));
  Say("  %llu events in all (%llu for the directive and its receipts), %llu messages; wall %.2f s "
      "(%.0f events/s)\n",
      static_cast<unsigned long long>(events), static_cast<unsigned long long>(country.directive_steps()),
      static_cast<unsigned long long>(sim.stats().messages_delivered), wall_s,
      static_cast<double>(events) / wall_s);
  Say("  RSS: %.1f MiB before, %.1f MiB built and settled (%.1f KiB per node), %.1f MiB at the end "
      "(%.1f KiB per node), peak %.1f MiB\n",
      MiB(before.rss_kib), MiB(at_settled.rss_kib), kib_per_node, MiB(at_end.rss_kib), kib_per_node_end,
      MiB(at_end.peak_rss_kib));
  Say("  heap in use: %.1f KiB per node settled, %.1f KiB at the end; the stores hold %llu versions "
      "(%.1f MiB of records, each kept twice: current and log)\n",
      static_cast<double>(heap_settled - std::min(heap_before, heap_settled)) / nodes,
      static_cast<double>(heap_end - std::min(heap_before, heap_end)) / nodes,
      static_cast<unsigned long long>(log_entries), MiB(log_bytes / 1024));

  // Every node holds exactly what routing says it should, sessions are done,
  // nothing was quarantined (the simulation's own oracle check).
  const auto check_start = Clock::now();
  const std::vector<std::string> problems = sim.CheckConverged();
  Say("  converged: %s (checked in %.2f s)%s%s\n", problems.empty() ? "yes" : "NO",
      Seconds(Clock::now() - check_start), problems.empty() ? "" : ": ",
      problems.empty() ? "" : problems.front().c_str());

  Machine("E", absl::StrFormat(
                   "nodes=%d provinces=%d communes=%d seed=%llu directive_all_p50_sim_ms=%.0f "
                   "directive_all_p99_sim_ms=%.0f directive_all_max_sim_ms=%.0f acks_p50_sim_ms=%.0f "
                   "acks_p99_sim_ms=%.0f acks_all_sim_ms=%.0f events=%llu rss_mib=%.1f kib_per_node=%.1f "
                   "rss_end_mib=%.1f kib_per_node_end=%.1f wall_s=%.2f converged=%d",
                   nodes, o.provinces, o.communes, static_cast<unsigned long long>(o.seed), directive.p50(),
                   directive.p99(), directive.max(), receipts.p50(), receipts.p99(), receipts.max(),
                   static_cast<unsigned long long>(events), MiB(at_settled.rss_kib), kib_per_node,
                   MiB(at_end.rss_kib), kib_per_node_end, wall_s, problems.empty() ? 1 : 0));
}

}  // namespace steersync::bench
