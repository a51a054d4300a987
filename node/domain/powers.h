#pragma once
// The power matrix of DOMAIN-MODEL.md §4 as one table: which role, at which
// level, may make which act in its own capacity. A Deputy makes the Head's
// acts as KT. under a delegation (node/domain/roster.h decides that); this
// table holds only own powers.

#include <string_view>

#include "node/domain/roster.h"
#include "steersync/v1/record.pb.h"

namespace steersync::domain {

// The level of a unit, by its depth in the hierarchy: "vn" national,
// "vn/<province>" province, below that commune (two-tier reform, CONTEXT.md §1).
enum class Level { kNational, kProvince, kCommune };
Level LevelOf(std::string_view unit);
std::string_view LevelName(Level level);

// True when a committee at `level` has `role` at all (§1.6 table): a commune
// has no Standing Agency, Standing Deputy or Secretary; a province no
// working-group lead.
bool RoleExistsAt(v1::Role role, Level level);

// True when `role` at `level` may make `act` in its own capacity (§4).
bool HasOwnPower(v1::Role role, Level level, const Act& act);

// The article the row deciding `act` for `role` cites, for messages; "" if none.
std::string_view PowerBasis(v1::Role role, Level level, const Act& act);

// Document types the Standing Agency (province) or the Deputy Head (commune)
// issues in its own capacity: notices, minutes and invitations (P 6.4, C 4.4,
// S14). Every other type is the Head's (P 3.1, C 3.1, S14).
bool IsOfficeDocumentType(std::string_view doc_type);

// "NATIONAL", "PROVINCE", "COMMUNE": how a Unit record names a level.
std::string_view LevelCode(Level level);

// Body kinds a committee at `level` hosts (§1.3): COMMITTEE anywhere; the
// Standing Agency and the Assistance Team at the province (P 6, P 8); the
// Working Team and working groups at the commune (C 1.2, C 4.5).
bool IsBodyKindAt(std::string_view kind, Level level);

// "AUTO_P4_2" (the Standing Deputy, P 4.2), "AUTO_C4_1" (the commune's
// Deputy, C 4.1) or "DESIGNATED(<document>)" (the Head's written
// designation, S1): an acting window's legal basis (§1.7).
bool IsActingBasis(std::string_view basis);

// D30 Appendix III type codes, and "CV" for a công văn (which has no code in
// its symbol, §1.8).
bool IsDocumentType(std::string_view doc_type);

}  // namespace steersync::domain
