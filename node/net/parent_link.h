#pragma once
// The client side of a node's link to its parent: dials, runs one Sync
// stream, and on any failure reconnects with exponential backoff and jitter.
// The parent must present "urn:steersync:node:<parent-id>"; any other
// identity is refused and logged.
//
// Thread safety: thread-safe. Owns one thread that sleeps between attempts.

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "node/link.h"
#include "node/net/link_registry.h"

namespace steersync::node {

struct BackoffOptions {
  int64_t initial_ms = 200;
  int64_t max_ms = 10'000;
  double multiplier = 2.0;
  // Each delay is drawn uniformly from [delay * (1 - jitter), delay].
  double jitter = 0.5;
};

class ParentLink {
 public:
  // `context` and `registry` must outlive this object.
  ParentLink(const LinkContext& context, LinkRegistry& registry, std::string parent_address,
             std::shared_ptr<grpc::ChannelCredentials> credentials, BackoffOptions backoff);
  ~ParentLink();  // Stop()s

  void Start();
  // Cancels the stream and joins the thread.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& parent_id() const { return parent_id_; }
  const std::string& address() const { return address_; }
  bool connected() const;

 private:
  class Stream;
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  const LinkContext& context_;
  LinkRegistry& registry_;
  const std::string parent_id_;
  const std::string address_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const BackoffOptions backoff_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stream* current_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace steersync::node
