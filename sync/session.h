#pragma once
// The change-feed session of one link, as a state machine with no threads,
// no I/O and no clock. The transport feeds it messages; it answers with
// messages to send and batches to apply durably. The node runs it over gRPC,
// the tests over a simulated network.
//
// Protocol (see proto/steersync/v1/sync.proto):
//   both sides send Hello{applied_seq: how much of the peer's log I have};
//   each side then streams Batch{(after_seq, last_seq], records addressed to
//   the peer} from its log, with at most `window` batches unacknowledged;
//   the receiver applies each non-empty batch durably together with its
//   checkpoint and answers Ack{last_seq}, in order.
//
// Thread safety: not thread-safe; the owner serialises all calls.
// Invariants:
//   acked_seq_ <= sent_seq_ <= log head;
//   Acks go out in increasing order, and only for durably applied batches
//   (or for batches that carried no record for us).

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "steersync/v1/sync.pb.h"
#include "sync/store.h"

namespace steersync::sync {

// The protocol version every Hello carries. Compatible additions (new fields
// an older peer ignores) keep it; it changes only when the meaning of the
// exchange changes, and a peer speaking another version is refused
// (kFailedPrecondition, a protocol error). A Hello without one (0) comes from
// a peer older than the field, which speaks version 1.
// Version 2 (0.2.0): records name their signer's certificate by digest and
// batches carry the certificates (Batch.certificates); a version-1 peer
// could verify none of them.
// Version 3 (0.3.0): lean records (issue 13 item 2): an EC signature travels
// as r || s (Record.ec_signature) and a directive leaves its issuer and issue
// date to its version; a version-2 peer would refuse both.
inline constexpr uint32_t kProtocolVersion = 3;

// Records one incoming batch may hold (a sender's own batches hold at most
// SessionOptions::max_batch_records); a larger one is a protocol error.
inline constexpr size_t kMaxBatchRecordsAccepted = 10000;
// Each certificate a batch carries is named by one of its records at least:
// a batch with more certificates than records, or a certificate larger than
// this, is a protocol error.
inline constexpr size_t kMaxCertificateBytes = 16 << 10;
// The largest frame a sync stream accepts (grpc max receive message size):
// a batch (max_batch_bytes) plus one record of at most kMaxRecordBytes, with
// room to spare. It also bounds what one frame of tiny records costs to parse.
inline constexpr int kMaxSyncFrameBytes = 4 << 20;

struct SessionOptions {
  // This node's id and the peer's (both validated by the transport's auth).
  std::string self_id;
  std::string peer_id;
  // Upper bounds of one outgoing batch.
  size_t max_batch_records = 1000;
  size_t max_batch_bytes = 1 << 20;
  // Log entries scanned per batch before sending it even if few matched.
  size_t max_scan_entries = 4096;
  // Outgoing batches that may be unacknowledged at once.
  size_t window = 4;
};

// A batch from the peer that must be applied durably, with the peer's
// checkpoint `last_seq`, before the session may acknowledge it.
struct ApplyRequest {
  uint64_t last_seq = 0;
  // The epoch of the peer's log (its Hello); store it with the checkpoint.
  uint64_t peer_epoch = 0;
  std::vector<v1::Record> records;
  // Signers' certificates the batch carried (Batch.certificates): opaque
  // here, checked and kept by the owner.
  std::vector<std::string> certificates;
  // The highest counter of its own the peer has said so far (Hello, Batch
  // writer_counter), for the owner to keep with the batch: said back to the
  // peer if it ever loses its store, and kept this way at no commit of its own.
  uint64_t peer_writer_counter = 0;
};

struct SessionCounters {
  uint64_t records_sent = 0;
  uint64_t records_received = 0;
  uint64_t batches_sent = 0;
  uint64_t batches_received = 0;
};

class Session {
 public:
  // `log` must outlive the session.
  Session(SessionOptions options, const LogReader& log);

  // What our Hello says besides the checkpoint (recovery, DESIGN "Operations"):
  // whether we lost versions we wrote and ask the peer to return them, and
  // the highest counter of the peer's that we hold. Call before Start().
  // Our clock, said in Hello (0: not said). Call before Start().
  void SetClock(int64_t now_micros) { now_micros_ = now_micros; }
  void SetRecovery(bool recovering, uint64_t peer_counter_held) {
    recovering_ = recovering;
    peer_counter_held_ = peer_counter_held;
  }
  // Our own last counter, said in Hello (Hello.writer_counter). Call before Start().
  void SetOwnCounter(uint64_t counter) { own_counter_ = counter; }

  // Queues our Hello. `applied_seq` is the checkpoint of the peer's log we
  // hold, counted in the peer's log epoch `applied_epoch` (0: unknown).
  void Start(uint64_t applied_seq, uint64_t applied_epoch = 0);

  // Handles one message from the peer. Errors mean the peer broke the
  // protocol (kInvalidArgument / kFailedPrecondition) or the log could not be
  // read (other codes); the owner should then close the link.
  absl::Status OnMessage(v1::SyncMessage message);  // by value: batches are moved, not copied

  // Attachment messages (ChunkRequest, Chunk, ChunkRefused) travel beside
  // the feed and are handled by the owner (sync/attachments.h), which may
  // call this instead of OnMessage to keep the message: OK once the peer's
  // Hello arrived, kInvalidArgument before.
  absl::Status CheckAttachmentMessage() const;

  // The ApplyRequest with this `last_seq` is durable.
  void OnApplied(uint64_t last_seq);

  // Our log grew: send more if the window allows.
  absl::Status OnLocalAppend();
  // Sends the range of our log scanned with nothing for the peer and not
  // sent yet (see deferred below), if any and the window allows. The owner
  // calls it when idle, about once a second: the peer's checkpoint and the
  // writer-counter witness then trail our log by at most that long.
  absl::Status FlushIdle();

  // Drains what must be sent / applied, in order.
  std::vector<v1::SyncMessage> TakeOutgoing();
  std::vector<ApplyRequest> TakeApplyRequests();

  bool peer_hello_received() const { return peer_started_; }
  // From the peer's Hello: the highest counter of ours it holds, and the head
  // of its log then (what a recovering node waits to have applied).
  uint64_t peer_your_counter() const { return peer_your_counter_; }
  // The highest own counter the peer said, in its Hello or its Batches (0: none).
  uint64_t peer_writer_counter() const { return peer_writer_counter_; }
  uint64_t peer_log_head() const { return peer_log_head_; }
  // The peer's clock in its Hello (0: not sent).
  int64_t peer_sent_at_micros() const { return peer_sent_at_micros_; }
  // The peer's Hello said it speaks the attachment messages.
  bool peer_takes_attachments() const { return peer_takes_attachments_; }
  // Highest sequence of our log the peer acknowledged.
  uint64_t acked_seq() const { return acked_seq_; }
  uint64_t sent_seq() const { return sent_seq_; }
  // Batches sent and not yet acknowledged (a catching-up peer has its
  // window's worth; a caught-up one none, between live records).
  size_t batches_in_flight() const { return unacked_batches_.size(); }
  // Highest sequence of the peer's log we have acknowledged.
  uint64_t applied_seq() const { return applied_seq_; }
  const SessionCounters& counters() const { return counters_; }

 private:
  // `flush`: send a range with nothing for the peer even if it is short.
  absl::Status FillWindow(bool flush = false);
  absl::Status HandleBatch(v1::Batch& batch);
  absl::Status HandleAck(const v1::Ack& ack);
  void ReleaseAcks();

  const SessionOptions options_;
  const LogReader& log_;

  bool started_ = false;
  bool peer_started_ = false;
  bool recovering_ = false;
  int64_t now_micros_ = 0;
  uint64_t peer_counter_held_ = 0;
  uint64_t peer_your_counter_ = 0;
  uint64_t own_counter_ = 0;
  uint64_t peer_writer_counter_ = 0;
  uint64_t peer_log_head_ = 0;
  int64_t peer_sent_at_micros_ = 0;
  bool peer_takes_attachments_ = false;
  bool peer_takes_heads_ = false;  // its Hello said sequence_heads
  // The peer is recovering: its own versions in our log up to this
  // sequence go back to it (0: none).
  uint64_t echo_until_ = 0;
  uint64_t peer_epoch_ = 0;  // from the peer's Hello
  // Outgoing feed.
  uint64_t sent_seq_ = 0;
  uint64_t acked_seq_ = 0;
  std::deque<uint64_t> unacked_batches_;  // last_seq of each batch in flight
  // Fan-out (issue 13 item 4): a range of our log with nothing for the peer
  // is not sent at once as an empty batch: for a province, every report from
  // one commune would cost each other commune a message and an ack. It goes
  // with the next batch that has records, once it spans max_scan_entries,
  // to a recovering peer at once, or from FlushIdle().
  // sent_seq_ <= deferred_seq_: scanned to here, nothing for the peer.
  uint64_t deferred_seq_ = 0;
  uint64_t deferred_own_counter_ = 0;  // highest own counter in that range
  // Incoming feed.
  bool batch_received_ = false;  // a Batch arrived on this stream
  uint64_t received_seq_ = 0;  // last_seq of the newest batch received
  uint64_t applied_seq_ = 0;   // newest acknowledged
  struct PendingAck {
    uint64_t last_seq;
    bool durable;
  };
  std::deque<PendingAck> pending_acks_;

  SessionCounters counters_;
  std::vector<v1::SyncMessage> outgoing_;
  std::vector<ApplyRequest> apply_requests_;
};

}  // namespace steersync::sync
