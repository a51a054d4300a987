// (a) catch-up of a new commune and (c) the initial sync of a new commune:
// N directives of ~300 bytes issued at an in-process province, then a commune
// started on an empty store, timed until it holds the last of them. Both
// nodes are the product's node::Node over real mTLS gRPC on loopback with
// durable LMDB commits; every version is verified as the product verifies it.
#include "absl/strings/str_format.h"
#include "tests/bench/scenarios.h"

namespace steersync::bench {

FilledProvince FillProvince(const testing::TempDir& dir, int records) {
  FilledProvince p;
  p.node = StartNode(dir, kProvince, 0);
  p.records = records;
  const auto start = Clock::now();
  IssueMany(*p.node, 1, records - 1, 32);
  p.last_id = CheckOr(p.node->IssueDirective(Directive(records)), "issue the last directive");
  p.issue_records_per_s = records / Seconds(Clock::now() - start);
  p.record_bytes = FirstRecordBytes(*p.node);
  return p;
}

CatchUp CatchUpCommune(const testing::TempDir& dir, const FilledProvince& province, const std::string& id,
                       bool show_progress) {
  CatchUp c;
  const auto start = Clock::now();
  c.commune = StartNode(dir, id, province.node->sync_port());
  const node::Node& commune = *c.commune;
  AwaitRecord(commune, province.last_id, std::chrono::minutes(30), [&] {
    if (!show_progress) return;
    Say("       ... %s: %.0f s, head %lu\n", id.c_str(), Seconds(Clock::now() - start),
        static_cast<unsigned long>(commune.store().HeadSeq()));
  });
  c.seconds = Seconds(Clock::now() - start);
  c.records_per_s = province.records / c.seconds;
  return c;
}

CatchUp RunCatchUp(const testing::TempDir& dir, const FilledProvince& province, const RawLimits& limits) {
  Say("issue  %d directives of %zu-byte records at the province, 32 callers: %.0f records/s\n", province.records,
      province.record_bytes, province.issue_records_per_s);
  CatchUp c = CatchUpCommune(dir, province, kCommune, false);
  Say("(a)    catch-up province -> new commune:  %10.0f records/s  (%.2f s; %.3f of 0b, %.3f of 0a)\n",
      c.records_per_s, c.seconds, c.records_per_s / limits.grpc_lmdb_records_per_s,
      c.records_per_s / limits.lmdb_records_per_s);
  std::printf("peer=steersync scenario=A n=%d records_per_s=%.0f\n", province.records, c.records_per_s);
  Machine("catch-up",
          absl::StrFormat("n=%d seconds=%.2f records_per_s=%.0f record_bytes=%zu of_limit_grpc_lmdb=%.3f "
                          "of_limit_lmdb=%.3f issue_records_per_s=%.0f",
                          province.records, c.seconds, c.records_per_s, province.record_bytes,
                          c.records_per_s / limits.grpc_lmdb_records_per_s,
                          c.records_per_s / limits.lmdb_records_per_s, province.issue_records_per_s));
  return c;
}

void RunInitialSync(const testing::TempDir& dir, int records, const RawLimits& limits) {
  Say("(c)    initial sync: issuing %d directives at a new province ...\n", records);
  const FilledProvince province = FillProvince(dir, records);
  Say("       issued at %.0f records/s (%zu-byte records); a new commune syncs them:\n",
      province.issue_records_per_s, province.record_bytes);
  const CatchUp c = CatchUpCommune(dir, province, kCommune, true);
  Say("(c)    initial sync of %d records to a new commune: %.1f s  (%.0f records/s; %.3f of 0b)\n", records,
      c.seconds, c.records_per_s, c.records_per_s / limits.grpc_lmdb_records_per_s);
  Machine("initial-sync", absl::StrFormat("n=%d seconds=%.1f records_per_s=%.0f of_limit_grpc_lmdb=%.3f", records,
                                          c.seconds, c.records_per_s,
                                          c.records_per_s / limits.grpc_lmdb_records_per_s));
}

}  // namespace steersync::bench
