#pragma once
// Admission checks that need the roster and the record's stored versions
// (DOMAIN-MODEL.md §5.2–§5.5). They run on the writer thread, after the
// per-record checks of node/policy.h and the signature, so they see the
// roster as it stands after every record before them in the same batch.
//
// Reason codes (stable; shown by `steerctl quarantine list`):
//   CAPACITY_REQUIRED, CAPACITY_INVALID, POWER_DENIED, DELEGATION_MISSING
//                            the roster refuses the declared capacity (sync/roster.h)
//   AUTHORITY_MISMATCH       the authority signed into the version is not the
//                            one the roster gives for its capacity and date
//   IMMUTABLE                a second, different version of a signed document
//                            or report: change it by a new one that replaces it
//   WITHDRAWN_AFTER_RECEIPT  a withdrawal written after its author saw the
//                            report received (§1.10, S18)
//   BAD_STATE                a report registered RECEIVED after its review
//   BAD_LEGAL_DATE           a legal date that is not the version's signing day
//   ID_NOT_OWNED             a version of another kind than the record held

#include <string_view>

#include "steersync/v1/record.pb.h"
#include "sync/apply.h"
#include "sync/roster.h"
#include "sync/store.h"

namespace steersync::node {

// What `body` does, for the roster's power check; nullopt for records no
// committee capacity stands behind (a CA's revocation list).
std::optional<sync::Act> ActOf(const v1::RecordBody& body);

// Admission of `body` against `roster` and the versions of its record held in
// `view`.
sync::Admission AdmitAct(const sync::Roster& roster, sync::WriteView& view,
                         const v1::RecordBody& body, std::string_view body_bytes);

}  // namespace steersync::node
