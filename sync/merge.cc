#include "sync/merge.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "sync/attachments.h"
#include "sync/hlc.h"
#include "sync/version_vector.h"

namespace steersync::sync {
namespace {

using Outcome = MergeDecision::Outcome;

// `v` names `other` in its supersession chain: a writer that replaces a
// version deliberately carries that version's own chain too (WriteLocal), so
// one lookup covers "replaces the other or anything it replaced".
bool Supersedes(const v1::Version& v, std::string_view other_key) {
  return std::find(v.supersedes().begin(), v.supersedes().end(), other_key) !=
         v.supersedes().end();
}

// <0 when a wins, >0 when b wins; 0 undecided by this rule.
int ByLevel(const v1::Authority& a, const v1::Authority& b) {
  if (a.unit_depth() == b.unit_depth()) return 0;
  return a.unit_depth() < b.unit_depth() ? -1 : 1;  // higher unit = smaller depth
}
int ByRank(const v1::Authority& a, const v1::Authority& b) {
  if (a.role_rank() == b.role_rank()) return 0;
  return a.role_rank() > b.role_rank() ? -1 : 1;
}
int ByActing(const v1::Authority& a, const v1::Authority& b) {
  if (a.acting_for_head() == b.acting_for_head()) return 0;
  return a.acting_for_head() ? -1 : 1;
}

}  // namespace

std::string VersionKey(const v1::Version& v) {
  return v.writer() + "@" + std::to_string(v.hlc().wall_micros()) + "." +
         std::to_string(v.hlc().logical());
}

std::string LoserKey(const v1::Version& version, std::string_view body_bytes) {
  // FNV-1a, 64 bit: stable across platforms and builds (unlike std::hash).
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : body_bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return VersionKey(version) + "#" + hex;
}

std::string_view RuleName(Rule rule) {
  switch (rule) {
    case Rule::kNone: return "none";
    case Rule::kCausal: return "causal";
    case Rule::kR1Level: return "R1";
    case Rule::kR2Rank: return "R2";
    case Rule::kR3Acting: return "R3";
    case Rule::kR4Supersession: return "R4";
    case Rule::kR5TieBreak: return "R5";
  }
  return "?";
}

MergeDecision Decide(const v1::RecordBody& existing, std::string_view existing_bytes,
                     const v1::RecordBody& incoming, std::string_view incoming_bytes) {
  if (existing_bytes == incoming_bytes) return {Outcome::kDuplicate, Rule::kNone};
  const auto& ev = existing.version();
  const auto& iv = incoming.version();
  switch (CompareVectors(ev.vector(), iv.vector())) {
    case Causality::kBefore: return {Outcome::kIncomingWins, Rule::kCausal};
    case Causality::kAfter: return {Outcome::kExistingWins, Rule::kCausal};
    case Causality::kEqual:    // same vector, different bytes: a writer equivocated;
    case Causality::kConcurrent:  // treat as concurrent so every node decides alike.
      break;
  }
  auto pick = [](int cmp, Rule rule) {
    return MergeDecision{cmp < 0 ? Outcome::kExistingWins : Outcome::kIncomingWins, rule};
  };
  if (int c = ByLevel(ev.authority(), iv.authority())) return pick(c, Rule::kR1Level);
  if (int c = ByRank(ev.authority(), iv.authority())) return pick(c, Rule::kR2Rank);
  if (int c = ByActing(ev.authority(), iv.authority())) return pick(c, Rule::kR3Acting);
  const bool e_sup = Supersedes(ev, VersionKey(iv));
  const bool i_sup = Supersedes(iv, VersionKey(ev));
  if (e_sup != i_sup) return pick(e_sup ? -1 : 1, Rule::kR4Supersession);
  // R5: later legal date, higher HLC, smaller writer id, smaller bytes.
  if (ev.legal_date() != iv.legal_date()) return pick(ev.legal_date() > iv.legal_date() ? -1 : 1, Rule::kR5TieBreak);
  if (int c = CompareHlc(ev.hlc(), iv.hlc())) return pick(c > 0 ? -1 : 1, Rule::kR5TieBreak);
  if (ev.writer() != iv.writer()) return pick(ev.writer() < iv.writer() ? -1 : 1, Rule::kR5TieBreak);
  // Same writer and timestamp, different bytes: an equivocation. The smaller
  // SHA-256 of the signed bytes wins (DOMAIN-MODEL §6 R5.4).
  return pick(Sha256Of(existing_bytes) < Sha256Of(incoming_bytes) ? -1 : 1, Rule::kR5TieBreak);
}

}  // namespace steersync::sync
