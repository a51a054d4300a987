#include "node/link.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <thread>
#include <map>
#include <optional>
#include <utility>

#include "node/attachments.h"
#include "sync/meta_keys.h"
#include "sync/node_path.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::node {
namespace {

// A u64 counter in the store's meta (a writer's, or this node's own); 0 when
// absent or unreadable: a counter only ever raises what it is compared with.
uint64_t CounterOrZero(const LmdbStore& store, const std::string& key) {
  absl::StatusOr<std::optional<std::string>> held = store.MetaGet(key);
  if (!held.ok() || !held->has_value() || (*held)->size() != 8) return 0;
  return sync::meta::DecodeU64(**held);
}

}  // namespace

Link::Link(const LinkContext& context, std::string peer_id, Relation relation,
           std::shared_ptr<PeerStats> stats)
    : context_(context),
      peer_id_(std::move(peer_id)),
      relation_(relation),
      stats_(std::move(stats)),
      session_([&] {
        sync::SessionOptions o = context.session_defaults;
        o.self_id = context.self_id;
        o.peer_id = peer_id_;
        return o;
      }(), *context.store),
      tokens_(context.limits.burst),
      log_budget_(context.limits.log_lines_per_second, context.limits.log_burst) {}

void Link::Attach(std::function<void()> wake, std::function<void(absl::Status)> close,
                  std::function<void()> read) {
  {
    absl::MutexLock lock(&read_mu_);
    read_ = std::move(read);
  }
  absl::MutexLock lock(&wake_mu_);
  wake_ = std::move(wake);
  close_ = std::move(close);
}

void Link::Detach() {
  {
    absl::MutexLock lock(&read_mu_);
    read_ = nullptr;
  }
  absl::MutexLock lock(&wake_mu_);
  wake_ = nullptr;
  close_ = nullptr;
}

size_t Link::BytesOf(const sync::ApplyRequest& request) {
  // The records' own bytes (string sizes: no walk of the message), which is
  // what the batch holds in memory until it is applied.
  size_t bytes = 0;
  for (const v1::Record& r : request.records) {
    bytes += r.body().size() + r.signature().size() + r.ec_signature().size() + r.signer_chain().size() +
             r.signer_digest().size();
  }
  for (const std::string& der : request.certificates) bytes += der.size();
  return bytes;
}

bool Link::HasRoomLocked() const {
  return pending_bytes_ <= context_.limits.max_pending_bytes &&
         queued_notices_ <= context_.limits.max_queued_notices;
}

void Link::StartRead() {
  absl::MutexLock lock(&read_mu_);
  if (read_) read_();
}

void Link::ReadNext() {
  {
    absl::MutexLock lock(&mu_);
    if (failed_) return;  // the stream ends; nothing more to read
    if (!HasRoomLocked()) {
      read_paused_ = true;
      ++stats_->read_pauses;
      return;
    }
  }
  StartRead();
}

void Link::ResumeIfRoom() {
  {
    absl::MutexLock lock(&mu_);
    if (!read_paused_ || failed_ || !HasRoomLocked()) return;
    read_paused_ = false;
  }
  StartRead();
}

void Link::Wake() {
  absl::MutexLock lock(&wake_mu_);
  if (wake_) wake_();
}

bool Link::Fail(absl::Status status, bool protocol_error) {
  {
    absl::MutexLock lock(&mu_);
    if (failed_) return false;
    failed_ = true;
  }
  if (protocol_error) ++stats_->protocol_errors;
  spdlog::warn("link {}: closing: {}", peer_id_, status.ToString());
  absl::MutexLock lock(&wake_mu_);
  if (close_) close_(std::move(status));
  return true;
}

void Link::Start() {
  // The checkpoint and the epoch it counts in, from one snapshot.
  absl::StatusOr<LmdbStore::Checkpoint> checkpoint = context_.store->CheckpointOf(peer_id_);
  if (!checkpoint.ok()) {
    Fail(checkpoint.status());
    return;
  }
  stats_->connected = true;
  sent_before_session_ = stats_->records_sent;
  // What we hold of the peer's own counters, and whether we ask it to
  // return ours (recovery).
  const uint64_t peer_counter_held =
      CounterOrZero(*context_.store, std::string(sync::meta::kWriterCounterPrefix) + peer_id_);
  const uint64_t own_counter = CounterOrZero(*context_.store, sync::meta::kLocalCounter);
  // Ask the peer to return our versions while recovering, and also from a
  // child we hold no checkpoint of: its first session with this store, which
  // may have been lost with versions only that child kept (a new child has
  // none to return; an old one returns them, and ids continue above them).
  const bool recovering = context_.recovery != nullptr && context_.recovery->recovering();
  const bool ask = recovering || (context_.recovery != nullptr && relation_ == Relation::kChild &&
                                  checkpoint->seq == 0);
  {
    absl::MutexLock lock(&mu_);
    asked_recovery_ = ask;
    session_.SetRecovery(ask, peer_counter_held);
    session_.SetOwnCounter(own_counter);
    session_.SetClock(context_.clock->NowMicros());
    session_.Start(checkpoint->seq, checkpoint->epoch);
    DrainSessionLocked();
  }
  spdlog::info("link {}: up, resuming its log after seq {}", peer_id_, checkpoint->seq);
  FetchArrivingFromPeer();  // files a record from this peer named, resumed where they stopped
  Wake();
}

void Link::OnMessage(v1::SyncMessage&& message) {
  stats_->last_contact_micros = context_.clock->NowMicros();
  std::optional<v1::Rejection> rejection;
  if (message.has_rejection()) rejection = message.rejection();
  absl::Status status;
  std::vector<sync::ApplyRequest> requests;
  std::optional<uint64_t> hello_counter;  // set when this message was the peer's Hello
  bool keep_counter = false;              // the peer said a higher own counter
  std::optional<v1::SyncMessage> attachment;  // a chunk message, handled beside the session
  {
    absl::MutexLock lock(&mu_);
    if (failed_) return;
    // Token bucket: refill by elapsed time, spend one per message.
    const int64_t now = context_.clock->NowMicros();
    if (tokens_at_micros_ != 0) {
      tokens_ = std::min(context_.limits.burst,
                         tokens_ + (now - tokens_at_micros_) * 1e-6 *
                                       context_.limits.messages_per_second);
    }
    tokens_at_micros_ = now;
    if (tokens_ < 1.0) {
      status = absl::ResourceExhaustedError(
          "flood: more than " + std::to_string(static_cast<int>(context_.limits.messages_per_second)) +
          " messages/s from this peer");
    } else {
      tokens_ -= 1.0;
      if (IsAttachmentMessage(message)) {
        status = session_.CheckAttachmentMessage();
        if (status.ok()) attachment.emplace(std::move(message));
      } else {
        status = session_.OnMessage(std::move(message));
      }
      if (status.ok() && !attachment.has_value()) {
        requests = DrainSessionLocked();
        for (const sync::ApplyRequest& r : requests) pending_bytes_ += BytesOf(r);
        stats_->acked_seq = session_.acked_seq();
        // A batch to apply keeps the counter in its own transaction (ApplyFromPeer).
        keep_counter = requests.empty() && session_.peer_writer_counter() > counter_said_ && !keeping_counter_;
        if (keep_counter) keeping_counter_ = true;
        if (!hello_seen_ && session_.peer_hello_received()) {
          hello_seen_ = true;
          DrainFetcherLocked();  // files wanted before the peer said Hello
          hello_counter = session_.peer_your_counter();
          if (session_.peer_sent_at_micros() != 0) {
            stats_->clock_offset_micros = session_.peer_sent_at_micros() - context_.clock->NowMicros();
          }
          catch_up_.Start(now, session_.peer_log_head(), session_.applied_seq());
          PublishCatchUpLocked();
          if (catch_up_.active()) {
            spdlog::info("link {}: catching up: {} log entries to apply", peer_id_, catch_up_.Now().remaining);
          }
        }
      }
    }
  }
  if (!status.ok()) {
    CloseForProtocolError(status);
    return;
  }
  if (rejection.has_value()) RecordReturned(*rejection);
  if (keep_counter) KeepPeerCounter();
  if (attachment.has_value()) OnAttachmentMessage(*attachment);
  if (hello_counter.has_value()) CheckPeerHello(*hello_counter);
  SubmitApplies(std::move(requests));
  MaybeCompleteRecovery();  // an empty feed is acknowledged without a write
  Wake();
  ReadNext();
}

void Link::KeepPeerCounter() {
  uint64_t counter;
  {
    absl::MutexLock lock(&mu_);
    counter = session_.peer_writer_counter();
  }
  // One write at a time per link: a newer counter said meanwhile is kept by
  // the next one (the completion submits it), so the last one said is kept.
  std::weak_ptr<Link> weak = weak_from_this();
  context_.writer->Submit(
      [peer = peer_id_, counter](LmdbStore::View& view) {
        return sync::Replica::KeepPeerCounter(view, peer, counter);
      },
      [weak, counter](absl::Status s) {
        std::shared_ptr<Link> link = weak.lock();
        if (link == nullptr) return;
        if (!s.ok()) spdlog::warn("link {}: keeping its counter: {}", link->peer_id_, s.ToString());
        bool again;
        {
          absl::MutexLock lock(&link->mu_);
          if (s.ok()) link->counter_said_ = std::max(link->counter_said_, counter);
          again = s.ok() && !link->failed_ && link->session_.peer_writer_counter() > link->counter_said_;
          link->keeping_counter_ = again;
        }
        if (again) link->KeepPeerCounter();
      });
}

void Link::CheckPeerHello(uint64_t your_counter) {
  if (context_.recovery == nullptr || your_counter == 0) return;
  const uint64_t local = CounterOrZero(*context_.store, sync::meta::kLocalCounter);
  bool asked;
  {
    absl::MutexLock lock(&mu_);
    asked = asked_recovery_;
  }
  if (your_counter <= local || asked) return;
  // The peer holds a version of ours newer than any we have: this store was
  // replaced (a restored backup). Ask again, this time for our versions.
  if (!context_.recovery->recovering()) {
    // Entries appended from here would take sequences the peers already
    // acknowledged in the old log: they take the log anew. Through the
    // writer, and before Begin() makes the links reconnect, so that every
    // new Hello carries the new epoch.
    const std::string why = "'" + peer_id_ + "' holds version " + std::to_string(your_counter) +
                            " of this node's, newer than its last " + std::to_string(local) +
                            ": the store is older than the federation's";
    std::promise<absl::Status> taken;
    context_.writer->Submit(
        [&why](LmdbStore::View& view) -> absl::Status {
          SYNC_RETURN_IF_ERROR(view.TakeNewLogEpoch());
          return view.MetaPut(kRecoveryPendingKey, why);  // resumed if the node stops meanwhile
        },
        [&taken](absl::Status s) { taken.set_value(std::move(s)); });
    if (absl::Status s = taken.get_future().get(); !s.ok()) {
      spdlog::error("recovery: taking a new log epoch: {}", s.ToString());
    }
    context_.recovery->Begin(why);
  }
  // Begin closed every link (this one too): each reconnects asking.
  Fail(absl::UnavailableError("this node's store is older than what " + peer_id_ +
                              " holds: reconnecting to recover"));
}

void Link::MaybeCompleteRecovery() {
  uint64_t your_counter = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!asked_recovery_ || recovery_done_ || failed_ || !session_.peer_hello_received() ||
        session_.applied_seq() < session_.peer_log_head()) {
      return;
    }
    // The parent completes recovery; a top node, having none, a child (its
    // id may still name a unit above it: a province without the national level).
    if (relation_ != Relation::kParent && context_.has_parent) return;
    recovery_done_ = true;
    // A child asked only because this store held no checkpoint of it: the
    // versions it returned raised the counters as they were applied.
    if (!context_.recovery->recovering()) return;
    your_counter = session_.peer_your_counter();
  }
  // Never below what the peer holds of ours, even for a version it did not
  // return (sync/replica.cc raises the counter for each one it did).
  const LinkContext& ctx = context_;
  const std::string peer = peer_id_;
  ctx.writer->Submit(
      [your_counter](LmdbStore::View& view) -> absl::Status {
        // Complete in this transaction: a restart from here on acts at once.
        SYNC_RETURN_IF_ERROR(view.MetaDelete(kRecoveryPendingKey));
        absl::StatusOr<uint64_t> local = sync::meta::GetU64(view, sync::meta::kLocalCounter);
        if (!local.ok()) return local.status();
        if (your_counter <= *local) return absl::OkStatus();
        return sync::meta::PutU64(view, sync::meta::kLocalCounter, your_counter);
      },
      [&ctx, peer](absl::Status s) {
        if (!s.ok()) {
          spdlog::error("recovery from {}: raising the local counter: {}", peer, s.ToString());
          return;
        }
        ctx.recovery->Complete(peer);
        if (ctx.on_recovered) ctx.on_recovered();
      });
}

void Link::RecordReturned(const v1::Rejection& r) {
  // Within the flood limit only, and bounded: the peer chooses these bytes.
  // The id becomes part of a store key, so it must be one this node could
  // hold; the text is kept printable.
  // A notice names a version this node sent, so a record it holds: any
  // other is ignored, which also bounds what notices can store to one per
  // record held and peer.
  std::string ignored;
  if (!sync::IsValidRecordId(r.record_id())) {
    ignored = "a malformed record id";
  } else if (auto held = context_.store->GetRecord(r.record_id()); !held.ok() || !held->has_value()) {
    ignored = "a record this node does not hold";
  }
  constexpr size_t kMaxField = 512;
  const std::string code = sync::Printable(r.reason_code(), 64);
  const std::string detail = sync::Printable(r.detail(), kMaxField);
  uint64_t suppressed = 0;
  bool log;
  {
    absl::MutexLock lock(&mu_);
    log = log_budget_.Allow(context_.clock->NowMicros(), &suppressed);
  }
  const std::string more =
      suppressed == 0 ? "" : " (" + std::to_string(suppressed) + " more lines about this peer suppressed)";
  if (!ignored.empty()) {
    ++stats_->bad_notices;
    if (log) {
      spdlog::warn("link {}: ignored a refusal notice for {} '{}'{}", peer_id_, ignored,
                   sync::Printable(r.record_id(), 64), more);
    }
    return;
  }
  if (log) spdlog::warn("link {}: peer refused record {}: {} ({}){}", peer_id_, r.record_id(), code, detail, more);
  // Kept for `steerctl quarantine list`: the origin learns its version was
  // returned, and why (DOMAIN-MODEL.md §5, "a RETURNED notice").
  const std::string key = std::string(kReturnedPrefix) + peer_id_ + "\n" + r.record_id();
  const std::string value = std::to_string(context_.clock->NowMicros()) + "\n" + code + "\n" + detail;
  context_.writer->Submit([key, value](LmdbStore::View& view) { return view.MetaPut(key, value); },
                          [key](absl::Status s) {
                            if (!s.ok()) spdlog::error("recording returned notice {}: {}", key, s.ToString());
                          });
}

void Link::OnLocalAppend() { FeedSession(/*idle=*/false); }

void Link::FlushIdle() { FeedSession(/*idle=*/true); }

bool Link::HasBatchesInFlight() const {
  absl::MutexLock lock(&mu_);
  return session_.batches_in_flight() > 0;
}

void Link::FeedSession(bool idle) {
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    if (failed_) return;
    status = idle ? session_.FlushIdle() : session_.OnLocalAppend();
    if (status.ok()) DrainSessionLocked();  // no apply requests come from local appends
  }
  if (!status.ok()) {
    Fail(status);
    return;
  }
  Wake();
}

bool Link::TakeNext(v1::SyncMessage* out) {
  {
    absl::MutexLock lock(&mu_);
    if (!outbox_.empty()) {
      *out = std::move(outbox_.front());
      outbox_.pop_front();
      if (out->has_rejection()) --queued_notices_;  // see ResumeReading()
      if (out->has_chunk_refused()) --chunk_requests_pending_;
      return true;
    }
    if (chunk_outbox_.empty()) return false;
    *out = std::move(chunk_outbox_.front());
    chunk_outbox_.pop_front();
    --chunk_requests_pending_;
  }
  ++stats_->chunks_sent;
  return true;
}

void Link::AttachCertificatesLocked(v1::Batch& batch) {
  if (context_.certificates == nullptr) return;
  for (const v1::Record& record : batch.records()) {
    const std::string& digest = record.signer_digest();
    if (digest.empty() || !certificates_sent_.insert(digest).second) continue;
    if (std::optional<std::string> der = context_.certificates->Find(digest)) {
      batch.add_certificates(std::move(*der));
    } else {
      // Kept with the records that name it: a store without it was written
      // by hand. The peer refuses those records, saying which certificate.
      spdlog::error("link {}: a record names signer certificate {}…, which this node does not hold", peer_id_,
                    sync::HexOf(digest.substr(0, 8)));
    }
  }
}

std::vector<sync::ApplyRequest> Link::DrainSessionLocked() {
  for (auto& m : session_.TakeOutgoing()) {
    if (m.has_batch()) AttachCertificatesLocked(*m.mutable_batch());
    outbox_.push_back(std::move(m));
  }
  stats_->records_sent = session_.counters().records_sent + sent_before_session_;
  return session_.TakeApplyRequests();
}

// One batch from the peer on its way to the store: checked on the verify
// stage, applied on the writer, acknowledged when durable.
struct Link::PendingApply {
  sync::ApplyRequest request;
  sync::AloneVerdicts alone;  // by index in request.records
  sync::ApplyStats result;    // valid once applied
  bool skipped = false;       // not applied: an earlier batch of the stream failed
  std::vector<v1::Attachment> to_fetch;  // files its admitted records name, still arriving here
  std::vector<std::string> certificates;  // digests of the trusted certificates it carried
  size_t bytes = 0;           // BytesOf(request), counted in Link::pending_bytes_
  std::chrono::steady_clock::time_point received;  // when the peer's batch arrived
};

void Link::LearnCertificates(const LinkContext& ctx, const std::string& peer, PendingApply& batch) {
  if (ctx.certificates == nullptr || ctx.verifier == nullptr) return;
  std::vector<std::string> refused;
  batch.certificates = LearnSignerCertificates(*ctx.verifier, *ctx.certificates, batch.request.certificates, &refused);
  for (const std::string& why : refused) {
    spdlog::warn("link {}: a certificate it sent was not taken: {}", peer, sync::Printable(why, 200));
  }
}

void Link::CheckBatch(const LinkContext& ctx, const std::string& peer, PendingApply& batch) {
  LearnCertificates(ctx, peer, batch);
  // Hashing and signature checks dominate: a large batch is split over
  // every core. Each slice links its own runs (sync/signed_log.h), so a
  // split costs at most one more signature check per run.
  const std::vector<v1::Record>& records = batch.request.records;
  const size_t n = records.size();
  static const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t slices = std::min(cores, n / 64);
  if (slices <= 1) {
    batch.alone = ctx.replica->CheckAlone(peer, records);
    return;
  }
  const std::span<const v1::Record> all(records);
  const size_t per_slice = (n + slices - 1) / slices;
  std::vector<std::future<sync::AloneVerdicts>> later;
  for (size_t from = per_slice; from < n; from += per_slice) {
    later.push_back(std::async(std::launch::async, [&ctx, &peer, slice = all.subspan(from, std::min(per_slice, n - from))] {
      return ctx.replica->CheckAlone(peer, slice);
    }));
  }
  batch.alone = ctx.replica->CheckAlone(peer, all.first(per_slice));
  for (auto& f : later) batch.alone.Append(f.get());
}

absl::Status Link::ApplyBatch(const LinkContext& ctx, const std::string& peer,
                              const std::atomic<bool>& stream_failed, PendingApply& batch,
                              LmdbStore::View& view) {
  // After a failed apply on this stream, later batches must not commit:
  // their checkpoint would skip the failed one for good.
  if (stream_failed.load()) {
    batch.skipped = true;
    return absl::OkStatus();
  }
  // The certificates first: kept with the records that name them.
  for (const std::string& digest : batch.certificates) {
    SYNC_RETURN_IF_ERROR(KeepCertificate(view, *ctx.certificates, digest));
  }
  SYNC_ASSIGN_OR_RETURN(batch.result, ctx.replica->ApplyFromPeer(view, peer, batch.request, &batch.alone));
  // The files admitted records name, noted in the same transaction: a kill
  // from here on still fetches them after the restart.
  std::set<std::string_view> documents;
  for (const auto& [id, kind] : batch.result.admitted_ids) {
    if (kind == v1::DIRECTIVE || kind == v1::REPORT) documents.insert(id);
  }
  if (documents.empty()) return absl::OkStatus();
  for (const std::optional<v1::RecordBody>& body : batch.alone.bodies) {
    if (!body.has_value() || body->attachments_size() == 0 || documents.count(body->id()) == 0) continue;
    SYNC_ASSIGN_OR_RETURN(std::vector<v1::Attachment> arriving, NameReceivedAttachments(view, *body, peer));
    for (v1::Attachment& a : arriving) batch.to_fetch.push_back(std::move(a));
  }
  return absl::OkStatus();
}

void Link::OnBatchApplied(PendingApply& batch, absl::Status status) {
  {
    absl::MutexLock lock(&mu_);
    pending_bytes_ -= batch.bytes;
  }
  ResumeIfRoom();
  if (batch.skipped) return;  // the peer resends from our checkpoint
  if (!status.ok()) {
    // Lack of room keeps its code, so both ends back off (ParentLink::Run).
    Fail(absl::Status(absl::IsResourceExhausted(status) ? absl::StatusCode::kResourceExhausted
                                                        : absl::StatusCode::kUnavailable,
                      "applying a batch failed: " + status.ToString()));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    const int64_t now = context_.clock->NowMicros();
    for (const auto& q : batch.result.rejections) {
      if (uint64_t suppressed = 0; log_budget_.Allow(now, &suppressed)) {
        spdlog::warn("link {}: quarantined record '{}': {} ({}){}", peer_id_,
                     sync::Printable(q.record_id, 80), q.reason_code, sync::Printable(q.detail, 300),
                     suppressed == 0 ? "" : " (" + std::to_string(suppressed) + " more lines about this peer suppressed)");
      }
      ++queued_notices_;
      v1::SyncMessage m;
      m.mutable_rejection()->set_record_id(q.record_id);
      m.mutable_rejection()->set_reason_code(q.reason_code);
      m.mutable_rejection()->set_detail(q.detail);
      outbox_.push_back(std::move(m));
    }
    stats_->rejected += batch.result.quarantined;
    counter_said_ = std::max(counter_said_, batch.request.peer_writer_counter);
    session_.OnApplied(batch.request.last_seq);
    DrainSessionLocked();  // OnApplied yields acks, never apply requests
    catch_up_.OnApplied(now, batch.request.last_seq, batch.request.records.size());
    PublishCatchUpLocked();
    if (std::optional<std::string> line = catch_up_.LogLineDue(now, peer_id_)) spdlog::info("{}", *line);
    if (asked_recovery_ && !recovery_done_ && context_.recovery != nullptr) {
      context_.recovery->NoteReturned(batch.request.records.size());
    }
  }
  if (!batch.to_fetch.empty()) Fetch(batch.to_fetch);
  MaybeCompleteRecovery();
  Wake();
}

void Link::PublishCatchUpLocked() {
  const CatchUpProgress::Figures f = catch_up_.Now();
  stats_->catch_up_remaining = f.remaining;
  stats_->catch_up_records_per_second = static_cast<uint64_t>(f.records_per_second);
  stats_->catch_up_eta_seconds = f.eta_seconds;
}

// Reports newly admitted from a child: their own record or their status.
void Link::SubmitApplies(std::vector<sync::ApplyRequest> requests) {
  for (sync::ApplyRequest& request : requests) {
    stats_->records_received += request.records.size();
    auto batch = std::make_shared<PendingApply>();
    batch->request = std::move(request);
    batch->bytes = BytesOf(batch->request);
    batch->received = std::chrono::steady_clock::now();
    const LinkContext& ctx = context_;
    std::weak_ptr<Link> weak = weak_from_this();
    auto check_then_apply = [batch, &ctx, weak, peer = peer_id_, failed = apply_failed_] {
      CheckBatch(ctx, peer, *batch);
      ctx.writer->Submit(
          [batch, &ctx, peer, failed](LmdbStore::View& view) {
            return ApplyBatch(ctx, peer, *failed, *batch, view);
          },
          [batch, &ctx, weak, failed](absl::Status status) {
            // On the writer: the batches queued behind this one see the failure.
            if (!status.ok()) failed->store(true);
            // The rest is not the writer's job (registering receipts, the
            // ack's trip through gRPC, freeing a thousand records): the
            // after-commit stage runs it, in commit order.
            auto finish = [batch, &ctx, weak, status = std::move(status)]() mutable {
              if (status.ok() && !batch->skipped && ctx.on_batch_applied) {
                ctx.on_batch_applied(std::chrono::steady_clock::now() - batch->received);
              }
              if (status.ok() && !batch->skipped && ctx.on_admitted && !batch->result.admitted_ids.empty()) {
                ctx.on_admitted(batch->result.admitted_ids);
              }
              if (auto self = weak.lock()) self->OnBatchApplied(*batch, std::move(status));
            };
            if (ctx.after_commit_stage != nullptr) {
              ctx.after_commit_stage->Post(std::move(finish));
            } else {
              finish();
            }
          });
    };
    if (context_.verify_stage != nullptr) {
      context_.verify_stage->Post(std::move(check_then_apply));
    } else {
      check_then_apply();
    }
  }
}

}  // namespace steersync::node
