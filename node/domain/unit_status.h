#pragma once
// A node's status record (issue 12 item 7; DOMAIN-MODEL §2 "node health,
// lag: summary up to the province admin"): what one unit says about itself
// and the units directly below it, so that every unit above sees its whole
// subtree. One record per unit, "<unit>/status", written only by that
// unit's node, flowing up to the top of the tree (or kept local on the top
// node); only its newest version matters. Everything in it is bounded, so a
// unit's status never grows with its history or a hostile writer's wishes.
//
// Pure and thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

#include "steersync/v1/record.pb.h"

namespace steersync::domain {

// Units directly below one node listed in its status (a province has
// 40-170 communes, DOMAIN-MODEL §9).
inline constexpr int kMaxStatusChildren = 1000;
// Overdue entries carried (overdue_total counts them all).
inline constexpr int kMaxStatusOverdue = 256;
// Payload bound: well under sync::kMaxRecordBytes with the signature and
// certificate chain around it.
inline constexpr size_t kMaxStatusPayloadBytes = 128 << 10;

// "<unit>/status".
std::string StatusRecordId(std::string_view unit);
// The unit owning status record `id`, or "".
std::string StatusOwner(std::string_view id);
// Where `unit`'s status flows: up to the top of its tree ("vn" for
// "vn/quang-ngai/binh-son"); LOCAL on the top node itself.
v1::Audience StatusAudience(std::string_view unit);

// The verdict on a UNIT_STATUS version alone: its id and payload name its
// writer only, it flows as StatusAudience says, and every list and entry is
// within bounds and names units below the writer. `code` is "" when
// admitted, else TOO_LARGE, MALFORMED_PAYLOAD, ISSUER_MISMATCH or
// WRONG_DIRECTION (record_checks.h).
struct StatusVerdict {
  std::string code;    // "" when admitted
  std::string detail;
};
StatusVerdict CheckUnitStatus(const v1::RecordBody& body);

}  // namespace steersync::domain
