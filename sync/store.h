#pragma once
// The storage the replication core needs, as interfaces it owns. The node
// implements them over LMDB; tests and the simulation over memory.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "steersync/v1/record.pb.h"

namespace steersync::sync {

// One entry of a node's change log: the record as it was current at `seq`.
struct LogEntry {
  uint64_t seq = 0;
  v1::Record record;
};

// A change-log entry with its body parsed, immutable, shared by every reader
// of it: a province's sessions to its communes all read each new entry, and
// one parse serves them all.
struct ParsedLogEntry {
  uint64_t seq = 0;
  v1::Record record;
  size_t record_bytes = 0;  // its size in the log
  v1::RecordBody body;      // valid only if body_parses
  bool body_parses = false;
};
using SharedLogEntry = std::shared_ptr<const ParsedLogEntry>;
// Parses `entry`'s body into a new shared entry.
SharedLogEntry ParseLogEntry(LogEntry entry);

// Read side of a node's store. Thread safety: implementations are safe to
// call from any thread concurrently with the writer.
class LogReader {
 public:
  virtual ~LogReader() = default;
  // Highest sequence in the change log; 0 when empty.
  virtual uint64_t HeadSeq() const = 0;
  // Entries with seq in (after_seq, ...], in order, stopping after
  // `max_entries` entries or once `max_bytes` of record bytes were read.
  virtual absl::StatusOr<std::vector<LogEntry>> ReadLog(uint64_t after_seq, size_t max_entries,
                                                        size_t max_bytes) const = 0;
  // ReadLog's entries with their bodies parsed. This default parses them
  // at each call; a store may keep recent ones to share between readers.
  virtual absl::StatusOr<std::vector<SharedLogEntry>> ReadParsedLog(uint64_t after_seq, size_t max_entries,
                                                                    size_t max_bytes) const;
  // Highest sequence of `peer`'s log durably applied here; 0 if none.
  virtual absl::StatusOr<uint64_t> AppliedSeq(std::string_view peer) const = 0;
  // A random number fixed when the log was created: a store replaced by a
  // fresh one has another. 0: the store does not keep one.
  virtual uint64_t LogEpoch() const { return 0; }
  // The epoch of `peer`'s log that AppliedSeq(peer) counts in; 0 if unknown.
  virtual absl::StatusOr<uint64_t> AppliedEpoch(std::string_view) const { return 0; }
};

// A losing concurrent version, kept visible. Which version beat it, and by
// which rule, is computed against the current winner when it is read (see
// merge.h), so the stored state does not depend on arrival order.
struct ConflictEntry {
  std::string record_id;
  v1::Record loser;
  std::string winner_version;  // VersionKey of the current winner
  std::string rule;            // "R1".."R5"
};

// A version refused by admission: never merged, never lost.
struct QuarantineEntry {
  std::string record_id;
  std::string from_peer;
  std::string reason_code;
  std::string detail;
  int64_t received_micros = 0;
  v1::Record record;
};

// The write side, valid inside one atomic transaction. Everything written
// through one WriteView commits together or not at all.
//
// Per record id the view holds the *frontier*: every admitted version that
// no other admitted version causally descends from. One of them is current
// (the winner); the others are losers.
class WriteView {
 public:
  virtual ~WriteView() = default;
  // The current version of record `id` (copied out), or nullopt.
  virtual absl::StatusOr<std::optional<v1::Record>> Get(std::string_view id) = 0;
  // Makes `record` the current version of `id` (no log entry).
  virtual absl::Status SetCurrent(std::string_view id, const v1::Record& record) = 0;
  // Appends `record` to the change log; returns its sequence.
  virtual absl::StatusOr<uint64_t> AppendLog(const v1::Record& record) = 0;
  // May remove the change-log entry at `seq`: a version of a record whose
  // only newest version matters, replaced by a newer one appended after it
  // (AdmissionPolicy::KeepsNewestOnly). Peers still to read that range take
  // the newer one instead. A store that keeps the entry stays correct, only
  // larger. REQUIRES: `seq` is not the head of the log.
  virtual absl::Status ForgetLogEntry(uint64_t /*seq*/) { return absl::OkStatus(); }
  // The losing versions of `id`, in LoserKey order (copied out).
  virtual absl::StatusOr<std::vector<v1::Record>> Losers(std::string_view id) = 0;
  // Adds or removes one losing version of `id`, keyed by its LoserKey (merge.h).
  virtual absl::Status PutLoser(std::string_view id, const v1::Record& record) = 0;
  virtual absl::Status DeleteLoser(std::string_view id, std::string_view version_key) = 0;
  virtual absl::Status PutQuarantine(const QuarantineEntry& entry) = 0;
  // Records that `peer`'s log is applied up to `seq`. REQUIRES: seq never
  // decreases for one peer, except after the peer's log was replaced by a
  // shorter one (Session then takes it again from the start).
  virtual absl::Status SetAppliedSeq(std::string_view peer, uint64_t seq) = 0;
  // Records the epoch of `peer`'s log that the applied sequence counts in.
  virtual absl::Status SetAppliedEpoch(std::string_view, uint64_t) { return absl::OkStatus(); }

  // Node-local values (counters, bookkeeping) that commit with the records.
  // Names and encodings: sync/meta_keys.h for the core's, the owner's header
  // for the others'.
  virtual absl::StatusOr<std::optional<std::string>> MetaGet(std::string_view name) = 0;
  virtual absl::Status MetaPut(std::string_view name, std::string_view value) = 0;
  virtual absl::Status MetaDelete(std::string_view name) = 0;
};

}  // namespace steersync::sync
