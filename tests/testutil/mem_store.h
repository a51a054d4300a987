#pragma once
// An in-memory store for the replication core: the LogReader the sessions
// read, plus atomic writes through sync::WriteView. Used by the multi-node
// simulation (tests/sim/) and as the "oracle" store the simulation compares
// every node against.
//
// Thread safety: not thread-safe; the simulation is single-threaded.
// Invariants:
//   the change log's sequences are 1..HeadSeq() with no gaps;
//   a Write() either commits everything its function wrote or nothing;
//   a record id with losers always has a current version.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "steersync/v1/record.pb.h"
#include "sync/replica.h"
#include "sync/store.h"

namespace steersync::testing {

class MemStore : public sync::LogReader {
 public:
  MemStore() = default;
  MemStore(const MemStore&) = delete;
  MemStore& operator=(const MemStore&) = delete;

  // sync::LogReader.
  uint64_t HeadSeq() const override { return state_.log.size(); }
  absl::StatusOr<std::vector<sync::LogEntry>> ReadLog(uint64_t after_seq, size_t max_entries,
                                                      size_t max_bytes) const override;
  absl::StatusOr<uint64_t> AppliedSeq(std::string_view peer) const override;

  // Runs `fn` in one transaction. `fn`'s writes are staged and become visible
  // only if `fn` returns OK; otherwise the store is unchanged and the error is
  // returned.
  absl::Status Write(const std::function<absl::Status(sync::WriteView&)>& fn);

  // The canonical replicated state: per record id, in id order, the exact
  // bytes of the current version and of each loser in VersionKey order.
  // Independent of the change log's order and of checkpoints, so two stores
  // hold the same frontiers iff their digests are equal. Not for humans: see
  // Describe().
  std::string Digest() const;
  // The same state readable, one line per record id:
  // "<id> current=<version key>#<hash of bytes> losers=[<key>#<hash>,...]".
  std::string Describe() const;

  // Read helpers for assertions.
  std::optional<v1::Record> Current(std::string_view id) const;
  std::vector<v1::Record> Losers(std::string_view id) const;
  std::vector<std::string> RecordIds() const;
  const std::vector<sync::QuarantineEntry>& quarantine() const { return state_.quarantine; }
  std::optional<std::string> Meta(std::string_view name) const;
  // Times SetAppliedSeq() moved a peer's checkpoint backwards (a broken
  // REQUIRES of WriteView::SetAppliedSeq; counted rather than fatal so the
  // simulation can report it).
  uint64_t checkpoint_regressions() const { return checkpoint_regressions_; }

 private:
  class View;
  struct State {
    std::map<std::string, v1::Record, std::less<>> current;
    // record id -> VersionKey -> losing version.
    std::map<std::string, std::map<std::string, v1::Record>, std::less<>> losers;
    std::vector<v1::Record> log;  // log[i] has sequence i + 1
    std::vector<sync::QuarantineEntry> quarantine;
    std::map<std::string, uint64_t, std::less<>> applied;  // peer -> checkpoint
    std::map<std::string, std::string, std::less<>> meta;
  };

  State state_;
  uint64_t checkpoint_regressions_ = 0;
};

// An admission policy that admits every version: for tests of the replica
// core's own rules, apart from the committee domain's.
class AdmitAll : public sync::AdmissionPolicy {
 public:
  sync::Admission CheckAlone(std::string_view, const v1::RecordBody&) const override { return {}; }
  absl::StatusOr<sync::Admission> CheckInContext(sync::WriteView&, const v1::RecordBody&,
                                                 std::string_view) override {
    return sync::Admission{};
  }
  absl::Status OnAdmitted(sync::WriteView&, const v1::RecordBody&) override { return absl::OkStatus(); }
};

// Signatures for tests of the replica core without keys: a version's
// "signature" is its writer's name and its body digest, so a relay that
// alters a body or forges a writer fails it. Each check of one (a version
// not covered by a linked successor) is counted, as the ECDSA
// verifications a node pays.
class TagSignatures : public sync::SignatureCheck, public sync::VersionSigner {
 public:
  sync::Admission Verify(const v1::Record& record, const v1::RecordBody& body, bool linked) const override;
  absl::Status Sign(v1::Record& record) const override;
  static std::string Tag(const std::string& writer, const std::string& body_bytes);
  mutable std::atomic<int> checked{0};
};

}  // namespace steersync::testing
