#include "tests/testutil/subprocess.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace steersync::testing {
Finished RunToCompletion(const std::vector<std::string>& argv, const std::string& prefix) {
  const std::string out = prefix + ".out", err = prefix + ".err";
  std::string cmd;
  for (const auto& a : argv) cmd += Quote(a) + " ";
  cmd += "</dev/null >" + Quote(out) + " 2>" + Quote(err);
  const int status = std::system(cmd.c_str());
  Finished r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = ReadText(out);
  r.err = ReadText(err);
  return r;
}

Subprocess::Subprocess(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    Wait();
  }
}

void Subprocess::Signal(int signal) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, signal);
}

int Subprocess::Wait() {
  int status = 0;
  if (reaped_) return status;
  ::waitpid(pid_, &status, 0);
  reaped_ = true;
  return status;
}

std::string BinaryPath(const std::string& relative) {
  const char* dir = std::getenv("STEERSYNC_TEST_BINARIES");
  return std::string(dir != nullptr && *dir != '\0' ? dir : STEERSYNC_BINARY_DIR) + "/" + relative;
}

namespace {

// Whether 127.0.0.1:port can be bound now.
bool Bindable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int PickFreeListenPort() {
  int low = 32768, high = 60999;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> low >> high;
  // Below the ephemeral range (Linux's default starts at 32768), else above.
  const int from = low > 12000 ? 10000 : high + 1;
  const int to = low > 12000 ? low - 1 : 65535;
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(from, to);
  for (int i = 0; i < 200; ++i) {  // bounded
    const int port = pick(rng);
    if (Bindable(port)) return port;
  }
  return PickFreePort();
}

int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

Finished RunCommand(const std::string& dir, const std::vector<std::string>& argv) {
  static std::atomic<int> n{0};
  return RunToCompletion(argv, dir + "/cmd" + std::to_string(++n));
}

}  // namespace steersync::testing
