#pragma once
// One replica of the replication core over a MemStore, with a clock the test
// moves, every version admitted by the domain (AdmitAll) and keyless
// signatures (TagSignatures): a node without the committee domain or keys,
// for tests of the core's own rules.
//
// Thread safety: not thread-safe; one test thread drives it.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sync/hlc.h"
#include "sync/replica.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/mem_store.h"

namespace steersync::testing {

struct ReplicaHarness {
  explicit ReplicaHarness(std::string self_id);

  // Writes one local version in its own transaction: `fill` sets the id,
  // kind, audience and payload (it may read the view). Returns the signed
  // record; a failure is a test failure. The clock then moves 1 ms.
  v1::Record Write(const std::function<absl::Status(sync::WriteView&, v1::RecordBody&)>& fill);
  // Applies `batch` from `peer` as the next batch of its log, in one
  // transaction; a storage failure is a test failure.
  sync::ApplyStats Receive(std::string_view peer, const std::vector<v1::Record>& batch);

  ManualClock clock;
  sync::HybridClock hlc;
  AdmitAll policy;
  TagSignatures signatures;
  sync::Replica replica;
  MemStore store;
  uint64_t peer_seq = 0;  // the last batch Receive() applied
};

}  // namespace steersync::testing
