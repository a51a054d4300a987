#include "node/node.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <limits>
#include <set>

#include <grpc/grpc_security_constants.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/security/server_credentials.h>
#include <spdlog/spdlog.h>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "node/admin_service.h"
#include "node/audience_gaps.h"
#include "node/net/grpc_deadline.h"
#include "node/receipts.h"
#include "node/system_clock.h"
#include "node/tls.h"
#include "sync/attachments.h"
#include "sync/meta_keys.h"
#include "sync/node_path.h"
#include "sync/status_macros.h"
#include "sync/version_vector.h"

namespace steersync::node {
namespace {

// gRPC's default health service (grpc.health.v1) on every server this
// process builds from here on. The switch is process-wide and not
// thread-safe: it is flipped once, under a static's guarded initialisation.
void EnableGrpcHealthService() {
  static const bool enabled = [] {
    grpc::EnableDefaultHealthCheckService(true);
    return true;
  }();
  (void)enabled;
}

// Whether a server offers gRPC server reflection: on for the admin
// listeners, off for the Sync listener. Loading libgrpc++_reflection
// registers its plugin for every server of the process (a static
// initializer calls InitProtoReflectionServerBuilderPlugin()), so the option
// sets the builder's plugins either way: exactly one reflection plugin, or
// none.
class ServerReflection final : public grpc::ServerBuilderOption {
 public:
  explicit ServerReflection(bool enabled) : enabled_(enabled) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    const std::string name = grpc::reflection::ProtoServerReflectionPlugin().name();
    std::erase_if(*plugins, [&](const auto& plugin) { return plugin->name() == name; });
    if (enabled_) plugins->push_back(std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
  }

 private:
  const bool enabled_;
};

// "uid:1000(alice)", or "uid:1000" for a uid without a user entry.
std::string UidName(uid_t uid) {
  std::string name = "uid:" + std::to_string(uid);
  passwd entry{};
  passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &entry, buf, sizeof(buf), &found) == 0 && found != nullptr) {
    name += "(" + std::string(found->pw_name) + ")";
  }
  return name;
}

}  // namespace

Node::Node(NodeOptions options, NodeRuntimeOptions runtime)
    : options_(std::move(options)),
      runtime_(runtime),
      owned_clock_(runtime.clock ? nullptr : std::make_unique<SystemClock>()),
      clock_(runtime.clock ? runtime.clock : owned_clock_.get()),
      hlc_(*clock_),
      admission_(options_.id) {}

namespace {

// Keeps the committee's rosters in step with the writer's transactions.
class RosterFollowsTxns : public GroupCommitWriter::TxnObserver {
 public:
  explicit RosterFollowsTxns(domain::CommitteeAdmission& admission) : admission_(admission) {}
  size_t Savepoint() const override { return admission_.Savepoint(); }
  void RollbackTo(size_t savepoint) override { admission_.RollbackTo(savepoint); }
  void Commit() override { admission_.Commit(); }

 private:
  domain::CommitteeAdmission& admission_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Node::Create(NodeOptions options,
                                                   NodeRuntimeOptions runtime) {
  std::unique_ptr<Node> node(new Node(std::move(options), runtime));
  Node* raw = node.get();
  SYNC_ASSIGN_OR_RETURN(node->signer_, RenewingSigner::Load(node->options_.id, node->options_.tls.cert,
                                                            node->options_.tls.key, node->certificates_));
  SYNC_ASSIGN_OR_RETURN(node->verifier_,
                        Verifier::Load(node->options_.tls.ca, &node->revocations_, &node->certificates_));
  node->signatures_ = std::make_unique<NodeSignatureCheck>(
      *node->verifier_, node->revocations_, [raw] {
        spdlog::warn("{}: a revocation list from above: now {} revoked certificates", raw->options_.id,
                     raw->revocations_.size());
        raw->CloseAllLinks("the revocation list changed");
      });
  sync::ReplicaOptions replica_options;
  replica_options.self_id = node->options_.id;
  replica_options.max_clock_skew_micros = node->options_.max_clock_skew_seconds * 1'000'000;
  node->replica_ = std::make_unique<sync::Replica>(replica_options, node->admission_, *node->signatures_,
                                                   node->hlc_, *node->clock_);
  lmdb::EnvOptions env;
  env.map_size = static_cast<size_t>(node->options_.map_size_mb) << 20;
  SYNC_ASSIGN_OR_RETURN(node->store_, LmdbStore::Open(node->options_.data_dir, env));
  node->store_->SetQuarantineQuota(runtime.quarantine_quota);
  SYNC_ASSIGN_OR_RETURN(auto kept_certificates, node->store_->MetaScan(kCertificatePrefix));
  LoadCertificates(kept_certificates, node->certificates_);
  SYNC_RETURN_IF_ERROR(node->LoadRosterAndClock());
  SYNC_RETURN_IF_ERROR(IndexDocumentsOnce(*node->store_));
  SYNC_RETURN_IF_ERROR(NoteDocumentNumbersOnce(*node->store_, node->options_.id));
  SYNC_RETURN_IF_ERROR(node->LoadRevocationLists());
  node->link_context_.self_id = node->options_.id;
  node->link_context_.store = node->store_.get();
  node->link_context_.clock = node->clock_;
  node->link_context_.replica = node->replica_.get();
  node->link_context_.session_defaults = runtime.session;
  node->link_context_.revocations = &node->revocations_;
  node->link_context_.certificates = &node->certificates_;
  node->link_context_.verifier = node->verifier_.get();
  node->link_context_.limits = runtime.limits;
  node->txn_observer_ = std::make_unique<RosterFollowsTxns>(node->admission_);
  GroupCommitWriter::Options writer_options;
  writer_options.observer = node->txn_observer_.get();
  writer_options.clock = node->clock_;
  writer_options.on_txn_time = [raw](std::chrono::steady_clock::duration d) { raw->latencies_->ObserveCommit(d); };
  node->link_context_.on_batch_applied = [raw](std::chrono::steady_clock::duration d) {
    raw->latencies_->ObserveApply(d);
  };
  node->after_commit_stage_ = std::make_unique<SerialExecutor>();  // before the writer, which posts to it
  node->writer_ = std::make_unique<GroupCommitWriter>(*node->store_, writer_options,
                                                      [raw](uint64_t) { raw->OnCommit(); });
  node->link_context_.writer = node->writer_.get();
  node->verify_stage_ = std::make_unique<SerialExecutor>();
  node->link_context_.verify_stage = node->verify_stage_.get();
  node->link_context_.after_commit_stage = node->after_commit_stage_.get();
  node->local_ = std::make_unique<LocalActs>(LocalActs::Deps{
      .self_id = node->options_.id,
      .clock = node->clock_,
      .writer = node->writer_.get(),
      .replica = node->replica_.get(),
      .admission = &node->admission_,
      .signer = node->signer_.get(),
      .certificates = &node->certificates_,
      .store = node->store_.get(),
      .recovery = &node->recovery_,
      .max_attachment_bytes = node->options_.max_attachment_mb << 20,
  });
  node->directives_ = std::make_unique<DirectiveActs>(*node->local_, node->registry_);
  node->reports_ = std::make_unique<ReportActs>(*node->local_);
  node->obligations_ = std::make_unique<ObligationActs>(*node->local_);
  node->tasks_ = std::make_unique<TaskActs>(*node->local_);
  node->extensions_ = std::make_unique<ExtensionActs>(*node->local_);
  node->calendar_ = std::make_unique<CalendarActs>(*node->local_, node->options_.parent_address.empty());
  node->roster_ = std::make_unique<RosterActs>(*node->local_);
  node->link_context_.on_blob_progress = [raw] {
    for (const auto& link : raw->registry_.Live()) link->OnBlobProgress();
  };
  node->receipts_ = std::make_unique<ReceiptRegistrar>(node->runtime_.receipts, *node->store_, node->options_.id,
                                                       *node->directives_, *node->reports_);
  node->link_context_.on_admitted = [raw](std::vector<std::pair<std::string, v1::RecordKind>> ids) {
    raw->receipts_->OnAdmitted(ids);
  };
  node->link_context_.recovery = &node->recovery_;
  node->link_context_.has_parent = !node->options_.parent_address.empty();
  node->recovery_.SetTopNode(!node->link_context_.has_parent);
  // Every link reconnects to ask for this node's versions (the parent's
  // completes the recovery), not only the one whose Hello revealed the loss.
  node->recovery_.SetOnBegin([raw] {
    raw->UpdateHealth();  // NOT_SERVING while recovering
    raw->CloseAllLinks("recovering: reconnecting to ask for this node's versions");
  });
  node->link_context_.on_recovered = [raw] {
    raw->UpdateHealth();
    // Receipts refused while recovering are registered now.
    if (auto s = raw->receipts_->RegisterPending(); !s.ok()) {
      spdlog::warn("{}: registering receipts after recovery: {}", raw->options_.id, s.ToString());
    }
  };
  // A node with a parent that starts on an empty store may have lost one:
  // its parent says what it holds of it before it acts (node/recovery.h).
  // A recovery that a stop interrupted (kRecoveryPendingKey) is resumed.
  const bool empty_store = node->store_->HeadSeq() == 0;
  SYNC_ASSIGN_OR_RETURN(std::optional<std::string> pending, node->store_->MetaGet(kRecoveryPendingKey));
  std::string why;
  if (runtime.recover) {
    why = "started with --recover";
    SYNC_RETURN_IF_ERROR(node->store_->TakeNewLogEpoch());
  } else if (pending.has_value()) {
    why = "resuming the recovery a stop interrupted (" + *pending + ")";
  } else if (empty_store && !node->options_.parent_address.empty()) {
    why = "started on an empty store";
  }
  if (!why.empty()) {
    // Start-up: no job reached the writer yet (no link, no act).
    SYNC_RETURN_IF_ERROR(node->store_->Write(
        [&why](LmdbStore::View& view) { return view.MetaPut(kRecoveryPendingKey, why); }));
    node->recovery_.Begin(why);
  }
  return node;
}

absl::Status Node::LoadRosterAndClock() {
  domain::Roster roster;
  SYNC_RETURN_IF_ERROR(store_->ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    if (domain::Roster::IsRosterKind(body.kind())) roster.Put(body);
  }));
  admission_.Reset(std::move(roster));
  SYNC_ASSIGN_OR_RETURN(std::optional<std::string> hlc, store_->MetaGet(sync::meta::kLastHlc));
  if (hlc.has_value()) {
    v1::Hlc last;
    if (!last.ParseFromString(*hlc)) return absl::DataLossError("meta value last_hlc does not parse");
    const int64_t ahead = static_cast<int64_t>(last.wall_micros()) - clock_->NowMicros();
    if (ahead > options_.max_clock_skew_seconds * 1'000'000) {
      spdlog::warn("{}: the last local timestamp is {} s ahead of this machine's clock: is the clock "
                   "right? (new versions are stamped after it)",
                   options_.id, ahead / 1'000'000);
    }
    hlc_.Restore(last);
  }
  return absl::OkStatus();
}

Node::~Node() { Stop(); }

absl::Status Node::LoadRevocationLists() {
  std::vector<std::string> lists;
  SYNC_RETURN_IF_ERROR(store_->ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    v1::RevocationList list;
    if (body.kind() == v1::REVOCATION_LIST && list.ParseFromString(body.payload())) {
      lists.push_back(list.crl());
    }
  }));
  for (const auto& crl : lists) {
    auto parsed = verifier_->VerifyCrl(crl);
    if (parsed.ok()) revocations_.Merge(*parsed);  // only admitted lists are stored
  }
  if (revocations_.size() > 0) {
    spdlog::info("{}: {} revoked certificates on record", options_.id, revocations_.size());
  }
  return absl::OkStatus();
}

void Node::CloseAllLinks(const std::string& why) {
  for (const auto& link : registry_.Live()) link->Close(absl::AbortedError(why));
}

int Node::AdminMaxMessageBytes() const {
  // An act with its attached files (--attach), the most it may carry, plus
  // room for the rest of the request.
  const uint64_t bytes = (options_.max_attachment_mb << 20) * sync::kMaxAttachmentsPerRecord + (4 << 20);
  return static_cast<int>(std::min<uint64_t>(bytes, std::numeric_limits<int>::max()));
}

absl::Status Node::Start() {
  // The federation CA, read once for every listener's and the dialler's check.
  SYNC_ASSIGN_OR_RETURN(const std::string ca_pem, ReadFileToString(options_.tls.ca));
  // Each listener answers grpc.health.v1; NOT_SERVING until the end of Start().
  EnableGrpcHealthService();
  if (!options_.listen_address.empty()) {
    const std::string self = options_.id;
    server_check_ = std::make_shared<PeerCheck>(
        ca_pem, &revocations_, [self](const std::string& id) { return sync::ParentOf(id) == self; },
        self + " (serving children)");
    SYNC_ASSIGN_OR_RETURN(auto creds, MakeServerCredentials(options_.tls, server_check_, runtime_.tls));
    sync_service_ = std::make_unique<SyncService>(link_context_, registry_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options_.listen_address, creds, &sync_port_);
    builder.RegisterService(sync_service_.get());
    builder.SetOption(std::make_unique<ServerReflection>(false));  // children need no catalogue
    builder.SetMaxReceiveMessageSize(runtime_.max_message_bytes);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5'000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    // gRPC sets SO_REUSEPORT by default: a second steersyncd on the same
    // address would bind it too and the kernel would split the children
    // between them. A port in use is a start-up error instead.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    sync_server_ = builder.BuildAndStart();
    if (!sync_server_ || sync_port_ == 0) {
      return absl::UnavailableError("cannot listen on " + options_.listen_address +
                                    " (in use by another process? see `ss -ltnp`)");
    }
    WatchHealth(*sync_server_, v1::Sync::service_full_name());
    spdlog::info("{}: serving children on {} (port {})", options_.id, options_.listen_address,
                 sync_port_);
  }
  if (runtime_.serve_admin) {
    const std::string& path = options_.admin_socket;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    // Only a socket is ours to replace (a stale one from a killed process);
    // anything else at the path is a mistake in the configuration, and is
    // never deleted.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        return absl::FailedPreconditionError("admin socket path " + path +
                                             " exists and is not a socket; not replacing it "
                                             "(move it away or set [admin] socket)");
      }
      ::unlink(path.c_str());
    }
    // Owner-only from its first instant (the chmod below only ever widens
    // it to the admin group). Its connections are accepted by admin_socket_,
    // which learns each one's uid for the audit log, and handed to the
    // server, which therefore listens on no port of its own.
    SYNC_ASSIGN_OR_RETURN(admin_socket_, AdminSocket::Listen(path));
    grpc::ServerBuilder builder;
    admin_service_ = MakeAdminService(*this);
    builder.RegisterService(admin_service_.get());
    builder.SetOption(std::make_unique<ServerReflection>(true));
    builder.SetMaxReceiveMessageSize(AdminMaxMessageBytes());
    admin_server_ = builder.BuildAndStart();
    if (!admin_server_) return absl::UnavailableError("cannot serve admin socket " + path);
    WatchHealth(*admin_server_, v1::Admin::service_full_name());
    if (options_.admin_group.empty()) {
      ::chmod(path.c_str(), 0600);  // owner only
    } else {
      struct group* g = ::getgrnam(options_.admin_group.c_str());
      if (g == nullptr) {
        return absl::InvalidArgumentError("admin.group '" + options_.admin_group +
                                          "' is not a group on this machine");
      }
      if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
        return absl::PermissionDeniedError("cannot give " + path + " to group " + options_.admin_group);
      }
      ::chmod(path.c_str(), 0660);  // owner and the admin group
    }
    admin_socket_->Serve(admin_server_.get());
  }
  if (!options_.admin_tcp_address.empty()) {
    admin_check_ = std::make_shared<PeerCheck>(
        ca_pem, &revocations_, [](const std::string&) { return true; },
        options_.id + " (admin over TCP)", kAdminUriPrefix);
    SYNC_ASSIGN_OR_RETURN(auto creds, MakeServerCredentials(options_.tls, admin_check_, runtime_.tls));
    if (!admin_service_) admin_service_ = MakeAdminService(*this);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options_.admin_tcp_address, creds, &admin_tcp_port_);
    builder.RegisterService(admin_service_.get());
    builder.SetOption(std::make_unique<ServerReflection>(true));
    builder.SetMaxReceiveMessageSize(AdminMaxMessageBytes());
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // as the sync listener
    admin_tcp_server_ = builder.BuildAndStart();
    if (!admin_tcp_server_ || admin_tcp_port_ == 0) {
      return absl::UnavailableError("cannot serve admin on " + options_.admin_tcp_address +
                                    " (in use by another process? see `ss -ltnp`)");
    }
    WatchHealth(*admin_tcp_server_, v1::Admin::service_full_name());
    spdlog::info("{}: admin over mTLS on {} (port {})", options_.id, options_.admin_tcp_address,
                 admin_tcp_port_);
  }
  if (!options_.parent_address.empty()) {
    const std::string parent = sync::ParentOf(options_.id);
    client_check_ = std::make_shared<PeerCheck>(
        ca_pem, &revocations_, [parent](const std::string& id) { return id == parent; },
        options_.id + " (dialling parent)");
    SYNC_ASSIGN_OR_RETURN(auto creds, MakeChannelCredentials(options_.tls, client_check_, runtime_.tls));
    parent_ = std::make_unique<ParentLink>(link_context_, registry_, options_.parent_address,
                                           std::move(creds), runtime_.backoff);
    parent_->Start();
  }
  if (!options_.metrics_address.empty()) {
    SYNC_ASSIGN_OR_RETURN(metrics_server_, MetricsServer::Start(options_.metrics_address, *this));
    spdlog::info("{}: metrics on http://{}/metrics (port {})", options_.id,
                 options_.metrics_address, metrics_server_->port());
  }
  SYNC_RETURN_IF_ERROR(receipts_->RegisterPending());
  idle_flusher_ = std::make_unique<Periodic>(absl::Seconds(1), [this] {
    for (const auto& link : registry_.Live()) link->FlushIdle();
  });
  if (runtime_.write_status) {
    status_reporter_ = std::make_unique<StatusReporter>(
        StatusReporter::Options{absl::Seconds(options_.status_interval_seconds),
                                absl::Seconds(options_.status_heartbeat_seconds)},
        *clock_, *local_, [this] { return ComputeUnitStatus(); }, [this] { return StatusFingerprint(); });
  }
  if (runtime_.publish_heads) {
    head_publisher_ = std::make_unique<HeadPublisher>(
        HeadPublisher::Options{.interval = absl::Seconds(options_.head_interval_seconds)}, *local_);
  }
  {
    absl::MutexLock lock(&health_mu_);
    phase_ = Phase::kStarted;
  }
  UpdateHealth();
  spdlog::info("{}: started; log head {}", options_.id, store_->HeadSeq());
  return absl::OkStatus();
}

void Node::Stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    absl::MutexLock lock(&health_mu_);
    phase_ = Phase::kStopping;
  }
  UpdateHealth();  // NOT_SERVING from the first instant of the shutdown
  status_reporter_.reset();  // before local_ closes and the writer drains
  head_publisher_.reset();
  idle_flusher_.reset();
  metrics_server_.reset();
  if (parent_) parent_->Stop();
  if (sync_server_) {
    sync_server_->Shutdown(GrpcDeadline(std::chrono::seconds(2)));
    sync_service_->WaitForStreams();
  }
  if (admin_tcp_server_) {
    admin_tcp_server_->Shutdown(GrpcDeadline(std::chrono::seconds(2)));
  }
  if (admin_socket_) admin_socket_->Stop();  // no connection handed to a server shutting down
  if (admin_server_) {
    admin_server_->Shutdown(GrpcDeadline(std::chrono::seconds(2)));
    ::unlink(options_.admin_socket.c_str());
  }
  {
    absl::MutexLock lock(&health_mu_);
    health_.clear();  // the servers are shut down; nothing to tell them
  }
  if (receipts_) receipts_->Stop();  // no retry from here; the next start registers what is left
  verify_stage_.reset();  // drains verifications into the writer
  // Completions run while the writer drains may ask for follow-up writes
  // (report receipts); from here they are refused, and redone at next Start().
  if (local_) local_->Close();  // null when Create failed part way
  writer_.reset();        // drains queued writes
  after_commit_stage_.reset();    // after the writer, whose commits post to it
  spdlog::info("{}: stopped", options_.id);
}

int Node::metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }

bool Node::ServingLocked() const { return phase_ == Phase::kStarted && !recovery_.recovering(); }

bool Node::serving() const {
  absl::MutexLock lock(&health_mu_);
  return announced_serving_;
}

void Node::WatchHealth(grpc::Server& server, const std::string& service) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  if (health == nullptr) return;  // only if the default service were disabled
  absl::MutexLock lock(&health_mu_);
  // The default service starts SERVING for "": corrected here, right after
  // the server started and before Start() returns.
  const bool serving = ServingLocked();
  for (const std::string& name : {std::string(), service}) {
    health->SetServingStatus(name, serving);
    health_.push_back({health, name});
  }
  announced_serving_ = serving;
}

void Node::UpdateHealth() {
  // Under the lock, so that concurrent updates are applied in the order of
  // the states they read: the last one sets what is true now.
  absl::MutexLock lock(&health_mu_);
  const bool serving = ServingLocked();
  for (const HealthTarget& t : health_) t.service->SetServingStatus(t.name, serving);
  announced_serving_ = serving;
}

Node::Readiness Node::GetReadiness() const {
  {
    absl::MutexLock lock(&health_mu_);
    if (phase_ == Phase::kCreated) return {false, "starting"};
    if (phase_ == Phase::kStopping) return {false, "stopping"};
  }
  if (std::string recovering = recovery_.Describe(); !recovering.empty()) return {false, recovering};
  if (std::string storage = StorageWarning(); !storage.empty()) return {false, storage};
  return {true, ""};
}

std::string Node::AdminCaller(const grpc::ServerContext& context) const {
  const std::string peer = context.peer();
  if (admin_socket_) {
    if (std::optional<uid_t> uid = admin_socket_->UidOf(peer)) return UidName(*uid);
  }
  if (const auto auth = context.auth_context(); auth && auth->IsPeerAuthenticated()) {
    const auto cn = auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
    if (!cn.empty()) return "cn:" + std::string(cn.front().data(), cn.front().size());
  }
  return "unknown(" + peer + ")";
}

void Node::OnCommit() {
  {
    // Releasing head_mu_ re-evaluates WaitForHead's condition.
    absl::MutexLock lock(&head_mu_);
  }
  // A feed not run yet reads the log after this commit too.
  if (feed_posted_.exchange(true)) return;
  after_commit_stage_->Post([this] {
    feed_posted_.store(false);  // before reading: a later commit posts again
    // Caught-up peers first: a live record goes out before a catching-up
    // peer's next batch is read from the log and built.
    const auto links = registry_.Live();
    std::vector<bool> in_flight(links.size());
    for (size_t i = 0; i < links.size(); ++i) {
      in_flight[i] = links[i]->HasBatchesInFlight();
      if (!in_flight[i]) links[i]->OnLocalAppend();
    }
    for (size_t i = 0; i < links.size(); ++i) {
      if (in_flight[i]) links[i]->OnLocalAppend();
    }
  });
}

absl::Status Node::Write(GroupCommitWriter::Job job) {
  absl::Notification done;
  absl::Status result;
  writer_->Submit(std::move(job), [&](absl::Status s) {
    result = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

bool Node::WaitForHead(uint64_t seq, std::chrono::milliseconds timeout) const {
  // Re-evaluated each time head_mu_ is released (OnCommit takes it after
  // every commit); a relative timeout, so no clock is read here.
  auto reached = [this, seq] { return store_->HeadSeq() >= seq; };
  absl::MutexLock lock(&head_mu_);
  return head_mu_.AwaitWithTimeout(absl::Condition(&reached), absl::FromChrono(timeout));
}

}  // namespace steersync::node

namespace steersync::node {

absl::StatusOr<v1::PublishRevocationListReply> Node::PublishRevocationList(const std::string& crl) {
  SYNC_ASSIGN_OR_RETURN(ParsedCrl parsed, verifier_->VerifyCrl(crl));
  const std::string id = options_.id + "/crl";
  // The CA signs the list; the node's clerk only publishes it.
  const LocalAct act{domain::Act{domain::Action::kRosterEntry, ""}, v1::ActAs(), std::nullopt};
  SYNC_ASSIGN_OR_RETURN(Written written,
                        local_->Write(act, [&](uint64_t, LmdbStore::View&, v1::RecordBody& body)
                                       -> absl::StatusOr<std::string> {
                          v1::RevocationList list;
                          list.set_crl(crl);
                          body.set_kind(v1::REVOCATION_LIST);
                          body.mutable_audience()->set_direction(v1::Audience::DOWN);
                          body.mutable_audience()->set_root(options_.id);
                          body.set_payload(list.SerializeAsString());
                          return id;
                        }));
  if (revocations_.Merge(parsed)) CloseAllLinks("the revocation list changed");
  v1::PublishRevocationListReply reply;
  reply.set_id(written.id);
  reply.set_revoked(revocations_.size());
  return reply;
}

}  // namespace steersync::node
