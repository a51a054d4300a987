// Issue 11 item 9 (c): a disk that fills. The province's data_dir is on an
// 8 MiB tmpfs (tests/testutil/tmpfs.h; mounting needs root, as CI runs: the
// test fails, naming the reason, where it cannot mount). Directives are
// issued until the store refuses one: the act fails saying the disk is full,
// and `steerctl status` warns. Reports the commune submits meanwhile cannot
// be stored at the province: the link must back off (a bounded number of
// streams and of records re-sent over several seconds, not a resend storm).
// Then the tmpfs is remounted larger: without a restart, the province takes
// acts again, the reports arrive, and nothing acknowledged was lost
// (tests/testutil/store_audit.h).
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "steersync/v1/admin.grpc.pb.h"
#include "tests/testutil/daemons.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/subprocess.h"
#include "tests/testutil/tmpfs.h"
#include "tests/testutil/workload.h"

namespace steersync {
namespace {

using namespace std::chrono_literals;
using testing::BinaryPath;
using testing::Daemon;
using testing::Ledger;
using testing::PickFreePort;
using testing::Subprocess;
using testing::Tail;
using testing::TempDir;
using testing::TmpfsMount;
using testing::WaitUntil;
using ::testing::HasSubstr;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/tinh-phong";

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// `steerctl status` of `node`, stdout and stderr.
std::string SteerctlStatus(const TempDir& dir, const Daemon& node) {
  const std::string out = dir.Sub("steerctl-status.out");
  std::filesystem::remove(out);
  Subprocess steerctl({BinaryPath("cli/steerctl"), "--socket", node.socket(), "status"}, out);
  const int status = steerctl.Wait();
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  return text.str() + (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "" : "\n(steerctl failed)");
}

// The commune's link to its parent: records sent so far, and entries of its
// log the parent has not acknowledged (what a try sends again).
v1::PeerInfo Parent(const Daemon& commune) {
  auto peers = commune.Peers();
  if (peers) {
    for (const auto& p : peers->peers()) {
      if (p.relation() == "parent") return p;
    }
  }
  return v1::PeerInfo();
}

TEST(DiskFullTest, AFullDiskIsNamedTheLinkBacksOffAndNothingAcknowledgedIsLost) {
  TempDir dir;
  TmpfsMount disk(dir.Sub("disk"), 8);
  ASSERT_TRUE(disk.status().ok()) << "this test puts a data_dir on a small tmpfs and cannot mount one: "
                                  << disk.status().message();
  const int port = PickFreePort();
  // Daemons are declared after the mount: destroyed (killed) before it is
  // unmounted.
  Daemon province(dir, {.id = kProvince, .name = "province", .listen_port = port,
                        .data_dir = dir.Sub("disk/province")});
  Daemon commune(dir, {.id = kCommune, .name = "commune", .parent_port = port});
  province.Start();
  commune.Start();
  ASSERT_TRUE(province.WaitServing()) << province.ReadLog();
  ASSERT_TRUE(commune.WaitServing()) << commune.ReadLog();
  Ledger ledger;
  testing::RegisterRosters(province, commune, ledger);
  if (::testing::Test::HasFatalFailure()) return;

  // Fill the province's disk with directives of 100 KB (a stored directive
  // takes twice that: its record and its change-log entry).
  grpc::Status refused;
  int issued = 0;
  for (int i = 0; i < 200 && refused.ok(); ++i) {  // 8 MiB hold about 40
    v1::IssueDirectiveRequest req;
    req.set_doc_type("CT");
    req.set_title("Phụ lục " + std::to_string(i));
    req.set_body(std::string(100'000, 'x'));
    req.mutable_act()->set_role("HEAD");
    v1::IssueDirectiveReply reply;
    grpc::ClientContext ctx;
    ctx.set_deadline(testing::GrpcDeadline(10s));
    refused = province.Admin()->IssueDirective(&ctx, req, &reply);
    if (refused.ok()) {
      ledger.Directive(reply.id());
      ++issued;
    }
  }
  ASSERT_FALSE(refused.ok()) << "the 8 MiB disk never filled after " << issued << " directives";
  std::cout << "the province refused directive " << issued + 1 << ": " << refused.error_message() << std::endl;
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_TRUE(refused.error_message().find("the disk is full") != std::string::npos ||
              refused.error_message().find("is the disk full?") != std::string::npos)
      << "the act's error does not say the disk is full: " << refused.error_message();
  EXPECT_GT(issued, 5);
  const std::string status = SteerctlStatus(dir, province);
  EXPECT_THAT(status, HasSubstr("refused for lack of room")) << status;

  // The commune's reports cannot be stored at the province: its link fails
  // for lack of room there, and must then back off.
  constexpr int kReports = 10;  // each goes up with its status
  for (int i = 0; i < kReports; ++i) {
    ASSERT_TRUE(testing::SubmitReport(commune, ledger, i, 60'000)) << "the commune's own disk has room";
  }
  const std::string refusal_line = "applying a batch failed";
  ASSERT_TRUE(WaitUntil([&] { return province.ReadLog().find(refusal_line) != std::string::npos; }, 30s))
      << "the province never refused the commune's batch\n" << Tail(province.ReadLog());
  // Observe the link for a while (what is counted, not a wait for sync).
  const std::string streams_line = std::string("link ") + kCommune + ": up";
  const size_t streams_before = Count(province.ReadLog(), streams_line);
  const size_t refusals_before = Count(province.ReadLog(), refusal_line);
  const v1::PeerInfo before = Parent(commune);
  std::this_thread::sleep_for(6s);
  const size_t streams = Count(province.ReadLog(), streams_line) - streams_before;
  const size_t refusals = Count(province.ReadLog(), refusal_line) - refusals_before;
  const uint64_t resent = Parent(commune).records_sent() - before.records_sent();
  std::cout << "in 6 s with the disk full: " << streams << " new streams, " << refusals
            << " batches refused, " << resent << " records re-sent (" << before.behind() << " pending)" << std::endl;
  // The back-off after a lack of room is the longest (10 s, jitter down to
  // 5 s): at most one retry in 6 s; without it, a retry every 0.2 s.
  EXPECT_LE(streams, 2u) << "the commune reconnects in a storm\n" << Tail(commune.ReadLog());
  EXPECT_LE(refusals, 2u) << Tail(province.ReadLog());
  EXPECT_GE(before.behind(), static_cast<uint64_t>(kReports)) << "the reports are not pending";
  EXPECT_LE(resent, 2 * before.behind()) << "the same records are re-sent in a storm";
  const std::string still = SteerctlStatus(dir, province);
  EXPECT_THAT(still, HasSubstr("refused for lack of room")) << still;

  // Free space: the node resumes without a restart.
  ASSERT_TRUE(disk.Resize(64).ok());
  ASSERT_TRUE(WaitUntil([&] { return testing::IssueDirective(province, ledger, 1000); }, 30s, 100ms))
      << "the province takes no act after the disk grew\n" << Tail(province.ReadLog());
  const testing::Convergence c = testing::WaitConverged(province, commune, ledger, 60s);
  std::ostringstream problems;
  for (const auto& p : c.tally.problems) problems << "\n  " << p;
  ASSERT_TRUE(c.converged) << "not converged after the disk grew (" << c.why << ")" << problems.str()
                           << "\n--- province log (tail)\n" << Tail(province.ReadLog())
                           << "--- commune log (tail)\n" << Tail(commune.ReadLog());
  std::cout << "converged " << c.took.count() << " ms after the disk grew" << std::endl;
  for (Daemon* d : {&commune, &province}) {
    const int s = d->Stop();
    EXPECT_TRUE(WIFEXITED(s) && WEXITSTATUS(s) == 0) << d->spec().name << ": wait status " << s;
  }
}

}  // namespace
}  // namespace steersync
