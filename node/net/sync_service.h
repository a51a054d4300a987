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
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

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
  // "<self> (serving children, per stream): <why>" of the newest refusal;
  // `order` (may be null) receives its NextRefusalOrder() (0 if never).
  std::string last_refusal(uint64_t* order = nullptr) const ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until every stream reactor has finished (after server Shutdown).
  void WaitForStreams() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class SyncServerReactor;
  const LinkContext& context_;
  LinkRegistry& registry_;
  std::atomic<uint64_t> refused_{0};
  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // signalled when active_ drops
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_refusal_ ABSL_GUARDED_BY(mu_);
  uint64_t last_refusal_order_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace steersync::node
