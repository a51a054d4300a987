#pragma once
// Node ids are paths in the administrative hierarchy: "vn", "vn/quang-ngai",
// "vn/quang-ngai/tinh-phong". The parent is the prefix; ancestry is a prefix
// check on whole path segments.

#include <string>
#include <string_view>

namespace steersync::sync {

// Longest ids accepted: LMDB keys (511 bytes) hold an id with room to spare
// for the prefixes and suffixes the store adds.
inline constexpr size_t kMaxNodeIdBytes = 128;
inline constexpr size_t kMaxRecordIdBytes = 256;

// True when `id` is a well-formed node id: non-empty segments of
// [a-z0-9-], separated by single '/', at most kMaxNodeIdBytes.
bool IsValidNodeId(std::string_view id);
// True when `id` is a well-formed record id: the same grammar (so no "..",
// no control character, no upper case), at most kMaxRecordIdBytes.
bool IsValidRecordId(std::string_view id);

// True when `ancestor` is `node` or one of its ancestors.
bool IsSelfOrAncestor(std::string_view ancestor, std::string_view node);

// The parent's id; empty for a root.
std::string ParentOf(std::string_view node);

// 0 for a root ("vn"), 1 for a province, 2 for a commune.
int DepthOf(std::string_view node);

}  // namespace steersync::sync
