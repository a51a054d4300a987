#pragma once
// The admin Unix socket, whose connections are accepted here rather than by
// gRPC, so that the uid of the process on the other end is known
// (SO_PEERCRED, the kernel's word) for the audit log: gRPC's
// LocalServerCredentials(UDS) neither checks nor exposes it (grpc/grpc#15511,
// #28755). Each accepted connection is handed to the admin grpc::Server with
// AddInsecureChannelFromFd, which names the calls' peer "fd:<n>"; UidOf()
// maps that name back to the uid recorded when <n> was accepted.
//
// Who may connect is decided by the socket file's mode and group, set by the
// node (0600, or 0660 for [admin] group), exactly as under
// LocalServerCredentials(UDS), which checks nothing else either. No network
// is involved: the listener is AF_UNIX only.
//
// Invariant: uid_by_fd_[n] is the uid of the connection accepted last as fd
// n; a call whose peer is "fd:<n>" came on a live connection, so on that one
// (a descriptor is reused only after its connection closed).
//
// Thread safety: thread-safe. Serve() and Stop() are called from one thread.

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <grpcpp/server.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace steersync::node {

class AdminSocket {
 public:
  // Binds and listens on `path`, owner-only from its first instant (bound
  // under umask 0177; the caller may widen the mode afterwards).
  // REQUIRES: nothing exists at `path` (the caller removes a stale socket).
  static absl::StatusOr<std::unique_ptr<AdminSocket>> Listen(const std::string& path);
  ~AdminSocket();  // Stop()s; the socket file stays (the node unlinks it)
  AdminSocket(const AdminSocket&) = delete;
  AdminSocket& operator=(const AdminSocket&) = delete;

  // Starts accepting connections into `server` on a thread of its own.
  // REQUIRES: called once; `server` is started and outlives Stop().
  void Serve(grpc::Server* server);
  // Stops accepting (connections already handed over stay the server's).
  // Idempotent; call it before shutting the server down.
  void Stop();

  // The uid of the process that made a call on this socket, by the call's
  // ServerContext::peer(); nullopt for a call that did not come through it.
  std::optional<uid_t> UidOf(std::string_view grpc_peer) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  AdminSocket(int listen_fd, int wake_fd) : listen_fd_(listen_fd), wake_fd_(wake_fd) {}
  void AcceptLoop(grpc::Server* server) ABSL_LOCKS_EXCLUDED(mu_);

  const int listen_fd_;  // owned; non-blocking
  const int wake_fd_;    // owned eventfd: written by Stop() to end AcceptLoop
  std::thread thread_;

  mutable absl::Mutex mu_;
  std::unordered_map<int, uid_t> uid_by_fd_ ABSL_GUARDED_BY(mu_);
};

}  // namespace steersync::node
