#pragma once
// One live replication link to a neighbour (parent or child), independent of
// which side dialled. It owns the sync::Session of the stream, feeds apply
// requests to the store writer, and hands outgoing messages to the transport.
//
// Thread safety: thread-safe. Lock order: wake_mu_ before the transport's own
// lock before mu_; Wake() is never called with mu_ held.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "node/catch_up.h"
#include "node/certificate_book.h"
#include "node/identity.h"
#include "node/revocation.h"
#include "node/serial_executor.h"
#include "node/recovery.h"
#include "node/store/group_commit_writer.h"
#include "node/store/lmdb_store.h"
#include "node/log_budget.h"
#include "steersync/v1/sync.pb.h"
#include "sync/clock.h"
#include "sync/replica.h"
#include "sync/attachments.h"
#include "sync/session.h"

namespace steersync::node {

enum class Relation { kParent, kChild };

// Bounds on what one peer may send on one stream (flood protection), and on
// what the stream may cost this node.
struct InboundLimits {
  // Sustained messages per second and burst size of the token bucket.
  double messages_per_second = 5000;
  double burst = 10000;
  // The stream reads no further frame while the batches it received and not
  // yet applied exceed this many bytes, or while more than
  // max_queued_notices refusal notices wait to be sent to the peer (a peer
  // that provokes refusals and reads slowly): its memory is bounded, and the
  // peer is slowed, not dropped.
  size_t max_pending_bytes = 16 << 20;
  size_t max_queued_notices = 1024;
  // Log lines about this peer's refused versions and notices (the rest are
  // counted, and reported by the next line).
  double log_lines_per_second = 10;
  double log_burst = 50;
};

// Meta-key prefix of the notices peers sent back for versions they refused:
// "returned/<peer>\n<record id>" -> "<micros>\n<reason code>\n<detail>".
inline constexpr char kReturnedPrefix[] = "returned/";

// What a link needs from its node. All members outlive every link.
struct LinkContext {
  std::string self_id;
  LmdbStore* store = nullptr;
  GroupCommitWriter* writer = nullptr;
  const sync::Clock* clock = nullptr;
  // The one path by which a peer's versions become state (sync/replica.h).
  sync::Replica* replica = nullptr;
  sync::SessionOptions session_defaults;
  // Revocation lists admitted so far: the transports refuse revoked peers.
  const RevocationSet* revocations = nullptr;
  // Signers' certificates (issue 13 item 2): those a peer's batch carries
  // are checked by `verifier`, added here and kept in the store with the
  // batch; those our records name are sent once per stream.
  CertificateBook* certificates = nullptr;
  const Verifier* verifier = nullptr;
  InboundLimits limits;
  // Where incoming batches are checked (signatures above all) before they
  // reach the writer; null: on the calling thread.
  SerialExecutor* verify_stage = nullptr;
  // Runs work that follows a commit off the writer's thread, in commit
  // order (an applied batch's receipts, ack and freeing); outlives the
  // writer. Null: that work runs inline.
  SerialExecutor* after_commit_stage = nullptr;
  // Called after a commit (on the after-commit stage) with the ids and kinds
  // of the versions admitted from the peer (the node registers receipts, D30
  // Art. 21.2c). Must not block.
  std::function<void(std::vector<std::pair<std::string, v1::RecordKind>>)> on_admitted;
  // Recovery from neighbours (node/recovery.h); null: never recovers. While
  // it is closed, every link asks its peer to return this node's versions;
  // the parent's (the root: a child's) completes it. Must outlive the links.
  RecoveryGate* recovery = nullptr;
  // This node has a parent link ([parent] address): the parent completes a
  // recovery; on a top node (the root, or a province running without the
  // national level) a child does.
  bool has_parent = false;
  // Called once recovery completed. Must not block.
  std::function<void()> on_recovered;
  // Told, on the after-commit stage, how long each applied batch of a peer took
  // from its arrival to its commit (steady clock). May be empty; must not
  // block (the node's apply histogram).
  std::function<void(std::chrono::steady_clock::duration)> on_batch_applied;
  // Called on the writer thread after a chunk of an attachment committed
  // here: every link retries the peer requests it parked for lack of that
  // chunk (a relay forwards a file while it is still arriving). May be
  // empty; must not block.
  std::function<void()> on_blob_progress;
};

// Attachments over one stream (sync/attachments.h, docs/replication.md).
// Chunks this node asks for at once; what a peer's chunks may hold in its
// memory is this many times kAttachmentChunkBytes.
inline constexpr size_t kChunkFetchWindow = 8;
// A peer's chunk requests not yet answered (sent, refused or parked while
// the file is still arriving here); one more is a protocol error. Bounds
// what answering one peer holds in memory (chunks queued to send).
inline constexpr size_t kMaxChunkRequestsPending = 2 * kChunkFetchWindow;

// Counters that outlive a single stream (kept per peer by the node).
struct PeerStats {
  std::atomic<uint64_t> records_sent{0};
  std::atomic<uint64_t> records_received{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> acked_seq{0};
  std::atomic<int64_t> last_contact_micros{0};
  std::atomic<bool> connected{false};
  // notAfter of the certificate the peer presented last, Unix seconds.
  std::atomic<int64_t> cert_not_after{0};
  // The peer's clock minus ours at its last Hello, microseconds (issue 11 item 3).
  std::atomic<int64_t> clock_offset_micros{0};
  // Streams closed for breaking the protocol or flooding.
  std::atomic<uint64_t> protocol_errors{0};
  // Refusal notices ignored because they named no valid record id or a
  // record this node does not hold.
  std::atomic<uint64_t> bad_notices{0};
  // Times the stream stopped reading because the peer's unapplied batches or
  // unsent refusal notices reached their bound (InboundLimits).
  std::atomic<uint64_t> read_pauses{0};
  // The catch-up under way on this link (node/catch_up.h); 0 / -1 when none.
  std::atomic<uint64_t> catch_up_remaining{0};
  std::atomic<uint64_t> catch_up_records_per_second{0};
  std::atomic<int64_t> catch_up_eta_seconds{-1};
  // Attachments: chunks received and stored (and their bytes), chunks
  // refused (tampered or asked by no one; a tampered one also counts in
  // `rejected`, like a forged record), chunks sent.
  std::atomic<uint64_t> chunks_received{0};
  std::atomic<uint64_t> chunk_bytes_received{0};
  std::atomic<uint64_t> chunks_refused{0};
  std::atomic<uint64_t> chunks_sent{0};
};

class Link : public std::enable_shared_from_this<Link> {
 public:
  Link(const LinkContext& context, std::string peer_id, Relation relation,
       std::shared_ptr<PeerStats> stats);

  const std::string& peer_id() const { return peer_id_; }
  Relation relation() const { return relation_; }

  // Transport hooks. `wake` asks the transport to pull messages with
  // TakeNext(); `close` ends the stream with a status; `read` starts the
  // transport's next read. All may be called from any thread until Detach()
  // returns. The transport starts the first read (after Start()); the link
  // starts every later one, at the end of OnMessage() while the stream is
  // within InboundLimits, else once it is again. At most one read is ever
  // in flight. `read` must take no lock the transport holds while calling
  // into the link.
  void Attach(std::function<void()> wake, std::function<void(absl::Status)> close,
              std::function<void()> read) ABSL_LOCKS_EXCLUDED(wake_mu_, read_mu_);
  // After this returns, neither hook is called again.
  void Detach() ABSL_LOCKS_EXCLUDED(wake_mu_, read_mu_);

  // Reads our checkpoint of the peer's log and sends Hello.
  void Start() ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  void OnMessage(v1::SyncMessage&& message) ABSL_LOCKS_EXCLUDED(mu_, wake_mu_, read_mu_);
  // Our log grew.
  void OnLocalAppend() ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  // The peer has batches of ours in flight (it is catching up, or a live
  // batch is not acknowledged yet).
  bool HasBatchesInFlight() const ABSL_LOCKS_EXCLUDED(mu_);
  // Called about once a second: sends the stretch of our log with nothing
  // for the peer that the session kept back (sync::Session::FlushIdle).
  void FlushIdle() ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  // Ends the stream because the peer broke the protocol; counted once.
  void CloseForProtocolError(absl::Status status) {
    Fail(std::move(status), /*protocol_error=*/true);
  }
  // Ends the stream with `status` (the peer will reconnect).
  void Close(absl::Status status) { Fail(std::move(status)); }
  // A newer stream from the same peer took over: close this one.
  void OnReplaced() { Fail(absl::AbortedError("replaced by a newer stream from the same peer")); }
  // Pops the next message to send, if any.
  bool TakeNext(v1::SyncMessage* out) ABSL_LOCKS_EXCLUDED(mu_);
  // After TakeNext, with no lock of the transport held: reading resumes if it
  // paused for notices the peer had not taken yet.
  void ResumeReading() ABSL_LOCKS_EXCLUDED(mu_, read_mu_) { ResumeIfRoom(); }
  // A chunk of some file committed here: answers the peer's requests parked
  // for it.
  void OnBlobProgress() ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);

 private:
  // OnLocalAppend (idle: FlushIdle): feeds the session and sends its output.
  void FeedSession(bool idle) ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  // Keeps a peer's refusal of a version we sent, for `steerctl quarantine list`.
  void RecordReturned(const v1::Rejection& rejection);
  // Stores the highest own counter the peer said (Hello and Batch
  // writer_counter), said back to it as your_counter if it ever loses its
  // store, when no batch to apply keeps it (sync::Replica::KeepPeerCounter;
  // ApplyFromPeer keeps a batch's). At most one such write in flight
  // (keeping_counter_).
  void KeepPeerCounter() ABSL_LOCKS_EXCLUDED(mu_);
  // Moves session output into the outbox and returns the apply requests, to
  // be submitted once mu_ is released.
  std::vector<sync::ApplyRequest> DrainSessionLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Copies catch_up_'s figures into the peer's stats (status, peers, metrics).
  void PublishCatchUpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  struct PendingApply;
  // Hands apply requests to the verify stage, then to the store writer.
  // Each batch's BytesOf() counts against InboundLimits::max_pending_bytes
  // until it is applied.
  void SubmitApplies(std::vector<sync::ApplyRequest> requests) ABSL_LOCKS_EXCLUDED(mu_);
  static size_t BytesOf(const sync::ApplyRequest& request);
  // Within InboundLimits: no more unapplied bytes nor queued notices.
  bool HasRoomLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a message: starts the next read, or pauses reading until room returns.
  void ReadNext() ABSL_LOCKS_EXCLUDED(mu_, read_mu_);
  // After room was freed: starts the paused read, if there is one.
  void ResumeIfRoom() ABSL_LOCKS_EXCLUDED(mu_, read_mu_);
  void StartRead() ABSL_LOCKS_EXCLUDED(read_mu_);
  // The stages of one batch (see PendingApply): static, because they run
  // when the link may already be gone.
  static void CheckBatch(const LinkContext& ctx, const std::string& peer, PendingApply& batch);
  // Adds the trusted certificates the batch carried to the book (before its
  // records are checked) and notes them for ApplyBatch to keep.
  static void LearnCertificates(const LinkContext& ctx, const std::string& peer, PendingApply& batch);
  // Adds to an outgoing batch the certificates its records name that this
  // stream has not carried yet.
  void AttachCertificatesLocked(v1::Batch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static absl::Status ApplyBatch(const LinkContext& ctx, const std::string& peer,
                                 const std::atomic<bool>& stream_failed, PendingApply& batch,
                                 LmdbStore::View& view);
  // After the peer's Hello: a peer holding a newer version of ours than we
  // do means our store was replaced; closes the link to ask again.
  void CheckPeerHello(uint64_t your_counter) ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  // Completes recovery once the peer's log up to its Hello is applied.
  void MaybeCompleteRecovery() ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  // On the after-commit stage, after the batch's transaction ended.
  void OnBatchApplied(PendingApply& batch, absl::Status status)
      ABSL_LOCKS_EXCLUDED(mu_, wake_mu_, read_mu_);
  // Returns true when this call failed the link (false if it already was).
  // A protocol error is counted before the stream is closed, so whoever sees
  // the stream end also sees the count.
  bool Fail(absl::Status status, bool protocol_error = false) ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  void Wake() ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);

  // ---- Attachments (link_attachments.cc) ----
  static bool IsAttachmentMessage(const v1::SyncMessage& m) {
    return m.has_chunk_request() || m.has_chunk() || m.has_chunk_refused();
  }
  // After the session accepted it (CheckAttachmentMessage).
  void OnAttachmentMessage(v1::SyncMessage& message) ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  // Sending side: answers or parks one request of the peer.
  void AnswerChunkRequest(const v1::ChunkRequest& request) ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  // Whether a record held here and sent to the peer names the file.
  bool NamedForPeer(const std::string& sha256) ABSL_LOCKS_EXCLUDED(mu_);
  // Receiving side.
  void OnChunk(v1::Chunk& chunk) ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  void OnChunkStored(const std::string& sha256, uint32_t index, size_t bytes,
                     absl::StatusOr<LmdbStore::View::ChunkOutcome> outcome)
      ABSL_LOCKS_EXCLUDED(mu_, wake_mu_, read_mu_);
  // Asks for the chunks of `files` this node lacks.
  void Fetch(const std::vector<v1::Attachment>& files) ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  void FetchArrivingFromPeer() ABSL_LOCKS_EXCLUDED(mu_, wake_mu_);
  // Moves the fetcher's requests into the outbox.
  void DrainFetcherLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One warning line about this peer, within its log budget.
  void WarnAboutPeer(const std::string& what) ABSL_LOCKS_EXCLUDED(mu_);

  const LinkContext& context_;
  const std::string peer_id_;
  const Relation relation_;
  const std::shared_ptr<PeerStats> stats_;

  absl::Mutex wake_mu_;
  std::function<void()> wake_ ABSL_GUARDED_BY(wake_mu_);
  std::function<void(absl::Status)> close_ ABSL_GUARDED_BY(wake_mu_);

  // Guards only the read hook; taken with no other lock of the link held.
  absl::Mutex read_mu_;
  std::function<void()> read_ ABSL_GUARDED_BY(read_mu_);

  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(wake_mu_);
  sync::Session session_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::SyncMessage> outbox_ ABSL_GUARDED_BY(mu_);
  // Digests of the certificates this stream has carried to the peer (one
  // per signer the peer was sent records of: bounded by the federation).
  std::set<std::string> certificates_sent_ ABSL_GUARDED_BY(mu_);
  // Chunks to send: taken only when outbox_ is empty, so a batch or an ack
  // waits behind one chunk at most, never behind a file.
  std::deque<v1::SyncMessage> chunk_outbox_ ABSL_GUARDED_BY(mu_);
  // The peer's chunk requests not yet answered; <= kMaxChunkRequestsPending.
  size_t chunk_requests_pending_ ABSL_GUARDED_BY(mu_) = 0;
  // Requests for chunks this node does not hold yet (it is fetching them).
  std::vector<v1::ChunkRequest> parked_requests_ ABSL_GUARDED_BY(mu_);
  // Files the peer may have (named by a record sent to it), checked once.
  std::set<std::string> named_for_peer_ ABSL_GUARDED_BY(mu_);
  sync::ChunkFetcher fetcher_ ABSL_GUARDED_BY(mu_){kChunkFetchWindow};
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  double tokens_ ABSL_GUARDED_BY(mu_);  // flood bucket
  int64_t tokens_at_micros_ ABSL_GUARDED_BY(mu_) = 0;
  // Bytes of frames whose batches are submitted and not yet applied.
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Refusal notices in outbox_.
  size_t queued_notices_ ABSL_GUARDED_BY(mu_) = 0;
  // No read is in flight: the next starts when room returns (ResumeIfRoom).
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  LogBudget log_budget_ ABSL_GUARDED_BY(mu_);
  uint64_t sent_before_session_ = 0;  // stats_->records_sent at Start()
  bool asked_recovery_ ABSL_GUARDED_BY(mu_) = false;  // our Hello asked for our versions
  bool hello_seen_ ABSL_GUARDED_BY(mu_) = false;
  bool recovery_done_ ABSL_GUARDED_BY(mu_) = false;
  CatchUpProgress catch_up_ ABSL_GUARDED_BY(mu_);
  uint64_t counter_said_ ABSL_GUARDED_BY(mu_) = 0;     // the peer's own counter, stored
  bool keeping_counter_ ABSL_GUARDED_BY(mu_) = false;  // a write of it is in flight
  // Set (on the writer thread) when an apply of this stream failed; the
  // stream's later applies then write nothing. Shared with queued jobs.
  const std::shared_ptr<std::atomic<bool>> apply_failed_ =
      std::make_shared<std::atomic<bool>>(false);
};

}  // namespace steersync::node
