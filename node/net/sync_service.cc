#include "node/net/sync_service.h"

#include <spdlog/spdlog.h>

#include "node/tls.h"
#include "sync/node_path.h"

namespace steersync::node {

// One stream from a child. Deletes itself in OnDone().
// Invariant: at most one read and one write in flight; `out_` is only
// touched by the write in flight.
class SyncServerReactor : public grpc::ServerBidiReactor<v1::SyncMessage, v1::SyncMessage> {
 public:
  SyncServerReactor(SyncService& service, grpc::CallbackServerContext* ctx)
      : service_(service), ctx_(ctx) {
    {
      absl::MutexLock lock(&service_.mu_);
      ++service_.active_;
    }
    const std::string self = service_.context_.self_id;
    std::optional<std::string> peer;
    if (auto auth = ctx->auth_context()) peer = PeerNodeId(*auth);
    std::string refusal;
    if (!peer.has_value() || sync::ParentOf(*peer) != self) {
      refusal = "node '" + peer.value_or("<no node identity>") + "' is not a child of '" + self + "'";
    } else if (auto serial = PeerCertSerial(*ctx->auth_context());
               serial.has_value() && service_.context_.revocations->RevokedAt(*serial)) {
      refusal = "certificate " + *serial + " of node '" + *peer + "' is revoked";
    }
    if (!refusal.empty()) {
      {
        absl::MutexLock lock(&service_.mu_);
        service_.last_refusal_ = self + " (serving children, per stream): " + refusal;
        service_.last_refusal_order_ = NextRefusalOrder();
      }
      ++service_.refused_;  // after the reason: whoever sees the count sees why
      spdlog::warn("refused sync stream from {}: {}", ctx->peer(), refusal);
      // Through FinishOnce: a cancellation of the refused stream (OnCancel)
      // must not Finish it a second time, which gRPC aborts on.
      FinishOnce(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, refusal));
      return;
    }
    auto stats = service_.registry_.StatsFor(*peer, Relation::kChild);
    stats->cert_not_after = PeerCertNotAfter(*ctx->auth_context());
    link_ = std::make_shared<node::Link>(service_.context_, *peer, Relation::kChild, stats);
    link_->Attach([this] { Pump(); },
                  [this](absl::Status s) {
                    FinishOnce(grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                                            std::string(s.message())));
                  },
                  [this] {
                    absl::MutexLock lock(&mu_);
                    if (!finished_) StartRead(&in_);  // no read after Finish
                  });
    service_.registry_.Add(link_);
    StartSendInitialMetadata();
    // The session starts before the first read, so no message can reach it
    // unstarted (a read completes on any callback thread).
    link_->Start();
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      if (ctx_->IsCancelled()) {  // the child went away or the connection died
        FinishOnce(grpc::Status::CANCELLED);
        return;
      }
      // Our children never half-close: either the frame did not decode as a
      // SyncMessage or the peer broke the protocol.
      link_->CloseForProtocolError(absl::InvalidArgumentError(
          "the stream ended without a decodable SyncMessage (malformed frame or half-close)"));
      return;
    }
    link_->OnMessage(std::move(in_));  // starts the next read (Link::Attach)
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
    }
    if (!ok) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    Pump();
  }

  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }

  void OnDone() override {
    if (link_) {
      link_->Detach();
      service_.registry_.Remove(link_.get());
      spdlog::info("link {}: down", link_->peer_id());
    }
    {
      absl::MutexLock lock(&service_.mu_);
      --service_.active_;
      // Under the lock: once it is released, WaitForStreams() may return and
      // the service may be destroyed.
      service_.cv_.SignalAll();
    }
    delete this;
  }

 private:
  void Pump() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      if (!link_->TakeNext(&out_)) return;
      writing_ = true;
    }
    StartWrite(&out_);
    link_->ResumeReading();
  }

  void FinishOnce(grpc::Status status) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(std::move(status));
  }

  SyncService& service_;
  grpc::CallbackServerContext* const ctx_;
  std::shared_ptr<node::Link> link_;
  v1::SyncMessage in_;
  v1::SyncMessage out_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

SyncService::SyncService(const LinkContext& context, LinkRegistry& registry)
    : context_(context), registry_(registry) {}

grpc::ServerBidiReactor<v1::SyncMessage, v1::SyncMessage>* SyncService::Link(
    grpc::CallbackServerContext* context) {
  return new SyncServerReactor(*this, context);
}

std::string SyncService::last_refusal(uint64_t* order) const {
  absl::MutexLock lock(&mu_);
  if (order != nullptr) *order = last_refusal_order_;
  return last_refusal_;
}

void SyncService::WaitForStreams() {
  absl::MutexLock lock(&mu_);
  while (active_ != 0) cv_.Wait(&mu_);
}

}  // namespace steersync::node
