#pragma once
// What steerctl lists, read from one store: directives with the status their
// relations and receipts give them (whatever the arrival order), reports
// with their status, and the quarantine with what peers returned. Ids come
// in natural order (d/9 before d/10).

#include <algorithm>
#include <cctype>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.pb.h"

namespace steersync::node {

// Ids in natural order: digit runs compare as numbers, so d/9 comes before
// d/10 and d/9999 before d/20070.
struct NaturalLess {
  bool operator()(std::string_view a, std::string_view b) const {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
      if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
        size_t ie = i, je = j;
        while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
        while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
        const std::string_view da = a.substr(i, ie - i), db = b.substr(j, je - j);
        const std::string_view ta = da.substr(std::min(da.find_first_not_of('0'), da.size()));
        const std::string_view tb = db.substr(std::min(db.find_first_not_of('0'), db.size()));
        if (ta.size() != tb.size()) return ta.size() < tb.size();
        if (ta != tb) return ta < tb;
        i = ie;
        j = je;
      } else {
        if (a[i] != b[j]) return a[i] < b[j];
        ++i;
        ++j;
      }
    }
    return a.size() - i < b.size() - j;
  }
};

// True when an item dated `date` (YYYY-MM-DD, or a longer ISO text that
// starts with one), in `status`, from unit `from` passes `filter`'s since,
// status and from (item 8). The limit is applied by KeepNewest.
bool PassesFilter(const v1::ListFilter& filter, std::string_view date, std::string_view status,
                  std::string_view from);

// Keeps the last `limit` items in id order (one unit's newest); 0 keeps all.
template <typename Repeated>
void KeepNewest(Repeated& items, uint32_t limit) {
  if (limit != 0 && items.size() > static_cast<int>(limit)) {
    items.DeleteSubrange(0, items.size() - static_cast<int>(limit));
  }
}

absl::StatusOr<v1::ListDirectivesReply> ListDirectivesIn(const LmdbStore& store,
                                                          const v1::ListDirectivesRequest& filter = {});
absl::StatusOr<v1::ListReportsReply> ListReportsIn(const LmdbStore& store, const v1::ListReportsRequest& filter = {});
// One directive or report, whole (with its text); NotFound if not held.
absl::StatusOr<v1::DirectiveInfo> ShowDirectiveIn(const LmdbStore& store, const std::string& id);
absl::StatusOr<v1::ReportInfo> ShowReportIn(const LmdbStore& store, const std::string& id);
// Indexes every record held (node/domain/document_index.h), once: a store
// older than the index (LmdbStore format 4) is indexed at its first start,
// in one transaction; later calls find "idx/documents" and return.
absl::Status IndexDocumentsOnce(LmdbStore& store);
// Takes the numbers of every directive `self` issued that the store holds
// in their series (domain::NoteDocumentNumber), once: a store whose node was
// restored and got its newer directives back before admission did so (up
// to 0.2.x) would give their numbers again. Later calls find "idx/numbers"
// and return. Two directives found with one number (given twice by such a
// node) are kept in meta "docno-twice/<first id>\n<second id>" = the
// number, and shown as a warning by `steerctl status` (NumbersGivenTwice).
absl::Status NoteDocumentNumbersOnce(LmdbStore& store, const std::string& self);
// The directives of this node's that carry a number given before (at most
// `limit`), as lines for `steerctl status`, each with its remedy.
absl::StatusOr<std::vector<std::string>> NumbersGivenTwice(const LmdbStore& store, size_t limit);
// One page of the quarantine, newest first (see ListQuarantineRequest).
absl::StatusOr<v1::ListQuarantineReply> ListQuarantineIn(const LmdbStore& store,
                                                         const v1::ListQuarantineRequest& page = {});

}  // namespace steersync::node
