#include "sync/session.h"

#include <algorithm>

#include "sync/routing.h"
#include "sync/status_macros.h"

namespace steersync::sync {

Session::Session(SessionOptions options, const LogReader& log)
    : options_(std::move(options)), log_(log) {}

void Session::Start(uint64_t applied_seq, uint64_t applied_epoch) {
  started_ = true;
  applied_seq_ = applied_seq;
  received_seq_ = applied_seq;
  v1::SyncMessage m;
  m.mutable_hello()->set_node_id(options_.self_id);
  m.mutable_hello()->set_applied_seq(applied_seq);
  m.mutable_hello()->set_protocol_version(kProtocolVersion);
  m.mutable_hello()->set_applied_epoch(applied_epoch);
  m.mutable_hello()->set_log_epoch(log_.LogEpoch());
  m.mutable_hello()->set_recovering(recovering_);
  m.mutable_hello()->set_your_counter(peer_counter_held_);
  m.mutable_hello()->set_log_head(log_.HeadSeq());
  m.mutable_hello()->set_sent_at_micros(now_micros_);
  m.mutable_hello()->set_writer_counter(own_counter_);
  m.mutable_hello()->set_attachments(true);
  m.mutable_hello()->set_sequence_heads(true);
  outgoing_.push_back(std::move(m));
}

absl::Status Session::OnMessage(v1::SyncMessage message) {
  if (!started_) return absl::FailedPreconditionError("session not started");
  switch (message.msg_case()) {
    case v1::SyncMessage::kHello: {
      const auto& hello = message.hello();
      if (peer_started_) return absl::InvalidArgumentError("second Hello on one stream");
      if (const uint32_t version = hello.protocol_version() == 0 ? 1 : hello.protocol_version();
          version != kProtocolVersion) {
        return absl::FailedPreconditionError(
            "Hello from '" + options_.peer_id + "' speaks protocol version " + std::to_string(version) +
            ", this node speaks " + std::to_string(kProtocolVersion) + ": upgrade the older side");
      }
      if (hello.node_id() != options_.peer_id) {
        return absl::PermissionDeniedError("Hello from '" + hello.node_id() +
                                           "' on the link authenticated as '" +
                                           options_.peer_id + "'");
      }
      peer_epoch_ = hello.log_epoch();
      peer_your_counter_ = hello.your_counter();
      peer_writer_counter_ = hello.writer_counter();
      peer_log_head_ = hello.log_head();
      peer_sent_at_micros_ = hello.sent_at_micros();
      peer_takes_attachments_ = hello.attachments();
      peer_takes_heads_ = hello.sequence_heads();
      const bool other_epoch = hello.applied_epoch() != 0 && log_.LogEpoch() != 0 &&
                               hello.applied_epoch() != log_.LogEpoch();
      if (hello.applied_seq() > log_.HeadSeq() || other_epoch) {
        // The peer's checkpoint counts in a log we no longer have: our store
        // was reset or replaced (a shorter log, or a new epoch). Resending
        // everything is safe (apply is idempotent).
        sent_seq_ = acked_seq_ = 0;
      } else {
        sent_seq_ = acked_seq_ = hello.applied_seq();
      }
      if (hello.recovering()) {
        // The peer lost versions it wrote: our whole log once more, with its
        // own versions we hold (apply is idempotent for everything else).
        sent_seq_ = acked_seq_ = 0;
        echo_until_ = log_.HeadSeq();
      }
      peer_started_ = true;
      return FillWindow();
    }
    case v1::SyncMessage::kBatch:
      if (!peer_started_) return absl::InvalidArgumentError("Batch before Hello");
      return HandleBatch(*message.mutable_batch());
    case v1::SyncMessage::kAck:
      if (!peer_started_) return absl::InvalidArgumentError("Ack before Hello");
      return HandleAck(message.ack());
    case v1::SyncMessage::kRejection:
      return absl::OkStatus();  // counted and logged by the owner
    case v1::SyncMessage::kChunkRequest:
    case v1::SyncMessage::kChunk:
    case v1::SyncMessage::kChunkRefused:
      // Attachments travel beside the change feed (sync/attachments.h); the
      // owner handles them, once the peer has said who it is.
      return CheckAttachmentMessage();
    case v1::SyncMessage::MSG_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("empty or unknown SyncMessage");
}

absl::Status Session::CheckAttachmentMessage() const {
  if (!started_) return absl::FailedPreconditionError("session not started");
  if (!peer_started_) return absl::InvalidArgumentError("attachment message before Hello");
  return absl::OkStatus();
}

absl::Status Session::HandleBatch(v1::Batch& batch) {
  if (batch.last_seq() < batch.after_seq()) {
    return absl::InvalidArgumentError("Batch with last_seq < after_seq");
  }
  if (batch.records_size() > static_cast<int>(kMaxBatchRecordsAccepted)) {
    return absl::InvalidArgumentError("Batch of " + std::to_string(batch.records_size()) +
                                      " records (at most " + std::to_string(kMaxBatchRecordsAccepted) +
                                      ")");
  }
  if (batch.certificates_size() > std::max(batch.records_size(), 1)) {
    return absl::InvalidArgumentError("Batch carries " + std::to_string(batch.certificates_size()) +
                                      " certificates for " + std::to_string(batch.records_size()) +
                                      " records");
  }
  for (const std::string& der : batch.certificates()) {
    if (der.empty() || der.size() > kMaxCertificateBytes) {
      return absl::InvalidArgumentError("Batch carries a certificate of " + std::to_string(der.size()) +
                                        " bytes (1 to " + std::to_string(kMaxCertificateBytes) + ")");
    }
  }
  ++counters_.batches_received;
  peer_writer_counter_ = std::max(peer_writer_counter_, batch.writer_counter());
  if (!batch_received_ && batch.after_seq() == 0 && batch.last_seq() > 0 && received_seq_ > 0) {
    // The first Batch restarts the peer's feed from the beginning: its log is
    // shorter than our checkpoint of it (its store was replaced; see the Hello
    // case above). Take its log from the start; applying again is idempotent.
    received_seq_ = applied_seq_ = 0;
  }
  batch_received_ = true;
  if (batch.last_seq() <= received_seq_) {
    return absl::InvalidArgumentError("Batch ending at " + std::to_string(batch.last_seq()) +
                                      " repeats a range already received");
  }
  if (batch.after_seq() > received_seq_) {
    return absl::InvalidArgumentError("Batch leaves a gap: after_seq " +
                                      std::to_string(batch.after_seq()) + " > " +
                                      std::to_string(received_seq_));
  }
  received_seq_ = batch.last_seq();
  counters_.records_received += batch.records_size();
  if (batch.records_size() == 0) {
    // Nothing for us in that range: no write needed to acknowledge it.
    pending_acks_.push_back({batch.last_seq(), true});
    ReleaseAcks();
    return absl::OkStatus();
  }
  pending_acks_.push_back({batch.last_seq(), false});
  ApplyRequest request;
  request.last_seq = batch.last_seq();
  request.peer_epoch = peer_epoch_;
  request.peer_writer_counter = peer_writer_counter_;
  request.records.reserve(batch.records_size());
  for (v1::Record& r : *batch.mutable_records()) request.records.push_back(std::move(r));
  for (std::string& der : *batch.mutable_certificates()) request.certificates.push_back(std::move(der));
  apply_requests_.push_back(std::move(request));
  return absl::OkStatus();
}

void Session::OnApplied(uint64_t last_seq) {
  for (auto& p : pending_acks_) {
    if (p.last_seq == last_seq) p.durable = true;
  }
  ReleaseAcks();
}

void Session::ReleaseAcks() {
  uint64_t ack = 0;
  while (!pending_acks_.empty() && pending_acks_.front().durable) {
    ack = std::max(ack, pending_acks_.front().last_seq);
    pending_acks_.pop_front();
  }
  if (ack <= applied_seq_) return;
  applied_seq_ = ack;
  v1::SyncMessage m;
  m.mutable_ack()->set_applied_seq(ack);
  outgoing_.push_back(std::move(m));
}

absl::Status Session::HandleAck(const v1::Ack& ack) {
  if (ack.applied_seq() > sent_seq_) {
    return absl::InvalidArgumentError("Ack for seq " + std::to_string(ack.applied_seq()) +
                                      " never sent (sent up to " + std::to_string(sent_seq_) +
                                      ")");
  }
  if (ack.applied_seq() <= acked_seq_) return absl::OkStatus();
  acked_seq_ = ack.applied_seq();
  while (!unacked_batches_.empty() && unacked_batches_.front() <= acked_seq_) {
    unacked_batches_.pop_front();
  }
  return FillWindow();
}

absl::Status Session::OnLocalAppend() {
  if (!peer_started_) return absl::OkStatus();
  return FillWindow();
}

absl::Status Session::FlushIdle() {
  if (!peer_started_) return absl::OkStatus();
  return FillWindow(/*flush=*/true);
}

absl::Status Session::FillWindow(bool flush) {
  while (unacked_batches_.size() < options_.window && sent_seq_ < log_.HeadSeq()) {
    // What an earlier call scanned and kept back is not read again.
    const uint64_t scanned_before = std::max(sent_seq_, deferred_seq_);
    const bool deferred_before = scanned_before > sent_seq_;
    if (scanned_before >= log_.HeadSeq() && !(flush && deferred_before)) break;
    v1::SyncMessage m;
    v1::Batch* batch = m.mutable_batch();
    batch->set_after_seq(sent_seq_);
    uint64_t last = scanned_before;
    size_t bytes = 0;
    size_t scanned = 0;
    bool full = false;
    uint64_t own_counter_in_batch = deferred_before ? deferred_own_counter_ : 0;
    while (!full && scanned < options_.max_scan_entries) {
      const size_t want = options_.max_batch_records - batch->records_size();
      SYNC_ASSIGN_OR_RETURN(std::vector<SharedLogEntry> entries,
                            log_.ReadParsedLog(last, want, options_.max_batch_bytes - bytes));
      if (entries.empty()) break;
      for (const SharedLogEntry& entry : entries) {
        last = entry->seq;
        ++scanned;
        if (!entry->body_parses) {
          return absl::DataLossError("change log entry " + std::to_string(entry->seq) +
                                     " does not parse");
        }
        const v1::RecordBody& body = entry->body;
        // Only what is addressed to the peer, and never an echo to its
        // writer, except to a recovering writer its own versions.
        if (body.version().writer() == options_.self_id) {
          for (const v1::VectorEntry& e : body.version().vector()) {
            if (e.node_id() == options_.self_id || e.node_id().rfind(options_.self_id + "#", 0) == 0) {
              own_counter_in_batch = std::max(own_counter_in_batch, e.counter());
            }
          }
        }
        const bool own = body.version().writer() == options_.peer_id;
        if (own ? entry->seq > echo_until_ : !AddressedTo(body, options_.self_id, options_.peer_id)) {
          continue;
        }
        // A peer older than signed heads would refuse them (UNKNOWN_KIND).
        if (body.kind() == v1::SEQUENCE_HEAD && !peer_takes_heads_) continue;
        bytes += entry->record_bytes;
        *batch->add_records() = entry->record;  // shared with other readers: copied
        if (batch->records_size() >= static_cast<int>(options_.max_batch_records) ||
            bytes >= options_.max_batch_bytes) {
          full = true;
          break;
        }
      }
    }
    if (last == sent_seq_) break;
    const bool recovering_peer = echo_until_ > sent_seq_;
    if (batch->records_size() == 0 && !flush && !recovering_peer &&
        last - sent_seq_ < options_.max_scan_entries) {
      // Nothing for the peer: kept back (see deferred_seq_).
      deferred_seq_ = last;
      deferred_own_counter_ = own_counter_in_batch;
      break;
    }
    batch->set_last_seq(last);
    if (own_counter_in_batch != 0) batch->set_writer_counter(own_counter_in_batch);
    sent_seq_ = deferred_seq_ = last;
    deferred_own_counter_ = 0;
    unacked_batches_.push_back(last);
    ++counters_.batches_sent;
    counters_.records_sent += batch->records_size();
    outgoing_.push_back(std::move(m));
  }
  return absl::OkStatus();
}

std::vector<v1::SyncMessage> Session::TakeOutgoing() { return std::exchange(outgoing_, {}); }

std::vector<ApplyRequest> Session::TakeApplyRequests() {
  return std::exchange(apply_requests_, {});
}

}  // namespace steersync::sync
