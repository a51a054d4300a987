#include "node/store/lmdb_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "steersync/v1/admin.pb.h"
#include "sync/merge.h"
#include "sync/status_macros.h"

namespace steersync::node {

using lmdb::DecodeSeq;
using lmdb::EncodeSeq;

// ---------------------------------------------------------------------------
// DataDirLock

namespace {

// Directories whose lock this process holds, so that a second Acquire shares
// the first (a second flock on a new descriptor would conflict with it).
ABSL_CONST_INIT absl::Mutex lock_registry_mu(absl::kConstInit);
std::map<std::string, std::weak_ptr<DataDirLock>>& HeldLocks()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_registry_mu) {
  static auto* held = new std::map<std::string, std::weak_ptr<DataDirLock>>();
  return *held;
}

std::string Errno(int err) { return std::strerror(err); }

// The pid a holder wrote in the lock file; "" if none yet.
std::string ReadHolderPid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  for (char c : pid) {
    if (c < '0' || c > '9') return "";
  }
  return pid;
}

}  // namespace

absl::StatusOr<std::shared_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& dir) {
  std::error_code ec;
  const std::string key = std::filesystem::weakly_canonical(dir, ec).string();
  if (ec || !std::filesystem::is_directory(key, ec)) {
    return absl::NotFoundError("data_dir " + dir + " is not a directory");
  }
  absl::MutexLock registry(&lock_registry_mu);
  if (auto held = HeldLocks()[key].lock()) return held;
  const std::string file = (std::filesystem::path(key) / kFileName).string();
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    const std::string msg = "cannot open lock file " + file + ": " + Errno(err);
    return err == EACCES || err == EROFS ? absl::PermissionDeniedError(msg) : absl::InternalError(msg);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string pid = err == EWOULDBLOCK ? ReadHolderPid(fd) : "";
    ::close(fd);
    if (err != EWOULDBLOCK) return absl::InternalError("cannot lock " + file + ": " + Errno(err));
    return absl::FailedPreconditionError("data_dir " + key + " is in use by " +
                                         (pid.empty() ? "another process" : "pid " + pid) +
                                         " (another steersyncd?)");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);  // drops the lock
    return absl::InternalError("cannot write the pid into " + file + ": " + Errno(err));
  }
  std::shared_ptr<DataDirLock> lock(new DataDirLock(fd, key));
  HeldLocks()[key] = lock;
  return lock;
}

DataDirLock::~DataDirLock() {
  absl::MutexLock registry(&lock_registry_mu);
  // The file stays: removing it could let a third process lock a new file
  // while a second still waits on the old one. Its pid is stale but unlocked.
  ::close(fd_);
  auto it = HeldLocks().find(key_);
  if (it != HeldLocks().end() && it->second.expired()) HeldLocks().erase(it);
}

// ---------------------------------------------------------------------------
// LmdbStore

absl::StatusOr<std::unique_ptr<LmdbStore>> LmdbStore::Open(const std::string& dir,
                                                           const lmdb::EnvOptions& options) {
  std::shared_ptr<DataDirLock> lock;
  if (!options.read_only) {
    if (options.create_if_missing) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) return absl::InternalError("cannot create data dir " + dir + ": " + ec.message());
    }
    SYNC_ASSIGN_OR_RETURN(lock, DataDirLock::Acquire(dir));
  }
  SYNC_ASSIGN_OR_RETURN(std::unique_ptr<lmdb::Env> env, lmdb::Env::Open(dir, options));
  std::unique_ptr<LmdbStore> store(new LmdbStore(std::move(lock), std::move(env)));
  SYNC_RETURN_IF_ERROR(store->Init());
  return store;
}

namespace {

// OK when this binary knows the store's format (absent: older than formats,
// i.e. format 1).
absl::Status CheckStoreFormat(const std::optional<std::string_view>& value) {
  if (!value.has_value()) return absl::OkStatus();
  if (value->size() != 8) {
    return absl::DataLossError("meta value " + std::string(LmdbStore::kStoreFormatKey) +
                               " is not a u64 (" + std::to_string(value->size()) + " bytes)");
  }
  const uint64_t format = DecodeSeq(*value);
  if (format > LmdbStore::kStoreFormat) {
    return absl::FailedPreconditionError(
        "store format " + std::to_string(format) + " is newer than this steersyncd (" +
        std::to_string(LmdbStore::kStoreFormat) + "): upgrade steersyncd");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LmdbStore::Init() {
  if (env_->read_only()) {
    // Named databases must already exist; open them in a read txn.
    SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
    auto open = [&](const char* name, lmdb::Dbi& dbi) -> absl::Status {
      int rc = mdb_dbi_open(txn.get(), name, 0, &dbi.handle);
      return lmdb::MdbToStatus(rc, std::string("mdb_dbi_open(") + name + ")");
    };
    SYNC_RETURN_IF_ERROR(open("records", records_));
    SYNC_RETURN_IF_ERROR(open("log", log_));
    SYNC_RETURN_IF_ERROR(open("checkpoints", checkpoints_));
    SYNC_RETURN_IF_ERROR(open("conflicts", conflicts_));
    SYNC_RETURN_IF_ERROR(open("quarantine", quarantine_));
    SYNC_RETURN_IF_ERROR(open("meta", meta_));
    SYNC_RETURN_IF_ERROR(OpenBlobDbis(nullptr, txn.get()));
    SYNC_ASSIGN_OR_RETURN(auto format, txn.Get(meta_, kStoreFormatKey));
    SYNC_RETURN_IF_ERROR(CheckStoreFormat(format));
    SYNC_RETURN_IF_ERROR(txn.Commit());
  } else {
    SYNC_ASSIGN_OR_RETURN(lmdb::WriteTxn txn, lmdb::WriteTxn::Begin(*env_));
    SYNC_ASSIGN_OR_RETURN(records_, txn.OpenDbi("records"));
    SYNC_ASSIGN_OR_RETURN(log_, txn.OpenDbi("log"));
    SYNC_ASSIGN_OR_RETURN(checkpoints_, txn.OpenDbi("checkpoints"));
    SYNC_ASSIGN_OR_RETURN(conflicts_, txn.OpenDbi("conflicts"));
    SYNC_ASSIGN_OR_RETURN(quarantine_, txn.OpenDbi("quarantine"));
    SYNC_ASSIGN_OR_RETURN(meta_, txn.OpenDbi("meta"));
    SYNC_ASSIGN_OR_RETURN(quarantine_by_peer_, txn.OpenDbi("quarantine_by_peer"));
    // Format 2 -> 3 is this: the attachment databases, empty.
    SYNC_RETURN_IF_ERROR(OpenBlobDbis(&txn, nullptr));
    // Before any write: a newer format's store is left as it is.
    SYNC_ASSIGN_OR_RETURN(auto format, txn.Get(meta_, kStoreFormatKey));
    SYNC_RETURN_IF_ERROR(CheckStoreFormat(format));
    // A new store, or one made before formats were recorded (format 1).
    const uint64_t stored_format = format.has_value() && format->size() == 8 ? DecodeSeq(*format) : 1;
    if (stored_format < 2) SYNC_RETURN_IF_ERROR(IndexQuarantineByPeer(txn));
    if (!format.has_value() || stored_format < kStoreFormat) {
      SYNC_RETURN_IF_ERROR(txn.Put(meta_, kStoreFormatKey, EncodeSeq(kStoreFormat)));
    }
    SYNC_ASSIGN_OR_RETURN(auto epoch, txn.Get(meta_, kLogEpochKey));
    if (!epoch.has_value()) {
      // A new log: a random epoch tells its peers it is not the log their
      // checkpoints count in, even once it grows past them.
      std::random_device rd;
      const uint64_t fresh = (static_cast<uint64_t>(rd()) << 32 | rd()) | 1;
      SYNC_RETURN_IF_ERROR(txn.Put(meta_, kLogEpochKey, EncodeSeq(fresh)));
    }
    SYNC_RETURN_IF_ERROR(CountQuarantineOnce(txn));
    SYNC_RETURN_IF_ERROR(txn.Commit());
  }
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(auto epoch, txn.Get(meta_, kLogEpochKey));
  log_epoch_ = epoch.has_value() ? DecodeSeq(*epoch) : 0;
  auto last_key = [&](lmdb::Dbi dbi) -> absl::StatusOr<uint64_t> {
    SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn.get(), dbi));
    SYNC_ASSIGN_OR_RETURN(bool found, c.Last());
    return found ? DecodeSeq(c.key()) : 0;
  };
  SYNC_ASSIGN_OR_RETURN(uint64_t head, last_key(log_));
  SYNC_ASSIGN_OR_RETURN(uint64_t qseq, last_key(quarantine_));
  head_seq_.store(head);
  quarantine_seq_.store(qseq);
  return absl::OkStatus();
}

namespace {

// fsync of a file or directory; `what` names it in the error.
absl::Status SyncPath(const std::string& path, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError("cannot open " + what + " " + path + ": " + Errno(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return absl::InternalError("cannot sync " + what + " " + path + ": " + Errno(err));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LmdbStore::BackupInfo> LmdbStore::Backup(const std::string& dest) const {
  namespace fs = std::filesystem;
  fs::path path(dest);
  if (dest.empty() || !path.is_absolute()) {
    return absl::InvalidArgumentError("backup destination '" + dest +
                                      "' must be an absolute path (on the node's machine)");
  }
  path = path.lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // a trailing '/'
  const std::string out = path.string();
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(path, ec);
  const fs::path data_dir(env_->path());
  if (!ec) {
    auto [d, c] = std::mismatch(data_dir.begin(), data_dir.end(), canonical.begin(), canonical.end());
    if (d == data_dir.end()) {
      return absl::InvalidArgumentError("backup destination " + out + " is inside the data_dir " +
                                        env_->path() + ": choose a directory outside it");
    }
  }
  if (::mkdir(out.c_str(), 0700) != 0) {
    const int err = errno;
    if (err == EEXIST) {
      return absl::AlreadyExistsError("backup destination " + out +
                                      " already exists: name a new directory");
    }
    if (err == ENOENT) {
      return absl::NotFoundError("cannot create backup directory " + out +
                                 ": its parent directory does not exist");
    }
    const std::string msg = "cannot create backup directory " + out + ": " + Errno(err);
    return err == EACCES || err == EROFS ? absl::PermissionDeniedError(msg) : absl::InternalError(msg);
  }
  const std::string data_file = (path / "data.mdb").string();
  absl::Status status = env_->CopyCompact(out);
  if (status.ok()) status = SyncPath(data_file, "backup file");
  if (status.ok()) status = SyncPath(out, "backup directory");
  if (status.ok()) status = SyncPath(path.parent_path().string(), "directory");
  if (!status.ok()) {
    fs::remove_all(path, ec);  // only what this call created
    return status;
  }
  BackupInfo info;
  info.path = out;
  info.bytes = static_cast<uint64_t>(fs::file_size(data_file, ec));
  return info;
}

absl::Status LmdbStore::WalkLog(uint64_t after_seq, size_t max_entries, size_t max_bytes,
                                const std::function<absl::Status(uint64_t, std::string_view)>& fn) const {
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn.get(), log_));
  SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(EncodeSeq(after_seq + 1)));
  size_t bytes = 0;
  for (size_t entries = 0; found && entries < max_entries && bytes < max_bytes; ++entries) {
    SYNC_RETURN_IF_ERROR(fn(DecodeSeq(c.key()), c.value()));
    bytes += c.value().size();
    SYNC_ASSIGN_OR_RETURN(found, c.Next());
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<sync::LogEntry> ParseLogRecord(uint64_t seq, std::string_view value) {
  sync::LogEntry entry;
  entry.seq = seq;
  if (!entry.record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError("log entry " + std::to_string(seq) + " does not parse");
  }
  return entry;
}

}  // namespace

absl::StatusOr<std::vector<sync::LogEntry>> LmdbStore::ReadLog(uint64_t after_seq, size_t max_entries,
                                                               size_t max_bytes) const {
  std::vector<sync::LogEntry> out;
  SYNC_RETURN_IF_ERROR(WalkLog(after_seq, max_entries, max_bytes, [&](uint64_t seq, std::string_view value) {
    SYNC_ASSIGN_OR_RETURN(sync::LogEntry entry, ParseLogRecord(seq, value));
    out.push_back(std::move(entry));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<sync::SharedLogEntry>> LmdbStore::ReadParsedLog(uint64_t after_seq, size_t max_entries,
                                                                           size_t max_bytes) const {
  std::vector<sync::SharedLogEntry> out;
  SYNC_RETURN_IF_ERROR(WalkLog(after_seq, max_entries, max_bytes, [&](uint64_t seq, std::string_view value) {
    // The log's keys say which entries exist; recent_log_ may hold them parsed.
    sync::SharedLogEntry entry = recent_log_.Find(seq);
    if (entry == nullptr) {
      SYNC_ASSIGN_OR_RETURN(sync::LogEntry read, ParseLogRecord(seq, value));
      entry = sync::ParseLogEntry(std::move(read));
      recent_log_.Keep(entry);
    }
    out.push_back(std::move(entry));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<uint64_t> LmdbStore::AppliedSeq(std::string_view peer) const {
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(auto value, txn.Get(checkpoints_, peer));
  return value.has_value() ? DecodeSeq(*value) : 0;
}

absl::StatusOr<LmdbStore::Checkpoint> LmdbStore::CheckpointOf(std::string_view peer) const {
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(auto seq, txn.Get(checkpoints_, peer));
  SYNC_ASSIGN_OR_RETURN(auto epoch, txn.Get(meta_, std::string(kAppliedEpochPrefix) + std::string(peer)));
  return Checkpoint{seq.has_value() ? DecodeSeq(*seq) : 0, epoch.has_value() ? DecodeSeq(*epoch) : 0};
}

absl::StatusOr<uint64_t> LmdbStore::AppliedEpoch(std::string_view peer) const {
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(auto value, txn.Get(meta_, std::string(kAppliedEpochPrefix) + std::string(peer)));
  return value.has_value() ? DecodeSeq(*value) : 0;
}

absl::Status LmdbStore::Write(const std::function<absl::Status(View&)>& fn) {
  SYNC_ASSIGN_OR_RETURN(lmdb::WriteTxn txn, lmdb::WriteTxn::Begin(*env_));
  View view(*this, txn, head_seq_.load(), quarantine_seq_.load());
  SYNC_RETURN_IF_ERROR(fn(view));
  SYNC_RETURN_IF_ERROR(txn.Commit());
  head_seq_.store(view.head(), std::memory_order_release);
  quarantine_seq_.store(view.quarantine_seq());
  if (view.new_log_epoch() != 0) log_epoch_.store(view.new_log_epoch());
  return absl::OkStatus();
}

absl::Status LmdbStore::View::Nested(const std::function<absl::Status(View&)>& fn) {
  SYNC_ASSIGN_OR_RETURN(lmdb::WriteTxn child, lmdb::WriteTxn::BeginNested(txn_));
  View nested(store_, child, head_, quarantine_seq_);
  SYNC_RETURN_IF_ERROR(fn(nested));  // `child` aborts as it goes out of scope
  SYNC_RETURN_IF_ERROR(child.Commit());
  head_ = nested.head_;
  quarantine_seq_ = nested.quarantine_seq_;
  if (nested.new_log_epoch_ != 0) new_log_epoch_ = nested.new_log_epoch_;
  return absl::OkStatus();
}

absl::Status LmdbStore::ForEachRecord(
    const std::function<void(const v1::Record&, const v1::RecordBody&)>& fn) const {
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn.get(), records_));
  SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(""));
  while (found) {
    v1::Record record;
    v1::RecordBody body;
    if (!record.ParseFromArray(c.value().data(), static_cast<int>(c.value().size())) ||
        !body.ParseFromString(record.body())) {
      return absl::DataLossError("record " + std::string(c.key()) + " does not parse");
    }
    fn(record, body);
    SYNC_ASSIGN_OR_RETURN(found, c.Next());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Record>> LmdbStore::GetRecord(std::string_view id) const {
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(auto value, txn.Get(records_, id));
  if (!value.has_value()) return std::optional<v1::Record>();
  v1::Record record;
  if (!record.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
    return absl::DataLossError("record " + std::string(id) + " does not parse");
  }
  return std::optional<v1::Record>(std::move(record));
}

absl::StatusOr<std::vector<v1::Record>> LmdbStore::RecordsIndexedUnder(std::string_view prefix) const {
  std::vector<v1::Record> out;
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn.get(), meta_));
  SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(prefix));
  while (found && c.key().substr(0, prefix.size()) == prefix) {
    const std::string_view id = c.key().substr(prefix.size());
    SYNC_ASSIGN_OR_RETURN(auto value, txn.Get(records_, id));
    if (value.has_value()) {
      v1::Record& record = out.emplace_back();
      if (!record.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
        return absl::DataLossError("record " + std::string(id) + " does not parse");
      }
    }
    SYNC_ASSIGN_OR_RETURN(found, c.Next());
  }
  return out;
}

namespace {

std::string EncodeQuarantine(const sync::QuarantineEntry& q) {
  v1::QuarantineInfo info;  // admin.proto shape plus the record, length-prefixed
  info.set_record_id(q.record_id);
  info.set_from_peer(q.from_peer);
  info.set_reason_code(q.reason_code);
  info.set_detail(q.detail);
  info.set_received_micros(static_cast<uint64_t>(q.received_micros));
  std::string head = info.SerializeAsString();
  std::string out = EncodeSeq(head.size());
  out += head;
  out += q.record.SerializeAsString();
  return out;
}

bool DecodeQuarantine(std::string_view bytes, sync::QuarantineEntry& q) {
  if (bytes.size() < 8) return false;
  const uint64_t n = DecodeSeq(bytes.substr(0, 8));
  if (bytes.size() < 8 + n) return false;
  v1::QuarantineInfo info;
  if (!info.ParseFromArray(bytes.data() + 8, static_cast<int>(n))) return false;
  q.record_id = info.record_id();
  q.from_peer = info.from_peer();
  q.reason_code = info.reason_code();
  q.detail = info.detail();
  q.received_micros = static_cast<int64_t>(info.received_micros());
  return q.record.ParseFromArray(bytes.data() + 8 + n, static_cast<int>(bytes.size() - 8 - n));
}

}  // namespace

absl::StatusOr<std::vector<sync::QuarantineEntry>> LmdbStore::ListQuarantine() const {
  std::vector<sync::QuarantineEntry> out;
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn.get(), quarantine_));
  SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(""));
  while (found) {
    sync::QuarantineEntry q;
    if (!DecodeQuarantine(c.value(), q)) return absl::DataLossError("bad quarantine entry");
    out.push_back(std::move(q));
    SYNC_ASSIGN_OR_RETURN(found, c.Next());
  }
  return out;
}

absl::StatusOr<std::vector<sync::ConflictEntry>> LmdbStore::ListConflicts() const {
  std::vector<sync::ConflictEntry> out;
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn.get(), conflicts_));
  SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(""));
  while (found) {
    sync::ConflictEntry e;
    e.record_id = std::string(c.key().substr(0, c.key().find('\0')));
    v1::RecordBody loser_body, winner_body;
    if (!e.loser.ParseFromArray(c.value().data(), static_cast<int>(c.value().size())) ||
        !loser_body.ParseFromString(e.loser.body())) {
      return absl::DataLossError("bad conflict entry for " + e.record_id);
    }
    SYNC_ASSIGN_OR_RETURN(auto winner_bytes, txn.Get(records_, e.record_id));
    v1::Record winner;
    if (!winner_bytes.has_value() ||
        !winner.ParseFromArray(winner_bytes->data(), static_cast<int>(winner_bytes->size())) ||
        !winner_body.ParseFromString(winner.body())) {
      return absl::DataLossError("conflict for " + e.record_id + " has no current version");
    }
    e.winner_version = sync::VersionKey(winner_body.version());
    e.rule = std::string(sync::RuleName(
        sync::Decide(winner_body, winner.body(), loser_body, e.loser.body()).rule));
    out.push_back(std::move(e));
    SYNC_ASSIGN_OR_RETURN(found, c.Next());
  }
  return out;
}

absl::StatusOr<std::optional<std::string>> LmdbStore::MetaGet(std::string_view name) const {
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(auto value, txn.Get(meta_, name));
  if (!value.has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(*value));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LmdbStore::MetaScan(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn.get(), meta_));
  SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(prefix));
  while (found && c.key().substr(0, prefix.size()) == prefix) {
    out.emplace_back(std::string(c.key()), std::string(c.value()));
    SYNC_ASSIGN_OR_RETURN(found, c.Next());
  }
  return out;
}

uint64_t LmdbStore::RecordCount() const { return CountEntries(records_).value_or(0); }
absl::Status LmdbStore::CountQuarantineOnce(lmdb::WriteTxn& txn) {
  // Stores written before the counts existed are counted once, here.
  SYNC_ASSIGN_OR_RETURN(auto done, txn.Get(meta_, kQuarantineCountedKey));
  if (done.has_value()) return absl::OkStatus();
  std::map<std::string, uint64_t> by_reason;
  {
    SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn.get(), quarantine_));
    SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(""));
    while (found) {
      sync::QuarantineEntry q;
      if (DecodeQuarantine(c.value(), q)) ++by_reason[q.reason_code];
      SYNC_ASSIGN_OR_RETURN(found, c.Next());
    }
  }
  for (const auto& [reason, n] : by_reason) {
    SYNC_RETURN_IF_ERROR(txn.Put(meta_, std::string(kQuarantineCountPrefix) + reason, EncodeSeq(n)));
  }
  return txn.Put(meta_, kQuarantineCountedKey, "1");
}

namespace {

std::string PeerIndexKey(std::string_view peer, uint64_t seq) {
  std::string key(peer);
  key.push_back('\0');
  key += EncodeSeq(seq);
  return key;
}

std::string EncodeUsage(uint64_t entries, uint64_t bytes) { return EncodeSeq(entries) + EncodeSeq(bytes); }

void DecodeUsage(const std::optional<std::string_view>& value, uint64_t& entries, uint64_t& bytes) {
  entries = bytes = 0;
  if (!value.has_value() || value->size() != 16) return;
  entries = DecodeSeq(value->substr(0, 8));
  bytes = DecodeSeq(value->substr(8, 8));
}

}  // namespace

absl::Status LmdbStore::IndexQuarantineByPeer(lmdb::WriteTxn& txn) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> usage;
  {
    SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn.get(), quarantine_));
    SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(""));
    while (found) {
      sync::QuarantineEntry q;
      if (DecodeQuarantine(c.value(), q)) {
        SYNC_RETURN_IF_ERROR(
            txn.Put(quarantine_by_peer_, PeerIndexKey(q.from_peer, DecodeSeq(c.key())), EncodeSeq(c.value().size())));
        auto& [entries, bytes] = usage[q.from_peer];
        ++entries;
        bytes += c.value().size();
      }
      SYNC_ASSIGN_OR_RETURN(found, c.Next());
    }
  }
  for (const auto& [peer, u] : usage) {
    SYNC_RETURN_IF_ERROR(txn.Put(meta_, std::string(kQuarantinePeerPrefix) + peer, EncodeUsage(u.first, u.second)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, LmdbStore::PeerQuarantine>> LmdbStore::QuarantineByPeer() const {
  std::map<std::string, PeerQuarantine> out;
  SYNC_ASSIGN_OR_RETURN(auto usage, MetaScan(kQuarantinePeerPrefix));
  for (const auto& [key, value] : usage) {
    PeerQuarantine& p = out[key.substr(sizeof(kQuarantinePeerPrefix) - 1)];
    DecodeUsage(std::string_view(value), p.entries, p.bytes);
  }
  SYNC_ASSIGN_OR_RETURN(auto evicted, MetaScan(kQuarantineEvictedPrefix));
  for (const auto& [key, value] : evicted) {
    out[key.substr(sizeof(kQuarantineEvictedPrefix) - 1)].evicted = DecodeSeq(value);
  }
  return out;
}

absl::StatusOr<std::map<std::string, uint64_t>> LmdbStore::QuarantineByReason() const {
  SYNC_ASSIGN_OR_RETURN(auto counts, MetaScan(kQuarantineCountPrefix));
  std::map<std::string, uint64_t> out;
  for (const auto& [key, value] : counts) out[key.substr(sizeof(kQuarantineCountPrefix) - 1)] = DecodeSeq(value);
  return out;
}

absl::Status LmdbStore::TakeNewLogEpoch() {
  return Write([](View& view) { return view.TakeNewLogEpoch(); });
}

absl::Status LmdbStore::View::TakeNewLogEpoch() {
  std::random_device rd;
  const uint64_t fresh = (static_cast<uint64_t>(rd()) << 32 | rd()) | 1;
  SYNC_RETURN_IF_ERROR(MetaPut(kLogEpochKey, EncodeSeq(fresh)));
  new_log_epoch_ = fresh;
  return absl::OkStatus();
}

uint64_t LmdbStore::QuarantineCount() const { return CountEntries(quarantine_).value_or(0); }

absl::StatusOr<uint64_t> LmdbStore::CountEntries(lmdb::Dbi dbi) const {
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  MDB_stat stat;
  SYNC_RETURN_IF_ERROR(lmdb::MdbToStatus(mdb_stat(txn.get(), dbi.handle, &stat), "mdb_stat"));
  return stat.ms_entries;
}

// ---- View -------------------------------------------------------------------

absl::StatusOr<std::optional<v1::Record>> LmdbStore::View::Get(std::string_view id) {
  SYNC_ASSIGN_OR_RETURN(auto value, txn_.Get(store_.records_, id));
  if (!value.has_value()) return std::optional<v1::Record>();
  v1::Record record;
  if (!record.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
    return absl::DataLossError("record " + std::string(id) + " does not parse");
  }
  return std::optional<v1::Record>(std::move(record));
}

absl::Status LmdbStore::View::SetCurrent(std::string_view id, const v1::Record& record) {
  return txn_.Put(store_.records_, id, record.SerializeAsString());
}

absl::StatusOr<uint64_t> LmdbStore::View::AppendLog(const v1::Record& record) {
  ++head_;
  // Sequences only grow, so appending is safe and much faster.
  SYNC_RETURN_IF_ERROR(
      txn_.Put(store_.log_, EncodeSeq(head_), record.SerializeAsString(), MDB_APPEND));
  return head_;
}

absl::Status LmdbStore::View::ForgetLogEntry(uint64_t seq) {
  // Never the head: HeadSeq() is the log's last key, which must not go back.
  if (seq >= head_) return absl::InternalError("ForgetLogEntry(" + std::to_string(seq) + ") at the log's head");
  return txn_.Delete(store_.log_, EncodeSeq(seq));
}

namespace {
std::string LoserPrefix(std::string_view id) {
  std::string key(id);
  key.push_back('\0');
  return key;
}
}  // namespace

absl::StatusOr<std::vector<v1::Record>> LmdbStore::View::Losers(std::string_view id) {
  std::vector<v1::Record> out;
  const std::string prefix = LoserPrefix(id);
  SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn_.get(), store_.conflicts_));
  SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(prefix));
  while (found && c.key().substr(0, prefix.size()) == prefix) {
    v1::Record r;
    if (!r.ParseFromArray(c.value().data(), static_cast<int>(c.value().size()))) {
      return absl::DataLossError("losing version of " + std::string(id) + " does not parse");
    }
    out.push_back(std::move(r));
    SYNC_ASSIGN_OR_RETURN(found, c.Next());
  }
  return out;
}

absl::Status LmdbStore::View::PutLoser(std::string_view id, const v1::Record& record) {
  v1::RecordBody body;
  if (!body.ParseFromString(record.body())) return absl::InvalidArgumentError("loser does not parse");
  return txn_.Put(store_.conflicts_, LoserPrefix(id) + sync::LoserKey(body.version(), record.body()),
                  record.SerializeAsString());
}

absl::Status LmdbStore::View::DeleteLoser(std::string_view id, std::string_view version_key) {
  return txn_.Delete(store_.conflicts_, LoserPrefix(id) + std::string(version_key));
}

absl::Status LmdbStore::View::PutQuarantine(const sync::QuarantineEntry& entry) {
  ++quarantine_seq_;
  const std::string value = EncodeQuarantine(entry);
  SYNC_RETURN_IF_ERROR(txn_.Put(store_.quarantine_, EncodeSeq(quarantine_seq_), value, MDB_APPEND));
  SYNC_RETURN_IF_ERROR(txn_.Put(store_.quarantine_by_peer_, PeerIndexKey(entry.from_peer, quarantine_seq_),
                                EncodeSeq(value.size())));
  // Counted by reason in the same transaction, so a scrape never rescans.
  const std::string count_key = std::string(kQuarantineCountPrefix) + entry.reason_code;
  SYNC_ASSIGN_OR_RETURN(auto count, txn_.Get(store_.meta_, count_key));
  SYNC_RETURN_IF_ERROR(
      txn_.Put(store_.meta_, count_key, EncodeSeq((count.has_value() ? DecodeSeq(*count) : 0) + 1)));
  // The peer's share, within its quota.
  const std::string usage_key = std::string(kQuarantinePeerPrefix) + entry.from_peer;
  uint64_t entries, bytes;
  {
    SYNC_ASSIGN_OR_RETURN(auto usage, txn_.Get(store_.meta_, usage_key));
    DecodeUsage(usage, entries, bytes);
  }
  ++entries;
  bytes += value.size();
  SYNC_ASSIGN_OR_RETURN(uint64_t evicted, EvictOverQuota(entry.from_peer, entries, bytes));
  SYNC_RETURN_IF_ERROR(txn_.Put(store_.meta_, usage_key, EncodeUsage(entries, bytes)));
  if (evicted == 0) return absl::OkStatus();
  const std::string evicted_key = std::string(kQuarantineEvictedPrefix) + entry.from_peer;
  SYNC_ASSIGN_OR_RETURN(auto before, txn_.Get(store_.meta_, evicted_key));
  return txn_.Put(store_.meta_, evicted_key, EncodeSeq((before.has_value() ? DecodeSeq(*before) : 0) + evicted));
}

absl::StatusOr<uint64_t> LmdbStore::View::EvictOverQuota(const std::string& peer, uint64_t& entries,
                                                         uint64_t& bytes) {
  const uint64_t max_entries = store_.quota_entries_.load(), max_bytes = store_.quota_bytes_.load();
  uint64_t evicted = 0;
  std::string prefix(peer);
  prefix.push_back('\0');
  while (entries > 1 && (entries > max_entries || bytes > max_bytes)) {
    std::string index_key;
    uint64_t size = 0;
    {
      SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn_.get(), store_.quarantine_by_peer_));
      SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(prefix));
      if (!found || c.key().substr(0, prefix.size()) != prefix || c.key().size() != prefix.size() + 8) {
        return absl::DataLossError("quarantine usage of peer '" + peer + "' has no entries to evict");
      }
      index_key = std::string(c.key());
      size = DecodeSeq(c.value());
    }
    const std::string seq_key = index_key.substr(prefix.size());
    SYNC_ASSIGN_OR_RETURN(auto stored, txn_.Get(store_.quarantine_, seq_key));
    if (sync::QuarantineEntry old; stored.has_value() && DecodeQuarantine(*stored, old)) {
      const std::string count_key = std::string(kQuarantineCountPrefix) + old.reason_code;
      SYNC_ASSIGN_OR_RETURN(auto count, txn_.Get(store_.meta_, count_key));
      const uint64_t n = count.has_value() ? DecodeSeq(*count) : 0;
      SYNC_RETURN_IF_ERROR(n <= 1 ? txn_.Delete(store_.meta_, count_key)
                                  : txn_.Put(store_.meta_, count_key, EncodeSeq(n - 1)));
    }
    if (stored.has_value()) SYNC_RETURN_IF_ERROR(txn_.Delete(store_.quarantine_, seq_key));
    SYNC_RETURN_IF_ERROR(txn_.Delete(store_.quarantine_by_peer_, index_key));
    --entries;
    bytes -= std::min(bytes, size);
    ++evicted;
  }
  return evicted;
}

absl::Status LmdbStore::View::SetAppliedSeq(std::string_view peer, uint64_t seq) {
  return txn_.Put(store_.checkpoints_, peer, EncodeSeq(seq));
}

absl::Status LmdbStore::View::SetAppliedEpoch(std::string_view peer, uint64_t epoch) {
  return txn_.Put(store_.meta_, std::string(kAppliedEpochPrefix) + std::string(peer), EncodeSeq(epoch));
}

absl::StatusOr<std::optional<std::string>> LmdbStore::View::MetaGet(std::string_view name) {
  SYNC_ASSIGN_OR_RETURN(auto value, txn_.Get(store_.meta_, name));
  if (!value.has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(*value));
}

absl::Status LmdbStore::View::MetaPut(std::string_view name, std::string_view value) {
  return txn_.Put(store_.meta_, name, value);
}

absl::Status LmdbStore::View::MetaDelete(std::string_view name) {
  return txn_.Delete(store_.meta_, name);
}

}  // namespace steersync::node
