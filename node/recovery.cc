#include "node/recovery.h"

#include <spdlog/spdlog.h>

namespace steersync::node {

void RecoveryGate::Begin(std::string why) {
  {
    absl::MutexLock lock(&mu_);
    if (recovering_) return;
    recovering_ = true;
    returned_ = 0;
    spdlog::warn("recovering: {}; local acts wait until the neighbours have returned this node's versions", why);
    why_ = std::move(why);
  }
  if (on_begin_) on_begin_();
}

void RecoveryGate::Complete(const std::string& from) {
  absl::MutexLock lock(&mu_);
  if (!recovering_) return;
  recovering_ = false;
  spdlog::info("recovered: {}'s log is applied ({} version(s) received while recovering, this node's own "
               "among them); local acts resume",
               from, returned_);
}

void RecoveryGate::NoteReturned(uint64_t n) {
  absl::MutexLock lock(&mu_);
  returned_ += n;
}

bool RecoveryGate::recovering() const {
  absl::MutexLock lock(&mu_);
  return recovering_;
}

std::string RecoveryGate::Describe() const {
  absl::MutexLock lock(&mu_);
  if (!recovering_) return "";
  return "recovering (" + why_ + "): " + std::to_string(returned_) +
         " version(s) received so far; local acts wait until " +
         (top_node_ ? "a unit below has returned this node's versions" : "the parent's log is applied");
}

bool RecoveryGate::WaitOpen(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto open = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !recovering_; };
  return mu_.AwaitWithTimeout(absl::Condition(&open), timeout);
}

}  // namespace steersync::node
