#pragma once
// Attachments on this node (issue 12 item 1; docs/replication.md
// "Attachments"): the files an act of this node attaches, the files a
// record admitted from a peer names, and what the node holds of each.
// Chunks travel over the links (node/link.cc); the rules they follow are in
// sync/attachments.h, the storage in node/store/blob_store.cc.
//
// Thread safety: free functions; those taking a View run on the writer.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.pb.h"
#include "steersync/v1/record.pb.h"

namespace steersync::node {

// A file given with a local act, checked and described.
struct PreparedAttachment {
  v1::Attachment descriptor;
  std::string content;
};

// Checks the files given with an act (at most sync::kMaxAttachmentsPerRecord,
// plain unique names, 1..max_bytes bytes each: kInvalidArgument naming the
// file otherwise) and describes them. Moves the contents out of `files`.
absl::StatusOr<std::vector<PreparedAttachment>> PrepareAttachments(
    google::protobuf::RepeatedPtrField<v1::AttachmentFile>& files, uint64_t max_bytes);

// In the act's transaction: stores each file whole (once per node) and names
// it in `body`, the act `record_id` of this node.
absl::Status AttachToOwnAct(LmdbStore::View& view, const std::vector<PreparedAttachment>& files,
                            const std::string& record_id, v1::RecordBody& body);

// In the transaction that admitted `body` from `peer`: notes the files it
// names and returns those still arriving here (to fetch from `peer`).
absl::StatusOr<std::vector<v1::Attachment>> NameReceivedAttachments(LmdbStore::View& view,
                                                                    const v1::RecordBody& body,
                                                                    const std::string& peer);

// What `body` names, with what this node holds of each (show commands).
absl::StatusOr<std::vector<v1::AttachmentInfo>> AttachmentInfos(const LmdbStore& store,
                                                                const v1::RecordBody& body);

// Writes the file `name` that record `record_id` names: `first` gets its
// size and SHA-256 (hex), then `piece` its bytes in order, chunk by chunk
// (one short read transaction each). kNotFound for no such record or name;
// kFailedPrecondition while the file is still arriving, saying how much has.
absl::Status ReadAttachment(const LmdbStore& store, const std::string& record_id,
                            const std::string& name,
                            const std::function<bool(uint64_t size, const std::string& sha256_hex)>& first,
                            const std::function<bool(const std::string& piece)>& piece);

// "3.2 MiB" and the like, for messages.
std::string HumanBytes(uint64_t bytes);

}  // namespace steersync::node
