#include "sync/node_path.h"

#include <algorithm>

namespace steersync::sync {

namespace {

// Non-empty segments of [a-z0-9-] joined by single '/', at most `max_bytes`.
bool IsSegmentPath(std::string_view id, size_t max_bytes) {
  if (id.empty() || id.size() > max_bytes || id.front() == '/' || id.back() == '/') return false;
  char prev = '/';
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '/';
    if (!ok) return false;
    if (c == '/' && prev == '/') return false;
    prev = c;
  }
  return true;
}

}  // namespace

bool IsValidNodeId(std::string_view id) { return IsSegmentPath(id, kMaxNodeIdBytes); }

bool IsValidRecordId(std::string_view id) { return IsSegmentPath(id, kMaxRecordIdBytes); }

bool IsSelfOrAncestor(std::string_view ancestor, std::string_view node) {
  if (ancestor.size() > node.size()) return false;
  if (node.substr(0, ancestor.size()) != ancestor) return false;
  return node.size() == ancestor.size() || node[ancestor.size()] == '/';
}

std::string ParentOf(std::string_view node) {
  const auto slash = node.rfind('/');
  if (slash == std::string_view::npos) return "";
  return std::string(node.substr(0, slash));
}

int DepthOf(std::string_view node) {
  return static_cast<int>(std::count(node.begin(), node.end(), '/'));
}

}  // namespace steersync::sync
