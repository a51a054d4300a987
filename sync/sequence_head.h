#pragma once
// Signed heads (issue 13 item 1; docs/security.md "Signed heads").
//
// A writer's versions for one audience form a hash-linked sequence
// (sync/signed_log.h). When a sequence has been idle, its writer signs a
// head: a SEQUENCE_HEAD record saying "I have written `length` versions for
// this audience; the last one's body has SHA-256 `digest`". The head has the
// sequence's own audience, so it travels exactly where the sequence goes, and
// only its newest version is kept. What a receiver learns from it:
//  - a version dropped on the way is seen even when it was the *last* one
//    (positions up to `length` that never arrived become holes, reported as
//    those audience_seq finds: sync/audience_seq.h);
//  - a head that contradicts a version held at the same position is a fork
//    (two bodies signed for one position): the head is refused FORK;
//  - a head signed after another head, or after a version, yet claiming
//    fewer versions than those already did, is a rollback (the writer's
//    store went back): refused ROLLBACK.
// Like every version, a head is checked by its own signature and signer
// (a forged head is refused BAD_SIGNATURE before it reaches these checks).
//
// No I/O beyond the WriteView, no threads: the daemon, the simulation and
// the fuzzer share it.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "steersync/v1/record.pb.h"
#include "sync/apply.h"
#include "sync/store.h"

namespace steersync::sync {

// "<writer>/head/<16 hex digits of SHA-256 of the audience key>".
std::string SequenceHeadId(std::string_view writer, const v1::Audience& audience);

// The verdict on a SEQUENCE_HEAD version alone: its id names its writer and
// its audience, the audience is sent somewhere, the payload is a
// SequenceHead with length >= 1 and a 32-byte digest, and it is neither
// numbered, a tombstone nor carrying files. Refusals: ID_NOT_OWNED,
// WRONG_DIRECTION, MALFORMED_PAYLOAD.
Admission CheckHeadShape(const v1::RecordBody& body);

// The verdict on a shape-checked head against what `view` holds of its
// sequence: FORK or ROLLBACK (see above), else admitted.
absl::StatusOr<Admission> CheckHeadInContext(WriteView& view, const v1::RecordBody& body);

// After a peer's head was admitted: positions up to its length that never
// arrived become holes, and the newest head is kept for the checks above.
absl::Status NoteHead(WriteView& view, const v1::RecordBody& body);

// Writer side. Fills `body` (id, kind, audience, payload) with this node's
// head of its sequence for `audience`, read in `view`, the transaction that
// signs and logs it, and notes it as published there. NotFound when this
// node has written nothing to `audience`.
absl::Status FillSequenceHead(WriteView& view, std::string_view self, const v1::Audience& audience,
                              v1::RecordBody& body);

// Writer side: the length of the last head published for `audience_key`
// (AudienceKey), 0 when none.
absl::StatusOr<uint64_t> PublishedHeadLength(WriteView& view, std::string_view audience_key);

}  // namespace steersync::sync
