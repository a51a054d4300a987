#include "node/receipts.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "sync/node_path.h"
#include "sync/status_macros.h"

namespace steersync::node {
namespace {

// A registration refused while the node recovers or stops is redone by the
// recovery's end or the next start; one with nothing to register (a receipt
// already held, a directive not addressed here) or whose record is gone is
// final. Anything else is the store's failure: retried.
bool Retryable(const absl::Status& status) {
  return !status.ok() && !absl::IsAlreadyExists(status) && !absl::IsUnavailable(status) &&
         !absl::IsNotFound(status);
}

}  // namespace

ReceiptRegistrar::ReceiptRegistrar(Options options, const LmdbStore& store, std::string self,
                                   DirectiveActs& directive_acts, ReportActs& report_acts)
    : options_(std::move(options)),
      store_(store),
      self_(std::move(self)),
      directive_acts_(directive_acts),
      report_acts_(report_acts),
      thread_([this] { Run(); }) {}

ReceiptRegistrar::~ReceiptRegistrar() { Stop(); }

void ReceiptRegistrar::Stop() {
  if (joined_) return;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
  joined_ = true;
}

void ReceiptRegistrar::OnAdmitted(const std::vector<std::pair<std::string, v1::RecordKind>>& admitted) {
  constexpr std::string_view kStatus = "/status";
  std::vector<std::string> reports;
  std::vector<std::string> directives;
  for (const auto& [id, kind] : admitted) {
    if (kind == v1::REPORT) reports.push_back(id);
    // The SUBMITTED status follows its report: the receipt descends from it.
    if (kind == v1::REPORT_STATUS && id.size() > kStatus.size()) {
      reports.push_back(id.substr(0, id.size() - kStatus.size()));
    }
    if (kind == v1::DIRECTIVE) directives.push_back(id);
  }
  Register(std::move(reports), std::move(directives));
}

absl::Status ReceiptRegistrar::RegisterPending() {
  std::vector<std::string> reports;
  std::vector<std::string> directives;
  std::set<std::string> receipts;
  SYNC_RETURN_IF_ERROR(store_.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    v1::ReportStatus st;
    if (body.kind() == v1::REPORT_STATUS && st.ParseFromString(body.payload()) &&
        st.state() == "SUBMITTED" && sync::ParentOf(body.version().writer()) == self_) {
      reports.push_back(st.report_id());
    }
    if (body.kind() == v1::DIRECTIVE && body.version().writer() != self_) directives.push_back(body.id());
    if (body.kind() == v1::ACKNOWLEDGEMENT) receipts.insert(body.id());
  }));
  std::erase_if(directives, [&](const std::string& d) { return receipts.count(self_ + "/a/" + d) > 0; });
  Register(std::move(reports), std::move(directives));
  return absl::OkStatus();
}

void ReceiptRegistrar::Register(std::vector<std::string> reports, std::vector<std::string> directives) {
  auto done = [this](const std::string& id, absl::Status status) { Done(id, status); };
  if (options_.fault) {
    // The injected failures, as the writer would report them.
    auto failing = [&](std::vector<std::string>& ids) {
      std::erase_if(ids, [&](const std::string& id) {
        absl::Status injected = options_.fault(id);
        if (injected.ok()) return false;
        Done(id, injected);
        return true;
      });
    };
    failing(reports);
    failing(directives);
  }
  if (!reports.empty()) report_acts_.Receive(std::move(reports), done);
  if (!directives.empty()) directive_acts_.Receive(std::move(directives), done);
}

absl::Duration ReceiptRetryDelay(const ReceiptRegistrar::Options& options, int failed_retries) {
  absl::Duration delay = options.first_retry_delay;
  for (int i = 0; i < failed_retries && delay < options.max_retry_delay; ++i) delay *= 2;
  return std::min(delay, options.max_retry_delay);
}

void ReceiptRegistrar::Done(const std::string& id, const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  if (!Retryable(status)) {
    // A registration made (or with nothing to make) while no retry is
    // pending: the store writes again, the backoff starts over.
    if (status.ok() && !retry_delay_.has_value()) failed_retries_ = 0;
    return;
  }
  ++counts_.failed;
  if (retry_delay_.has_value()) return;  // one retry registers them all
  const absl::Duration delay = ReceiptRetryDelay(options_, failed_retries_);
  retry_delay_ = delay;
  spdlog::warn("{}: registering the receipt of {} failed: {}; retrying in {}", self_, id, status.ToString(),
               absl::FormatDuration(delay));
}

void ReceiptRegistrar::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // Sleeps until a retry is scheduled or the registrar stops, then for
      // the retry's delay (a relative wait: a step of the wall clock neither
      // hastens nor delays it). Only this thread clears retry_delay_, so
      // the delay waited for stays put.
      mu_.Await(absl::Condition(this, &ReceiptRegistrar::RetryScheduledOrStopping));
      if (stopping_ || mu_.AwaitWithTimeout(absl::Condition(&stopping_), *retry_delay_)) return;
      retry_delay_.reset();
      ++failed_retries_;
      ++counts_.retries;
      spdlog::info("{}: retrying the receipts not registered (retry {})", self_, counts_.retries);
    }
    if (absl::Status s = RegisterPending(); !s.ok()) {
      // The store cannot be read: the next failure (or this one) schedules
      // another retry.
      spdlog::warn("{}: retrying receipts: {}", self_, s.ToString());
      Done("the pending receipts", s);
    }
  }
}

bool ReceiptRegistrar::RetryScheduledOrStopping() const {
  return stopping_ || retry_delay_.has_value();
}

ReceiptRegistrar::Counts ReceiptRegistrar::counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

}  // namespace steersync::node
