#include "node/net/parent_link.h"

#include <spdlog/spdlog.h>

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
                    context_.TryCancel();
                  });
    stub.async()->Link(&context_, this);
    StartRead(&in_);
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
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    if (!verified_) {
      context_.TryCancel();
      return;
    }
    link_->OnMessage(std::move(in_));
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
    }
    if (ok) Pump();
  }

  void OnDone(const grpc::Status& status) override {
    link_->Detach();
    owner_.registry_.Remove(link_.get());
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    done_ = true;
    done_cv_.notify_all();
  }

  // Blocks until OnDone ran; returns the final status.
  grpc::Status Await() {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return done_; });
    return status_;
  }

  void Cancel() { context_.TryCancel(); }
  bool verified() const { return verified_; }

 private:
  void Pump() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (writing_ || done_) return;
      if (!link_->TakeNext(&out_)) return;
      writing_ = true;
    }
    StartWrite(&out_);
  }

  ParentLink& owner_;
  grpc::ClientContext context_;
  std::shared_ptr<node::Link> link_;
  v1::SyncMessage in_;
  v1::SyncMessage out_;
  std::atomic<bool> verified_{false};
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool writing_ = false;  // guarded by mu_
  bool done_ = false;     // guarded by mu_
  grpc::Status status_;   // guarded by mu_
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
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (current_ != nullptr) current_->Cancel();
  }
  cv_.notify_all();
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
  args.SetMaxReceiveMessageSize(64 << 20);
  // Reconnection pacing is ours (below); keep gRPC's own short.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto channel = grpc::CreateCustomChannel(address_, credentials_, args);
  auto stub = v1::Sync::NewStub(channel);

  std::mt19937_64 rng(std::hash<std::string>{}(context_.self_id) ^
                      static_cast<uint64_t>(context_.clock->NowMicros()));
  double delay_ms = static_cast<double>(backoff_.initial_ms);
  for (;;) {
    auto stream = std::make_unique<Stream>(*this, *stub);
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ = stream.get();
      if (stopping_) stream->Cancel();
    }
    grpc::Status status = stream->Await();
    const bool was_verified = stream->verified();
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ = nullptr;
      if (stopping_) return;
    }
    if (was_verified) delay_ms = static_cast<double>(backoff_.initial_ms);
    std::uniform_real_distribution<double> jitter(1.0 - backoff_.jitter, 1.0);
    const auto wait = std::chrono::milliseconds(static_cast<int64_t>(delay_ms * jitter(rng)));
    spdlog::warn("parent link to {} ({}) ended: {} {}; retrying in {} ms", parent_id_, address_,
                 static_cast<int>(status.error_code()), status.error_message(), wait.count());
    delay_ms = std::min(delay_ms * backoff_.multiplier, static_cast<double>(backoff_.max_ms));
    std::unique_lock<std::mutex> lock(mu_);
    // Waits for the backoff or for Stop(); not a test sleep.
    cv_.wait_for(lock, wait, [&] { return stopping_; });
    if (stopping_) return;
  }
}

}  // namespace steersync::node
