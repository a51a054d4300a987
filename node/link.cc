#include "node/link.h"

#include <spdlog/spdlog.h>

#include <future>
#include <map>

#include "node/act_admission.h"
#include "node/audience_gaps.h"
#include "node/policy.h"
#include "sync/apply.h"

namespace steersync::node {

sync::Admission AdmitIncoming(const LinkContext& ctx, std::string_view from,
                              const v1::RecordBody& body, const v1::Record& record) {
  sync::Admission a = Admit(ctx.self_id, from, body);
  if (!a.admitted) return a;
  if (absl::Status s = ctx.verifier->Verify(record, body); !s.ok()) {
    return sync::Admission{false, "BAD_SIGNATURE", std::string(s.message())};
  }
  if (body.kind() == v1::REVOCATION_LIST) {
    v1::RevocationList list;
    list.ParseFromString(body.payload());  // well-formed: checked by Admit
    auto crl = ctx.verifier->VerifyCrl(list.crl());
    if (!crl.ok()) {
      return sync::Admission{false, "BAD_REVOCATION_LIST", std::string(crl.status().message())};
    }
    if (ctx.revocations->Merge(*crl)) {
      spdlog::warn("revocation list from {}: now {} revoked certificates", body.version().writer(),
                   ctx.revocations->size());
      if (ctx.on_revocation) ctx.on_revocation();
    }
  }
  return a;
}

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
      tokens_(context.limits.burst) {}

void Link::Attach(std::function<void()> wake, std::function<void(absl::Status)> close) {
  std::lock_guard<std::mutex> lock(wake_mu_);
  wake_ = std::move(wake);
  close_ = std::move(close);
}

void Link::Detach() {
  std::lock_guard<std::mutex> lock(wake_mu_);
  wake_ = nullptr;
  close_ = nullptr;
}

void Link::Wake() {
  std::lock_guard<std::mutex> lock(wake_mu_);
  if (wake_) wake_();
}

bool Link::Fail(absl::Status status, bool protocol_error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return false;
    failed_ = true;
  }
  if (protocol_error) ++stats_->protocol_errors;
  spdlog::warn("link {}: closing: {}", peer_id_, status.ToString());
  std::lock_guard<std::mutex> lock(wake_mu_);
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    session_.Start(checkpoint->seq, checkpoint->epoch);
    DrainSessionLocked();
  }
  spdlog::info("link {}: up, resuming its log after seq {}", peer_id_, checkpoint->seq);
  Wake();
}

void Link::OnMessage(v1::SyncMessage&& message) {
  stats_->last_contact_micros = context_.clock->NowMicros();
  std::optional<v1::Rejection> rejection;
  if (message.has_rejection()) rejection = message.rejection();
  absl::Status status;
  std::vector<sync::ApplyRequest> requests;
  {
    std::lock_guard<std::mutex> lock(mu_);
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
      status = session_.OnMessage(std::move(message));
      if (status.ok()) {
        requests = DrainSessionLocked();
        stats_->acked_seq = session_.acked_seq();
      }
    }
  }
  if (!status.ok()) {
    CloseForProtocolError(status);
    return;
  }
  if (rejection.has_value()) RecordReturned(*rejection);
  SubmitApplies(std::move(requests));
  Wake();
}

void Link::RecordReturned(const v1::Rejection& r) {
  // Within the flood limit only, and bounded: the peer chooses these bytes.
  constexpr size_t kMaxField = 1024;
  if (r.record_id().empty() || r.record_id().size() > kMaxField) return;
  spdlog::warn("link {}: peer refused record {}: {} ({})", peer_id_, r.record_id(),
               r.reason_code().substr(0, kMaxField), r.detail().substr(0, kMaxField));
  // Kept for `steerctl quarantine list`: the origin learns its version was
  // returned, and why (DOMAIN-MODEL.md §5, "a RETURNED notice").
  const std::string key = std::string(kReturnedPrefix) + peer_id_ + "\n" + r.record_id();
  const std::string value = std::to_string(context_.clock->NowMicros()) + "\n" +
                            r.reason_code().substr(0, kMaxField) + "\n" + r.detail().substr(0, kMaxField);
  context_.writer->Submit([key, value](LmdbStore::View& view) { return view.MetaPut(key, value); },
                          [key](absl::Status s) {
                            if (!s.ok()) spdlog::error("recording returned notice {}: {}", key, s.ToString());
                          });
}

void Link::OnLocalAppend() {
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return;
    status = session_.OnLocalAppend();
    if (status.ok()) DrainSessionLocked();  // no apply requests come from local appends
  }
  if (!status.ok()) {
    Fail(status);
    return;
  }
  Wake();
}

bool Link::TakeNext(v1::SyncMessage* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (outbox_.empty()) return false;
  *out = std::move(outbox_.front());
  outbox_.pop_front();
  return true;
}

std::vector<sync::ApplyRequest> Link::DrainSessionLocked() {
  for (auto& m : session_.TakeOutgoing()) outbox_.push_back(std::move(m));
  stats_->records_sent = session_.counters().records_sent + sent_before_session_;
  return session_.TakeApplyRequests();
}

void Link::SubmitApplies(std::vector<sync::ApplyRequest> requests) {
  for (sync::ApplyRequest& request : requests) {
    stats_->records_received += request.records.size();
    auto shared = std::make_shared<sync::ApplyRequest>(std::move(request));
    auto result = std::make_shared<sync::ApplyStats>();
    std::weak_ptr<Link> weak = weak_from_this();
    const LinkContext& ctx = context_;
    const std::string peer = peer_id_;
    std::shared_ptr<std::atomic<bool>> failed = apply_failed_;
    auto skipped = std::make_shared<bool>(false);
    // Admission (signatures above all) runs on the verify stage, off the
    // writer thread; the writer then applies with the verdicts, in order.
    auto verdicts = std::make_shared<std::map<const v1::Record*, sync::Admission>>();
    // Roster records and reports admitted by this batch, for after its commit.
    auto roster_ids = std::make_shared<std::vector<std::string>>();
    auto reports = std::make_shared<std::vector<std::string>>();
    auto apply = [shared, result, verdicts, roster_ids, reports, &ctx, peer, failed, skipped](
                     LmdbStore::View& view) -> absl::Status {
          // After a failed apply on this stream, later batches must not
          // commit: their checkpoint would skip the failed one for good.
          if (failed->load()) {
            *skipped = true;
            return absl::OkStatus();
          }
          // The cache takes each roster record's merge winner (read back from
          // the view) before the next record of the batch is judged.
          size_t roster_synced = 0;
          auto sync_roster = [&] {
            if (ctx.roster == nullptr) return;
            for (; roster_synced < roster_ids->size(); ++roster_synced) {
              ctx.roster->PutCurrent(view, (*roster_ids)[roster_synced]);
            }
          };
          auto stats = sync::ApplyRecords(
              view, peer, shared->records, shared->last_seq,
              [&](std::string_view from, const v1::RecordBody& body, const v1::Record& record) {
                sync_roster();
                auto it = verdicts->find(&record);
                sync::Admission a =
                    it != verdicts->end() ? it->second : AdmitIncoming(ctx, from, body, record);
                if (!a.admitted || ctx.roster == nullptr) return a;
                // In batch order, so an act sees the roster records before it.
                a = ctx.roster->Read([&](const sync::Roster& roster) {
                  return AdmitAct(roster, view, body, record.body());
                });
                if (!a.admitted) return a;
                if (sync::Roster::IsRosterKind(body.kind())) roster_ids->push_back(body.id());
                if (body.kind() == v1::REPORT) reports->push_back(body.id());
                if (body.kind() == v1::REPORT_STATUS && body.id().size() > 7) {
                  reports->push_back(body.id().substr(0, body.id().size() - 7));  // "/status"
                }
                return a;
              },
              ctx.clock->NowMicros());
          if (!stats.ok()) return stats.status();
          sync_roster();
          if (shared->last_seq != 0 && shared->peer_epoch != 0) {
            // The checkpoint and the log incarnation it counts in, together.
            if (absl::Status s = view.SetAppliedEpoch(peer, shared->peer_epoch); !s.ok()) return s;
          }
          ctx.hlc->Observe(stats->max_hlc);
          *result = std::move(*stats);
          // Holes in a writer's numbering reveal versions dropped on the way.
          for (const auto& [record, verdict] : *verdicts) {
            if (!verdict.admitted) continue;
            v1::RecordBody body;
            if (body.ParseFromString(record->body())) {
              if (absl::Status s = NoteAudienceSeq(view, body); !s.ok()) return s;
            }
          }
          return absl::OkStatus();
        };
    auto done = [weak, shared, result, failed, skipped, roster_ids, reports, &ctx](absl::Status status) {
          if (!status.ok()) failed->store(true);
          if (ctx.roster != nullptr) {
            if (!status.ok()) {
              if (absl::Status s = ctx.roster->Load(*ctx.store); !s.ok()) {
                spdlog::error("reloading the roster after a failed commit: {}", s.ToString());
              }
            } else if (!roster_ids->empty()) {
              ctx.roster->Refresh(*ctx.store, *roster_ids);
            }
          }
          if (status.ok() && !reports->empty() && ctx.on_reports_admitted) {
            ctx.on_reports_admitted(std::move(*reports));
          }
          auto self = weak.lock();
          if (!self || *skipped) return;  // the peer resends from our checkpoint
          if (!status.ok()) {
            self->Fail(absl::UnavailableError("applying a batch failed: " + status.ToString()));
            return;
          }
          {
            std::lock_guard<std::mutex> lock(self->mu_);
            for (const auto& q : result->rejections) {
              spdlog::warn("link {}: quarantined record '{}': {} ({})", self->peer_id_,
                           q.record_id, q.reason_code, q.detail);
              v1::SyncMessage m;
              m.mutable_rejection()->set_record_id(q.record_id);
              m.mutable_rejection()->set_reason_code(q.reason_code);
              m.mutable_rejection()->set_detail(q.detail);
              self->outbox_.push_back(std::move(m));
            }
            self->stats_->rejected += result->quarantined;
            self->session_.OnApplied(shared->last_seq);
            self->DrainSessionLocked();  // OnApplied yields acks, never apply requests
          }
          self->Wake();
        };
    auto verify_then_apply = [shared, verdicts, &ctx, peer, apply = std::move(apply),
                              done = std::move(done)]() mutable {
      // Signature checks dominate; large batches are split over two threads.
      auto verify_range = [&](size_t begin, size_t end) {
        std::vector<std::pair<const v1::Record*, sync::Admission>> out;
        for (size_t i = begin; i < end; ++i) {
          const v1::Record& record = shared->records[i];
          v1::RecordBody body;
          if (!body.ParseFromString(record.body())) continue;  // ApplyRecords quarantines it
          out.emplace_back(&record, AdmitIncoming(ctx, peer, body, record));
        }
        return out;
      };
      const size_t n = shared->records.size();
      const size_t split = n >= 64 ? n / 2 : n;
      auto second = std::async(split < n ? std::launch::async : std::launch::deferred,
                               verify_range, split, n);
      for (auto& [record, verdict] : verify_range(0, split)) (*verdicts)[record] = std::move(verdict);
      for (auto& [record, verdict] : second.get()) (*verdicts)[record] = std::move(verdict);
      ctx.writer->Submit(std::move(apply), std::move(done));
    };
    if (context_.verify_stage != nullptr) {
      context_.verify_stage->Post(std::move(verify_then_apply));
    } else {
      verify_then_apply();
    }
  }
}

}  // namespace steersync::node
