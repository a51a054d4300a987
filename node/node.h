#pragma once
// A steersync node: one unit's store, its link to the parent, the Sync
// service for its children and the local Admin service. steersyncd is a thin
// main() around this class; tests run several Nodes in one process.
//
// Thread safety: thread-safe after Start(). Start() and Stop() are called
// from one thread.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "node/periodic.h"
#include "node/certificate_book.h"
#include "node/config.h"
#include "node/directive_acts.h"
#include "node/listings.h"
#include "node/local_acts.h"
#include "node/receipts.h"
#include "node/recovery.h"
#include "node/obligation_acts.h"
#include "node/calendar_acts.h"
#include "node/extension_acts.h"
#include "node/head_publisher.h"
#include "node/status_reporter.h"
#include "node/subtree.h"
#include "node/report_acts.h"
#include "node/task_acts.h"
#include "node/roster_acts.h"
#include "node/identity.h"
#include "node/link.h"
#include "node/metrics.h"
#include "node/net/admin_socket.h"
#include "node/tls.h"
#include "node/net/link_registry.h"
#include "node/net/parent_link.h"
#include "node/net/sync_service.h"
#include "node/domain/admission.h"
#include "node/renewing_signer.h"
#include "node/version_signatures.h"
#include "node/store/group_commit_writer.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.pb.h"
#include "sync/clock.h"
#include "sync/hlc.h"
#include "node/domain/legal_date.h"
#include "node/domain/roster.h"

namespace steersync::node {

struct NodeRuntimeOptions {
  // Replaces the system clock (tests). Must outlive the node.
  const sync::Clock* clock = nullptr;
  BackoffOptions backoff;
  sync::SessionOptions session;
  // Start the admin Unix-socket server (tests may drive the node directly).
  bool serve_admin = true;
  // Write this node's status record for the units above (StatusReporter).
  // steersyncd always does; off by default for nodes built in tests, many of
  // which count a node's records and log entries exactly.
  bool write_status = false;
  // Sign this node's sequence heads when its sequences rest (HeadPublisher).
  // steersyncd always does; off by default in tests, like write_status.
  bool publish_heads = false;
  TlsOptions tls;
  InboundLimits limits;
  // What the quarantine keeps of one peer's refused versions.
  LmdbStore::QuarantineQuota quarantine_quota;
  // Largest Sync message accepted; larger frames end the stream.
  int max_message_bytes = sync::kMaxSyncFrameBytes;
  // Recover this node's own versions from its neighbours before any act
  // (`steersyncd --recover`, after restoring a backup). A node with a parent
  // starting on an empty store recovers anyway (node/recovery.h).
  bool recover = false;
  // Retrying receipts whose registration failed (node/receipts.h): the
  // backoff, and (tests) the failures injected.
  ReceiptRegistrar::Options receipts;
};

class Node {
 public:
  static absl::StatusOr<std::unique_ptr<Node>> Create(NodeOptions options,
                                                      NodeRuntimeOptions runtime = {});
  ~Node();  // Stop()s

  // Binds the listen address and admin socket and dials the parent.
  absl::Status Start();
  // Closes every link and flushes the writer. Idempotent.
  void Stop();

  const NodeOptions& options() const { return options_; }
  // The port the Sync service listens on (resolves ":0"); 0 if none.
  int sync_port() const { return sync_port_; }
  // The port of the TCP admin listener; 0 if none.
  int admin_tcp_port() const { return admin_tcp_port_; }
  // The port serving /metrics; 0 if not served.
  int metrics_port() const;

  // ---- The committee's use cases, by area (valid after Create) ----------
  DirectiveActs& directives() { return *directives_; }
  ReportActs& reports() { return *reports_; }
  ObligationActs& obligations() { return *obligations_; }
  TaskActs& tasks() { return *tasks_; }
  RosterActs& roster() { return *roster_; }

  // Shorthands for the use cases above (the Admin service and tests).
  absl::StatusOr<std::string> IssueDirective(const v1::IssueDirectiveRequest& r) { return directives_->Issue(r); }
  absl::StatusOr<std::string> AckDirective(const std::string& id) { return directives_->Ack(id); }
  absl::StatusOr<std::string> AckDirective(const v1::AckDirectiveRequest& r) { return directives_->Ack(r); }
  absl::StatusOr<v1::RecallDirectiveReply> RecallDirective(const v1::RecallDirectiveRequest& r) {
    return directives_->Recall(r);
  }
  absl::StatusOr<std::string> SubmitReport(const v1::SubmitReportRequest& r) { return reports_->Submit(r); }
  absl::StatusOr<v1::WriteReply> AddObligation(const v1::AddObligationRequest& r) { return obligations_->Add(r); }
  absl::StatusOr<v1::ListObligationsReply> ListObligations(const v1::ListFilter& filter = {}) const {
    return ListObligationsIn(*store_, options_.id, filter);
  }
  // What the units below have not done by today (this node's clock), in
  // working days of the calendar in force, with the extensions granted.
  // Down the whole subtree: this node's own view and what the units below
  // reported in their status.
  absl::StatusOr<v1::ListOverdueReply> ListOverdue() const;
  // Every unit below this node (node/subtree.h).
  absl::StatusOr<v1::SubtreeListReply> ListSubtree() const;
  // This node's status record as it would be written now.
  absl::StatusOr<v1::UnitStatus> ComputeUnitStatus() const ABSL_LOCKS_EXCLUDED(behind_mu_);
  absl::StatusOr<v1::WriteReply> AssignTask(const v1::AssignTaskRequest& r) { return tasks_->Assign(r); }
  absl::StatusOr<v1::WriteReply> SetTaskStatus(const v1::SetTaskStatusRequest& r) { return tasks_->SetStatus(r); }
  absl::StatusOr<v1::ListTasksReply> ListTasks(const v1::ListFilter& filter = {}) const {
    return ListTasksIn(*store_, filter);
  }
  // Extensions and the calendar (issue 12 items 2-3).
  absl::StatusOr<v1::WriteReply> AskExtension(const v1::ExtensionAskRequest& r) { return extensions_->Ask(r); }
  absl::StatusOr<v1::WriteReply> DecideExtension(const v1::ExtensionDecideRequest& r) {
    return extensions_->Decide(r);
  }
  absl::StatusOr<v1::ExtensionListReply> ListExtensions(const v1::ListFilter& filter = {}) const {
    return ListExtensionsIn(*store_, options_.id, filter);
  }
  absl::StatusOr<v1::WriteReply> SetCalendar(const v1::CalendarSetRequest& r) { return calendar_->Set(r); }
  absl::StatusOr<v1::CalendarShowReply> ShowCalendar(uint32_t year) const {
    return ShowCalendarIn(*store_, options_.id, year);
  }
  absl::StatusOr<v1::WriteReply> SetReportStatus(const v1::SetReportStatusRequest& r) {
    return reports_->SetStatus(r);
  }
  absl::StatusOr<v1::WriteReply> AddUnit(const v1::AddUnitRequest& r) { return roster_->AddUnit(r); }
  absl::StatusOr<v1::WriteReply> AddBody(const v1::AddBodyRequest& r) { return roster_->AddBody(r); }
  absl::StatusOr<v1::WriteReply> AddMember(const v1::AddMemberRequest& r) { return roster_->AddMember(r); }
  absl::StatusOr<v1::WriteReply> EndMember(const v1::EndMemberRequest& r) { return roster_->EndMember(r); }
  absl::StatusOr<v1::WriteReply> SetActing(const v1::SetActingRequest& r) { return roster_->SetActing(r); }
  absl::StatusOr<v1::SetAbsenceReply> SetAbsence(const v1::SetAbsenceRequest& r) { return roster_->SetAbsence(r); }
  absl::StatusOr<v1::WriteReply> AddAuthorisation(const v1::AddAuthorisationRequest& r) {
    return roster_->AddAuthorisation(r);
  }
  absl::StatusOr<v1::ListRosterReply> ListRoster(const v1::ListRosterRequest& r) const {
    return roster_->ListRoster(r);
  }
  // Today's legal date on this node's clock.
  std::string Today() const { return local_->Today(); }

  // ---- Listings (node/listings.h) ----
  absl::StatusOr<v1::ListDirectivesReply> ListDirectives(const v1::ListDirectivesRequest& filter = {}) const {
    return ListDirectivesIn(*store_, filter);
  }
  absl::StatusOr<v1::ListReportsReply> ListReports(const v1::ListReportsRequest& filter = {}) const {
    return ListReportsIn(*store_, filter);
  }
  absl::StatusOr<v1::DirectiveInfo> ShowDirective(const std::string& id) const { return ShowDirectiveIn(*store_, id); }
  absl::StatusOr<v1::ReportInfo> ShowReport(const std::string& id) const { return ShowReportIn(*store_, id); }
  absl::StatusOr<v1::ListQuarantineReply> ListQuarantine(const v1::ListQuarantineRequest& page = {}) const {
    return ListQuarantineIn(*store_, page);
  }
  // Verifies `crl` against the CA and publishes it to this node's subtree.
  absl::StatusOr<v1::PublishRevocationListReply> PublishRevocationList(const std::string& crl);
  // ---- What the node says about itself (node/node_status.cc) ----
  v1::StatusReply GetStatus() const;
  // BEHIND of each peer: counted now (a pass over the log after what the
  // peer acknowledged), or as last counted (by `peers` or the status
  // reporter: what a /metrics scrape reads, which never scans).
  enum class PeersBehind { kCount, kAsLastCounted };
  v1::PeersReply ListPeers(PeersBehind count = PeersBehind::kCount) const ABSL_LOCKS_EXCLUDED(behind_mu_);
  // The figures /metrics serves, each cheap to read (no scan, no file).
  struct Health {
    uint64_t head_seq = 0;
    uint64_t record_count = 0;
    uint64_t refused_handshakes = 0;
    uint64_t revoked_certificates = 0;
    uint64_t expiring_certificates = 0;  // own, parent's, children's, within 30 days
    uint64_t storage_failures = 0;       // writes refused for lack of room (map or disk full)
    uint64_t receipt_failures = 0;       // receipt registrations whose write failed (node/receipts.h)
    uint64_t receipt_retries = 0;        // passes made to retry them
  };
  Health GetHealth() const;
  // True when the store writer completes a no-op job within `timeout`: the
  // node still makes progress (the systemd watchdog's question).
  bool WriterResponsive(absl::Duration timeout);

  // ---- Serving and readiness (docs/operations.md, "Observing a node") ----
  // Whether the node serves: started, not stopping, not recovering. Every
  // gRPC listener's health service (grpc.health.v1, for "" and its own
  // service) says SERVING exactly then, NOT_SERVING otherwise. This is what
  // the listeners were last told: once it is true, they say SERVING.
  bool serving() const ABSL_LOCKS_EXCLUDED(health_mu_);
  // /readyz: serving, and the store accepts writes (no write refused for
  // lack of room in the last 10 minutes). `reason` is "" when ready, else
  // the first reason (starting, stopping, the recovery, the store's warning).
  struct Readiness {
    bool ready = false;
    std::string reason;
  };
  Readiness GetReadiness() const ABSL_LOCKS_EXCLUDED(health_mu_);
  // Latencies measured by the store writer and the links (for /metrics).
  const LatencyMetrics& latencies() const { return *latencies_; }

  // Who made an admin call, for the audit log: "uid:<n>(<user>)" on the
  // Unix socket (the kernel's peer credentials), "cn:<CN>" over the mTLS
  // listener (the admin certificate's subject CN, verified at the
  // handshake), else "unknown(<peer>)".
  std::string AdminCaller(const grpc::ServerContext& context) const;

  // Blocks until the change log's head reaches `seq` or `timeout` passes;
  // returns whether it did. Woken by each commit, so it costs no CPU while
  // waiting (benchmarks and tests measure with it).
  bool WaitForHead(uint64_t seq, std::chrono::milliseconds timeout) const;

  // The largest Admin request accepted: an act with its attachments.
  int AdminMaxMessageBytes() const;
  // Reads only: every write goes through the node's one writer (Write).
  const LmdbStore& store() const { return *store_; }
  // Runs `job` in a transaction of the node's store writer and waits for its
  // commit: the only way to write the store beside the node's own writes
  // (a second writer would allocate the log's sequences twice). For tests
  // and tools that plant state by hand.
  absl::Status Write(GroupCommitWriter::Job job);
  // Streams refused at the Sync service (not a child, no identity).
  uint64_t refused_streams() const { return sync_service_ ? sync_service_->refused() : 0; }

 private:
  Node(NodeOptions options, NodeRuntimeOptions runtime);

  void OnCommit();
  // Refused handshakes and streams over every listener; the last reason.
  uint64_t RefusedHandshakes(std::string* last_refusal) const;
  std::vector<std::string> CertificateWarnings() const;
  absl::Status LoadRevocationLists();
  // Loads the rosters and the clock from the store (start-up).
  absl::Status LoadRosterAndClock();
  // Closes every live link; peers reconnect and are checked again.
  void CloseAllLinks(const std::string& why);
  // The store's warning while a write was refused for lack of room in the
  // last 10 minutes; "" otherwise.
  std::string StorageWarning() const;
  // Changes whenever this node's status may have (StatusReporter::Fingerprint).
  std::string StatusFingerprint() const;
  // Keeps counts of records behind per peer for ListPeers(kAsLastCounted).
  void NoteBehind(const std::map<std::string, uint64_t>& counted) const ABSL_LOCKS_EXCLUDED(behind_mu_);
  // Registers `server`'s health service (the default one, for "" and
  // `service`) and sets it to the node's state now.
  void WatchHealth(grpc::Server& server, const std::string& service) ABSL_LOCKS_EXCLUDED(health_mu_);
  // Sets every registered health service to ServingLocked(). Called after
  // each change of the phase or of the recovery gate.
  void UpdateHealth() ABSL_LOCKS_EXCLUDED(health_mu_);
  bool ServingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(health_mu_);

  const NodeOptions options_;
  const NodeRuntimeOptions runtime_;
  std::unique_ptr<sync::Clock> owned_clock_;
  const sync::Clock* clock_;
  sync::HybridClock hlc_;

  RevocationSet revocations_;  // before verifier_ and links, which point to it
  RecoveryGate recovery_;      // before local_ and the links, which point to it
  // Signers' certificates by digest; before signer_, verifier_, local_ and
  // the links, which point to it.
  CertificateBook certificates_;
  // The committee's admission and rosters (node/domain/admission.h).
  domain::CommitteeAdmission admission_;
  std::unique_ptr<RenewingSigner> signer_;
  std::unique_ptr<Verifier> verifier_;
  std::unique_ptr<NodeSignatureCheck> signatures_;
  // The one path by which versions become state; used on the writer thread
  // (and CheckAlone on the verify stage).
  std::unique_ptr<sync::Replica> replica_;
  std::shared_ptr<PeerCheck> server_check_;
  std::shared_ptr<PeerCheck> client_check_;
  std::unique_ptr<LmdbStore> store_;
  LinkRegistry registry_;
  LinkContext link_context_;
  // Fed by writer_ and the links (through link_context_); before them, so
  // destroyed after.
  const std::shared_ptr<LatencyMetrics> latencies_ = std::make_shared<LatencyMetrics>();
  std::unique_ptr<GroupCommitWriter::TxnObserver> txn_observer_;  // outlives writer_
  std::unique_ptr<GroupCommitWriter> writer_;
  // Verifies incoming batches before the writer; destroyed before writer_.
  std::unique_ptr<SerialExecutor> verify_stage_;
  // What follows a commit, off the writer's thread so that it never delays
  // the next commit: feeding the links what was committed (OnCommit; a
  // link's scan of new log entries) and freeing applied batches. Stop()
  // destroys it after writer_, which posts to it.
  std::unique_ptr<SerialExecutor> after_commit_stage_;
  std::atomic<bool> feed_posted_{false};  // a feed is posted and has not started
  // The use cases; every act goes through local_, which writes with writer_
  // (declared before them, so destroyed after). Stop() closes local_ before
  // draining the writer, whose completions may ask for receipts.
  std::unique_ptr<LocalActs> local_;
  std::unique_ptr<DirectiveActs> directives_;
  std::unique_ptr<ReportActs> reports_;
  std::unique_ptr<ObligationActs> obligations_;
  std::unique_ptr<TaskActs> tasks_;
  std::unique_ptr<ExtensionActs> extensions_;
  std::unique_ptr<CalendarActs> calendar_;
  std::unique_ptr<RosterActs> roster_;
  // Registers receipts through directives_ and reports_; its retry thread
  // is stopped by Stop() before the writer drains.
  std::unique_ptr<ReceiptRegistrar> receipts_;
  std::unique_ptr<SyncService> sync_service_;
  std::unique_ptr<grpc::Server> sync_server_;
  std::unique_ptr<ParentLink> parent_;
  std::unique_ptr<grpc::Service> admin_service_;
  // Accepts the admin socket's connections into admin_server_; stopped
  // before it shuts down.
  std::unique_ptr<AdminSocket> admin_socket_;
  std::unique_ptr<grpc::Server> admin_server_;
  std::shared_ptr<PeerCheck> admin_check_;
  std::unique_ptr<grpc::Server> admin_tcp_server_;
  int admin_tcp_port_ = 0;
  std::unique_ptr<MetricsServer> metrics_server_;
  // Started last by Start(), stopped first by Stop(): it writes through local_.
  std::unique_ptr<StatusReporter> status_reporter_;
  std::unique_ptr<HeadPublisher> head_publisher_;
  // Sends, about once a second, what each link's session kept back as
  // having nothing for its peer (sync::Session::FlushIdle).
  std::unique_ptr<Periodic> idle_flusher_;
  int sync_port_ = 0;
  bool stopped_ = false;

  // What the health services say. Lock order: health_mu_ before the
  // recovery gate's lock and each health service's own.
  enum class Phase { kCreated, kStarted, kStopping };
  mutable absl::Mutex health_mu_;
  Phase phase_ ABSL_GUARDED_BY(health_mu_) = Phase::kCreated;
  struct HealthTarget {
    grpc::HealthCheckServiceInterface* service;  // owned by its server, which outlives the entry
    std::string name;                            // e.g. "steersync.v1.Sync"
  };
  // Emptied by Stop() once the servers are shut down.
  std::vector<HealthTarget> health_ ABSL_GUARDED_BY(health_mu_);
  // ServingLocked() as last applied to health_ (UpdateHealth, WatchHealth).
  bool announced_serving_ ABSL_GUARDED_BY(health_mu_) = false;

  // Records behind per peer as last counted (ListPeers, ComputeUnitStatus).
  mutable absl::Mutex behind_mu_;
  mutable std::map<std::string, uint64_t> behind_counted_ ABSL_GUARDED_BY(behind_mu_);

  // Guards no member: WaitForHead() awaits the head sequence on it, and
  // OnCommit() takes and releases it after every commit, which re-evaluates
  // that wait's condition (absl::Mutex), so no commit is missed.
  mutable absl::Mutex head_mu_;
};

using domain::LegalDate;

}  // namespace steersync::node
