#pragma once
// What steerctl lists, read from one store: directives with the status their
// relations and receipts give them (whatever the arrival order), reports
// with their status, and the quarantine with what peers returned. Ids come
// in natural order (d/9 before d/10).

#include "absl/status/statusor.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.pb.h"

namespace steersync::node {

absl::StatusOr<v1::ListDirectivesReply> ListDirectivesIn(const LmdbStore& store,
                                                          const v1::ListDirectivesRequest& filter = {});
absl::StatusOr<v1::ListReportsReply> ListReportsIn(const LmdbStore& store, const v1::ListReportsRequest& filter = {});
// One directive or report, whole (with its text); NotFound if not held.
absl::StatusOr<v1::DirectiveInfo> ShowDirectiveIn(const LmdbStore& store, const std::string& id);
absl::StatusOr<v1::ReportInfo> ShowReportIn(const LmdbStore& store, const std::string& id);
// One page of the quarantine, newest first (see ListQuarantineRequest).
absl::StatusOr<v1::ListQuarantineReply> ListQuarantineIn(const LmdbStore& store,
                                                         const v1::ListQuarantineRequest& page = {});

}  // namespace steersync::node
