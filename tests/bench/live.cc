// (b) live latency: one directive at a time issued at the province, timed
// from the call until the caught-up commune holds it (both commits durable);
// first alone, then while a second commune catches up on the province's
// whole log (the issue's "p99 <= 3 ms beside a catch-up"). Before each
// sample a (0c) floor sample is taken on the raw channel, and the ratio is
// to those: the machine is shared, and a floor measured a minute earlier
// says little about the disk now.
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

void Report(const char* what, const std::string& scenario, const Latencies& l, const Latencies& floor) {
  Say("(b)    live %s: p50 %.2f ms  p99 %.2f ms  max %.2f ms  (n=%zu)\n", what, l.p50(), l.p99(), l.max(), l.n());
  Say("       0c floor sampled beside it: p50 %.2f ms  p99 %.2f ms; live p50 = %.2fx the floor\n", floor.p50(),
      floor.p99(), l.p50() / floor.p50());
  Machine(scenario, l.Fields() + absl::StrFormat(" floor_p50_ms=%.2f floor_p99_ms=%.2f p50_of_floor=%.2f",
                                                 floor.p50(), floor.p99(), l.p50() / floor.p50()));
}

// Until `commune` has written `own_log` log entries (what it received and
// the receipts it registered) and the province has acknowledged all of
// them: seen twice in a row.
void AwaitUpwardQuiet(const node::Node& commune, uint64_t own_log) {
  int quiet = 0;
  const auto deadline = Clock::now() + std::chrono::minutes(10);
  while (quiet < 2) {
    const uint64_t head = commune.store().HeadSeq();
    uint64_t acked = 0;
    const v1::PeersReply peers = commune.ListPeers(node::Node::PeersBehind::kAsLastCounted);
    for (const auto& p : peers.peers()) {
      if (p.relation() == "parent") acked = p.acked_seq();
    }
    quiet = head >= own_log && acked >= head ? quiet + 1 : 0;
    if (Clock::now() >= deadline) Fail("the commune never wrote and sent up its receipts");
    commune.WaitForHead(head + 1, std::chrono::milliseconds(50));  // a commit, or 50 ms
  }
}

}  // namespace

void RunLive(const testing::TempDir& dir, FilledProvince& province, node::Node& commune, int samples,
             const RawLimits& limits) {
  node::Node& p = *province.node;
  // Quiet first: once caught up, the commune registers its receipt of
  // every directive it received (S23: one each, in its own log beside the
  // directives) and sends them up. Live traffic would queue behind them;
  // how long they take is a figure of its own.
  const auto quiet_start = Clock::now();
  AwaitUpwardQuiet(commune, 2 * static_cast<uint64_t>(province.records));
  const double receipts_s = Seconds(Clock::now() - quiet_start);
  Say("       after (a): the commune's %d receipts (S23) written and acknowledged by the province %.2f s later\n",
      province.records, receipts_s);
  Machine("catch-up-receipts-up", absl::StrFormat("n=%d seconds=%.2f", province.records, receipts_s));
  int number = province.records;
  Latencies alone, alone_floor;
  for (int i = 0; i < samples; ++i) {
    alone_floor.Add(limits.probe->SampleMs());
    alone.Add(TimeOne(p, commune, ++number));
  }
  Report("issue -> visible at the commune, alone          ", "live", alone, alone_floor);
  std::printf("peer=steersync scenario=C n=%zu p50_ms=%.2f p99_ms=%.2f\n", alone.n(), alone.p50(), alone.p99());

  // Beside a catch-up: as many as fit while the second commune catches up.
  std::atomic<bool> caught_up{false};
  CatchUp second;
  std::thread catch_up([&] {
    second = CatchUpCommune(dir, province, kSecondCommune, false);
    caught_up = true;
  });
  Latencies beside, beside_floor;
  while (!caught_up) {
    beside_floor.Add(limits.probe->SampleMs());
    beside.Add(TimeOne(p, commune, ++number));
  }
  catch_up.join();
  Report("beside a catch-up of the log to a 2nd commune", "live-beside-catch-up", beside, beside_floor);
  Say("       (that catch-up: %d records in %.2f s, %.0f records/s, with live traffic beside it)\n",
      province.records, second.seconds, second.records_per_s);
  Machine("catch-up-beside-live", absl::StrFormat("n=%d seconds=%.2f records_per_s=%.0f", province.records,
                                                  second.seconds, second.records_per_s));
}

}  // namespace steersync::bench
