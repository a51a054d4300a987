#pragma once
// Two indexes of documents in the store's meta, so that reading one
// directive (`steerctl directive show`) reads its record, its receipts and
// the directives that name it, not every record held:
//   "idx/receipts/<directive id>\n<receipt id>" -> ""
//       a receipt (ACKNOWLEDGEMENT) whose payload names the directive
//   "idx/relations/<target id>\n<directive id>" -> ""
//       a directive with a relation (DocumentRelation) to the target
//   "idx/documents" -> ""   the two are complete (see below)
// Ids hold no '\n' (sync::IsValidRecordId), so one directive's entries are
// exactly those under its prefix, in the byte order of the second id: the
// order of the records table, in which a scan of every record meets them.
//
// Invariants: CommitteeAdmission::OnAdmitted indexes every admitted version,
// in the transaction that admits it, so an entry is visible exactly when its
// record is. Entries are never removed: a later version of a record names
// the same directive (its id says which, record_checks.cc), and a reader
// reads each record named and keeps it only if its current version still
// says what the entry does. "idx/documents" is written in the transaction
// that indexes every record held (node::IndexDocumentsOnce: a store older
// than the index, LmdbStore format 4, is indexed once at the node's start).

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "steersync/v1/record.pb.h"
#include "sync/store.h"

namespace steersync::domain {

inline constexpr char kReceiptIndexPrefix[] = "idx/receipts/";
inline constexpr char kRelationIndexPrefix[] = "idx/relations/";
inline constexpr char kDocumentIndexBuiltKey[] = "idx/documents";

// The prefix of the entries of `directive_id`'s receipts; each entry's key
// is this prefix followed by the receipt's record id.
std::string ReceiptIndexPrefix(std::string_view directive_id);
// The prefix of the entries of the directives with a relation to `target_id`;
// each entry's key is this prefix followed by that directive's id.
std::string RelationIndexPrefix(std::string_view target_id);

// The index entries (meta keys) of `body`: none for a kind not indexed or a
// payload that does not parse.
std::vector<std::string> DocumentIndexKeys(const v1::RecordBody& body);

// Writes `body`'s index entries into `view`, those not held already.
absl::Status IndexDocument(sync::WriteView& view, const v1::RecordBody& body);

}  // namespace steersync::domain
