#pragma once
// A node's durable state in one LMDB environment:
//   records     id -> Record            current version of every record
//   log         seq(u64 BE) -> Record   the change log, one entry per new current version
//   checkpoints peer -> seq(u64 BE)     how much of each peer's log is applied here
//   conflicts   id \0 LoserKey -> Record    losing concurrent versions
//   quarantine  seq(u64 BE) -> QuarantineEntry  versions refused by admission
//   quarantine_by_peer  peer \0 seq(u64 BE) -> bytes(u64 BE)  the same, by
//               peer, oldest first (for the per-peer quota; format 2)
//   meta        name -> bytes           node-local counters and indexes
//   blobs       sha256 -> BlobState     each attachment file known here (format 3)
//   blob_chunks sha256 + index(u32 BE) -> bytes   the chunks held of it
//   blob_refs   sha256 + record id -> peer   records naming it, and the peer
//               each came from ("" for this node's own acts)
//
// The directory also holds steersyncd.lock (DataDirLock): one writing
// process per data_dir. meta "store_format" names the layout above
// (kStoreFormat); a store of a newer format is refused at open, an older one
// is brought up to this format once, at its first writable open.
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
#include "node/store/recent_log.h"
#include "steersync/v1/record.pb.h"
#include "sync/store.h"

namespace steersync::node {

// One writing process per data directory: <dir>/steersyncd.lock, held with
// flock(LOCK_EX | LOCK_NB) for as long as the lock lives, the holder's pid
// written in it. The kernel drops the lock when the process ends, however it
// ends (even SIGKILL), so a file left behind never blocks a start. Within one
// process the lock is shared: Acquire of a directory this process already
// holds returns the same lock (steersyncd's main takes it before the node
// opens its store, which takes it again).
//
// Thread safety: thread-safe.
class DataDirLock {
 public:
  static constexpr char kFileName[] = "steersyncd.lock";
  // REQUIRES: `dir` exists. kFailedPrecondition "data_dir D is in use by pid
  // P (another steersyncd?)" when another process holds it.
  static absl::StatusOr<std::shared_ptr<DataDirLock>> Acquire(const std::string& dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  DataDirLock(int fd, std::string key) : fd_(fd), key_(std::move(key)) {}
  const int fd_;
  const std::string key_;  // the directory, canonical
};

class LmdbStore : public sync::LogReader {
 public:
  // The layout this binary reads and writes, kept in meta "store_format"
  // (u64 BE), written when a store is created. A store of a newer format is
  // refused at open (kFailedPrecondition "store format N is newer than this
  // steersyncd (1): upgrade steersyncd"); a store older than formats (no key)
  // is format 1.
  // Format 2 added quarantine_by_peer and the per-peer quarantine usage.
  // Format 3 added blobs, blob_chunks and blob_refs (attachments); a format-2
  // store names no attachment, so its upgrade only creates them.
  // Format 4 added the document indexes in meta (node/domain/document_index.h),
  // which the committee's admission keeps with every version it admits; the
  // node indexes an older store once, at its start (IndexDocumentsOnce). A
  // format-3 steersyncd, which would admit versions without indexing them,
  // refuses the store.
  static constexpr uint64_t kStoreFormat = 4;
  static constexpr char kStoreFormatKey[] = "store_format";

  // Opens (creating if needed, unless read-only) the store in `dir`. A
  // writable open holds the directory's DataDirLock until the store is
  // destroyed (refused while another process holds it); a read-only open
  // does not take it.
  static absl::StatusOr<std::unique_ptr<LmdbStore>> Open(const std::string& dir,
                                                         const lmdb::EnvOptions& options);

  // What the quarantine may hold of one peer's refused versions (issue 10:
  // a peer must not fill this node's disk). When a new entry takes a peer
  // past either bound, that peer's oldest entries are evicted (counted in
  // meta "qevicted/<peer>", see QuarantineEvicted()); the newest entry is
  // always kept.
  struct QuarantineQuota {
    uint64_t max_entries_per_peer = 10'000;
    uint64_t max_bytes_per_peer = 32 << 20;
  };
  // Takes effect for the writes that follow; call before the node starts.
  void SetQuarantineQuota(QuarantineQuota quota) {
    quota_entries_ = quota.max_entries_per_peer;
    quota_bytes_ = quota.max_bytes_per_peer;
  }
  // One peer's share of the quarantine, and what its quota evicted.
  struct PeerQuarantine {
    uint64_t entries = 0;
    uint64_t bytes = 0;
    uint64_t evicted = 0;
  };
  // By peer ("" for versions refused outside any link), in peer order.
  absl::StatusOr<std::map<std::string, PeerQuarantine>> QuarantineByPeer() const;

  // Writes a consistent, compacted copy of the store into the new directory
  // `dest` while the node goes on (mdb_env_copy2 with MDB_CP_COMPACT: the
  // state at the start of its read transaction), and syncs it to disk.
  // `dest` must be absolute, must not exist yet (kAlreadyExists) and must be
  // outside the store's directory; its parent must exist. The copy holds
  // data.mdb only: open it as a data_dir (LmdbStore::Open, or a node's
  // data_dir after a restore). On failure nothing is left at `dest`.
  struct BackupInfo {
    std::string path;    // the directory written, normalised
    uint64_t bytes = 0;  // size of its data.mdb
  };
  absl::StatusOr<BackupInfo> Backup(const std::string& dest) const;

  // sync::LogReader
  uint64_t HeadSeq() const override { return head_seq_.load(std::memory_order_acquire); }
  absl::StatusOr<std::vector<sync::LogEntry>> ReadLog(uint64_t after_seq, size_t max_entries,
                                                      size_t max_bytes) const override;
  // From recent_log_ where it holds them: parsed once for every reader.
  absl::StatusOr<std::vector<sync::SharedLogEntry>> ReadParsedLog(uint64_t after_seq, size_t max_entries,
                                                                  size_t max_bytes) const override;
  absl::StatusOr<uint64_t> AppliedSeq(std::string_view peer) const override;
  uint64_t LogEpoch() const override { return log_epoch_.load(); }
  // Gives this log a new random epoch (recovery: a store restored from a
  // backup may have appended, at sequences its peers already acknowledged,
  // entries they never saw; a new epoch makes them take the log again).
  // REQUIRES: no other writer (start-up); a running node uses the View's.
  absl::Status TakeNewLogEpoch();
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
  // An index kept in meta, read in one transaction: for each meta entry
  // whose name is `prefix` followed by a record id, in name order, the
  // current record of that id (an id without one is skipped).
  absl::StatusOr<std::vector<v1::Record>> RecordsIndexedUnder(std::string_view prefix) const;
  absl::StatusOr<std::vector<sync::QuarantineEntry>> ListQuarantine() const;
  absl::StatusOr<std::vector<sync::ConflictEntry>> ListConflicts() const;
  absl::StatusOr<std::optional<std::string>> MetaGet(std::string_view name) const;
  // Meta entries whose name starts with `prefix` (name, value), in order.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MetaScan(
      std::string_view prefix) const;
  uint64_t RecordCount() const;
  // The LMDB map's size and use (lmdb::Env::GetSpace), for /metrics.
  lmdb::Env::Space Space() const { return env_->GetSpace(); }
  uint64_t QuarantineCount() const;
  // Quarantined versions by reason code (a few meta keys: no rescan).
  absl::StatusOr<std::map<std::string, uint64_t>> QuarantineByReason() const;

  // ---- Attachments (blob_store.cc) ------------------------------------
  // One file known here. Invariant: chunks_held chunks of it are in
  // blob_chunks, received_bytes is their total, and both change in the
  // transaction that stores a chunk, so a kill at any instant resumes where
  // the last commit left.
  struct BlobState {
    enum class Phase : uint8_t {
      kArriving = 0,
      kComplete = 1,  // every chunk held, the whole file's SHA-256 checked
      // Every chunk matched its listed hash but the file did not match its
      // SHA-256: the descriptor's writer signed inconsistent hashes. Chunks
      // dropped; never fetched again.
      kMismatch = 2,
    };
    v1::Attachment attachment;  // as the first record naming it described it
    Phase phase = Phase::kArriving;
    uint64_t received_bytes = 0;
    uint32_t chunks_held = 0;
  };
  absl::StatusOr<std::optional<BlobState>> GetBlob(std::string_view sha256) const;
  // Indices of the chunks of `sha256` not held, in order (all if unknown).
  absl::StatusOr<std::vector<uint32_t>> MissingChunks(const BlobState& blob) const;
  absl::StatusOr<std::optional<std::string>> ReadChunk(std::string_view sha256, uint32_t index) const;
  // Files still arriving that a record from `peer` names.
  absl::StatusOr<std::vector<BlobState>> ArrivingBlobsFrom(std::string_view peer) const;
  // Ids of the records that name `sha256`.
  absl::StatusOr<std::vector<std::string>> RecordsNaming(std::string_view sha256) const;
  // Files known here by phase, and the bytes held and expected of them.
  struct BlobTotals {
    uint64_t complete = 0, arriving = 0, mismatched = 0;
    uint64_t bytes_held = 0, bytes_expected = 0;
  };
  absl::StatusOr<BlobTotals> Blobs() const;

 private:
  LmdbStore(std::shared_ptr<DataDirLock> lock, std::unique_ptr<lmdb::Env> env)
      : lock_(std::move(lock)), env_(std::move(env)) {}
  absl::Status Init();
  // Calls `fn` with each log entry's sequence and bytes, in order, from
  // after_seq, stopping after `max_entries` or once `max_bytes` were read.
  absl::Status WalkLog(uint64_t after_seq, size_t max_entries, size_t max_bytes,
                       const std::function<absl::Status(uint64_t, std::string_view)>& fn) const;
  absl::StatusOr<uint64_t> CountEntries(lmdb::Dbi dbi) const;
  absl::Status CountQuarantineOnce(lmdb::WriteTxn& txn);
  // Format 1 -> 2: builds quarantine_by_peer and the per-peer usage.
  absl::Status IndexQuarantineByPeer(lmdb::WriteTxn& txn);
  // Opens blobs, blob_chunks and blob_refs (creating them when writable).
  // A read-only open of a format-2 store has none: has_blobs_ stays false.
  absl::Status OpenBlobDbis(lmdb::WriteTxn* txn, MDB_txn* read_txn);

  // Null when read-only. Declared before env_: released after it closes.
  std::shared_ptr<DataDirLock> lock_;
  std::unique_ptr<lmdb::Env> env_;
  lmdb::Dbi records_, log_, checkpoints_, conflicts_, quarantine_, meta_;
  lmdb::Dbi quarantine_by_peer_;  // not opened by a read-only store
  lmdb::Dbi blobs_, blob_chunks_, blob_refs_;
  bool has_blobs_ = false;  // the blob databases exist (set at Init)
  // Mirrors of the committed state, updated after each commit.
  std::atomic<uint64_t> head_seq_{0};
  std::atomic<uint64_t> log_epoch_{0};  // set at Init() and by TakeNewLogEpoch()
  // Meta keys: this log's epoch; the epoch of each peer's log we applied.
  static constexpr char kLogEpochKey[] = "log_epoch";
  static constexpr char kAppliedEpochPrefix[] = "applied_epoch/";
  // Quarantined versions by reason code, kept with each quarantine write.
  static constexpr char kQuarantineCountPrefix[] = "qcount/";
  static constexpr char kQuarantineCountedKey[] = "qcount_built";
  // Per peer: entries(u64 BE) bytes(u64 BE) it holds in the quarantine; and
  // the entries its quota evicted (u64 BE).
  static constexpr char kQuarantinePeerPrefix[] = "qpeer/";
  static constexpr char kQuarantineEvictedPrefix[] = "qevicted/";
  std::atomic<uint64_t> quota_entries_{QuarantineQuota{}.max_entries_per_peer};
  std::atomic<uint64_t> quota_bytes_{QuarantineQuota{}.max_bytes_per_peer};
  std::atomic<uint64_t> quarantine_seq_{0};
  mutable RecentLogEntries recent_log_;  // committed entries only (filled by reads)
};

// The write side handed to LmdbStore::Write callbacks.
class LmdbStore::View : public sync::WriteView {
 public:
  View(LmdbStore& store, lmdb::WriteTxn& txn, uint64_t head, uint64_t qseq)
      : store_(store), txn_(txn), head_(head), quarantine_seq_(qseq) {}

  absl::StatusOr<std::optional<v1::Record>> Get(std::string_view id) override;
  absl::Status SetCurrent(std::string_view id, const v1::Record& record) override;
  absl::StatusOr<uint64_t> AppendLog(const v1::Record& record) override;
  absl::Status ForgetLogEntry(uint64_t seq) override;
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

  // ---- Attachments (blob_store.cc) ----
  // Notes that record `record_id`, received from `source_peer` ("" for an
  // act of this node), names the file `attachment` describes; a file new
  // here starts arriving with nothing held. Returns true while the file is
  // still arriving (the caller fetches it).
  // REQUIRES: sync::CheckAttachments held for the record.
  absl::StatusOr<bool> NameBlob(const v1::Attachment& attachment, std::string_view record_id,
                                std::string_view source_peer);
  // Stores chunk `index` of `sha256` and the file's progress in this
  // transaction. The chunk must match its listed hash (the caller checked,
  // sync::ChunkMatches). With the last chunk the whole file's SHA-256 is
  // checked (kComplete, or kMismatch and its chunks dropped).
  enum class ChunkOutcome { kStored, kAlreadyHeld, kCompleted, kMismatch, kNotArriving };
  absl::StatusOr<ChunkOutcome> PutChunk(std::string_view sha256, uint32_t index, std::string_view data);
  // Stores a whole file given to this node's own act, complete at once.
  // REQUIRES: `attachment` describes `content` (sync::DescribeAttachment).
  absl::Status PutBlob(const v1::Attachment& attachment, std::string_view content);

  uint64_t head() const { return head_; }
  uint64_t quarantine_seq() const { return quarantine_seq_; }
  // Gives the log a new random epoch when this transaction commits (see
  // LmdbStore::TakeNewLogEpoch); for a running node, through its writer.
  absl::Status TakeNewLogEpoch();
  uint64_t new_log_epoch() const { return new_log_epoch_; }  // 0: unchanged

 private:
  // Drops `peer`'s oldest quarantine entries until its usage is within the
  // store's quota (keeping at least one); returns how many it dropped.
  absl::StatusOr<uint64_t> EvictOverQuota(const std::string& peer, uint64_t& entries, uint64_t& bytes);

  LmdbStore& store_;
  lmdb::WriteTxn& txn_;
  uint64_t head_;
  uint64_t quarantine_seq_;
  uint64_t new_log_epoch_ = 0;  // 0: unchanged
};

}  // namespace steersync::node
