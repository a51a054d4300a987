#include "tests/testutil/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <list>
#include <stdexcept>
#include <string>
#include <vector>

namespace steersync::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Bytes read from one side and not yet written to the other, per direction:
// past this the proxy stops reading that side (TCP flow control does the rest).
constexpr size_t kMaxQueuedBytes = 1 << 20;
constexpr size_t kReadChunk = 64 << 10;
// The loop re-reads its settings at least this often.
constexpr auto kMaxPollWait = std::chrono::milliseconds(100);

// Closes `fd` with a reset (RST) instead of an orderly FIN.
void CloseWithReset(int fd) {
  if (fd < 0) return;
  linger l{};
  l.l_onoff = 1;
  l.l_linger = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(fd);
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

struct Chunk {
  Clock::time_point release;
  std::string bytes;
};

// One direction of a connection: bytes read from `from`, written to `to`.
struct Direction {
  std::deque<Chunk> queue;
  size_t queued = 0;  // bytes in queue
  size_t offset = 0;  // of queue.front() already written
  bool eof = false;   // `from` ended: shut `to` down once the queue is empty
  bool shut = false;

  bool Ready(Clock::time_point now) const { return !queue.empty() && queue.front().release <= now; }
};

struct Conn {
  int client = -1;
  int upstream = -1;
  bool connecting = true;  // the dial to the target is in progress
  Direction up;            // client -> upstream
  Direction down;          // upstream -> client
  bool dead = false;
};

}  // namespace

struct FaultProxy::Loop {
  explicit Loop(int target) : target_port(target) {}

  const int target_port;

  // Settings, changed by the test's thread.
  std::mutex mu;
  bool stop = false;
  PartitionMode mode = PartitionMode::kNone;
  std::chrono::milliseconds delay{0};
  uint64_t reset_generation = 0;

  std::atomic<uint64_t> accepted{0}, refused{0}, resets{0}, upstream_failures{0};
  std::atomic<uint64_t> bytes_to_target{0}, bytes_from_target{0}, open{0};

  // Owned by the loop's thread.
  std::list<Conn> conns;

  // Resets both sides of `c`; `asked`: a fault the test injected (counted).
  void Reset(Conn& c, bool asked) {
    CloseWithReset(c.client);
    CloseWithReset(c.upstream);
    c.client = c.upstream = -1;
    c.dead = true;
    if (asked) ++resets;
  }

  void Accept(int listen_fd, PartitionMode now_mode) {
    for (int i = 0; i < 64; ++i) {  // bounded: the rest wait for the next round
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (now_mode == PartitionMode::kRefuse) {
        CloseWithReset(fd);
        ++refused;
        continue;
      }
      const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      const sockaddr_in addr = Loopback(target_port);
      if (up < 0 || (::connect(up, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 &&
                     errno != EINPROGRESS)) {
        if (up >= 0) ::close(up);
        CloseWithReset(fd);
        ++upstream_failures;
        continue;
      }
      Conn c;
      c.client = fd;
      c.upstream = up;
      conns.push_back(std::move(c));
      ++accepted;
    }
  }

  // Reads what `from` has into `d`. Returns false when the connection must
  // be reset (an error on `from`).
  bool ReadInto(int from, Direction& d, std::chrono::milliseconds delay, std::atomic<uint64_t>& bytes) {
    if (d.eof) return true;
    char buf[kReadChunk];
    const ssize_t n = ::recv(from, buf, sizeof(buf), 0);
    if (n > 0) {
      d.queue.push_back({Clock::now() + delay, std::string(buf, static_cast<size_t>(n))});
      d.queued += static_cast<size_t>(n);
      bytes += static_cast<uint64_t>(n);
      return true;
    }
    if (n == 0) {
      d.eof = true;
      return true;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }

  // Writes the released chunks of `d` to `to`. False: reset the connection.
  bool WriteFrom(Direction& d, int to) {
    const auto now = Clock::now();
    while (d.Ready(now)) {
      const std::string& bytes = d.queue.front().bytes;
      const ssize_t n = ::send(to, bytes.data() + d.offset, bytes.size() - d.offset, MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      d.offset += static_cast<size_t>(n);
      if (d.offset < bytes.size()) return true;  // the socket is full
      d.queued -= bytes.size();
      d.offset = 0;
      d.queue.pop_front();
    }
    if (d.eof && d.queue.empty() && !d.shut) {
      ::shutdown(to, SHUT_WR);
      d.shut = true;
    }
    return true;
  }

  void Run(int listen_fd, int wake_fd) {
    uint64_t seen_resets = 0;
    for (;;) {
      PartitionMode now_mode;
      std::chrono::milliseconds now_delay;
      uint64_t generation;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stop) break;
        now_mode = mode;
        now_delay = delay;
        generation = reset_generation;
      }
      if (generation != seen_resets || now_mode == PartitionMode::kRefuse) {
        seen_resets = generation;
        for (Conn& c : conns) Reset(c, /*asked=*/true);
        conns.clear();
      }
      const bool stalled = now_mode == PartitionMode::kStall;

      // What to wait for.
      std::vector<pollfd> fds;
      fds.push_back({wake_fd, POLLIN, 0});
      fds.push_back({stalled ? -1 : listen_fd, POLLIN, 0});
      const auto now = Clock::now();
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(kMaxPollWait);
      for (Conn& c : conns) {
        short client_events = 0, upstream_events = 0;
        if (c.connecting) {
          upstream_events = POLLOUT;
        } else if (!stalled) {
          if (!c.up.eof && c.up.queued < kMaxQueuedBytes) client_events |= POLLIN;
          if (!c.down.eof && c.down.queued < kMaxQueuedBytes) upstream_events |= POLLIN;
          if (c.up.Ready(now)) upstream_events |= POLLOUT;
          if (c.down.Ready(now)) client_events |= POLLOUT;
          for (const Direction* d : {&c.up, &c.down}) {
            if (!d->queue.empty() && !d->Ready(now)) {
              wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(d->queue.front().release - now));
            }
          }
        }
        // A stalled connection is not polled at all (an error on it shows
        // once the partition heals).
        fds.push_back({stalled && !c.connecting ? -1 : c.client, client_events, 0});
        fds.push_back({stalled && !c.connecting ? -1 : c.upstream, upstream_events, 0});
      }
      ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(wait.count(), 0)));

      if (fds[0].revents & POLLIN) {
        char drain[64];
        while (::read(wake_fd, drain, sizeof(drain)) > 0) {
        }
      }
      size_t i = 2;
      for (Conn& c : conns) {
        const short cr = fds[i++].revents;
        const short ur = fds[i++].revents;
        if (c.connecting) {
          if (ur == 0) continue;
          int err = 0;
          socklen_t len = sizeof(err);
          ::getsockopt(c.upstream, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) {
            ++upstream_failures;
            Reset(c, /*asked=*/false);
            continue;
          }
          c.connecting = false;
          continue;
        }
        if (stalled) continue;
        bool ok = true;
        if (cr & (POLLIN | POLLHUP | POLLERR)) ok = ok && ReadInto(c.client, c.up, now_delay, bytes_to_target);
        if (ur & (POLLIN | POLLHUP | POLLERR)) ok = ok && ReadInto(c.upstream, c.down, now_delay, bytes_from_target);
        ok = ok && WriteFrom(c.up, c.upstream) && WriteFrom(c.down, c.client);
        if (!ok) {
          // An error on one side: the other side sees it as a reset too.
          Reset(c, /*asked=*/false);
          continue;
        }
        if (c.up.shut && c.down.shut) {
          ::close(c.client);
          ::close(c.upstream);
          c.client = c.upstream = -1;
          c.dead = true;
        }
      }
      if (!stalled && (fds[1].revents & POLLIN)) Accept(listen_fd, now_mode);
      conns.remove_if([](const Conn& c) { return c.dead; });
      open = conns.size();
    }
    for (Conn& c : conns) {
      if (c.client >= 0) ::close(c.client);
      if (c.upstream >= 0) ::close(c.upstream);
    }
    conns.clear();
    open = 0;
  }
};

FaultProxy::FaultProxy(int target_port) : loop_(std::make_unique<Loop>(target_port)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const sockaddr_in any_port = Loopback(0);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&any_port), sizeof(any_port)) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error(std::string("FaultProxy: cannot listen on 127.0.0.1: ") + std::strerror(errno));
  }
  sockaddr_in bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.sin_port);
  if (::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("FaultProxy: pipe2 failed");
  thread_ = std::thread([this] { loop_->Run(listen_fd_, wake_[0]); });
}

FaultProxy::~FaultProxy() {
  {
    std::lock_guard<std::mutex> lock(loop_->mu);
    loop_->stop = true;
  }
  Wake();
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void FaultProxy::Wake() {
  const char c = 1;
  // A full pipe already holds a wake-up.
  [[maybe_unused]] ssize_t n = ::write(wake_[1], &c, 1);
}

void FaultProxy::SetDelay(std::chrono::milliseconds delay) {
  {
    std::lock_guard<std::mutex> lock(loop_->mu);
    loop_->delay = delay;
  }
  Wake();
}

void FaultProxy::Partition(PartitionMode mode) {
  {
    std::lock_guard<std::mutex> lock(loop_->mu);
    loop_->mode = mode;
  }
  Wake();
}

void FaultProxy::ResetAll() {
  {
    std::lock_guard<std::mutex> lock(loop_->mu);
    ++loop_->reset_generation;
  }
  Wake();
}

void FaultProxy::Heal() {
  {
    std::lock_guard<std::mutex> lock(loop_->mu);
    loop_->mode = PartitionMode::kNone;
    loop_->delay = std::chrono::milliseconds(0);
  }
  Wake();
}

FaultProxy::Counters FaultProxy::counters() const {
  Counters c;
  c.accepted = loop_->accepted;
  c.refused = loop_->refused;
  c.resets = loop_->resets;
  c.upstream_failures = loop_->upstream_failures;
  c.bytes_to_target = loop_->bytes_to_target;
  c.bytes_from_target = loop_->bytes_from_target;
  c.open = loop_->open;
  return c;
}

}  // namespace steersync::testing
