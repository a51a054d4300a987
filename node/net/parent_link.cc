#include "node/net/parent_link.h"

#include <spdlog/spdlog.h>

#include "absl/time/time.h"
#include "node/tls.h"
#include "steersync/v1/sync.grpc.pb.h"
#include "sync/node_path.h"

namespace steersync::node {

// One stream to the parent. Owned by ParentLink::Run, which waits for Done().
class ParentLink::Stream : public grpc::ClientBidiReactor<v1::SyncMessage, v1::SyncMessage> {
 public:
  Stream(ParentLink& owner, v1::Sync::Stub& stub) : owner_(owner) {
    link_ = std::make_shared<node::Link>(
        owner_.context_, owner_.parent_id_, Relation::kParent,
        owner_.registry_.StatsFor(owner_.parent_id_, Relation::kParent));
    link_->Attach([this] { Pump(); },
                  [this](absl::Status s) {
                    spdlog::warn("parent link: {}", s.ToString());
                    if (absl::IsResourceExhausted(s)) out_of_room_ = true;
                    context_.TryCancel();
                  },
                  [this] { StartRead(&in_); });
    stub.async()->Link(&context_, this);
    // The first read starts once the parent is verified and the link's
    // session started (OnReadInitialMetadataDone): a read started here could
    // complete on another thread before that, and the message would reach a
    // session not yet started.
    StartCall();
  }

  void OnReadInitialMetadataDone(bool ok) override {
    if (!ok) return;  // OnDone reports the failure
    std::optional<std::string> peer;
    if (auto auth = context_.auth_context()) peer = PeerNodeId(*auth);
    auto serial = PeerCertSerial(*context_.auth_context());
    if (serial.has_value() && owner_.context_.revocations->RevokedAt(*serial)) {
      spdlog::error("parent at {} presented revoked certificate {}: refusing it", owner_.address_,
                    *serial);
      context_.TryCancel();
      return;
    }
    if (peer != owner_.parent_id_) {
      spdlog::error("parent at {} presented identity '{}', expected '{}': refusing it",
                    owner_.address_, peer.value_or("<none>"), owner_.parent_id_);
      context_.TryCancel();
      return;
    }
    verified_ = true;
    owner_.registry_.StatsFor(owner_.parent_id_, Relation::kParent)->cert_not_after =
        PeerCertNotAfter(*context_.auth_context());
    owner_.registry_.Add(link_);
    link_->Start();
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (!verified_) {
      context_.TryCancel();
      return;
    }
    link_->OnMessage(std::move(in_));  // starts the next read (Link::Attach)
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
    }
    if (ok) Pump();
  }

  void OnDone(const grpc::Status& status) override {
    link_->Detach();
    owner_.registry_.Remove(link_.get());
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
    done_cv_.SignalAll();
  }

  // Blocks until OnDone ran; returns the final status.
  grpc::Status Await() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    while (!done_) done_cv_.Wait(&mu_);
    return status_;
  }

  void Cancel() { context_.TryCancel(); }
  bool verified() const { return verified_; }
  // The stream ended because this node's store had no room for what came.
  bool out_of_room() const { return out_of_room_; }

 private:
  void Pump() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || done_) return;
      if (!link_->TakeNext(&out_)) return;
      writing_ = true;
    }
    StartWrite(&out_);
    link_->ResumeReading();
  }

  ParentLink& owner_;
  grpc::ClientContext context_;
  std::shared_ptr<node::Link> link_;
  v1::SyncMessage in_;
  v1::SyncMessage out_;
  std::atomic<bool> verified_{false};
  std::atomic<bool> out_of_room_{false};
  absl::Mutex mu_;
  absl::CondVar done_cv_;  // signalled when done_ is set
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

ParentLink::ParentLink(const LinkContext& context, LinkRegistry& registry,
                       std::string parent_address,
                       std::shared_ptr<grpc::ChannelCredentials> credentials,
                       BackoffOptions backoff)
    : context_(context),
      registry_(registry),
      parent_id_(sync::ParentOf(context.self_id)),
      address_(std::move(parent_address)),
      credentials_(std::move(credentials)),
      backoff_(backoff) {}

ParentLink::~ParentLink() { Stop(); }

void ParentLink::Start() { thread_ = std::thread([this] { Run(); }); }

void ParentLink::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (current_ != nullptr) current_->Cancel();
  }
  // (Run's wait re-evaluates stopping_ when mu_ is released.)
  if (thread_.joinable()) thread_.join();
}

bool ParentLink::connected() const {
  for (const auto& p : registry_.Peers()) {
    if (p.peer == parent_id_) return p.stats->connected.load();
  }
  return false;
}

void ParentLink::Run() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetMaxReceiveMessageSize(sync::kMaxSyncFrameBytes);
  // Reconnection pacing is ours (below); keep gRPC's own short.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // This channel's connections are its own (not gRPC's process-wide pool),
  // so that a new channel is a new connection and a new TLS handshake.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stub = v1::Sync::NewStub(grpc::CreateCustomChannel(address_, credentials_, args));

  std::mt19937_64 rng(std::hash<std::string>{}(context_.self_id) ^
                      static_cast<uint64_t>(context_.clock->NowMicros()));
  double delay_ms = static_cast<double>(backoff_.initial_ms);
  for (;;) {
    auto stream = std::make_unique<Stream>(*this, *stub);
    {
      absl::MutexLock lock(&mu_);
      current_ = stream.get();
      if (stopping_) stream->Cancel();
    }
    grpc::Status status = stream->Await();
    const bool was_verified = stream->verified();
    {
      absl::MutexLock lock(&mu_);
      current_ = nullptr;
      if (stopping_) return;
    }
    // A store without room (ours, or the parent's: RESOURCE_EXHAUSTED) will
    // not have any on an immediate retry: wait the longest, and do not resend
    // the same batches in a storm.
    const bool out_of_room =
        stream->out_of_room() || status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    if (out_of_room) {
      delay_ms = static_cast<double>(backoff_.max_ms);
    } else if (was_verified) {
      delay_ms = static_cast<double>(backoff_.initial_ms);
    }
    std::uniform_real_distribution<double> jitter(1.0 - backoff_.jitter, 1.0);
    const auto wait = std::chrono::milliseconds(static_cast<int64_t>(delay_ms * jitter(rng)));
    spdlog::warn("parent link to {} ({}) ended: {} {}; retrying in {} ms", parent_id_, address_,
                 static_cast<int>(status.error_code()), status.error_message(), wait.count());
    if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
        status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      // The parent refused our certificate (revoked, expired, another
      // node's). The parent keeps the connection open and refuses each
      // stream on it, so retrying on it would present the same certificate
      // for ever: the next try opens a new connection, whose handshake
      // presents the certificate on disk then (renewed by `pki.sh renew`,
      // picked up by the certificate watcher within seconds).
      stub = v1::Sync::NewStub(grpc::CreateCustomChannel(address_, credentials_, args));
    }
    delay_ms = std::min(delay_ms * backoff_.multiplier, static_cast<double>(backoff_.max_ms));
    absl::MutexLock lock(&mu_);
    // Waits for the backoff or for Stop(); not a test sleep. A relative
    // timeout: no clock is read here.
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::FromChrono(wait))) return;
  }
}

}  // namespace steersync::node
