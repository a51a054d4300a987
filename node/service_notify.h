#pragma once
// steersyncd under systemd (Type=notify): tells the service manager when the
// node serves (READY=1), when it stops (STOPPING=1), what it is doing
// (STATUS=...), and that it is alive (WATCHDOG=1), through libsystemd's
// sd_notify. Outside systemd (no NOTIFY_SOCKET) every call does nothing.

#include <chrono>
#include <functional>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace steersync::node {

namespace service {
// READY=1 with a one-line status ("serving vn/quang-ngai on ...").
void NotifyReady(std::string_view status);
// STOPPING=1 with a status line.
void NotifyStopping(std::string_view status);
void NotifyStatus(std::string_view status);
// RELOADING=1: a reload (SIGHUP) begins; NotifyReady() ends it.
void NotifyReloading();
// The interval systemd expects WATCHDOG=1 within (WatchdogSec=, passed as
// WATCHDOG_USEC for this pid); zero when no watchdog is asked for.
std::chrono::microseconds WatchdogInterval();
}  // namespace service

// Sends WATCHDOG=1 every half interval while `alive()` says the node still
// makes progress; when it does not, stays silent so that systemd restarts
// the node (Restart=on-failure). Joins its thread on destruction.
//
// Thread safety: constructed and destroyed by one thread; `alive` runs on
// the pinger's own thread and must return within the interval.
class WatchdogPinger {
 public:
  WatchdogPinger(std::chrono::microseconds interval, std::function<bool()> alive);
  ~WatchdogPinger();
  WatchdogPinger(const WatchdogPinger&) = delete;
  WatchdogPinger& operator=(const WatchdogPinger&) = delete;

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  const std::chrono::microseconds interval_;
  const std::function<bool()> alive_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace steersync::node
