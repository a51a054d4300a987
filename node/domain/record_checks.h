#pragma once
// The checks a version passes on its own, before any state is read: which
// versions a node accepts from whom (DOMAIN-MODEL.md §5 step 1: id grammar,
// owner, payload, direction, addressing). Pure and thread-safe. A refused
// version is quarantined, never merged.
//
// Reason codes (stable; shown by `steerctl quarantine list`):
//   BAD_ID             id breaks the grammar (sync/node_path.h) or is too long
//   UNKNOWN_KIND       kind is not one this node understands
//   MALFORMED_PAYLOAD  payload does not parse as the kind's message
//   BAD_WRITER         writer is not a node id
//   ID_NOT_OWNED       record id is not under the writer's namespace
//   WRONG_DIRECTION    e.g. a directive flowing up, a report flowing down
//   FOREIGN_WRITER     writer is not where this link can carry writes from
//   NOT_ADDRESSED      the audience does not include this node
//   ISSUER_MISMATCH    the payload names another unit than the writer
//   BAD_STATE          a lifecycle state this writer may not set
//   BAD_EXTENSION      an extension request that names no obligation of the
//                      unit above, no period, no date or no printable reason
//   TOO_LARGE          a unit's status beyond its bounds (unit_status.h)
// (the signature check, node/version_signatures.h, adds BAD_SIGNATURE and
// BAD_REVOCATION_LIST, which need keys; the replica core CLOCK_AHEAD;
// node/domain/act_checks.h the roster checks CAPACITY_*, POWER_DENIED,
// DELEGATION_MISSING, AUTHORITY_MISMATCH, IMMUTABLE, WITHDRAWN_AFTER_RECEIPT.)
//
// Every record has one owning unit, the prefix of its id (§0.2). Two kinds
// are lifecycle fields the owner's superior writes too (§6): a directive
// receipt "<unit>/a/<directive>" (the directive's issuer sets RECALLED) and a
// report status "<unit>/r/<n>/status" (the parent sets RECEIVED, ACCEPTED,
// RETURNED, SUPERSEDED).

#include <string>
#include <string_view>

#include "steersync/v1/record.pb.h"
#include "sync/apply.h"

namespace steersync::domain {

// The checks of one version on its own at node `self`, received from
// neighbour `from_peer` (empty for a write made on this node): id grammar,
// owner, payload, direction, addressing (DOMAIN-MODEL.md §5 step 1).
sync::Admission CheckRecordAlone(std::string_view self, std::string_view from_peer,
                                 const v1::RecordBody& body);

// The unit owning record `id` of `kind`: ids are "<unit>/d/<n>", "<unit>/r/<n>",
// "<unit>/x/<n>" (extension request), "<issuer>/xd/<request id>" (its
// decision), "<unit>/calendar/<year>", "<unit>/m/<n>", "<unit>/acting/<n>", "<unit>/auth/<n>", "<unit>/unit/<unit>",
// "<unit>/<body>", "<unit>/crl" and the lifecycle ids below; "" if malformed.
std::string OwnerOfId(v1::RecordKind kind, std::string_view id);
// True for names a body may not take: the id markers ("d", "r", "m", ...).
bool IsReservedSlug(std::string_view slug);
// The unit owning lifecycle record `id` ("<unit>/a/..." or "<unit>/r/<n>/status").
std::string LifecycleOwner(std::string_view id);
// Issuer of directive `directive_id` ("<issuer>/d/<n>"), or "".
std::string DirectiveIssuer(std::string_view directive_id);

}  // namespace steersync::domain
