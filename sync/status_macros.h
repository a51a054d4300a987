#pragma once
// Small equivalents of abseil's status macros, which Debian's abseil 20220623
// does not ship.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SYNC_STATUS_CONCAT_INNER(a, b) a##b
#define SYNC_STATUS_CONCAT(a, b) SYNC_STATUS_CONCAT_INNER(a, b)

// Returns from the current function when `expr` (an absl::Status) is not OK.
#define SYNC_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status sync_status_ = (expr);        \
    if (!sync_status_.ok()) return sync_status_; \
  } while (false)

// `lhs = value of statusor`, or return its error.
#define SYNC_ASSIGN_OR_RETURN(lhs, expr) \
  SYNC_ASSIGN_OR_RETURN_IMPL(SYNC_STATUS_CONCAT(sync_statusor_, __LINE__), lhs, expr)
#define SYNC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
