#pragma once
// The server side of node links: the Sync service a parent offers its
// children, on gRPC's callback API (one reactor per stream, no thread each).
//
// Only a child of this node may open a stream: the peer's certificate must
// carry "urn:steersync:node:<self>/<child>" and must not be revoked; anything
// else is refused with PERMISSION_DENIED, logged and counted. (The TLS
// handshake already checks both for new connections; this check also covers
// new streams on a connection made before a revocation.)

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "node/link.h"
#include "node/net/link_registry.h"
#include "steersync/v1/sync.grpc.pb.h"

namespace steersync::node {

class SyncService final : public v1::Sync::CallbackService {
 public:
  // `context` and `registry` must outlive the service.
  SyncService(const LinkContext& context, LinkRegistry& registry);

  grpc::ServerBidiReactor<v1::SyncMessage, v1::SyncMessage>* Link(
      grpc::CallbackServerContext* context) override;

  // Streams refused because the peer is not a child (or has no identity).
  uint64_t refused() const { return refused_.load(); }
  std::string last_refusal() const;

  // Blocks until every stream reactor has finished (after server Shutdown).
  void WaitForStreams();

 private:
  friend class SyncServerReactor;
  const LinkContext& context_;
  LinkRegistry& registry_;
  std::atomic<uint64_t> refused_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;  // guarded by mu_
  std::string last_refusal_;  // guarded by mu_
};

}  // namespace steersync::node
