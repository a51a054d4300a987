#include "sync/apply.h"

#include "sync/hlc.h"
#include "sync/merge.h"
#include "sync/status_macros.h"

namespace steersync::sync {
namespace {

QuarantineEntry Quarantined(std::string_view from_peer, std::string record_id, std::string code,
                            std::string detail, const v1::Record& record, int64_t now) {
  QuarantineEntry q;
  q.record_id = std::move(record_id);
  q.from_peer = std::string(from_peer);
  q.reason_code = std::move(code);
  q.detail = std::move(detail);
  q.received_micros = now;
  q.record = record;
  return q;
}

}  // namespace

absl::StatusOr<ApplyStats> ApplyRecords(WriteView& view, std::string_view from_peer,
                                        const std::vector<v1::Record>& records,
                                        uint64_t peer_seq, const AdmissionCheck& admit,
                                        int64_t now_micros) {
  ApplyStats stats;
  auto quarantine = [&](QuarantineEntry q) -> absl::Status {
    SYNC_RETURN_IF_ERROR(view.PutQuarantine(q));
    ++stats.quarantined;
    stats.rejections.push_back(std::move(q));
    return absl::OkStatus();
  };

  for (const v1::Record& record : records) {
    v1::RecordBody body;
    if (!body.ParseFromString(record.body())) {
      SYNC_RETURN_IF_ERROR(quarantine(Quarantined(from_peer, "", "MALFORMED_BODY",
                                                  "record body is not a valid RecordBody", record,
                                                  now_micros)));
      continue;
    }
    if (body.id().empty()) {
      SYNC_RETURN_IF_ERROR(quarantine(
          Quarantined(from_peer, "", "MISSING_ID", "record has no id", record, now_micros)));
      continue;
    }
    Admission verdict = admit(from_peer, body, record);
    if (!verdict.admitted) {
      SYNC_RETURN_IF_ERROR(quarantine(Quarantined(from_peer, body.id(), verdict.reason_code,
                                                  verdict.detail, record, now_micros)));
      continue;
    }

    if (CompareHlc(body.version().hlc(), stats.max_hlc) > 0) stats.max_hlc = body.version().hlc();
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> existing, view.Get(body.id()));
    if (!existing.has_value()) {
      SYNC_RETURN_IF_ERROR(view.PutCurrent(body.id(), record).status());
      ++stats.applied;
      continue;
    }
    v1::RecordBody existing_body;
    if (!existing_body.ParseFromString(existing->body())) {
      return absl::DataLossError("stored record " + body.id() + " does not parse");
    }
    const MergeDecision d = Decide(existing_body, existing->body(), body, record.body());
    switch (d.outcome) {
      case MergeDecision::Outcome::kDuplicate:
        ++stats.duplicates;
        break;
      case MergeDecision::Outcome::kIncomingWins:
        if (d.rule != Rule::kCausal) {
          SYNC_RETURN_IF_ERROR(view.PutConflict(ConflictEntry{
              body.id(), *existing, VersionKey(body.version()), std::string(RuleName(d.rule))}));
          ++stats.conflicts;
        }
        SYNC_RETURN_IF_ERROR(view.PutCurrent(body.id(), record).status());
        ++stats.applied;
        break;
      case MergeDecision::Outcome::kExistingWins:
        if (d.rule == Rule::kCausal) {
          ++stats.stale;
        } else {
          SYNC_RETURN_IF_ERROR(view.PutConflict(ConflictEntry{
              body.id(), record, VersionKey(existing_body.version()),
              std::string(RuleName(d.rule))}));
          ++stats.conflicts;
        }
        break;
    }
  }
  if (peer_seq != 0) SYNC_RETURN_IF_ERROR(view.SetAppliedSeq(from_peer, peer_seq));
  return stats;
}

}  // namespace steersync::sync
