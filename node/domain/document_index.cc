#include "node/domain/document_index.h"

#include "sync/status_macros.h"

namespace steersync::domain {

std::string ReceiptIndexPrefix(std::string_view directive_id) {
  return std::string(kReceiptIndexPrefix) + std::string(directive_id) + "\n";
}

std::string RelationIndexPrefix(std::string_view target_id) {
  return std::string(kRelationIndexPrefix) + std::string(target_id) + "\n";
}

std::vector<std::string> DocumentIndexKeys(const v1::RecordBody& body) {
  std::vector<std::string> keys;
  if (body.kind() == v1::ACKNOWLEDGEMENT) {
    v1::Acknowledgement a;
    if (a.ParseFromString(body.payload())) keys.push_back(ReceiptIndexPrefix(a.directive_id()) + body.id());
  } else if (body.kind() == v1::DIRECTIVE) {
    v1::Directive d;
    if (!d.ParseFromString(body.payload())) return keys;
    for (const v1::DocumentRelation& rel : d.relations()) {
      keys.push_back(RelationIndexPrefix(rel.target()) + body.id());
    }
  }
  return keys;
}

absl::Status IndexDocument(sync::WriteView& view, const v1::RecordBody& body) {
  for (const std::string& key : DocumentIndexKeys(body)) {
    // A receipt's later versions (RECEIVED, then ACKNOWLEDGED) name the
    // same directive: its entry is written once.
    SYNC_ASSIGN_OR_RETURN(std::optional<std::string> held, view.MetaGet(key));
    if (!held.has_value()) SYNC_RETURN_IF_ERROR(view.MetaPut(key, ""));
  }
  return absl::OkStatus();
}

}  // namespace steersync::domain
