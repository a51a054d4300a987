// What a node says about itself: `steerctl status` and `peers`, and the
// cheap figures /metrics reads (node/metrics.h).
#include "node/node.h"
#include "node/domain/calendar.h"
#include "sync/status_macros.h"

#include <cstdlib>
#include <future>
#include <memory>

#include <map>

#include <spdlog/spdlog.h>

#include "node/audience_gaps.h"
#include "node/listings.h"
#include "sync/status_macros.h"

namespace steersync::node {

uint64_t Node::RefusedHandshakes(std::string* last_refusal) const {
  uint64_t refused = refused_streams();
  // The newest refusal of any side; each names the side that refused.
  uint64_t last_order = 0;
  std::string last = sync_service_ ? sync_service_->last_refusal(&last_order) : "";
  for (const auto& check : {server_check_, client_check_, admin_check_}) {
    if (!check) continue;
    refused += check->refused();
    uint64_t order = 0;
    std::string why = check->last_refusal(&order);
    if (!why.empty() && order >= last_order) {
      last = std::move(why);
      last_order = order;
    }
  }
  if (last_refusal != nullptr) *last_refusal = std::move(last);
  return refused;
}

std::vector<std::string> Node::CertificateWarnings() const {
  // Certificates expiring within 30 days: our own, the parent's, children's,
  // from their cached notAfter (no file is read).
  std::vector<std::string> out;
  const int64_t now_s = clock_->NowMicros() / 1'000'000;
  const int64_t horizon = now_s + 30 * 24 * 3600;
  auto warn = [&](const std::string& whose, int64_t not_after) {
    if (not_after == 0 || not_after > horizon) return;
    const int64_t days = (not_after - now_s) / (24 * 3600);
    out.push_back(not_after <= now_s ? "certificate of " + whose + " has expired"
                                     : "certificate of " + whose + " expires in " + std::to_string(days) +
                                           " days (" + LegalDate(not_after * 1'000'000) + ")");
  };
  warn(options_.id + " (this node)", signer_->NotAfter());
  for (const auto& p : registry_.Peers()) warn(p.peer, p.stats->cert_not_after.load());
  return out;
}

std::string Node::StorageWarning() const {
  const GroupCommitWriter::StorageFailures f = writer_->storage_failures();
  if (f.count == 0) return "";
  const int64_t ago_s = (clock_->NowMicros() - f.last_at_micros) / 1'000'000;
  if (ago_s >= 600) return "";
  return "store: " + std::to_string(f.count) + " write(s) refused for lack of room, the last " +
         std::to_string(ago_s) + " s ago: " + std::string(f.last.message());
}

Node::Health Node::GetHealth() const {
  Health h;
  h.head_seq = store_->HeadSeq();
  h.record_count = store_->RecordCount();
  h.refused_handshakes = RefusedHandshakes(nullptr);
  h.revoked_certificates = revocations_.size();
  h.expiring_certificates = CertificateWarnings().size();
  h.storage_failures = writer_->storage_failures().count;
  if (receipts_) {
    const ReceiptRegistrar::Counts receipts = receipts_->counts();
    h.receipt_failures = receipts.failed;
    h.receipt_retries = receipts.retries;
  }
  return h;
}

v1::StatusReply Node::GetStatus() const {
  v1::StatusReply reply;
  reply.set_node_id(options_.id);
  reply.set_parent_address(options_.parent_address);
  reply.set_parent_connected(parent_ && parent_->connected());
  for (const auto& p : registry_.Peers()) {
    if (p.relation == Relation::kChild) reply.add_children_seen(p.peer);
  }
  reply.set_head_seq(store_->HeadSeq());
  reply.set_record_count(store_->RecordCount());
  reply.set_quarantined_count(store_->QuarantineCount());
  if (absl::StatusOr<LmdbStore::BlobTotals> blobs = store_->Blobs(); blobs.ok()) {
    reply.set_attachments_complete(blobs->complete);
    reply.set_attachments_arriving(blobs->arriving);
    reply.set_attachment_bytes_held(blobs->bytes_held);
    reply.set_attachment_bytes_expected(blobs->bytes_expected);
  }
  std::string last;
  reply.set_refused_handshakes(RefusedHandshakes(&last));
  reply.set_last_refusal(last);
  reply.set_revoked_certificates(revocations_.size());
  reply.set_recovering(recovery_.Describe());
  if (!reply.recovering().empty()) reply.add_warnings(reply.recovering());
  for (std::string& w : CertificateWarnings()) reply.add_warnings(std::move(w));
  // The store refusing writes for lack of room: named, with a remedy.
  if (std::string storage = StorageWarning(); !storage.empty()) reply.add_warnings(std::move(storage));
  // A neighbour whose clock is far from ours: past half the skew bound its
  // versions risk CLOCK_AHEAD (or ours at it).
  const int64_t bound = options_.max_clock_skew_seconds * 1'000'000;
  for (const auto& p : registry_.Peers()) {
    const int64_t offset = p.stats->clock_offset_micros.load();
    if (std::abs(offset) * 2 <= bound) continue;
    reply.add_warnings("clock of " + p.peer + " is " + std::to_string(std::abs(offset) / 1'000'000) + " s " +
                       (offset > 0 ? "ahead of" : "behind") + " this node's (max_clock_skew_seconds " +
                       std::to_string(options_.max_clock_skew_seconds) + "): check NTP on both machines");
  }
  for (const auto& p : registry_.Peers()) {
    if (std::string line = DescribeCatchUp(p.peer, p.stats->catch_up_remaining.load(), p.stats->catch_up_records_per_second.load(), p.stats->catch_up_eta_seconds.load()); !line.empty()) reply.add_catching_up(std::move(line));
  }
  if (auto gaps = DescribeGaps(*store_, 10); gaps.ok()) {
    for (auto& g : *gaps) reply.add_warnings(std::move(g));
  }
  if (auto forks = DescribeForks(*store_, 10); forks.ok()) {
    for (auto& f : *forks) reply.add_warnings(std::move(f));
  }
  if (auto twice = NumbersGivenTwice(*store_, 10); twice.ok()) {
    for (auto& t : *twice) reply.add_warnings(std::move(t));
  }
  return reply;
}

void Node::NoteBehind(const std::map<std::string, uint64_t>& counted) const {
  absl::MutexLock lock(&behind_mu_);
  for (const auto& [peer, n] : counted) behind_counted_[peer] = n;
}

v1::PeersReply Node::ListPeers(PeersBehind count) const {
  v1::PeersReply reply;
  const auto quarantine = store_->QuarantineByPeer();
  const std::vector<LinkRegistry::PeerView> peers = registry_.Peers();
  std::map<std::string, uint64_t> acked;
  for (const auto& p : peers) acked[p.peer] = p.stats->acked_seq.load();
  if (count == PeersBehind::kCount) {
    // Records addressed to each peer, not log entries: a commune is not
    // "behind" on the reports of its neighbours.
    absl::StatusOr<std::map<std::string, uint64_t>> counted = RecordsBehind(*store_, options_.id, acked);
    if (counted.ok()) {
      NoteBehind(*counted);
    } else {
      spdlog::warn("{}: peers: counting records behind: {}", options_.id, counted.status().ToString());
    }
  }
  std::map<std::string, uint64_t> behind;
  {
    absl::MutexLock lock(&behind_mu_);
    behind = behind_counted_;
  }
  for (const auto& p : peers) {
    v1::PeerInfo* info = reply.add_peers();
    info->set_peer(p.peer);
    info->set_relation(p.relation == Relation::kParent ? "parent" : "child");
    info->set_connected(p.stats->connected.load());
    info->set_last_contact_micros(static_cast<uint64_t>(p.stats->last_contact_micros.load()));
    info->set_records_sent(p.stats->records_sent.load());
    info->set_records_received(p.stats->records_received.load());
    info->set_acked_seq(acked.at(p.peer));
    info->set_behind(behind[p.peer]);
    info->set_rejected(p.stats->rejected.load());
    info->set_cert_not_after(p.stats->cert_not_after.load());
    info->set_clock_offset_micros(p.stats->clock_offset_micros.load());
    info->set_protocol_errors(p.stats->protocol_errors.load());
    info->set_bad_notices(p.stats->bad_notices.load());
    info->set_read_pauses(p.stats->read_pauses.load());
    info->set_catch_up_remaining(p.stats->catch_up_remaining.load());
    info->set_catch_up_records_per_second(p.stats->catch_up_records_per_second.load());
    info->set_catch_up_eta_seconds(p.stats->catch_up_remaining.load() == 0 ? -1 : p.stats->catch_up_eta_seconds.load());
    info->set_chunks_received(p.stats->chunks_received.load());
    info->set_attachment_bytes_received(p.stats->chunk_bytes_received.load());
    info->set_chunks_refused(p.stats->chunks_refused.load());
    info->set_chunks_sent(p.stats->chunks_sent.load());
    if (quarantine.ok()) {
      if (auto q = quarantine->find(p.peer); q != quarantine->end()) {
        info->set_quarantined(q->second.entries);
        info->set_quarantine_evicted(q->second.evicted);
      }
    }
  }
  return reply;
}

}  // namespace steersync::node

namespace steersync::node {

bool Node::WriterResponsive(absl::Duration timeout) {
  // Shared with the job: if the writer is stuck, the completion may run
  // long after this returned.
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  writer_->Submit([](LmdbStore::View&) { return absl::OkStatus(); },
                  [done](const absl::Status&) { done->set_value(); });
  return finished.wait_for(absl::ToChronoMicroseconds(timeout)) == std::future_status::ready;
}

}  // namespace steersync::node

namespace steersync::node {

namespace {

absl::StatusOr<absl::CivilDay> TodayOf(const LocalActs& local) {
  const std::optional<absl::CivilDay> today = domain::ParseDate(local.Today());
  if (!today.has_value()) return absl::InternalError("this node's clock gives no date");
  return *today;
}

}  // namespace

absl::StatusOr<v1::ListOverdueReply> Node::ListOverdue() const {
  SYNC_ASSIGN_OR_RETURN(const absl::CivilDay today, TodayOf(*local_));
  SYNC_ASSIGN_OR_RETURN(Deadlines deadlines, DeadlinesIn(*store_, options_.id));
  return ListSubtreeOverdueIn(*store_, options_.id, today, deadlines.calendar, deadlines.granted);
}

absl::StatusOr<v1::UnitStatus> Node::ComputeUnitStatus() const {
  SYNC_ASSIGN_OR_RETURN(const absl::CivilDay today, TodayOf(*local_));
  ParentLinkState parent;
  std::map<std::string, ChildLink> children;
  for (const auto& p : registry_.Peers()) {
    const int64_t last = p.stats->last_contact_micros.load();
    if (p.relation == Relation::kParent) {
      parent = {p.stats->connected.load(), last, p.stats->acked_seq.load(), last != 0};
    } else {
      children[p.peer] = {p.stats->connected.load(), last, p.stats->acked_seq.load(), last != 0};
    }
  }
  std::map<std::string, uint64_t> behind;
  SYNC_ASSIGN_OR_RETURN(Deadlines deadlines, DeadlinesIn(*store_, options_.id));
  SYNC_ASSIGN_OR_RETURN(v1::UnitStatus status, BuildUnitStatus(*store_, options_.id, parent, children, today,
                                                               deadlines.calendar, deadlines.granted, &behind));
  NoteBehind(behind);
  return status;
}

absl::StatusOr<v1::SubtreeListReply> Node::ListSubtree() const {
  SYNC_ASSIGN_OR_RETURN(const v1::UnitStatus own, ComputeUnitStatus());
  return ListSubtreeIn(*store_, options_.id, own, clock_->NowMicros());
}

std::string Node::StatusFingerprint() const {
  std::string f = local_->Today() + "|" + std::to_string(store_->HeadSeq());
  for (const auto& p : registry_.Peers()) {
    f += "|" + p.peer + (p.stats->connected.load() ? "+" : "-") + std::to_string(p.stats->acked_seq.load());
  }
  return f;
}

}  // namespace steersync::node
