#include "sync/sequence_head.h"

#include <algorithm>

#include "sync/attachments.h"
#include "sync/audience_seq.h"
#include "sync/meta_keys.h"
#include "sync/signed_log.h"
#include "sync/status_macros.h"

namespace steersync::sync {
namespace {

constexpr std::string_view kHeadMarker = "/head/";
constexpr size_t kDigestBytes = 32;
// A head names up to this many missing positions at once, like a version
// that skips positions (audience_seq.cc): a hostile writer could claim any length.
constexpr uint64_t kMaxHolesPerHead = 1000;

Admission Refuse(std::string code, std::string detail) { return Admission{false, std::move(code), std::move(detail)}; }

std::string Short(std::string_view digest) { return HexOf(digest.substr(0, 6)) + "…"; }

// REQUIRES: CheckHeadShape(body) admitted it.
v1::SequenceHead HeadOf(const v1::RecordBody& body) {
  v1::SequenceHead head;
  head.ParseFromString(body.payload());
  return head;
}

std::string Describe(const v1::RecordBody& body) {
  return body.version().writer() + "'s head for audience " + AudienceKey(body.audience());
}

}  // namespace

std::string SequenceHeadId(std::string_view writer, const v1::Audience& audience) {
  return std::string(writer) + std::string(kHeadMarker) + HexOf(BodyDigest(AudienceKey(audience)).substr(0, 8));
}

Admission CheckHeadShape(const v1::RecordBody& body) {
  const std::string& writer = body.version().writer();
  if (body.id() != SequenceHeadId(writer, body.audience())) {
    return Refuse("ID_NOT_OWNED", "a sequence head's id is its writer's and names its audience (" +
                                      SequenceHeadId(writer, body.audience()) + ")");
  }
  if (body.audience().direction() == v1::Audience::LOCAL ||
      body.audience().direction() == v1::Audience::DIRECTION_UNSPECIFIED) {
    return Refuse("WRONG_DIRECTION", "a sequence head goes where its sequence goes; a local record has none");
  }
  v1::SequenceHead head;
  if (!head.ParseFromString(body.payload()) || head.length() == 0 || head.digest().size() != kDigestBytes ||
      body.tombstone() || body.audience_seq() != 0 || !body.audience_prev().empty() ||
      body.attachments_size() != 0) {
    return Refuse("MALFORMED_PAYLOAD",
                  "not a SequenceHead (length >= 1, a 32-byte digest; unnumbered, no files, not a tombstone)");
  }
  return {};
}

absl::StatusOr<Admission> CheckHeadInContext(WriteView& view, const v1::RecordBody& body) {
  const v1::SequenceHead head = HeadOf(body);
  const uint64_t length = head.length();
  const std::string stream = StreamKey(body.version().writer(), body.audience());
  const v1::Hlc& stamped = body.version().hlc();
  SYNC_ASSIGN_OR_RETURN(std::optional<SequenceMark> held_head,
                        GetSequenceMark(view, meta::kAudienceHeadPrefix + stream));
  SYNC_ASSIGN_OR_RETURN(std::optional<SequenceMark> tip,
                        GetSequenceMark(view, meta::kAudienceReceivedTipPrefix + stream));
  // Signed later, claiming less: the writer's sequence went back.
  const std::string rolled_back =
      ": the writer's sequence went back (its store restored from an older backup?); "
      "its versions above that length stay held";
  if (held_head.has_value() && StampedAfter(stamped, held_head->hlc) && length < held_head->position) {
    return Refuse("ROLLBACK", Describe(body) + " says " + std::to_string(length) +
                                  " version(s), after its earlier head said " +
                                  std::to_string(held_head->position) + rolled_back);
  }
  if (tip.has_value() && StampedAfter(stamped, tip->hlc) && length < tip->position) {
    return Refuse("ROLLBACK", Describe(body) + " says " + std::to_string(length) +
                                  " version(s), signed after its version #" + std::to_string(tip->position) +
                                  rolled_back);
  }
  // Another body at a position whose body is known: two versions signed for one position.
  auto fork = [&](std::string_view held_digest, std::string_view what) {
    return Refuse("FORK", Describe(body) + " names " + Short(head.digest()) + " as version #" +
                              std::to_string(length) + ", but " + std::string(what) + " " + Short(held_digest) +
                              ": two versions claim that position (a store restored from an older backup "
                              "reused it, or the writer's key is used elsewhere)");
  };
  if (tip.has_value() && length == tip->position && head.digest() != tip->digest) {
    return fork(tip->digest, "the version held there is");
  }
  if (tip.has_value() && length + 1 == tip->position && tip->prev.size() == kDigestBytes &&
      head.digest() != tip->prev) {
    return fork(tip->prev, "the next version held links to");
  }
  if (held_head.has_value() && length == held_head->position && head.digest() != held_head->digest) {
    return fork(held_head->digest, "its earlier head named");
  }
  return Admission{};
}

absl::Status NoteHead(WriteView& view, const v1::RecordBody& body) {
  const v1::SequenceHead head = HeadOf(body);
  const std::string stream = StreamKey(body.version().writer(), body.audience());
  const std::string head_name = meta::kAudienceHeadPrefix + stream;
  SYNC_ASSIGN_OR_RETURN(std::optional<SequenceMark> held, GetSequenceMark(view, head_name));
  if (!held.has_value() || StampedAfter(body.version().hlc(), held->hlc)) {
    SYNC_RETURN_IF_ERROR(PutSequenceMark(view, head_name, SequenceMark{head.length(), body.version().hlc(),
                                                                      head.digest(), ""}));
  }
  // Every position up to the head's length was written: those not received
  // are holes, the last one included.
  const std::string seen_name = meta::kAudienceSeenPrefix + stream;
  SYNC_ASSIGN_OR_RETURN(const uint64_t seen, meta::GetU64(view, seen_name));
  if (head.length() <= seen) return absl::OkStatus();
  const uint64_t first_missing =
      std::max(seen + 1, head.length() > kMaxHolesPerHead ? head.length() - kMaxHolesPerHead + 1 : 1);
  for (uint64_t missing = first_missing; missing <= head.length(); ++missing) {
    SYNC_RETURN_IF_ERROR(view.MetaPut(meta::kAudienceGapPrefix + stream + "|" + meta::EncodeU64(missing), ""));
  }
  return meta::PutU64(view, seen_name, head.length());
}

absl::Status FillSequenceHead(WriteView& view, std::string_view self, const v1::Audience& audience,
                              v1::RecordBody& body) {
  const std::string key = AudienceKey(audience);
  SYNC_ASSIGN_OR_RETURN(const uint64_t length, meta::GetU64(view, meta::kAudienceNextPrefix + key));
  SYNC_ASSIGN_OR_RETURN(std::optional<std::string> digest, view.MetaGet(meta::kAudienceTipPrefix + key));
  if (length == 0 || !digest.has_value()) {
    return absl::NotFoundError("this node has written nothing to audience " + key);
  }
  v1::SequenceHead head;
  head.set_length(length);
  head.set_digest(*digest);
  body.set_id(SequenceHeadId(self, audience));
  body.set_kind(v1::SEQUENCE_HEAD);
  *body.mutable_audience() = audience;
  body.set_payload(head.SerializeAsString());
  return meta::PutU64(view, meta::kAudiencePublishedPrefix + key, length);
}

absl::StatusOr<uint64_t> PublishedHeadLength(WriteView& view, std::string_view audience_key) {
  return meta::GetU64(view, std::string(meta::kAudiencePublishedPrefix) + std::string(audience_key));
}

}  // namespace steersync::sync
