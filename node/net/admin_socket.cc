#include "node/net/admin_socket.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include <grpcpp/server_posix.h>
#include <spdlog/spdlog.h>

namespace steersync::node {

absl::StatusOr<std::unique_ptr<AdminSocket>> AdminSocket::Listen(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError("admin socket path " + path + " is too long for a Unix socket");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(std::string("admin socket: socket(): ") + std::strerror(errno));
  // bind() creates the socket file with the process umask: under 0177 it is
  // owner-only from its first instant. The umask is process-wide: a file
  // another thread creates meanwhile is only made more private.
  const mode_t umask_before = ::umask(0177);
  const int bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int bind_errno = errno;
  ::umask(umask_before);
  if (bound != 0 || ::listen(fd, SOMAXCONN) != 0) {
    const int e = bound != 0 ? bind_errno : errno;
    ::close(fd);
    return absl::UnavailableError("cannot serve admin socket " + path + ": " + std::strerror(e));
  }
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    ::close(fd);
    return absl::UnavailableError(std::string("admin socket: eventfd(): ") + std::strerror(errno));
  }
  return std::unique_ptr<AdminSocket>(new AdminSocket(fd, wake));
}

AdminSocket::~AdminSocket() {
  Stop();
  ::close(listen_fd_);
  ::close(wake_fd_);
}

void AdminSocket::Serve(grpc::Server* server) {
  thread_ = std::thread([this, server] { AcceptLoop(server); });
}

void AdminSocket::Stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) != sizeof(one)) {
    // Cannot happen with a fresh eventfd (the counter only overflows after
    // 2^64-2 writes); the join below would then wait for the next connection.
    spdlog::error("admin socket: waking the accept loop: {}", std::strerror(errno));
  }
  thread_.join();
}

void AdminSocket::AcceptLoop(grpc::Server* server) {
  bool reported = false;  // one log line per run of accept failures
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("admin socket: poll: {}; no longer accepting admin connections", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;  // Stop()
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED && !reported) {
        // EMFILE and the like: the connection waits in the backlog; poll
        // wakes again at once, so this is reported once per run.
        spdlog::warn("admin socket: accept: {}", std::strerror(errno));
        reported = true;
      }
      continue;
    }
    reported = false;
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      spdlog::warn("admin socket: refusing a connection whose peer is unknown: {}", std::strerror(errno));
      ::close(fd);
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      uid_by_fd_[fd] = cred.uid;
    }
    grpc::AddInsecureChannelFromFd(server, fd);  // gRPC owns fd from here
  }
}

std::optional<uid_t> AdminSocket::UidOf(std::string_view grpc_peer) const {
  if (!grpc_peer.starts_with("fd:")) return std::nullopt;
  grpc_peer.remove_prefix(3);
  int fd = -1;
  const auto [end, ec] = std::from_chars(grpc_peer.data(), grpc_peer.data() + grpc_peer.size(), fd);
  if (ec != std::errc() || end != grpc_peer.data() + grpc_peer.size()) return std::nullopt;
  absl::MutexLock lock(&mu_);
  const auto it = uid_by_fd_.find(fd);
  if (it == uid_by_fd_.end()) return std::nullopt;
  return it->second;
}

}  // namespace steersync::node
