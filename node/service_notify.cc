#include "node/service_notify.h"

#include <systemd/sd-daemon.h>

#include <spdlog/spdlog.h>

#include <cstring>
#include <string>

#include "absl/time/time.h"
#include "sync/text.h"

namespace steersync::node {
namespace service {
namespace {

void Notify(const std::string& state) {
  // A status line holds no newline (it would start another assignment).
  const int rc = sd_notify(0, state.c_str());
  if (rc < 0) spdlog::warn("sd_notify: {}", std::string(std::strerror(-rc)));
}

std::string StatusLine(std::string_view status) { return "STATUS=" + sync::Printable(status, 200); }

}  // namespace

void NotifyReady(std::string_view status) { Notify("READY=1\n" + StatusLine(status)); }
void NotifyStopping(std::string_view status) { Notify("STOPPING=1\n" + StatusLine(status)); }
void NotifyStatus(std::string_view status) { Notify(StatusLine(status)); }
void NotifyReloading() { Notify("RELOADING=1"); }

std::chrono::microseconds WatchdogInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(usec);
}

}  // namespace service

WatchdogPinger::WatchdogPinger(std::chrono::microseconds interval, std::function<bool()> alive)
    : interval_(interval), alive_(std::move(alive)), thread_([this] { Run(); }) {}

WatchdogPinger::~WatchdogPinger() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void WatchdogPinger::Run() {
  const absl::Duration period = absl::FromChrono(interval_) / 2;
  bool warned = false;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // Wakes early only to stop: the period is the watchdog's, not a wait
      // for some state.
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), period)) return;
    }
    if (alive_()) {
      sd_notify(0, "WATCHDOG=1");
      warned = false;
    } else if (!warned) {
      spdlog::error("watchdog: the node's store writer made no progress; not telling systemd it is alive");
      warned = true;
    }
  }
}

}  // namespace steersync::node
