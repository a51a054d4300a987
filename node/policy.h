#pragma once
// Admission for the walking skeleton: which versions a node accepts from
// whom (DOMAIN-MODEL.md §4–§5, reduced to what directives, reports and
// acknowledgements need). A refused version is quarantined, never merged.
//
// Reason codes (stable; shown by `steerctl quarantine list`):
//   UNKNOWN_KIND       kind is not one this node understands
//   MALFORMED_PAYLOAD  payload does not parse as the kind's message
//   BAD_WRITER         writer is not a node id
//   ID_NOT_OWNED       record id is not under the writer's namespace
//   WRONG_DIRECTION    e.g. a directive flowing up, a report flowing down
//   FOREIGN_WRITER     writer is not where this link can carry writes from
//   NOT_ADDRESSED      the audience does not include this node
//   ISSUER_MISMATCH    the payload names another unit than the writer
// (node/link.cc adds BAD_SIGNATURE and BAD_REVOCATION_LIST, which need keys.)

#include <string>
#include <string_view>

#include "steersync/v1/record.pb.h"
#include "sync/apply.h"

namespace steersync::node {

// Admission of `body` at node `self`, received from neighbour `from_peer`
// (empty for a write made on this node).
sync::Admission Admit(std::string_view self, std::string_view from_peer,
                      const v1::RecordBody& body);

}  // namespace steersync::node
