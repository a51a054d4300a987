#include "node/lmdb/lmdb.h"

#include "sync/meta_keys.h"

#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace steersync::node::lmdb {
namespace {

MDB_val ToVal(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

// Paths with an open Env in this process (LMDB forbids opening one twice).
ABSL_CONST_INIT absl::Mutex registry_mu(absl::kConstInit);
std::set<std::string>& OpenPaths() ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu) {
  static auto* paths = new std::set<std::string>();
  return *paths;
}

}  // namespace

absl::Status MdbToStatus(int rc, std::string_view what) {
  if (rc == MDB_SUCCESS) return absl::OkStatus();
  std::string msg = std::string(what) + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_NOTFOUND: return absl::NotFoundError(msg);
    case MDB_MAP_FULL:
      return absl::ResourceExhaustedError(msg + ": the store's map is full (raise [node] map_size_mb)");
    case ENOSPC: return absl::ResourceExhaustedError(msg + ": the disk is full");
    case EIO:
      // What a commit reports when the disk filled up under it.
      if (what.rfind("mdb_txn_commit", 0) == 0) {
        return absl::ResourceExhaustedError(msg + ": writing failed (is the disk full?)");
      }
      return absl::InternalError(msg);
    case EACCES: return absl::PermissionDeniedError(msg);
    case ENOENT: return absl::NotFoundError(msg);
    case MDB_CORRUPTED:
    case MDB_PANIC: return absl::DataLossError(msg);
    default: return absl::InternalError(msg);
  }
}

absl::StatusOr<std::unique_ptr<Env>> Env::Open(const std::string& path,
                                               const EnvOptions& options) {
  std::error_code ec;
  if (!options.read_only && options.create_if_missing) {
    std::filesystem::create_directories(path, ec);
    if (ec) return absl::InternalError("cannot create data dir " + path + ": " + ec.message());
  }
  const std::string canonical = std::filesystem::weakly_canonical(path, ec).string();
  {
    absl::MutexLock lock(&registry_mu);
    if (!OpenPaths().insert(canonical).second) {
      return absl::FailedPreconditionError("LMDB environment " + canonical +
                                           " is already open in this process");
    }
  }
  auto release = [&] {
    absl::MutexLock lock(&registry_mu);
    OpenPaths().erase(canonical);
  };
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != MDB_SUCCESS) {
    release();
    return MdbToStatus(rc, "mdb_env_create");
  }
  mdb_env_set_maxdbs(env, options.max_dbs);
  mdb_env_set_mapsize(env, options.map_size);
  unsigned flags = MDB_NOTLS;
  if (options.read_only) flags |= MDB_RDONLY;
  rc = mdb_env_open(env, path.c_str(), flags, 0600);
  if (rc != MDB_SUCCESS) {
    mdb_env_close(env);
    release();
    return MdbToStatus(rc, "mdb_env_open(" + path + ")");
  }
  return std::unique_ptr<Env>(new Env(env, canonical, options.read_only));
}

Env::~Env() {
  mdb_env_close(env_);
  absl::MutexLock lock(&registry_mu);
  OpenPaths().erase(path_);
}

absl::Status Env::CopyCompact(const std::string& dir) const {
  return MdbToStatus(mdb_env_copy2(env_, dir.c_str(), MDB_CP_COMPACT), "mdb_env_copy2(" + dir + ")");
}

Env::Space Env::GetSpace() const {
  MDB_envinfo info{};
  MDB_stat stat{};
  Space space;
  if (mdb_env_info(env_, &info) != 0 || mdb_env_stat(env_, &stat) != 0) return space;
  space.map_bytes = info.me_mapsize;
  space.used_bytes = (static_cast<uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize;
  return space;
}

absl::StatusOr<ReadTxn> ReadTxn::Begin(const Env& env) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env.get(), nullptr, MDB_RDONLY, &txn);
  if (rc != MDB_SUCCESS) return MdbToStatus(rc, "mdb_txn_begin(read)");
  return ReadTxn(txn);
}

ReadTxn::~ReadTxn() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

namespace {
absl::StatusOr<std::optional<std::string_view>> GetIn(MDB_txn* txn, Dbi dbi,
                                                      std::string_view key) {
  MDB_val k = ToVal(key), v{};
  int rc = mdb_get(txn, dbi.handle, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc != MDB_SUCCESS) return MdbToStatus(rc, "mdb_get");
  return std::optional<std::string_view>(
      std::string_view(static_cast<const char*>(v.mv_data), v.mv_size));
}
}  // namespace

absl::StatusOr<std::optional<std::string_view>> ReadTxn::Get(Dbi dbi,
                                                             std::string_view key) const {
  return GetIn(txn_, dbi, key);
}

absl::Status ReadTxn::Commit() {
  MDB_txn* t = std::exchange(txn_, nullptr);
  return MdbToStatus(mdb_txn_commit(t), "mdb_txn_commit(read)");
}

absl::StatusOr<WriteTxn> WriteTxn::Begin(const Env& env) {
  if (env.read_only()) return absl::FailedPreconditionError("environment is read-only");
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env.get(), nullptr, 0, &txn);
  if (rc != MDB_SUCCESS) return MdbToStatus(rc, "mdb_txn_begin(write)");
  return WriteTxn(txn);
}

absl::StatusOr<WriteTxn> WriteTxn::BeginNested(WriteTxn& parent) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(mdb_txn_env(parent.get()), parent.get(), 0, &txn);
  if (rc != MDB_SUCCESS) return MdbToStatus(rc, "mdb_txn_begin(nested)");
  return WriteTxn(txn);
}

WriteTxn::~WriteTxn() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

absl::StatusOr<Dbi> WriteTxn::OpenDbi(const char* name, unsigned flags) {
  Dbi dbi;
  int rc = mdb_dbi_open(txn_, name, flags | MDB_CREATE, &dbi.handle);
  if (rc != MDB_SUCCESS) return MdbToStatus(rc, std::string("mdb_dbi_open(") + name + ")");
  return dbi;
}

absl::StatusOr<std::optional<std::string_view>> WriteTxn::Get(Dbi dbi,
                                                              std::string_view key) const {
  return GetIn(txn_, dbi, key);
}

absl::Status WriteTxn::Put(Dbi dbi, std::string_view key, std::string_view value,
                           unsigned flags) {
  MDB_val k = ToVal(key), v = ToVal(value);
  return MdbToStatus(mdb_put(txn_, dbi.handle, &k, &v, flags), "mdb_put");
}

absl::Status WriteTxn::Delete(Dbi dbi, std::string_view key) {
  MDB_val k = ToVal(key);
  int rc = mdb_del(txn_, dbi.handle, &k, nullptr);
  if (rc == MDB_NOTFOUND) return absl::OkStatus();
  return MdbToStatus(rc, "mdb_del");
}

absl::Status WriteTxn::Commit() {
  MDB_txn* t = std::exchange(txn_, nullptr);
  return MdbToStatus(mdb_txn_commit(t), "mdb_txn_commit");
}

absl::StatusOr<Cursor> Cursor::Open(MDB_txn* txn, Dbi dbi) {
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn, dbi.handle, &c);
  if (rc != MDB_SUCCESS) return MdbToStatus(rc, "mdb_cursor_open");
  return Cursor(c);
}

Cursor::~Cursor() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

absl::StatusOr<bool> Cursor::Step(MDB_cursor_op op) {
  int rc = mdb_cursor_get(cursor_, &k_, &v_, op);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != MDB_SUCCESS) return MdbToStatus(rc, "mdb_cursor_get");
  return true;
}

absl::StatusOr<bool> Cursor::Seek(std::string_view key) {
  if (key.empty()) return Step(MDB_FIRST);
  k_ = ToVal(key);
  return Step(MDB_SET_RANGE);
}

absl::StatusOr<bool> Cursor::Next() { return Step(MDB_NEXT); }
absl::StatusOr<bool> Cursor::Last() { return Step(MDB_LAST); }

std::string EncodeSeq(uint64_t seq) { return sync::meta::EncodeU64(seq); }

uint64_t DecodeSeq(std::string_view key) { return sync::meta::DecodeU64(key); }

}  // namespace steersync::node::lmdb
