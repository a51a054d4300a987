// (b) live latency: one directive at a time issued at the province, timed
// from the call until the caught-up commune holds it (both commits durable);
// first alone, then while a second commune catches up on the province's
// whole log (the issue's "p99 <= 3 ms beside a catch-up").
#include <atomic>
#include <thread>

#include "absl/strings/str_format.h"
#include "tests/bench/scenarios.h"

namespace steersync::bench {
namespace {

// One directive issued and timed until `commune` holds it.
double TimeOne(node::Node& province, const node::Node& commune, int number) {
  const auto t0 = Clock::now();
  const std::string id = CheckOr(province.IssueDirective(Directive(number)), "issue live");
  AwaitRecord(commune, id, std::chrono::seconds(60));
  return Millis(Clock::now() - t0);
}

void Report(const char* what, const std::string& scenario, const Latencies& l, const RawLimits& limits) {
  Say("(b)    live %s: p50 %.2f ms  p99 %.2f ms  max %.2f ms  (n=%zu; p50 %.2fx the 0c floor)\n", what, l.p50(),
      l.p99(), l.max(), l.n(), l.p50() / limits.floor.p50());
  Machine(scenario, l.Fields() + absl::StrFormat(" p50_of_floor=%.2f", l.p50() / limits.floor.p50()));
}

}  // namespace

void RunLive(const testing::TempDir& dir, FilledProvince& province, node::Node& commune, int samples,
             const RawLimits& limits) {
  node::Node& p = *province.node;
  // Quiet first: the caught-up commune's receipts (one per directive, S23)
  // have all reached the province.
  AwaitRecord(p, std::string(kCommune) + "/a/" + province.last_id, std::chrono::minutes(10));
  int number = province.records;
  Latencies alone;
  for (int i = 0; i < samples; ++i) alone.Add(TimeOne(p, commune, ++number));
  Report("issue -> visible at the commune, alone          ", "live", alone, limits);
  std::printf("peer=steersync scenario=C n=%zu p50_ms=%.2f p99_ms=%.2f\n", alone.n(), alone.p50(), alone.p99());

  // Beside a catch-up: as many as fit while the second commune catches up.
  std::atomic<bool> caught_up{false};
  CatchUp second;
  std::thread catch_up([&] {
    second = CatchUpCommune(dir, province, kSecondCommune, false);
    caught_up = true;
  });
  Latencies beside;
  while (!caught_up) beside.Add(TimeOne(p, commune, ++number));
  catch_up.join();
  Report("beside a catch-up of the log to a 2nd commune", "live-beside-catch-up", beside, limits);
  Say("       (that catch-up: %d records in %.2f s, %.0f records/s, with live traffic beside it)\n",
      province.records, second.seconds, second.records_per_s);
  Machine("catch-up-beside-live", absl::StrFormat("n=%d seconds=%.2f records_per_s=%.0f", province.records,
                                                  second.seconds, second.records_per_s));
}

}  // namespace steersync::bench
