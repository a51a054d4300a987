// steersyncd: one process per node. `steersyncd --config node.toml`.
// Logs to stderr; stops cleanly on SIGTERM/SIGINT.

#include <signal.h>

#include <CLI/CLI.hpp>

#include "absl/synchronization/mutex.h"
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "node/config.h"
#include "node/node.h"

int main(int argc, char** argv) {
  // Debian's abseil is a debug build: absl::Mutex checks lock order and by
  // default aborts on a cycle. The tests keep that; a running node reports a
  // cycle in its log rather than dying with it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kReport);
  CLI::App app{"steersyncd: steersync node daemon"};
  std::string config_path;
  std::string log_level = "info";
  app.add_option("--config", config_path, "node configuration (TOML)")->required();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  CLI11_PARSE(app, argc, argv);

  spdlog::set_default_logger(spdlog::stderr_color_mt("steersyncd"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto options = steersync::node::LoadConfig(config_path);
  if (!options.ok()) {
    spdlog::error("config: {}", options.status().ToString());
    return 2;
  }
  auto node = steersync::node::Node::Create(*options);
  if (!node.ok()) {
    spdlog::error("cannot open node {}: {}", options->id, node.status().ToString());
    return 1;
  }
  if (auto s = (*node)->Start(); !s.ok()) {
    spdlog::error("cannot start node {}: {}", options->id, s.ToString());
    return 1;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("received signal {}, stopping", signal);
  (*node)->Stop();
  return 0;
}
