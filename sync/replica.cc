#include "sync/replica.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "sync/audience_seq.h"
#include "sync/merge.h"
#include "sync/meta_keys.h"
#include "sync/node_path.h"
#include "sync/sequence_head.h"
#include "sync/signed_log.h"
#include "sync/status_macros.h"
#include "sync/text.h"
#include "sync/version_vector.h"

namespace steersync::sync {
namespace {

Admission Refuse(std::string code, std::string detail) {
  return Admission{false, std::move(code), std::move(detail)};
}

std::string Seconds(int64_t micros) { return std::to_string(micros / 1'000'000) + " s"; }

// A vector entry names a node, or a node's own entry for a version written
// over an older base ("<node>#<counter>", see WriteLocal).
bool IsValidVectorEntry(std::string_view name) {
  const size_t hash = name.find('#');
  if (hash == std::string_view::npos) return IsValidNodeId(name);
  const std::string_view suffix = name.substr(hash + 1);
  return IsValidNodeId(name.substr(0, hash)) && !suffix.empty() && suffix.size() <= 20 &&
         std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The bounds every version meets whoever wrote it (kMaxRecordBytes...).
Admission CheckShape(size_t record_bytes, const v1::RecordBody& body) {
  if (record_bytes > kMaxRecordBytes) {
    return Refuse("TOO_LARGE", "the record is " + std::to_string(record_bytes) + " bytes (at most " +
                                   std::to_string(kMaxRecordBytes) + ")");
  }
  const v1::Version& version = body.version();
  if (version.supersedes_size() > kMaxSupersessionChain) {
    return Refuse("BAD_VERSION", "names " + std::to_string(version.supersedes_size()) +
                                     " superseded versions (at most " +
                                     std::to_string(kMaxSupersessionChain) + ")");
  }
  if (version.vector_size() > kMaxVectorEntries) {
    return Refuse("BAD_VERSION", "its vector has " + std::to_string(version.vector_size()) +
                                     " entries (at most " + std::to_string(kMaxVectorEntries) + ")");
  }
  for (const auto& entry : version.vector()) {
    if (!IsValidVectorEntry(entry.node_id())) {
      return Refuse("BAD_VERSION", "its vector names '" + Printable(entry.node_id(), 80) +
                                       "', not a node id");
    }
  }
  return {};
}

}  // namespace

Replica::Replica(ReplicaOptions options, AdmissionPolicy& policy, const SignatureCheck& signatures,
                 HybridClock& hlc, const Clock& clock)
    : options_(std::move(options)), policy_(policy), signatures_(signatures), hlc_(hlc), clock_(clock) {}

Replica::OneVerdict Replica::CheckOne(std::string_view from_peer, const v1::Record& record,
                                      const v1::RecordBody& body, bool parsed, bool linked) const {
  if (!parsed) return {};  // ApplyRecords quarantines it
  if (Admission shape = CheckShape(record.ByteSizeLong(), body); !shape.admitted) return {shape};
  if (body.kind() == v1::SEQUENCE_HEAD) {
    if (Admission head = CheckHeadShape(body); !head.admitted) return {head};
  }
  Admission a = policy_.CheckAlone(from_peer, body);
  if (!a.admitted) return {a};
  if (Admission signed_by = signatures_.Verify(record, body, linked); !signed_by.admitted) return {signed_by};
  // A peer's clock may run ahead of ours by the skew bound, never more: a
  // version beyond it would drag our clock (and every legal date we sign)
  // into the future.
  const int64_t ahead =
      static_cast<int64_t>(body.version().hlc().wall_micros()) - clock_.NowMicros();
  if (ahead > options_.max_clock_skew_micros) {
    return {Refuse("CLOCK_AHEAD", "stamped " + Seconds(ahead) + " ahead of this node's clock (bound " +
                                      Seconds(options_.max_clock_skew_micros) +
                                      "): the writer's clock is wrong; it is kept here, not applied"),
            true};
  }
  return {a, true};
}

void AloneVerdicts::Append(AloneVerdicts rest) {
  verdicts.insert(verdicts.end(), std::make_move_iterator(rest.verdicts.begin()),
                  std::make_move_iterator(rest.verdicts.end()));
  bodies.insert(bodies.end(), std::make_move_iterator(rest.bodies.begin()), std::make_move_iterator(rest.bodies.end()));
  digests.insert(digests.end(), std::make_move_iterator(rest.digests.begin()),
                 std::make_move_iterator(rest.digests.end()));
}

AloneVerdicts Replica::CheckAlone(std::string_view from_peer,
                                  std::span<const v1::Record> records) const {
  const size_t n = records.size();
  std::vector<v1::RecordBody> bodies(n);
  std::vector<bool> parsed(n);
  for (size_t i = 0; i < n; ++i) parsed[i] = bodies[i].ParseFromString(records[i].body());
  AloneVerdicts result;
  result.digests = NumberedDigests(records, bodies, parsed);
  const BatchLinks links = LinkBatch(records, bodies, parsed, result.digests);
  result.verdicts.resize(n);
  std::vector<char> authentic(n, 0);
  for (const size_t i : links.order) {
    const int next = links.successor[i];
    OneVerdict v = CheckOne(from_peer, records[i], bodies[i], parsed[i], next >= 0 && authentic[next]);
    authentic[i] = v.authentic;
    result.verdicts[i] = std::move(v.admission);
  }
  result.bodies.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (parsed[i]) result.bodies[i] = std::move(bodies[i]);
  }
  return result;
}

absl::Status Replica::ForgetReplacedEntry(WriteView& view, const v1::RecordBody& body, uint64_t log_seq) {
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> current, view.Get(body.id()));
  v1::RecordBody current_body;
  if (!current.has_value() || !current_body.ParseFromString(current->body()) ||
      VersionKey(current_body.version()) != VersionKey(body.version())) {
    return absl::OkStatus();  // a losing concurrent version: every entry stays
  }
  const std::string key = meta::kNewestLogPrefix + body.id();
  SYNC_ASSIGN_OR_RETURN(const uint64_t replaced, meta::GetU64(view, key));
  if (replaced != 0 && replaced < log_seq) SYNC_RETURN_IF_ERROR(view.ForgetLogEntry(replaced));
  return meta::PutU64(view, key, log_seq);
}

absl::Status Replica::AfterAdmitted(WriteView& view, const v1::RecordBody& body, std::string_view body_bytes,
                                    uint64_t log_seq, std::string_view digest) {
  const std::string computed = digest.empty() && body.audience_seq() != 0 ? BodyDigest(body_bytes) : std::string();
  if (digest.empty()) digest = computed;
  SYNC_RETURN_IF_ERROR(policy_.OnAdmitted(view, body));
  if (log_seq != 0 && KeepsNewestOnly(body)) SYNC_RETURN_IF_ERROR(ForgetReplacedEntry(view, body, log_seq));
  const std::string& writer = body.version().writer();
  // The highest counter of the writer's this node holds (told to it in Hello).
  uint64_t counter = 0;
  for (const auto& e : body.version().vector()) {
    if (e.node_id() == writer || e.node_id().rfind(writer + "#", 0) == 0) counter = std::max(counter, e.counter());
  }
  // One rule for the counter a version shows and the one a peer says.
  SYNC_RETURN_IF_ERROR(KeepPeerCounter(view, writer, counter));
  if (writer != options_.self_id) {
    // Holes in a writer's numbering reveal versions dropped on the way, and
    // its signed heads those dropped after its last version.
    if (body.kind() == v1::SEQUENCE_HEAD) return NoteHead(view, body);
    return NoteAudienceSeq(view, body, digest);
  }
  // One of this node's own versions, returned by a neighbour after this node
  // lost its store (recovery), or just written: new ids, vector entries and
  // audience positions continue after it, never reuse it.
  SYNC_ASSIGN_OR_RETURN(uint64_t local, meta::GetU64(view, meta::kLocalCounter));
  if (counter > local) SYNC_RETURN_IF_ERROR(meta::PutU64(view, meta::kLocalCounter, counter));
  if (body.audience_seq() != 0) {
    const std::string next_key = meta::kAudienceNextPrefix + AudienceKey(body.audience());
    SYNC_ASSIGN_OR_RETURN(uint64_t next, meta::GetU64(view, next_key));
    if (body.audience_seq() >= next) {
      // The next version links to this one (a recovered node continues its
      // sequence where its neighbours' copy of it ends).
      SYNC_RETURN_IF_ERROR(meta::PutU64(view, next_key, body.audience_seq()));
      SYNC_RETURN_IF_ERROR(
          view.MetaPut(meta::kAudienceTipPrefix + AudienceKey(body.audience()), std::string(digest)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ApplyStats> Replica::ApplyFromPeer(WriteView& view, std::string_view from_peer,
                                                  const ApplyRequest& request,
                                                  const AloneVerdicts* alone) {
  AloneVerdicts computed;
  if (alone == nullptr || alone->size() != request.records.size()) {
    computed = CheckAlone(from_peer, request.records);
    alone = &computed;
  }
  const v1::Record* first = request.records.data();
  absl::Status context_error;
  auto admit = [&](std::string_view, const v1::RecordBody& body, const v1::Record& record) {
    const Admission& a = (*alone)[static_cast<size_t>(&record - first)];
    if (!a.admitted) return a;
    absl::StatusOr<Admission> in_context =
        body.kind() == v1::SEQUENCE_HEAD ? CheckHeadInContext(view, body) : Admission{};
    if (in_context.ok() && in_context->admitted) in_context = policy_.CheckInContext(view, body, record.body());
    if (!in_context.ok()) {
      // Not a verdict: the transaction fails and the batch is taken again.
      context_error = in_context.status();
      return Refuse("STORE_ERROR", std::string(context_error.message()));
    }
    return *in_context;
  };
  SYNC_ASSIGN_OR_RETURN(
      ApplyStats stats,
      ApplyRecords(view, from_peer, request.records, request.last_seq, admit, clock_.NowMicros(),
                   [&](const v1::RecordBody& body, const v1::Record& record, uint64_t seq) {
                     const size_t i = static_cast<size_t>(&record - first);
                     const std::string_view digest =
                         i < alone->digests.size() ? std::string_view(alone->digests[i]) : std::string_view();
                     return AfterAdmitted(view, body, record.body(), seq, digest);
                   },
                   alone->bodies));
  SYNC_RETURN_IF_ERROR(context_error);
  // In the batch's transaction: no commit of its own (a third durable commit
  // per live directive at a commune, with the batch and its receipt).
  SYNC_RETURN_IF_ERROR(KeepPeerCounter(view, from_peer, request.peer_writer_counter));
  if (request.last_seq != 0 && request.peer_epoch != 0) {
    // The checkpoint and the log incarnation it counts in, together.
    SYNC_RETURN_IF_ERROR(view.SetAppliedEpoch(from_peer, request.peer_epoch));
  }
  // Every admitted version is within the skew bound (CheckOne).
  hlc_.Observe(stats.max_hlc);
  return stats;
}

absl::Status Replica::KeepPeerCounter(WriteView& view, std::string_view peer, uint64_t counter) {
  constexpr uint64_t kMaxPlausibleCounter = uint64_t{1} << 53;
  if (counter == 0 || counter > kMaxPlausibleCounter) return absl::OkStatus();
  const std::string key = meta::kWriterCounterPrefix + std::string(peer);
  SYNC_ASSIGN_OR_RETURN(uint64_t held, meta::GetU64(view, key));
  if (counter <= held) return absl::OkStatus();
  return meta::PutU64(view, key, counter);
}

absl::StatusOr<uint64_t> Replica::NextCounter(WriteView& view) {
  SYNC_ASSIGN_OR_RETURN(uint64_t last, meta::GetU64(view, meta::kLocalCounter));
  return last + 1;
}

absl::StatusOr<LocalWrite> Replica::WriteLocal(WriteView& view, uint64_t counter,
                                               v1::RecordBody body,
                                               const std::optional<v1::Version>& base,
                                               const VersionSigner& signer) {
  const std::string& self = options_.self_id;
  v1::Version* version = body.mutable_version();
  *version->mutable_hlc() = hlc_.Now();
  version->set_writer(self);

  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> existing, view.Get(body.id()));
  v1::RecordBody current;
  const bool has_current = existing.has_value() && current.ParseFromString(existing->body());
  const bool based_on_current =
      !base.has_value() || (has_current && VersionKey(current.version()) == VersionKey(*base));
  version->clear_vector();
  if (based_on_current) {
    if (has_current) *version->mutable_vector() = current.version().vector();
    SetCounter(*version->mutable_vector(), self, counter);
  } else {
    // Based on an older or losing version: concurrent with everything
    // written since. Its own vector entry (never reused) keeps it from
    // dominating this node's other versions (see docs/replication.md).
    *version->mutable_vector() = base->vector();
    SetCounter(*version->mutable_vector(), self + "#" + std::to_string(counter), counter);
    if (has_current) {
      // The writer saw the current version and chose to write over it: an
      // explicit replacement (R4), which carries the replaced version's own
      // chain so that it also beats what that one replaced.
      version->add_supersedes(VersionKey(current.version()));
      for (const std::string& key : current.version().supersedes()) {
        if (version->supersedes_size() >= kMaxSupersessionChain) break;
        version->add_supersedes(key);
      }
    }
  }
  // A local record is never sent; of a newest-only record, versions leave
  // the log, so positions would show holes that are no loss.
  if (body.audience().direction() != v1::Audience::LOCAL && !KeepsNewestOnly(body)) {
    SYNC_ASSIGN_OR_RETURN(uint64_t audience_seq, NextAudienceSeq(view, body.audience()));
    body.set_audience_seq(audience_seq);
    // The signed log: this version commits to the previous one of the
    // sequence (AfterAdmitted keeps this one's digest as the new tip).
    SYNC_ASSIGN_OR_RETURN(std::optional<std::string> tip,
                          view.MetaGet(meta::kAudienceTipPrefix + AudienceKey(body.audience())));
    if (audience_seq > 1 && tip.has_value()) body.set_audience_prev(*tip);
  }

  LocalWrite out;
  out.record.set_body(body.SerializeAsString());
  SYNC_RETURN_IF_ERROR(signer.Sign(out.record));
  if (Admission shape = CheckShape(out.record.ByteSizeLong(), body); !shape.admitted) {
    return absl::InvalidArgumentError("refused: " + shape.reason_code + ": " + shape.detail +
                                      (shape.reason_code == "TOO_LARGE" ? "; shorten the text" : ""));
  }
  // A local act passes the same admission as a peer's version (but for the
  // signature it was just given and the clock it was just stamped with).
  Admission a = policy_.CheckAlone("", body);
  if (a.admitted) {
    SYNC_ASSIGN_OR_RETURN(a, policy_.CheckInContext(view, body, out.record.body()));
  }
  if (!a.admitted) {
    return absl::FailedPreconditionError("refused: " + a.reason_code + ": " + a.detail);
  }
  SYNC_ASSIGN_OR_RETURN(
      ApplyStats stats,
      ApplyRecords(
          view, "", {out.record}, 0,
          [](std::string_view, const v1::RecordBody&, const v1::Record&) { return Admission{}; },
          clock_.NowMicros(), [&](const v1::RecordBody& b, const v1::Record& record, uint64_t seq) {
            return AfterAdmitted(view, b, record.body(), seq, "");
          }));
  if (stats.applied != 1) {
    return absl::InternalError("local version of '" + body.id() + "' did not join its frontier");
  }
  SYNC_RETURN_IF_ERROR(meta::PutU64(view, meta::kLocalCounter, counter));
  SYNC_RETURN_IF_ERROR(view.MetaPut(meta::kLastHlc, version->hlc().SerializeAsString()));
  out.version_key = VersionKey(*version);
  out.body = std::move(body);
  return out;
}

}  // namespace steersync::sync
