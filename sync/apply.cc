#include "sync/apply.h"

#include <algorithm>
#include <optional>
#include <span>

#include "sync/hlc.h"
#include "sync/merge.h"
#include "sync/status_macros.h"
#include "sync/version_vector.h"

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

// One version of a record with its parsed body.
struct Candidate {
  v1::Record record;
  v1::RecordBody body;
  std::string key;  // LoserKey
};

// The winner among frontier versions: a tournament over the versions sorted
// by key, so the result depends only on the set, never on arrival order.
size_t PickWinner(const std::vector<Candidate>& frontier) {
  std::vector<size_t> order(frontier.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return frontier[a].key != frontier[b].key ? frontier[a].key < frontier[b].key
                                              : frontier[a].record.body() < frontier[b].record.body();
  });
  size_t best = order[0];
  for (size_t k = 1; k < order.size(); ++k) {
    const Candidate& challenger = frontier[order[k]];
    const MergeDecision d = Decide(frontier[best].body, frontier[best].record.body(),
                                   challenger.body, challenger.record.body());
    if (d.outcome == MergeDecision::Outcome::kIncomingWins) best = order[k];
  }
  return best;
}

enum class Merged { kNew, kStale, kConflict };
struct MergeResult {
  Merged merged = Merged::kStale;
  uint64_t log_seq = 0;  // where it joined the change log; 0: stale
};

// Merges admitted version `incoming` of a record into the frontier held by
// `view`. Every version that joins the frontier is appended to the change
// log, winner or loser, so that every replica learns every version.
// The frontier of record `id` held in `view`: the current version first, then
// the losers; empty for a record not held.
absl::StatusOr<std::vector<Candidate>> LoadFrontier(WriteView& view, const std::string& id) {
  std::vector<Candidate> frontier;
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> current, view.Get(id));
  if (!current.has_value()) return frontier;
  SYNC_ASSIGN_OR_RETURN(std::vector<v1::Record> losers, view.Losers(id));
  frontier.reserve(losers.size() + 2);
  auto add = [&](v1::Record r) -> absl::Status {
    Candidate c;
    if (!c.body.ParseFromString(r.body())) {
      return absl::DataLossError("stored version of " + id + " does not parse");
    }
    c.key = LoserKey(c.body.version(), r.body());
    c.record = std::move(r);
    frontier.push_back(std::move(c));
    return absl::OkStatus();
  };
  SYNC_RETURN_IF_ERROR(add(std::move(*current)));
  for (auto& l : losers) SYNC_RETURN_IF_ERROR(add(std::move(l)));
  return frontier;
}

bool Holds(const std::vector<Candidate>& frontier, const std::string& body_bytes) {
  for (const Candidate& c : frontier) {
    if (c.record.body() == body_bytes) return true;
  }
  return false;
}

// REQUIRES: `frontier` is LoadFrontier() of the incoming record's id, is not
// empty, and does not hold the incoming version's exact bytes.
absl::StatusOr<MergeResult> MergeVersion(WriteView& view, std::vector<Candidate> frontier,
                                         Candidate incoming) {
  const std::string id = incoming.body.id();
  const size_t old_winner = 0;

  // Causally older than a version we hold: nothing changes.
  for (const Candidate& c : frontier) {
    if (CompareVectors(incoming.body.version().vector(), c.body.version().vector()) ==
        Causality::kBefore) {
      return MergeResult{Merged::kStale};
    }
  }
  // Drop what the incoming version descends from; it leaves the frontier.
  std::vector<Candidate> kept;
  for (size_t i = 0; i < frontier.size(); ++i) {
    const bool dominated = CompareVectors(frontier[i].body.version().vector(),
                                          incoming.body.version().vector()) == Causality::kBefore;
    if (dominated && i != old_winner) SYNC_RETURN_IF_ERROR(view.DeleteLoser(id, frontier[i].key));
    if (!dominated) kept.push_back(std::move(frontier[i]));
  }
  const bool concurrent = !kept.empty();
  kept.push_back(std::move(incoming));
  const size_t winner = PickWinner(kept);
  SYNC_ASSIGN_OR_RETURN(const uint64_t seq, view.AppendLog(kept.back().record));
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i == winner) {
      SYNC_RETURN_IF_ERROR(view.SetCurrent(id, kept[i].record));
      SYNC_RETURN_IF_ERROR(view.DeleteLoser(id, kept[i].key));
    } else {
      SYNC_RETURN_IF_ERROR(view.PutLoser(id, kept[i].record));
    }
  }
  return MergeResult{concurrent ? Merged::kConflict : Merged::kNew, seq};
}

}  // namespace

absl::StatusOr<ApplyStats> ApplyRecords(WriteView& view, std::string_view from_peer,
                                        const std::vector<v1::Record>& records,
                                        uint64_t peer_seq, const AdmissionCheck& admit,
                                        int64_t now_micros, const AdmittedHook& admitted,
                                        std::span<const std::optional<v1::RecordBody>> parsed) {
  ApplyStats stats;
  auto quarantine = [&](QuarantineEntry q) -> absl::Status {
    SYNC_RETURN_IF_ERROR(view.PutQuarantine(q));
    ++stats.quarantined;
    stats.rejections.push_back(std::move(q));
    return absl::OkStatus();
  };

  for (size_t i = 0; i < records.size(); ++i) {
    const v1::Record& record = records[i];
    v1::RecordBody parsed_here;
    const v1::RecordBody* parsed_body = nullptr;
    if (i < parsed.size()) {
      if (parsed[i].has_value()) parsed_body = &*parsed[i];
    } else if (parsed_here.ParseFromString(record.body())) {
      parsed_body = &parsed_here;
    }
    if (parsed_body == nullptr) {
      SYNC_RETURN_IF_ERROR(quarantine(Quarantined(from_peer, "", "MALFORMED_BODY",
                                                  "record body is not a valid RecordBody", record,
                                                  now_micros)));
      continue;
    }
    const v1::RecordBody& body = *parsed_body;
    if (body.id().empty()) {
      SYNC_RETURN_IF_ERROR(quarantine(
          Quarantined(from_peer, "", "MISSING_ID", "record has no id", record, now_micros)));
      continue;
    }
    if (!IsWellFormed(body.version().vector())) {
      SYNC_RETURN_IF_ERROR(quarantine(Quarantined(from_peer, body.id(), "MALFORMED_VERSION",
                                                  "version vector is not sorted and unique",
                                                  record, now_micros)));
      continue;
    }
    // Already held exactly: a duplicate. It was judged when it first came;
    // judging it again against today's state (a roster grown since) could
    // refuse what was rightly admitted.
    SYNC_ASSIGN_OR_RETURN(std::vector<Candidate> frontier, LoadFrontier(view, body.id()));
    if (Holds(frontier, record.body())) {
      ++stats.duplicates;
      continue;
    }
    Admission verdict = admit(from_peer, body, record);
    if (!verdict.admitted) {
      SYNC_RETURN_IF_ERROR(quarantine(Quarantined(from_peer, body.id(), verdict.reason_code,
                                                  verdict.detail, record, now_micros)));
      continue;
    }
    if (CompareHlc(body.version().hlc(), stats.max_hlc) > 0) stats.max_hlc = body.version().hlc();
    stats.admitted_ids.emplace_back(body.id(), body.kind());
    MergeResult result;
    if (frontier.empty()) {
      // A record not held (most of a catch-up): it becomes current as is.
      SYNC_RETURN_IF_ERROR(view.SetCurrent(body.id(), record));
      SYNC_ASSIGN_OR_RETURN(const uint64_t seq, view.AppendLog(record));
      result = MergeResult{Merged::kNew, seq};
    } else {
      Candidate incoming{record, body, LoserKey(body.version(), record.body())};
      SYNC_ASSIGN_OR_RETURN(result, MergeVersion(view, std::move(frontier), std::move(incoming)));
    }
    switch (result.merged) {
      case Merged::kNew: ++stats.applied; break;
      case Merged::kStale: ++stats.stale; break;
      case Merged::kConflict: ++stats.applied; ++stats.conflicts; break;
    }
    if (admitted) SYNC_RETURN_IF_ERROR(admitted(body, record, result.log_seq));
  }
  if (peer_seq != 0) SYNC_RETURN_IF_ERROR(view.SetAppliedSeq(from_peer, peer_seq));
  return stats;
}

}  // namespace steersync::sync
