#pragma once
// Starting the real binaries from process-level tests.

#include <sys/types.h>

#include <string>
#include <vector>

namespace steersync::testing {

// A child process; killed (SIGKILL) and reaped on destruction if still alive.
class Subprocess {
 public:
  // Starts `argv[0]` with stdout and stderr appended to `log_path`.
  Subprocess(const std::vector<std::string>& argv, const std::string& log_path);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signal);
  // Waits for exit; returns the raw wait status.
  int Wait();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// A finished command: exit code (-1 if it did not exit), stdout, stderr.
struct Finished {
  int exit_code = -1;
  std::string out, err;
};
// Runs `argv` to completion through the shell (no time-based wait: it ends
// by itself), stdin from /dev/null, its stdout and stderr kept in
// `<prefix>.out` and `<prefix>.err`.
Finished RunToCompletion(const std::vector<std::string>& argv, const std::string& prefix);
// Path of a built binary, e.g. BinaryPath("node/steersyncd"): under the
// build directory, or under $STEERSYNC_TEST_BINARIES when set (a copy of
// the binaries a long run keeps using while the tree is rebuilt).
std::string BinaryPath(const std::string& relative);

// A TCP port on 127.0.0.1 that was free a moment ago.
int PickFreePort();
// The same, outside the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range), so that no outgoing connection
// of any process takes it while a daemon that listens on it is down: for a
// listener restarted many times (the kill campaign's province).
int PickFreeListenPort();

// The whole file at `path` ("" if it cannot be read).
std::string ReadText(const std::string& path);
// `arg` quoted for sh.
std::string Quote(const std::string& arg);

// RunToCompletion with its output kept in files under `dir`, numbered.
Finished RunCommand(const std::string& dir, const std::vector<std::string>& argv);

}  // namespace steersync::testing
