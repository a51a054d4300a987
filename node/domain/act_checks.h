#pragma once
// Admission checks that need the roster and the record's stored versions
// (DOMAIN-MODEL.md §5.2–§5.5). They run on the writer thread, after the
// per-record checks of node/domain/record_checks.h and the signature, so they see the
// roster as it stands after every record before them in the same batch.
//
// Reason codes (stable; shown by `steerctl quarantine list`):
//   CAPACITY_REQUIRED, CAPACITY_INVALID, POWER_DENIED, DELEGATION_MISSING
//                            the roster refuses the declared capacity (node/domain/roster.h)
//   AUTHORITY_MISMATCH       the authority signed into the version is not the
//                            one the roster gives for its capacity and date
//   IMMUTABLE                a second, different version of a signed document
//                            or report: change it by a new one that replaces it
//   WITHDRAWN_AFTER_RECEIPT  a withdrawal written after its author saw the
//                            report received (§1.10, S18)
//   BAD_STATE                a report registered RECEIVED after its review
//   BAD_LEGAL_DATE           a legal date that is not the version's signing day
//   ID_NOT_OWNED             a version of another kind than the record held
//   BAD_EXTENSION            an extension request that does not fit the
//                            obligation held (unit, cadence, until after due)
//   NOT_TOP                  a calendar of a year for which this node holds
//                            one from a unit above its writer
//   RELATION_DENIED          a document that replaces, amends, corrects or
//                            recalls one its signer could not have issued, or
//                            one signed by a higher rank (§3.4, P 2.1, P 3.1)

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"

#include "steersync/v1/record.pb.h"
#include "sync/apply.h"
#include "node/domain/roster.h"
#include "sync/store.h"

namespace steersync::domain {

// What `body` does, for the roster's power check; nullopt for records no
// committee capacity stands behind (a CA's revocation list). A recall
// receipt's document type is the recalled directive's, which only the store
// knows: AdmitAct fills it in. `directive`: the body's payload, when the
// caller parsed it already (a DIRECTIVE's; null: parsed here).
std::optional<Act> ActOf(const v1::RecordBody& body, const v1::Directive* directive = nullptr);

// Admission of `body` against `roster` and the versions held in `view`. A
// failed read of the store is an error, never a verdict.
absl::StatusOr<sync::Admission> AdmitAct(const Roster& roster, sync::WriteView& view,
                                         const v1::RecordBody& body, std::string_view body_bytes);

// The rank an authority carries for relations between documents: a signer
// acting for the Head (acting window, KT.) carries the Head's (P 4.2, C 4.1,
// §4 "the Head column can always be exercised by an acting Deputy").
uint32_t EffectiveRank(const v1::Authority& authority);

}  // namespace steersync::domain
