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
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "node/config.h"
#include "node/identity.h"
#include "node/link.h"
#include "node/metrics.h"
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
  TlsOptions tls;
  InboundLimits limits;
  // Largest Sync message accepted; larger frames end the stream.
  int max_message_bytes = 64 << 20;
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

  // ---- Operations behind the Admin service -------------------------------
  absl::StatusOr<std::string> IssueDirective(const v1::IssueDirectiveRequest& request);
  absl::StatusOr<std::string> AckDirective(const std::string& directive_id);
  absl::StatusOr<std::string> AckDirective(const v1::AckDirectiveRequest& request);
  // Recalls one of this node's directives from every unit it addressed
  // (D30 Art. 18.4): each unit's receipt becomes RECALLED.
  absl::StatusOr<v1::RecallDirectiveReply> RecallDirective(const v1::RecallDirectiveRequest& request);
  // Sets a report's status: WITHDRAWN/SUBMITTED by the reporting unit,
  // ACCEPTED/RETURNED by the receiving one (§1.10).
  absl::StatusOr<v1::WriteReply> SetReportStatus(const v1::SetReportStatusRequest& request);

  // ---- Roster (node/node_roster.cc) ----
  absl::StatusOr<v1::WriteReply> AddUnit(const v1::AddUnitRequest& request);
  absl::StatusOr<v1::WriteReply> AddBody(const v1::AddBodyRequest& request);
  absl::StatusOr<v1::WriteReply> AddMember(const v1::AddMemberRequest& request);
  absl::StatusOr<v1::WriteReply> EndMember(const v1::EndMemberRequest& request);
  absl::StatusOr<v1::WriteReply> SetActing(const v1::SetActingRequest& request);
  absl::StatusOr<v1::SetAbsenceReply> SetAbsence(const v1::SetAbsenceRequest& request);
  absl::StatusOr<v1::WriteReply> AddAuthorisation(const v1::AddAuthorisationRequest& request);
  absl::StatusOr<v1::ListRosterReply> ListRoster(const v1::ListRosterRequest& request) const;
  // Today's legal date on this node's clock.
  std::string Today() const;
  // A unit registered in the roster held here (`steerctl unit add`) or one
  // that has linked to this node: what a directive may be addressed to.
  absl::StatusOr<bool> IsKnownUnit(const std::string& unit) const;
  absl::StatusOr<std::string> SubmitReport(const v1::SubmitReportRequest& request);
  absl::StatusOr<v1::ListDirectivesReply> ListDirectives() const;
  absl::StatusOr<v1::ListReportsReply> ListReports() const;
  absl::StatusOr<v1::ListQuarantineReply> ListQuarantine() const;
  // Verifies `crl` against the CA and publishes it to this node's subtree.
  absl::StatusOr<v1::PublishRevocationListReply> PublishRevocationList(const std::string& crl);
  v1::StatusReply GetStatus() const;
  v1::PeersReply ListPeers() const;

  // Blocks until the change log's head reaches `seq` or `timeout` passes;
  // returns whether it did. Woken by each commit, so it costs no CPU while
  // waiting (benchmarks and tests measure with it).
  bool WaitForHead(uint64_t seq, std::chrono::milliseconds timeout) const;

  LmdbStore& store() { return *store_; }
  const LmdbStore& store() const { return *store_; }
  // Streams refused at the Sync service (not a child, no identity).
  uint64_t refused_streams() const { return sync_service_ ? sync_service_->refused() : 0; }

 private:
  Node(NodeOptions options, NodeRuntimeOptions runtime);

  // Builds and applies one local version in the writer; returns its id.
  // `make` fills kind, audience and payload given the new local counter and
  // returns the id; it may read the store through the view.
  using BodyMaker = std::function<absl::StatusOr<std::string>(
      uint64_t counter, LmdbStore::View& view, v1::RecordBody& body)>;
  // What a local write does and in which capacity (DOMAIN-MODEL.md §5): the
  // writer computes its authority from the roster on today's legal date.
  struct LocalAct {
    domain::Act act;
    v1::ActAs as;
    // The version the edit is based on, when it is not the current one at
    // write time (`--if-version`): the edit is then concurrent with whatever
    // was written since, and R1..R5 decide. Unset: the current version.
    std::optional<v1::Version> base;
  };
  struct Written {
    std::string id;
    std::string version;
  };
  absl::StatusOr<Written> WriteLocal(const LocalAct& act, BodyMaker make);
  // The same, without waiting: `done` runs on the writer thread.
  void SubmitLocal(LocalAct act, BodyMaker make, std::function<void(absl::StatusOr<Written>)> done);
  // Writes one roster record of this node (clerical: it transcribes a decision).
  absl::StatusOr<v1::WriteReply> WriteRoster(v1::RecordKind kind, std::string id,
                                             const google::protobuf::Message& payload);
  // The version `if_version` of record `id` (current, losing, or still in
  // the recent change log); nullopt when `if_version` is empty.
  absl::StatusOr<std::optional<v1::Version>> FindBase(const std::string& id,
                                                      const std::string& if_version) const;
  // D30 Art. 21.2c, S23: what arrives verified is registered received the
  // same day, automatically: a child's report RECEIVED, a directive from
  // above addressed to this unit ACKNOWLEDGED. For versions just admitted
  // from a peer; and at start-up for whatever is still unregistered.
  void RegisterReceipts(const std::vector<std::pair<std::string, v1::RecordKind>>& admitted);
  absl::Status RegisterPendingReceipts();
  void ReceiveReports(std::vector<std::string> report_ids);
  void ReceiveDirectives(std::vector<std::string> directive_ids);
  void OnCommit();
  absl::Status LoadRevocationLists();
  // Loads the rosters and the clock from the store (start-up).
  absl::Status LoadRosterAndClock();
  // Closes every live link; peers reconnect and are checked again.
  void CloseAllLinks(const std::string& why);

  const NodeOptions options_;
  const NodeRuntimeOptions runtime_;
  std::unique_ptr<sync::Clock> owned_clock_;
  const sync::Clock* clock_;
  sync::HybridClock hlc_;

  RevocationSet revocations_;  // before verifier_ and links, which point to it
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
  std::unique_ptr<GroupCommitWriter::TxnObserver> txn_observer_;  // outlives writer_
  std::unique_ptr<GroupCommitWriter> writer_;
  // Verifies incoming batches before the writer; destroyed before writer_.
  std::unique_ptr<SerialExecutor> verify_stage_;
  std::unique_ptr<SyncService> sync_service_;
  std::unique_ptr<grpc::Server> sync_server_;
  std::unique_ptr<ParentLink> parent_;
  std::unique_ptr<grpc::Service> admin_service_;
  std::unique_ptr<grpc::Server> admin_server_;
  std::shared_ptr<PeerCheck> admin_check_;
  std::unique_ptr<grpc::Server> admin_tcp_server_;
  int admin_tcp_port_ = 0;
  std::unique_ptr<MetricsServer> metrics_server_;
  int sync_port_ = 0;
  bool stopped_ = false;
  std::atomic<bool> local_writes_closed_{false};
  std::atomic<bool> unrostered_warned_{false};

  // Guards no member: the store's head sequence is read under it so that
  // WaitForHead() cannot miss the signal OnCommit() sends after every commit.
  mutable absl::Mutex head_mu_;
  mutable absl::CondVar head_cv_;  // signalled after every commit
};

// The directives held in `store` with their receipts and the status their
// relations give them (EFFECTIVE, SUPERSEDED, ...), whatever the arrival order.
absl::StatusOr<v1::ListDirectivesReply> ListDirectivesIn(const LmdbStore& store);

using domain::LegalDate;

}  // namespace steersync::node
