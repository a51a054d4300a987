#pragma once
// A fault-injecting TCP proxy for process-level tests: it listens on an
// ephemeral port of 127.0.0.1 and forwards every accepted connection to
// 127.0.0.1:<target_port>, byte for byte, in both directions. A node whose
// [parent] address names the proxy talks to its parent through it, and the
// test injects faults at any moment:
//
//   SetDelay(d)        every chunk is forwarded d after it was read
//   Partition(kStall)  nothing is read, forwarded or accepted (a black hole:
//                      bytes wait in the kernel's buffers, new connections in
//                      the listen backlog) until Heal()
//   Partition(kRefuse) every open connection is reset and each new one is
//                      reset as soon as it is accepted, until Heal()
//   ResetAll()         resets every open connection now (RST: SO_LINGER 0)
//   Heal()             ends a partition and removes the delay
//
// Loopback only: it binds 127.0.0.1 and dials 127.0.0.1.
//
// Thread safety: thread-safe. One thread of its own runs a poll(2) loop over
// non-blocking sockets; the methods above only change settings and wake it.
// The destructor stops the thread and closes every socket.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

namespace steersync::testing {

class FaultProxy {
 public:
  enum class PartitionMode { kNone, kStall, kRefuse };

  // REQUIRES: target_port > 0. Aborts the test binary (std::runtime_error)
  // if it cannot listen.
  explicit FaultProxy(int target_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // The port it listens on (127.0.0.1).
  int port() const { return port_; }

  void SetDelay(std::chrono::milliseconds delay);
  void Partition(PartitionMode mode);
  void ResetAll();
  void Heal();

  // What the proxy did so far (monotonic).
  struct Counters {
    uint64_t accepted = 0;       // connections accepted and forwarded
    uint64_t refused = 0;        // connections reset at once (kRefuse)
    uint64_t resets = 0;         // open connections reset (ResetAll, kRefuse)
    uint64_t upstream_failures = 0;  // dials to the target that failed
    uint64_t bytes_to_target = 0;
    uint64_t bytes_from_target = 0;
    uint64_t open = 0;           // connections open now
  };
  Counters counters() const;

 private:
  struct Loop;
  void Wake();

  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};  // self-pipe: settings changed, or stop
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace steersync::testing
