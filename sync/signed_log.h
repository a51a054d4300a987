#pragma once
// Signed logs (issue 13 item 1; docs/security.md "Signed logs").
//
// A writer's versions for one audience form a hash-linked sequence: the body
// of the version at position n (RecordBody.audience_seq) carries the SHA-256
// of the body at position n - 1 (RecordBody.audience_prev). A valid
// signature over the version at n therefore authenticates the body at n - 1,
// and by induction every earlier version linked to it. A receiver checks a
// batch by hashing every body and verifying one signature per run of linked
// versions: the newest.
//
// The links only spare signature checks; they are never a second source of
// trust. A version that no authentic successor in its batch links to is
// verified by its own signature, as before. So a relay that drops, reorders,
// duplicates or alters a version inside a run costs at most extra signature
// checks: an altered body has another digest, no authentic successor links
// to it, and its own signature fails. Two versions claiming one position (a
// fork) link to nothing and are each checked alone.
//
// No I/O, no threads: the same code runs in the daemon, the simulation and
// the fuzzer.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "steersync/v1/record.pb.h"

namespace steersync::sync {

// SHA-256 of a version's body bytes (32 bytes): what audience_prev holds.
// Thread-safe; every SHA-256 of a body (signatures too) is taken here.
std::string BodyDigest(std::string_view body_bytes);

struct BatchLinks {
  // successor[i]: the index of the version that links to version i (same
  // writer and audience, position + 1, its audience_prev the digest of i's
  // body), or -1.
  std::vector<int> successor;
  // Every index once, each after its successor: the order in which to check
  // signatures so that a version's successor is judged first.
  std::vector<size_t> order;
  // Positions that two different versions of this batch claim.
  size_t forks = 0;
};

// Links the versions of one batch. `bodies[i]` is records[i]'s parsed body
// when `parsed[i]`; an unparsed or unnumbered version links to nothing.
// `digests`, when not empty, holds BodyDigest of each numbered version's
// body by index (see NumberedDigests); otherwise they are computed here.
BatchLinks LinkBatch(std::span<const v1::Record> records, std::span<const v1::RecordBody> bodies,
                     const std::vector<bool>& parsed, std::span<const std::string> digests = {});

// BodyDigest of each parsed, numbered version's body, by index ("" for the
// others): what links a batch and what its receiver records as each
// sequence's tip, computed once.
std::vector<std::string> NumberedDigests(std::span<const v1::Record> records,
                                         std::span<const v1::RecordBody> bodies, const std::vector<bool>& parsed);

}  // namespace steersync::sync
