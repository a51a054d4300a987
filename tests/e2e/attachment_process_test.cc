// Issue 12 item 1 with the real binaries: a province issues a directive with
// a 10 MiB attachment (steerctl --attach) to its three communes. One commune
// reaches the province through a proxy that delays every byte, so its
// transfer takes long enough to be killed (SIGKILL) halfway: once it holds
// some but not all of the file (a condition, polled). After its restart it
// resumes from the chunks it had committed, not from zero, and every
// commune's `steerctl attachment get` writes the exact bytes (SHA-256).
// A second directive naming the same file costs no second copy.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.grpc.pb.h"
#include "sync/attachments.h"
#include "tests/testutil/daemons.h"
#include "tests/testutil/fault_proxy.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/subprocess.h"
#include "tests/testutil/workload.h"

namespace steersync {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::Daemon;
using testing::FaultProxy;
using testing::PickFreeListenPort;
using testing::Tail;
using testing::TempDir;
using testing::WaitUntil;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr uint64_t kFileBytes = 10 << 20;

using testing::Finished;
using testing::Steerctl;
using testing::ReadText;

// The first attachment of directive `id` as `node` shows it; nullopt if the
// node does not hold the directive yet.
std::optional<v1::AttachmentInfo> AttachmentOf(const Daemon& node, const std::string& id) {
  auto admin = node.Admin();
  grpc::ClientContext ctx;
  ctx.set_deadline(testing::GrpcDeadline(5s));
  v1::ShowRequest request;
  request.set_id(id);
  v1::DirectiveInfo info;
  if (!admin->ShowDirective(&ctx, request, &info).ok() || info.attachments().empty()) return std::nullopt;
  return info.attachments(0);
}

std::optional<v1::PeerInfo> ParentOf(const Daemon& node) {
  std::optional<v1::PeersReply> peers = node.Peers();
  if (!peers.has_value()) return std::nullopt;
  for (const v1::PeerInfo& p : peers->peers()) {
    if (p.relation() == "parent") return p;
  }
  return std::nullopt;
}

TEST(AttachmentProcessTest, TenMiBReachEveryCommuneByteIdenticalAndAKilledReceiverResumes) {
  TempDir dir;
  const int port = PickFreeListenPort();
  Daemon province(dir, {kProvince, "province", port, 0});
  // Latency makes the pull protocol slow enough to kill the receiver
  // halfway (a window of chunks per round trip); bytes are not changed.
  FaultProxy proxy(port);
  proxy.SetDelay(150ms);
  Daemon slow(dir, {"vn/quang-ngai/tinh-phong", "tinh-phong", 0, proxy.port()});
  Daemon binh_son(dir, {"vn/quang-ngai/binh-son", "binh-son", 0, port});
  Daemon ly_son(dir, {"vn/quang-ngai/ly-son", "ly-son", 0, port});
  Daemon* communes[] = {&slow, &binh_son, &ly_son};
  province.Start();
  ASSERT_TRUE(province.WaitServing()) << Tail(province.ReadLog());
  for (Daemon* c : communes) c->Start();
  for (Daemon* c : communes) ASSERT_TRUE(c->WaitServing()) << Tail(c->ReadLog());
  ASSERT_TRUE(WaitUntil([&] {
    const v1::PeersReply peers = province.Peers().value_or(v1::PeersReply());
    int connected = 0;
    for (const v1::PeerInfo& p : peers.peers()) connected += p.connected();
    return connected == 3;
  })) << Tail(province.ReadLog());

  // A file of random bytes (a seed: the same file every run).
  std::string content(kFileBytes, '\0');
  std::mt19937_64 rng(12);
  for (char& c : content) c = static_cast<char>(rng());
  const std::string file = dir.Sub("ke-hoach-chuyen-doi-so.pdf");
  std::ofstream(file, std::ios::binary) << content;
  const std::string sha = sync::HexOf(sync::Sha256Of(content));

  Finished issued = Steerctl(dir, province, {"--json", "directive", "issue", "--title", "Kế hoạch chuyển đổi số", "--body", "Xem tệp đính kèm.",
                                             "--attach", file});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  const std::string id = json::parse(issued.out).at("id");

  // Some but not all of the file has reached the slow commune: kill it.
  ASSERT_TRUE(WaitUntil([&] {
    std::optional<v1::AttachmentInfo> a = AttachmentOf(slow, id);
    return a.has_value() && a->received() > 0 && a->received() < kFileBytes;
  }, 120s, 5ms)) << Tail(slow.ReadLog());
  slow.Kill();
  uint64_t held_at_kill = 0;
  {
    node::lmdb::EnvOptions read_only;
    read_only.read_only = true;
    auto store = node::LmdbStore::Open(slow.data_dir(), read_only);
    ASSERT_TRUE(store.ok()) << store.status();
    auto blob = (*store)->GetBlob(sync::Sha256Of(content));
    ASSERT_TRUE(blob.ok() && blob->has_value());
    held_at_kill = (*blob)->received_bytes;
    // Chunks and progress commit together: the count is what is there.
    auto missing = (*store)->MissingChunks(**blob);
    ASSERT_TRUE(missing.ok());
    EXPECT_EQ(missing->size(), sync::ChunkCount(kFileBytes) - (*blob)->chunks_held);
  }
  ASSERT_GT(held_at_kill, 0u);
  ASSERT_LT(held_at_kill, kFileBytes) << "the whole file arrived before the kill: the test proves nothing";

  slow.Start();
  ASSERT_TRUE(slow.WaitServing()) << Tail(slow.ReadLog());
  for (Daemon* c : communes) {
    ASSERT_TRUE(WaitUntil([&] {
      std::optional<v1::AttachmentInfo> a = AttachmentOf(*c, id);
      return a.has_value() && a->complete();
    }, 180s, 50ms)) << c->spec().name << "\n" << Tail(c->ReadLog());
  }
  // Resumed, not restarted: after the restart it took only what it lacked.
  std::optional<v1::PeerInfo> parent = ParentOf(slow);
  ASSERT_TRUE(parent.has_value());
  EXPECT_EQ(parent->attachment_bytes_received(), kFileBytes - held_at_kill);
  EXPECT_EQ(parent->chunks_refused(), 0u);

  for (Daemon* c : communes) {
    const std::string out = dir.Sub(c->spec().name + "-copy.pdf");
    Finished got = Steerctl(dir, *c, {"attachment", "get", id, "ke-hoach-chuyen-doi-so.pdf", "--out", out});
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(sync::HexOf(sync::Sha256Of(ReadText(out))), sha) << c->spec().name;
  }
  Finished shown = Steerctl(dir, ly_son, {"--json", "directive", "show", id});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const json attachments = json::parse(shown.out).at("attachments");
  ASSERT_EQ(attachments.size(), 1u);
  EXPECT_EQ(attachments[0].at("name"), "ke-hoach-chuyen-doi-so.pdf");
  EXPECT_EQ(attachments[0].at("sha256"), sha);
  EXPECT_EQ(attachments[0].at("size"), kFileBytes);
  EXPECT_EQ(attachments[0].at("complete"), true);

  // Stored once per node, however many records name it.
  Finished again = Steerctl(dir, province, {"--json", "directive", "issue", "--title", "Nhắc lại kế hoạch", "--body", "Xem tệp đính kèm.",
                                            "--attach", file});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const std::string id2 = json::parse(again.out).at("id");
  ASSERT_TRUE(WaitUntil([&] {
    std::optional<v1::AttachmentInfo> a = AttachmentOf(binh_son, id2);
    return a.has_value() && a->complete();
  }));
  for (const Daemon* node : {&province, &binh_son}) {
    std::optional<v1::StatusReply> status = node->Status();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->attachments_complete(), 1u) << node->spec().name;
    EXPECT_EQ(status->attachment_bytes_held(), kFileBytes) << node->spec().name;
  }
}

}  // namespace
}  // namespace steersync
