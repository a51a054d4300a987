// Operating a node for years (issue 11): one writing process per data_dir
// (DataDirLock), the store's format version, and online backups
// (LmdbStore::Backup). The daemon-level behaviour (signals, a second
// steersyncd, --version, --check-config, steerctl backup) is in
// tests/e2e/operations_process_test.cc.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "node/config.h"
#include "node/store/lmdb_store.h"
#include "sync/meta_keys.h"
#include "tests/testutil/fixtures.h"

namespace steersync {
namespace {

using node::DataDirLock;
using node::LmdbStore;
using testing::IsOk;
using testing::StatusIs;
using testing::TempDir;
using testing::WaitUntil;
using ::testing::HasSubstr;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/tinh-phong";

node::lmdb::EnvOptions ReadOnly() {
  node::lmdb::EnvOptions o;
  o.read_only = true;
  return o;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Another process holding `dir`'s lock the way a steersyncd does (flock on
// steersyncd.lock, its pid written in it), until the test releases it. Only
// raw system calls run in the child: it shares none of this process's
// in-memory lock registry.
class LockHoldingProcess {
 public:
  explicit LockHoldingProcess(const std::string& dir) {
    int ready[2], release[2];
    EXPECT_EQ(::pipe(ready), 0);
    EXPECT_EQ(::pipe(release), 0);
    const std::string file = dir + "/" + DataDirLock::kFileName;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      const int fd = ::open(file.c_str(), O_RDWR | O_CREAT, 0644);
      if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) ::_exit(2);
      char pid[32];
      const int n = std::snprintf(pid, sizeof(pid), "%d\n", static_cast<int>(::getpid()));
      if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid, n, 0) != n) ::_exit(3);
      char byte = 1;
      if (::write(ready[1], &byte, 1) != 1) ::_exit(4);
      // Holds the lock until the parent closes its end of `release`.
      while (::read(release[0], &byte, 1) > 0) {
      }
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_fd_ = release[1];
    char byte = 0;
    locked_ = ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
  }
  ~LockHoldingProcess() { Release(); }

  bool locked() const { return locked_; }
  pid_t pid() const { return pid_; }
  // Ends the process (its lock goes with it).
  void Release() {
    if (release_fd_ >= 0) ::close(std::exchange(release_fd_, -1));
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(std::exchange(pid_, -1), &status, 0);
    }
  }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
  bool locked_ = false;
};

// Whether another process could take `dir`'s lock right now (a child tries
// flock LOCK_NB and reports).
bool LockIsFreeForAnotherProcess(const std::string& dir) {
  const std::string file = dir + "/" + DataDirLock::kFileName;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT, 0644);
    ::_exit(fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(DataDirLockTest, AWritableOpenHoldsTheLockWithItsPidUntilTheStoreCloses) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  {
    auto store = LmdbStore::Open(db, {});
    ASSERT_THAT(store, IsOk());
    EXPECT_EQ(ReadText(db + "/steersyncd.lock"), std::to_string(::getpid()) + "\n");
    EXPECT_FALSE(LockIsFreeForAnotherProcess(db));
  }
  EXPECT_TRUE(LockIsFreeForAnotherProcess(db)) << "closing the store must release the lock";
  // A read-only open never takes it.
  auto reader = LmdbStore::Open(db, ReadOnly());
  ASSERT_THAT(reader, IsOk());
  EXPECT_TRUE(LockIsFreeForAnotherProcess(db));
}

TEST(DataDirLockTest, AWritableOpenIsRefusedWhileAnotherProcessHoldsTheDataDirNamingItsPid) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  ASSERT_THAT(LmdbStore::Open(db, {}), IsOk());  // created, then closed
  LockHoldingProcess other(db);
  ASSERT_TRUE(other.locked());

  auto refused = LmdbStore::Open(db, {});
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
  const std::string canonical = std::filesystem::canonical(db).string();
  EXPECT_EQ(refused.status().message(), "data_dir " + canonical + " is in use by pid " +
                                            std::to_string(other.pid()) + " (another steersyncd?)");
  EXPECT_THAT(DataDirLock::Acquire(db), StatusIs(absl::StatusCode::kFailedPrecondition));
  // Reading alongside the holder is allowed (steerctl-less inspection, tests).
  EXPECT_THAT(LmdbStore::Open(db, ReadOnly()), IsOk());

  other.Release();
  EXPECT_THAT(LmdbStore::Open(db, {}), IsOk()) << "a lock left by an ended process never blocks";
}

TEST(DataDirLockTest, OneProcessSharesItsLockAndStoresInOtherDirectoriesAreIndependent) {
  TempDir dir;
  ASSERT_TRUE(std::filesystem::create_directories(dir.Sub("a")));
  auto held = DataDirLock::Acquire(dir.Sub("a"));
  ASSERT_THAT(held, IsOk());
  // steersyncd's main holds the lock, then its node opens the store.
  auto store = LmdbStore::Open(dir.Sub("a"), {});
  ASSERT_THAT(store, IsOk());
  auto again = DataDirLock::Acquire(dir.Sub("a/"));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->get(), held->get());
  auto other = LmdbStore::Open(dir.Sub("b"), {});
  EXPECT_THAT(other, IsOk());
  store->reset();
  EXPECT_FALSE(LockIsFreeForAnotherProcess(dir.Sub("a"))) << "main's hold outlives the store";
  held->reset();
  again->reset();
  EXPECT_TRUE(LockIsFreeForAnotherProcess(dir.Sub("a")));
}

// ---------------------------------------------------------------------------
// [log] level: optional, re-read by steersyncd on SIGHUP.

constexpr char kBaseConfig[] = R"([node]
id = "vn/quang-ngai"
data_dir = "data"
[tls]
ca = "ca.crt"
cert = "n.crt"
key = "n.key"
[admin]
socket = "admin.sock"
)";

TEST(ConfigLogLevelTest, OptionalKnownLevelsOnly) {
  auto parse = [](const std::string& extra) {
    return node::ParseConfig(kBaseConfig + extra, "/etc/steersync", "n.toml");
  };
  auto none = parse("");
  ASSERT_THAT(none, IsOk());
  EXPECT_EQ(none->log_level, "");
  auto debug = parse("[log]\nlevel = \"debug\"\n");
  ASSERT_THAT(debug, IsOk());
  EXPECT_EQ(debug->log_level, "debug");
  auto loud = parse("[log]\nlevel = \"loud\"\n");
  EXPECT_THAT(loud, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(loud.status().message()), HasSubstr("'log.level' = 'loud'"));
  auto unknown = parse("[log]\nfile = \"x\"\n");
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("unknown key 'log.file'"));
}

// [log] format: optional, text or json (steersyncd --log-format wins over it).
TEST(ConfigLogLevelTest, OptionalLogFormatTextOrJson) {
  auto parse = [](const std::string& extra) {
    return node::ParseConfig(kBaseConfig + extra, "/etc/steersync", "n.toml");
  };
  EXPECT_EQ(parse("")->log_format, "");
  auto json = parse("[log]\nformat = \"json\"\n");
  ASSERT_THAT(json, IsOk());
  EXPECT_EQ(json->log_format, "json");
  EXPECT_EQ(json->log_level, "") << "a [log] section may name the format alone";
  auto both = parse("[log]\nlevel = \"warn\"\nformat = \"text\"\n");
  ASSERT_THAT(both, IsOk());
  EXPECT_EQ(both->log_level, "warn");
  EXPECT_EQ(both->log_format, "text");
  auto xml = parse("[log]\nformat = \"xml\"\n");
  EXPECT_THAT(xml, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(xml.status().message()), HasSubstr("'log.format' = 'xml' is not one of text, json"));
}

// ---------------------------------------------------------------------------
// Store format

uint64_t StoredFormat(LmdbStore& store) {
  auto value = store.MetaGet(LmdbStore::kStoreFormatKey);
  EXPECT_THAT(value, IsOk());
  if (!value.ok() || !value->has_value()) return 0;
  return sync::meta::DecodeU64(**value);
}

TEST(StoreFormatTest, ANewStoreRecordsTheCurrentFormat) {
  TempDir dir;
  auto store = LmdbStore::Open(dir.Sub("db"), {});
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ(StoredFormat(**store), LmdbStore::kStoreFormat);
}

TEST(StoreFormatTest, AStoreFromANewerSteersyncdIsRefusedAndLeftUntouched) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  {
    auto store = LmdbStore::Open(db, {});
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->Write([](LmdbStore::View& view) {
      return view.MetaPut(LmdbStore::kStoreFormatKey, sync::meta::EncodeU64(LmdbStore::kStoreFormat + 1));
    }), IsOk());
  }
  const auto size_before = std::filesystem::file_size(db + "/data.mdb");
  for (const auto& options : {node::lmdb::EnvOptions{}, ReadOnly()}) {
    auto refused = LmdbStore::Open(db, options);
    EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_EQ(refused.status().message(),
              "store format " + std::to_string(LmdbStore::kStoreFormat + 1) +
                  " is newer than this steersyncd (" + std::to_string(LmdbStore::kStoreFormat) +
                  "): upgrade steersyncd");
  }
  EXPECT_EQ(std::filesystem::file_size(db + "/data.mdb"), size_before);
  EXPECT_TRUE(LockIsFreeForAnotherProcess(db)) << "a refused open keeps no lock";
}

TEST(StoreFormatTest, AStoreFromBeforeFormatsIsBroughtToTheCurrentFormatByAWritableOpen) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  {
    auto store = LmdbStore::Open(db, {});
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->Write([](LmdbStore::View& view) {
      return view.MetaDelete(LmdbStore::kStoreFormatKey);
    }), IsOk());
  }
  {
    auto reader = LmdbStore::Open(db, ReadOnly());
    ASSERT_THAT(reader, IsOk());
    EXPECT_EQ(StoredFormat(**reader), 0u) << "a read-only open writes nothing";
  }
  auto store = LmdbStore::Open(db, {});
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ(StoredFormat(**store), LmdbStore::kStoreFormat);
}

// ---------------------------------------------------------------------------
// Backup

v1::IssueDirectiveRequest Directive(int n) {
  v1::IssueDirectiveRequest r;
  r.set_number(std::to_string(n) + "/CT-BCĐ");
  r.set_doc_type("CT");
  r.set_title("Chỉ thị số " + std::to_string(n));
  r.set_body("Nội dung chỉ thị");
  return r;
}

// id -> serialized current version.
std::map<std::string, std::string> Records(const LmdbStore& store) {
  std::map<std::string, std::string> out;
  EXPECT_THAT(store.ForEachRecord([&](const v1::Record& record, const v1::RecordBody& body) {
    out[body.id()] = record.SerializeAsString();
  }), IsOk());
  return out;
}

// Issue 11 item 4: gRPC binds with SO_REUSEPORT by default, so a second
// steersyncd on the same address (another data_dir) used to start and the
// kernel split the children between the two. It is a start-up error now,
// naming the address.
TEST(ListenTest, ASecondNodeOnAnAddressInUseFailsToStartNamingIt) {
  TempDir dir;
  auto first = testing::StartInProcessNode(dir, kProvince, "");
  ASSERT_NE(first, nullptr);
  ASSERT_GT(first->sync_port(), 0);
  testing::InProcessNode second = testing::InProcessNodeOptions(dir, kProvince, "");
  second.options.data_dir = dir.Sub("data/second");
  second.options.listen_address = "127.0.0.1:" + std::to_string(first->sync_port());
  auto node = node::Node::Create(second.options, second.runtime);
  ASSERT_THAT(node, IsOk());
  const absl::Status refused = (*node)->Start();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(refused.message()), HasSubstr(second.options.listen_address));
  // The first still serves: its port is its own.
  auto child = testing::StartInProcessNode(dir, kCommune, "127.0.0.1:" + std::to_string(first->sync_port()));
  ASSERT_NE(child, nullptr);
  ASSERT_THAT(first->IssueDirective(Directive(1)), IsOk());
  EXPECT_TRUE(WaitUntil([&] { return child->store().RecordCount() > 0; }, std::chrono::seconds(30)));
}

TEST(BackupTest, ACopyTakenWhileTheNodeRunsOpensReadOnlyWithTheSameRecordsAndHead) {
  TempDir dir;
  auto node = testing::StartInProcessNode(dir, kProvince, "");
  ASSERT_NE(node, nullptr);
  for (int i = 1; i <= 25; ++i) ASSERT_THAT(node->IssueDirective(Directive(i)), IsOk());
  ASSERT_TRUE(node->WaitForHead(25, std::chrono::seconds(30)));
  const uint64_t head = node->store().HeadSeq();
  const auto records = Records(node->store());
  ASSERT_EQ(records.size(), 25u);

  const std::string dest = dir.Sub("backups/first");
  ASSERT_TRUE(std::filesystem::create_directories(dir.Sub("backups")));
  auto backup = node->store().Backup(dest);
  ASSERT_THAT(backup, IsOk());
  EXPECT_EQ(backup->path, dest);
  EXPECT_EQ(backup->bytes, std::filesystem::file_size(dest + "/data.mdb"));
  EXPECT_GT(backup->bytes, 0u);

  // The node goes on writing after the copy; the copy stays as it was taken.
  ASSERT_THAT(node->IssueDirective(Directive(26)), IsOk());
  auto copy = LmdbStore::Open(dest, ReadOnly());
  ASSERT_THAT(copy, IsOk());
  EXPECT_EQ((*copy)->HeadSeq(), head);
  EXPECT_EQ((*copy)->RecordCount(), records.size());
  EXPECT_EQ(Records(**copy), records);
  EXPECT_EQ((*copy)->LogEpoch(), node->store().LogEpoch());
  EXPECT_EQ(StoredFormat(**copy), LmdbStore::kStoreFormat);
  auto log = (*copy)->ReadLog(0, 1000, size_t{1} << 30);
  ASSERT_THAT(log, IsOk());
  EXPECT_EQ(log->size(), head);
  EXPECT_FALSE(std::filesystem::exists(dest + "/steersyncd.lock")) << "the copy holds data.mdb only";
}

TEST(BackupTest, RefusesAnExistingRelativeOrInsideDestinationAndLeavesNothingBehind) {
  TempDir dir;
  const std::string db = dir.Sub("db");
  auto store = LmdbStore::Open(db, {});
  ASSERT_THAT(store, IsOk());

  ASSERT_TRUE(std::filesystem::create_directories(dir.Sub("exists")));
  EXPECT_THAT((*store)->Backup(dir.Sub("exists")), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_TRUE(std::filesystem::is_empty(dir.Sub("exists")));
  EXPECT_THAT((*store)->Backup("relative/copy"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*store)->Backup(db + "/copy"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(std::filesystem::exists(db + "/copy"));
  EXPECT_THAT((*store)->Backup(dir.Sub("no/such/parent")), StatusIs(absl::StatusCode::kNotFound));
  // A trailing slash names the same new directory.
  auto ok = (*store)->Backup(dir.Sub("copy") + "/");
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(ok->path, dir.Sub("copy"));
}

}  // namespace
}  // namespace steersync
