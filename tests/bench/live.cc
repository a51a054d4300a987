// (b) live latency: one directive at a time issued at the province, timed
// from the call until the caught-up commune holds it (both commits durable);
// first alone (each one's receipt back at the province before the next is
// issued), then back to back while a second commune catches up on the province's
// whole log (the issue's "p99 <= 3 ms beside a catch-up"). Before each
// sample a (0c) floor sample is taken on the raw channel, and the ratio is
// to those: the machine is shared, and a floor measured a minute earlier
// says little about the disk now.
#include <atomic>
#include <thread>

#include "absl/strings/str_format.h"
#include "node/metrics.h"
#include "tests/bench/scenarios.h"

namespace steersync::bench {
namespace {

// One directive issued and timed until `commune` holds it, and the part
// of that until the province's commit returned it.
struct LiveSample {
  std::string id;
  double total_ms = 0;
  double issued_ms = 0;
};
LiveSample TimeOne(node::Node& province, const node::Node& commune, int number) {
  const auto t0 = Clock::now();
  const std::string id = CheckOr(province.IssueDirective(Directive(number)), "issue live");
  const auto issued = Clock::now();
  AwaitRecord(commune, id, std::chrono::seconds(60));
  return LiveSample{id, Millis(Clock::now() - t0), Millis(issued - t0)};
}

// How many observations a node's latency histogram `family` holds, and
// their sum in seconds (node/metrics.h).
struct Observed {
  uint64_t count = 0;
  double sum_s = 0;
  Observed Since(const Observed& before) const { return {count - before.count, sum_s - before.sum_s}; }
  double MeanMs() const { return count == 0 ? 0 : 1000 * sum_s / static_cast<double>(count); }
};
Observed ObservedOf(const node::Node& node, const std::string& family) {
  for (const auto& f : node.latencies().Collect()) {
    if (f.name == family && !f.metric.empty()) {
      return {f.metric[0].histogram.sample_count, f.metric[0].histogram.sample_sum};
    }
  }
  Fail("no latency histogram " + family);
}
constexpr char kCommitFamily[] = "steersync_store_commit_seconds";
constexpr char kApplyFamily[] = "steersync_batch_apply_seconds";

// Where (b)'s time goes: the province's part beside the floor's first
// commit, the rest beside the floor's message, commit and ack; then what
// each node's writer did per directive (the commune's receipt of each
// one, S23, is a commit on both nodes too).
struct Breakdown {
  Latencies issued, delivered, floor_first, floor_rest;
  Observed province_commits, commune_commits, commune_applies;
};
void ReportBreakdown(const Breakdown& b, size_t directives) {
  const double n = static_cast<double>(directives);
  Say("       where it goes (p50): issue -> durable at the province %.2f ms (the floor's 1st commit %.2f ms); "
      "-> visible at the commune %.2f ms (the floor's message, 2nd commit and ack %.2f ms)\n",
      b.issued.p50(), b.floor_first.p50(), b.delivered.p50(), b.floor_rest.p50());
  Say("       per directive: province %.2f commits (mean %.2f ms), commune %.2f commits (mean %.2f ms); "
      "a batch at the commune, arrival -> committed: mean %.2f ms\n",
      static_cast<double>(b.province_commits.count) / n, b.province_commits.MeanMs(),
      static_cast<double>(b.commune_commits.count) / n, b.commune_commits.MeanMs(), b.commune_applies.MeanMs());
  Machine("live-breakdown",
          absl::StrFormat("n=%zu issued_p50_ms=%.2f floor_first_p50_ms=%.2f delivered_p50_ms=%.2f "
                          "floor_rest_p50_ms=%.2f province_commits_per=%.2f province_commit_mean_ms=%.2f "
                          "commune_commits_per=%.2f commune_commit_mean_ms=%.2f commune_apply_mean_ms=%.2f",
                          directives, b.issued.p50(), b.floor_first.p50(), b.delivered.p50(), b.floor_rest.p50(),
                          static_cast<double>(b.province_commits.count) / n, b.province_commits.MeanMs(),
                          static_cast<double>(b.commune_commits.count) / n, b.commune_commits.MeanMs(),
                          b.commune_applies.MeanMs()));
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
  Breakdown parts;
  const Observed province_commits = ObservedOf(p, kCommitFamily), commune_commits = ObservedOf(commune, kCommitFamily),
                 commune_applies = ObservedOf(commune, kApplyFamily);
  for (int i = 0; i < samples; ++i) {
    const FloorProbe::Sample floor = limits.probe->Take();
    alone_floor.Add(floor.total_ms);
    parts.floor_first.Add(floor.first_commit_ms);
    parts.floor_rest.Add(floor.total_ms - floor.first_commit_ms);
    const LiveSample live = TimeOne(p, commune, ++number);
    alone.Add(live.total_ms);
    parts.issued.Add(live.issued_ms);
    parts.delivered.Add(live.total_ms - live.issued_ms);
    // Alone means alone: the commune's receipt of it (S23, a commit on each
    // node) is at the province before the next is issued, as when
    // directives come minutes apart. Not timed.
    AwaitRecord(p, commune.options().id + "/a/" + live.id, std::chrono::seconds(60));
  }
  parts.province_commits = ObservedOf(p, kCommitFamily).Since(province_commits);
  parts.commune_commits = ObservedOf(commune, kCommitFamily).Since(commune_commits);
  parts.commune_applies = ObservedOf(commune, kApplyFamily).Since(commune_applies);
  Report("issue -> visible at the commune, alone          ", "live", alone, alone_floor);
  ReportBreakdown(parts, alone.n());
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
    beside.Add(TimeOne(p, commune, ++number).total_ms);
  }
  catch_up.join();
  Report("beside a catch-up of the log to a 2nd commune", "live-beside-catch-up", beside, beside_floor);
  Say("       (that catch-up: %d records in %.2f s, %.0f records/s, with live traffic beside it)\n",
      province.records, second.seconds, second.records_per_s);
  Machine("catch-up-beside-live", absl::StrFormat("n=%d seconds=%.2f records_per_s=%.0f", province.records,
                                                  second.seconds, second.records_per_s));
}

}  // namespace steersync::bench
