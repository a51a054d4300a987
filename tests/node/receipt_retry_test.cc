// Receipts on arrival (D30 Art. 21.2c, S23; issue 12 item 5) that fail to
// register are retried while the node runs (issue 11 item 5, faults made
// visible): the first registrations of a commune's receipt of a directive,
// and of the province's RECEIVED of a report, fail as a full disk would;
// without a restart, the retry registers them, the issuer sees them, and the
// failures and retries are counted (steersync_receipt_registration_*).
#include <atomic>
#include <string>

#include "node/node.h"
#include "tests/testutil/fixtures.h"

namespace steersync::node {
namespace {

using steersync::testing::IsOk;
using steersync::testing::TempDir;
using steersync::testing::WaitUntil;

constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/ly-son";

// Fails the first `n` registrations asked of it, as a full disk would.
struct FailFirst {
  explicit FailFirst(int n) : left(n) {}
  absl::Status operator()(const std::string&) {
    if (left.fetch_sub(1) > 0) return absl::ResourceExhaustedError("mdb_txn_commit: the disk is full (injected)");
    return absl::OkStatus();
  }
  std::atomic<int> left;
};

class ReceiptRetryTest : public ::testing::Test {
 protected:
  std::unique_ptr<Node> Start(const std::string& id, const std::string& parent, FailFirst& fault) {
    auto n = steersync::testing::InProcessNodeOptions(dir_, id, parent);
    // Short waits so the test is quick; the doubling and the bound are the
    // node's own.
    n.runtime.receipts.first_retry_delay = absl::Milliseconds(20);
    n.runtime.receipts.max_retry_delay = absl::Milliseconds(200);
    n.runtime.receipts.fault = [&fault](const std::string& id) { return fault(id); };
    return steersync::testing::StartInProcessNode(std::move(n));
  }

  static bool Holds(const Node& node, const std::string& id) {
    auto r = node.store().GetRecord(id);
    return r.ok() && r->has_value();
  }

  TempDir dir_;
  FailFirst province_fault_{0}, commune_fault_{0};
};

TEST_F(ReceiptRetryTest, AReceiptWhoseRegistrationFailedIsRegisteredByTheRetry_D30Art21) {
  auto province = Start(kProvince, "", province_fault_);
  ASSERT_NE(province, nullptr);
  auto commune = Start(kCommune, "127.0.0.1:" + std::to_string(province->sync_port()), commune_fault_);
  ASSERT_NE(commune, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return province->GetStatus().children_seen_size() == 1; }));

  // The commune's receipt of a directive: its first two writes fail.
  commune_fault_.left = 2;
  v1::IssueDirectiveRequest issue;
  issue.set_title("Kế hoạch chuyển đổi số năm 2027");
  auto directive = province->IssueDirective(issue);
  ASSERT_THAT(directive, IsOk());
  const std::string receipt = std::string(kCommune) + "/a/" + *directive;
  ASSERT_TRUE(WaitUntil([&] { return Holds(*commune, receipt); })) << "the retry never registered " << receipt;
  EXPECT_LE(commune_fault_.left.load(), 0) << "registered without failing first";
  const Node::Health commune_health = commune->GetHealth();
  EXPECT_GE(commune_health.receipt_failures, 2u);
  EXPECT_GE(commune_health.receipt_retries, 2u) << "each failed retry is retried again";
  // The issuer sees the receipt, as if nothing had failed.
  ASSERT_TRUE(WaitUntil([&] {
    auto shown = province->ShowDirective(*directive);
    return shown.ok() && shown->received_by_size() == 1;
  }));

  // The province's RECEIVED of a report: asked when the report arrives and
  // again when its SUBMITTED status does; both fail.
  province_fault_.left = 2;
  v1::SubmitReportRequest submit;
  submit.set_title("Báo cáo tháng 11");
  submit.set_period("2026-11");
  auto report = commune->SubmitReport(submit);
  ASSERT_THAT(report, IsOk());
  auto status_at = [&](const Node& node) {
    auto shown = node.ShowReport(*report);
    return shown.ok() ? shown->status() : std::string();
  };
  ASSERT_TRUE(WaitUntil([&] { return status_at(*province) == "RECEIVED"; })) << status_at(*province);
  ASSERT_TRUE(WaitUntil([&] { return status_at(*commune) == "RECEIVED"; })) << status_at(*commune);
  EXPECT_GE(province->GetHealth().receipt_failures, 1u);
  EXPECT_GE(province->GetHealth().receipt_retries, 1u);
  EXPECT_EQ(commune->GetHealth().receipt_failures, commune_health.receipt_failures)
      << "nothing failed at the commune since";
}

// The backoff doubles from the first delay and stops at the bound: a full
// disk is asked again every 5 minutes at most, never in a storm.
TEST(ReceiptRetryDelayTest, DoublesFromTheFirstDelayUpToTheBound) {
  const ReceiptRegistrar::Options defaults;
  EXPECT_EQ(ReceiptRetryDelay(defaults, 0), absl::Seconds(1));
  EXPECT_EQ(ReceiptRetryDelay(defaults, 1), absl::Seconds(2));
  EXPECT_EQ(ReceiptRetryDelay(defaults, 4), absl::Seconds(16));
  EXPECT_EQ(ReceiptRetryDelay(defaults, 9), absl::Minutes(5));
  EXPECT_EQ(ReceiptRetryDelay(defaults, 1'000'000), absl::Minutes(5));
}

}  // namespace
}  // namespace steersync::node
