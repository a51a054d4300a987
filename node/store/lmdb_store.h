#pragma once
// A node's durable state in one LMDB environment:
//   records     id -> Record            current version of every record
//   log         seq(u64 BE) -> Record   the change log, one entry per new current version
//   checkpoints peer -> seq(u64 BE)     how much of each peer's log is applied here
//   conflicts   id \0 LoserKey -> Record    losing concurrent versions
//   quarantine  seq(u64 BE) -> QuarantineEntry  versions refused by admission
//   meta        name -> bytes           node-local counters
//
// Invariant: a checkpoint is written in the same transaction as the records
// it covers, so a crash at any instant neither loses nor re-applies anything.
//
// Thread safety: reads are thread-safe; Write() must be called from one
// thread at a time (the node's GroupCommitWriter).

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "node/lmdb/lmdb.h"
#include "steersync/v1/record.pb.h"
#include "sync/store.h"

namespace steersync::node {

class LmdbStore : public sync::LogReader {
 public:
  // Opens (creating if needed, unless read-only) the store in `dir`.
  static absl::StatusOr<std::unique_ptr<LmdbStore>> Open(const std::string& dir,
                                                         const lmdb::EnvOptions& options);

  // sync::LogReader
  uint64_t HeadSeq() const override { return head_seq_.load(std::memory_order_acquire); }
  absl::StatusOr<std::vector<sync::LogEntry>> ReadLog(uint64_t after_seq, size_t max_entries,
                                                      size_t max_bytes) const override;
  absl::StatusOr<uint64_t> AppliedSeq(std::string_view peer) const override;
  uint64_t LogEpoch() const override { return log_epoch_; }
  absl::StatusOr<uint64_t> AppliedEpoch(std::string_view peer) const override;
  // AppliedSeq and AppliedEpoch of `peer`, read in one transaction.
  struct Checkpoint {
    uint64_t seq = 0;
    uint64_t epoch = 0;
  };
  absl::StatusOr<Checkpoint> CheckpointOf(std::string_view peer) const;

  // Runs `fn` in one write transaction and commits durably if it returns OK;
  // aborts everything it wrote otherwise. Meta values are read and written
  // through MetaGet/MetaPut on the view passed to fn.
  class View;
  absl::Status Write(const std::function<absl::Status(View&)>& fn);

  // Read helpers for inspection (copies; no view outlives its txn).
  absl::Status ForEachRecord(
      const std::function<void(const v1::Record&, const v1::RecordBody&)>& fn) const;
  absl::StatusOr<std::optional<v1::Record>> GetRecord(std::string_view id) const;
  absl::StatusOr<std::vector<sync::QuarantineEntry>> ListQuarantine() const;
  absl::StatusOr<std::vector<sync::ConflictEntry>> ListConflicts() const;
  absl::StatusOr<std::optional<std::string>> MetaGet(std::string_view name) const;
  // Meta entries whose name starts with `prefix` (name, value), in order.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MetaScan(
      std::string_view prefix) const;
  uint64_t RecordCount() const;
  uint64_t QuarantineCount() const;
  // Quarantined versions by reason code (a few meta keys: no rescan).
  absl::StatusOr<std::map<std::string, uint64_t>> QuarantineByReason() const;

 private:
  LmdbStore(std::unique_ptr<lmdb::Env> env) : env_(std::move(env)) {}
  absl::Status Init();
  absl::StatusOr<uint64_t> CountEntries(lmdb::Dbi dbi) const;
  absl::Status CountQuarantineOnce(lmdb::WriteTxn& txn);

  std::unique_ptr<lmdb::Env> env_;
  lmdb::Dbi records_, log_, checkpoints_, conflicts_, quarantine_, meta_;
  // Mirrors of the committed state, updated after each commit.
  std::atomic<uint64_t> head_seq_{0};
  uint64_t log_epoch_ = 0;  // fixed at Init()
  // Meta keys: this log's epoch; the epoch of each peer's log we applied.
  static constexpr char kLogEpochKey[] = "log_epoch";
  static constexpr char kAppliedEpochPrefix[] = "applied_epoch/";
  // Quarantined versions by reason code, kept with each quarantine write.
  static constexpr char kQuarantineCountPrefix[] = "qcount/";
  static constexpr char kQuarantineCountedKey[] = "qcount_built";
  std::atomic<uint64_t> quarantine_seq_{0};
};

// The write side handed to LmdbStore::Write callbacks.
class LmdbStore::View : public sync::WriteView {
 public:
  View(LmdbStore& store, lmdb::WriteTxn& txn, uint64_t head, uint64_t qseq)
      : store_(store), txn_(txn), head_(head), quarantine_seq_(qseq) {}

  absl::StatusOr<std::optional<v1::Record>> Get(std::string_view id) override;
  absl::Status SetCurrent(std::string_view id, const v1::Record& record) override;
  absl::StatusOr<uint64_t> AppendLog(const v1::Record& record) override;
  absl::StatusOr<std::vector<v1::Record>> Losers(std::string_view id) override;
  absl::Status PutLoser(std::string_view id, const v1::Record& record) override;
  absl::Status DeleteLoser(std::string_view id, std::string_view version_key) override;
  absl::Status PutQuarantine(const sync::QuarantineEntry& entry) override;
  absl::Status SetAppliedSeq(std::string_view peer, uint64_t seq) override;
  absl::Status SetAppliedEpoch(std::string_view peer, uint64_t epoch) override;

  absl::StatusOr<std::optional<std::string>> MetaGet(std::string_view name) override;
  absl::Status MetaPut(std::string_view name, std::string_view value) override;
  absl::Status MetaDelete(std::string_view name) override;

  // Runs `fn` in a nested transaction: if it fails, everything it wrote is
  // dropped and this view is as before; if it succeeds, its writes join this
  // view's transaction (durable when that commits). One bad job thus never
  // fails the others of a group commit.
  absl::Status Nested(const std::function<absl::Status(View&)>& fn);

  uint64_t head() const { return head_; }
  uint64_t quarantine_seq() const { return quarantine_seq_; }

 private:
  LmdbStore& store_;
  lmdb::WriteTxn& txn_;
  uint64_t head_;
  uint64_t quarantine_seq_;
};

}  // namespace steersync::node
