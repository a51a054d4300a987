#pragma once
// RAII over LMDB handles, returning absl::Status instead of throwing.
//
// Process rules enforced here (lmdb.h "Caveats"):
//  - one MDB_env per path per process: Env::Open refuses a second open;
//  - MDB_NOTLS: read transactions are not bound to threads (gRPC pool threads);
//  - ReadTxn and WriteTxn are distinct types, so a read path cannot write;
//  - values returned as std::string_view point into the map and are valid
//    only until their transaction ends: copy them out before.

#include <lmdb.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace steersync::node::lmdb {

// Maps an LMDB return code to a Status; `what` names the failing call.
// MDB_MAP_FULL becomes kResourceExhausted, MDB_NOTFOUND kNotFound.
absl::Status MdbToStatus(int rc, std::string_view what);

struct EnvOptions {
  // Upper bound of the data file; grows sparsely. Default 8 GiB.
  size_t map_size = size_t{8} << 30;
  unsigned max_dbs = 16;
  bool read_only = false;
  // Create the directory if it is missing (ignored when read_only).
  bool create_if_missing = true;
};

// Thread safety: thread-safe (LMDB's env is), as long as write transactions
// are used by one thread at a time.
class Env {
 public:
  // Opens the environment in directory `path`.
  static absl::StatusOr<std::unique_ptr<Env>> Open(const std::string& path,
                                                   const EnvOptions& options);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  MDB_env* get() const { return env_; }
  const std::string& path() const { return path_; }
  // Writes a consistent, compacted copy of the environment (its data.mdb)
  // into the directory `dir`, which must exist and be empty
  // (mdb_env_copy2 with MDB_CP_COMPACT). Runs in a read transaction of its
  // own: writers go on meanwhile, and the copy is the state at its start.
  absl::Status CopyCompact(const std::string& dir) const;
  bool read_only() const { return read_only_; }

  // How much of the map is in use: its size (mdb_env_info's me_mapsize) and
  // the pages up to the last one of the newest commit (me_last_pgno + 1, free
  // pages within included) times the page size (mdb_env_stat). Reads the
  // environment's meta page only: no transaction, cheap enough per scrape.
  struct Space {
    uint64_t map_bytes = 0;
    uint64_t used_bytes = 0;
  };
  Space GetSpace() const;

 private:
  Env(MDB_env* env, std::string path, bool read_only)
      : env_(env), path_(std::move(path)), read_only_(read_only) {}
  MDB_env* env_;
  std::string path_;
  bool read_only_;
};

class ReadTxn;
class WriteTxn;

// A named database handle. Plain value; valid as long as its Env.
struct Dbi {
  MDB_dbi handle = 0;
};

// A read-only transaction. Move-only; aborted on destruction.
class ReadTxn {
 public:
  static absl::StatusOr<ReadTxn> Begin(const Env& env);
  ReadTxn(ReadTxn&& other) noexcept : txn_(std::exchange(other.txn_, nullptr)) {}
  ReadTxn& operator=(ReadTxn&&) = delete;
  ~ReadTxn();

  // Value for `key`, or nullopt. The view is valid until this txn ends.
  absl::StatusOr<std::optional<std::string_view>> Get(Dbi dbi, std::string_view key) const;
  // Ends the txn keeping the named-database handles opened in it (an abort
  // would close them). Only needed after mdb_dbi_open in a read-only env.
  absl::Status Commit();
  MDB_txn* get() const { return txn_; }

 private:
  explicit ReadTxn(MDB_txn* txn) : txn_(txn) {}
  MDB_txn* txn_;
};

// A write transaction. Move-only; aborted on destruction unless committed.
class WriteTxn {
 public:
  static absl::StatusOr<WriteTxn> Begin(const Env& env);
  // A child of `parent` (LMDB nested transaction): its Commit() folds its
  // writes into the parent, its abort drops them and leaves the parent as it
  // was. REQUIRES: `parent` is not used until the child ends.
  static absl::StatusOr<WriteTxn> BeginNested(WriteTxn& parent);
  WriteTxn(WriteTxn&& other) noexcept : txn_(std::exchange(other.txn_, nullptr)) {}
  WriteTxn& operator=(WriteTxn&&) = delete;
  ~WriteTxn();

  // Opens (creating if needed) a named database. Commit to keep the handle.
  absl::StatusOr<Dbi> OpenDbi(const char* name, unsigned flags = 0);
  absl::StatusOr<std::optional<std::string_view>> Get(Dbi dbi, std::string_view key) const;
  absl::Status Put(Dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);
  absl::Status Delete(Dbi dbi, std::string_view key);
  // Commits durably. LMDB frees the handle even on failure.
  absl::Status Commit();
  MDB_txn* get() const { return txn_; }

 private:
  explicit WriteTxn(MDB_txn* txn) : txn_(txn) {}
  MDB_txn* txn_;
};

// A cursor borrowing a transaction.
// REQUIRES: destroyed before its transaction commits or aborts.
class Cursor {
 public:
  static absl::StatusOr<Cursor> Open(MDB_txn* txn, Dbi dbi);
  Cursor(Cursor&& other) noexcept : cursor_(std::exchange(other.cursor_, nullptr)) {}
  Cursor& operator=(Cursor&&) = delete;
  ~Cursor();

  // Positions at the first key >= `key` (or the first key when empty).
  // Returns false at the end. Views are valid until the txn ends.
  absl::StatusOr<bool> Seek(std::string_view key);
  absl::StatusOr<bool> Next();
  absl::StatusOr<bool> Last();
  std::string_view key() const { return {static_cast<const char*>(k_.mv_data), k_.mv_size}; }
  std::string_view value() const { return {static_cast<const char*>(v_.mv_data), v_.mv_size}; }

 private:
  explicit Cursor(MDB_cursor* c) : cursor_(c) {}
  absl::StatusOr<bool> Step(MDB_cursor_op op);
  MDB_cursor* cursor_;
  MDB_val k_{}, v_{};
};

// Big-endian fixed-width keys so that LMDB's byte order is numeric order.
std::string EncodeSeq(uint64_t seq);
uint64_t DecodeSeq(std::string_view key);

}  // namespace steersync::node::lmdb
