#pragma once
// Deciding between two versions of one record (DESIGN.md "Conflict
// resolution"). Causally ordered versions replace each other; concurrent ones
// are ordered by the hierarchy rules R1..R5, identically on every node.

#include <string>
#include <string_view>

#include "steersync/v1/record.pb.h"

namespace steersync::sync {

enum class Rule { kNone, kCausal, kR1Level, kR2Rank, kR3Acting, kR4Supersession, kR5TieBreak };

// The most versions one version may name in Version.supersedes (its own
// replacement plus the replaced chain); a peer's longer list is refused.
inline constexpr int kMaxSupersessionChain = 16;

// "writer@wall.logical": the name of one version, used in conflicts and in
// Version.supersedes.
std::string VersionKey(const v1::Version& v);

// The key under which a losing version is stored: its VersionKey plus a
// digest of its exact bytes, so two different versions that claim the same
// writer and timestamp (an equivocating writer) are both kept.
std::string LoserKey(const v1::Version& version, std::string_view body_bytes);

// "R1", "R2", ... or "causal".
std::string_view RuleName(Rule rule);

struct MergeDecision {
  enum class Outcome {
    kDuplicate,     // same version (same signed bytes): nothing to do
    kIncomingWins,  // incoming becomes current; existing kept as loser if concurrent
    kExistingWins,  // existing stays current; incoming kept as loser if concurrent
  };
  Outcome outcome;
  // kCausal when one version descends from the other (the older is simply
  // replaced, not a conflict); otherwise the concurrency rule that decided.
  Rule rule;
};

// REQUIRES: both bodies have the same id; `*_bytes` are their exact signed
// bytes (used for the final tie-break and duplicate detection).
MergeDecision Decide(const v1::RecordBody& existing, std::string_view existing_bytes,
                     const v1::RecordBody& incoming, std::string_view incoming_bytes);

}  // namespace steersync::sync
