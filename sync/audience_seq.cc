#include "sync/audience_seq.h"

#include <algorithm>
#include <vector>

#include "sync/attachments.h"
#include "sync/meta_keys.h"
#include "sync/signed_log.h"
#include "sync/status_macros.h"

namespace steersync::sync {

std::string AudienceKey(const v1::Audience& audience) {
  std::vector<std::string> units(audience.units().begin(), audience.units().end());
  std::sort(units.begin(), units.end());
  std::string key = (audience.direction() == v1::Audience::DOWN ? "down:" : "up:") + audience.root();
  for (const auto& u : units) key += "," + u;
  return key;
}

std::optional<v1::Audience> AudienceOfKey(std::string_view key, std::string_view writer) {
  v1::Audience audience;
  std::string_view rest;
  if (key.substr(0, 5) == "down:") {
    audience.set_direction(v1::Audience::DOWN);
    rest = key.substr(5);
  } else if (key.substr(0, 3) == "up:") {
    audience.set_direction(v1::Audience::UP);
    rest = key.substr(3);
  } else {
    return std::nullopt;
  }
  std::vector<std::string_view> parts;  // root, then the units
  for (size_t from = 0;;) {
    const size_t comma = rest.find(',', from);
    parts.push_back(rest.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from));
    if (comma == std::string_view::npos) break;
    from = comma + 1;
  }
  audience.set_root(std::string(parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty()) return std::nullopt;
    audience.add_units(std::string(parts[i]));
  }
  if (audience.root().empty()) return std::nullopt;
  if (audience.direction() == v1::Audience::UP && audience.root() == writer) {
    audience.set_direction(v1::Audience::AROUND);
  }
  return audience;
}

std::string StreamKey(std::string_view writer, const v1::Audience& audience) {
  std::string key(writer);
  key += '|';
  key += AudienceKey(audience);
  return key;
}

absl::StatusOr<std::optional<SequenceMark>> GetSequenceMark(WriteView& view, std::string_view name) {
  SYNC_ASSIGN_OR_RETURN(std::optional<std::string> value, view.MetaGet(name));
  if (!value.has_value()) return std::optional<SequenceMark>();
  // position, wall micros, logical (u64 BE each), digest (32), prev (0 or 32)
  if (value->size() != 24 + 32 && value->size() != 24 + 64) {
    return absl::DataLossError("meta value " + std::string(name) + " is not a sequence mark");
  }
  SequenceMark mark;
  mark.position = meta::DecodeU64(std::string_view(*value).substr(0, 8));
  mark.hlc.set_wall_micros(meta::DecodeU64(std::string_view(*value).substr(8, 8)));
  mark.hlc.set_logical(static_cast<uint32_t>(meta::DecodeU64(std::string_view(*value).substr(16, 8))));
  mark.digest = value->substr(24, 32);
  if (value->size() > 56) mark.prev = value->substr(56);
  return std::optional<SequenceMark>(std::move(mark));
}

absl::Status PutSequenceMark(WriteView& view, std::string_view name, const SequenceMark& mark) {
  std::string value = meta::EncodeU64(mark.position) + meta::EncodeU64(mark.hlc.wall_micros()) +
                      meta::EncodeU64(mark.hlc.logical());
  value += mark.digest;
  if (mark.prev.size() == 32) value += mark.prev;
  if (value.size() != 24 + 32 && value.size() != 24 + 64) {
    return absl::InvalidArgumentError("a sequence mark's digests are 32 bytes");
  }
  return view.MetaPut(name, value);
}

bool StampedAfter(const v1::Hlc& a, const v1::Hlc& b) {
  return a.wall_micros() != b.wall_micros() ? a.wall_micros() > b.wall_micros() : a.logical() > b.logical();
}

absl::Status NoteFork(WriteView& view, std::string_view stream, uint64_t position, std::string detail) {
  std::string name = meta::kAudienceForkPrefix;
  name += stream;
  name += '|';
  name += meta::EncodeU64(position);
  return view.MetaPut(name, detail);
}

namespace {

std::string Short(std::string_view digest) { return HexOf(digest.substr(0, 6)) + "…"; }

// Checks version `body` (digest `digest`) of `stream` against the newest
// version and the newest head held of it; records each disagreement.
absl::Status CheckAgainstHeld(WriteView& view, const std::string& stream, const v1::RecordBody& body,
                              const std::string& digest, const std::optional<SequenceMark>& tip) {
  const uint64_t seq = body.audience_seq();
  const std::string who = body.version().writer();
  if (tip.has_value()) {
    if (seq == tip->position && digest != tip->digest) {
      SYNC_RETURN_IF_ERROR(NoteFork(view, stream, seq,
                                    "two versions of " + who + " claim #" + std::to_string(seq) + " (" +
                                        Short(tip->digest) + " and " + Short(digest) + ")"));
    } else if (seq == tip->position + 1 && !body.audience_prev().empty() && body.audience_prev() != tip->digest) {
      // (A version without audience_prev comes from a writer older than signed logs: it links to nothing.)
      SYNC_RETURN_IF_ERROR(NoteFork(view, stream, tip->position,
                                    "#" + std::to_string(seq) + " of " + who + " follows another #" +
                                        std::to_string(tip->position) + " than the one held (" +
                                        Short(tip->digest) + ")"));
    } else if (seq + 1 == tip->position && tip->prev.size() == 32 && digest != tip->prev) {
      SYNC_RETURN_IF_ERROR(NoteFork(view, stream, seq,
                                    "#" + std::to_string(tip->position) + " of " + who + " follows another #" +
                                        std::to_string(seq) + " than the one received (" + Short(digest) + ")"));
    }
  }
  SYNC_ASSIGN_OR_RETURN(std::optional<SequenceMark> head,
                        GetSequenceMark(view, meta::kAudienceHeadPrefix + stream));
  if (head.has_value() && seq == head->position && digest != head->digest) {
    SYNC_RETURN_IF_ERROR(NoteFork(view, stream, seq,
                                  "#" + std::to_string(seq) + " of " + who + " (" + Short(digest) +
                                      ") is not the one its signed head names (" + Short(head->digest) + ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> NextAudienceSeq(WriteView& view, const v1::Audience& audience) {
  const std::string name = meta::kAudienceNextPrefix + AudienceKey(audience);
  SYNC_ASSIGN_OR_RETURN(uint64_t current, meta::GetU64(view, name));
  SYNC_RETURN_IF_ERROR(meta::PutU64(view, name, current + 1));
  return current + 1;
}

absl::Status NoteAudienceSeq(WriteView& view, const v1::RecordBody& body, std::string_view body_digest) {
  const uint64_t seq = body.audience_seq();
  if (seq == 0) return absl::OkStatus();  // not numbered
  const std::string stream = StreamKey(body.version().writer(), body.audience());
  const std::string tip_name = meta::kAudienceReceivedTipPrefix + stream;
  SYNC_ASSIGN_OR_RETURN(std::optional<SequenceMark> tip, GetSequenceMark(view, tip_name));
  const std::string digest(body_digest);
  SYNC_RETURN_IF_ERROR(CheckAgainstHeld(view, stream, body, digest, tip));
  if (!tip.has_value() || seq > tip->position) {
    SequenceMark mark{seq, body.version().hlc(), digest,
                      body.audience_prev().size() == 32 ? body.audience_prev() : std::string()};
    SYNC_RETURN_IF_ERROR(PutSequenceMark(view, tip_name, mark));
  }
  const std::string seen_name = meta::kAudienceSeenPrefix + stream;
  SYNC_ASSIGN_OR_RETURN(uint64_t seen, meta::GetU64(view, seen_name));
  if (seq <= seen) {
    // An earlier position: it may fill a hole.
    return view.MetaDelete(meta::kAudienceGapPrefix + stream + "|" + meta::EncodeU64(seq));
  }
  const uint64_t first_missing = std::max(seen + 1, seq > 1000 ? seq - 1000 : 1);
  for (uint64_t missing = first_missing; missing < seq; ++missing) {
    SYNC_RETURN_IF_ERROR(
        view.MetaPut(meta::kAudienceGapPrefix + stream + "|" + meta::EncodeU64(missing), ""));
  }
  return meta::PutU64(view, seen_name, seq);
}

}  // namespace steersync::sync
