#pragma once
// Applying versions to a store: admission, then merge. Idempotent: applying
// the same versions again, in any order, changes nothing further. A version
// already held byte for byte is a duplicate and is not judged again.

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "steersync/v1/record.pb.h"
#include "sync/store.h"

namespace steersync::sync {

// Verdict of the domain's admission check on one version.
struct Admission {
  bool admitted = true;
  std::string reason_code;  // e.g. "NOT_ADDRESSED", "WRONG_DIRECTION"
  std::string detail;
};

// Called once per incoming version not already held, with its parsed body. `from_peer` is empty
// for a local write.
using AdmissionCheck =
    std::function<Admission(std::string_view from_peer, const v1::RecordBody& body,
                            const v1::Record& record)>;

// Called after an admitted version was merged (or found stale), inside the
// same view: the record's current version is the merge winner. `log_seq` is
// the change-log sequence the version took, 0 when it took none (stale). An
// error aborts the apply.
// `record` is the version as received (its body the signed bytes), an
// element of the records given to ApplyRecords.
using AdmittedHook =
    std::function<absl::Status(const v1::RecordBody& body, const v1::Record& record, uint64_t log_seq)>;

struct ApplyStats {
  size_t applied = 0;      // joined the frontier (new record, newer or concurrent version)
  size_t duplicates = 0;   // already had exactly this version
  size_t conflicts = 0;    // of `applied`, concurrent with a version held: one is a listed loser
  size_t stale = 0;        // causally older than a version held
  size_t quarantined = 0;  // refused by admission or malformed
  std::vector<QuarantineEntry> rejections;  // what was quarantined, for reporting back
  // Admitted versions (merged or stale), in order: id and kind.
  std::vector<std::pair<std::string, v1::RecordKind>> admitted_ids;
  v1::Hlc max_hlc;  // newest timestamp among admitted versions (for the node's HLC)
};

// Applies `records` received from `from_peer` (empty: local write) and, when
// `peer_seq` is non-zero, records `from_peer`'s checkpoint in the same view.
// Returns an error only for storage failures: bad input is quarantined.
// `parsed`, when not empty, holds each record's body already parsed, by
// index (nullopt: it does not parse), so that none is parsed twice.
absl::StatusOr<ApplyStats> ApplyRecords(WriteView& view, std::string_view from_peer,
                                        const std::vector<v1::Record>& records,
                                        uint64_t peer_seq, const AdmissionCheck& admit,
                                        int64_t now_micros, const AdmittedHook& admitted = nullptr,
                                        std::span<const std::optional<v1::RecordBody>> parsed = {});

}  // namespace steersync::sync
