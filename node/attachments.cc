#include "node/attachments.h"

#include <cstdio>
#include <set>

#include "sync/attachments.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::node {

std::string HumanBytes(uint64_t bytes) {
  char buf[32];
  if (bytes < (1 << 10)) {
    std::snprintf(buf, sizeof(buf), "%llu bytes", static_cast<unsigned long long>(bytes));
  } else if (bytes < (1 << 20)) {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", bytes / 1024.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", bytes / (1024.0 * 1024.0));
  }
  return buf;
}

absl::StatusOr<std::vector<PreparedAttachment>> PrepareAttachments(
    google::protobuf::RepeatedPtrField<v1::AttachmentFile>& files, uint64_t max_bytes) {
  if (files.size() > sync::kMaxAttachmentsPerRecord) {
    return absl::InvalidArgumentError(std::to_string(files.size()) + " attachments: at most " +
                                      std::to_string(sync::kMaxAttachmentsPerRecord) + " per document");
  }
  std::vector<PreparedAttachment> out;
  std::set<std::string> names;
  for (v1::AttachmentFile& f : files) {
    const std::string shown = sync::Printable(f.name(), 80);
    if (!sync::IsValidAttachmentName(f.name())) {
      return absl::InvalidArgumentError("attachment name '" + shown +
                                        "' is not a plain file name (no '/', no leading '.', printable)");
    }
    if (!names.insert(f.name()).second) {
      return absl::InvalidArgumentError("two attachments are named '" + shown + "': rename one");
    }
    if (f.content().empty()) return absl::InvalidArgumentError("attachment '" + shown + "' is empty");
    if (f.content().size() > max_bytes) {
      return absl::InvalidArgumentError("attachment '" + shown + "' is " + HumanBytes(f.content().size()) +
                                        ": this node attaches at most " + HumanBytes(max_bytes) +
                                        " per file ([node] max_attachment_mb)");
    }
    PreparedAttachment p;
    p.descriptor = sync::DescribeAttachment(f.name(), f.content());
    p.content = std::move(*f.mutable_content());
    out.push_back(std::move(p));
  }
  return out;
}

absl::Status AttachToOwnAct(LmdbStore::View& view, const std::vector<PreparedAttachment>& files,
                            const std::string& record_id, v1::RecordBody& body) {
  for (const PreparedAttachment& f : files) {
    SYNC_RETURN_IF_ERROR(view.PutBlob(f.descriptor, f.content));
    SYNC_RETURN_IF_ERROR(view.NameBlob(f.descriptor, record_id, "").status());
    *body.add_attachments() = f.descriptor;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Attachment>> NameReceivedAttachments(LmdbStore::View& view,
                                                                    const v1::RecordBody& body,
                                                                    const std::string& peer) {
  std::vector<v1::Attachment> arriving;
  for (const v1::Attachment& a : body.attachments()) {
    SYNC_ASSIGN_OR_RETURN(bool fetch, view.NameBlob(a, body.id(), peer));
    if (fetch) arriving.push_back(a);
  }
  return arriving;
}

absl::StatusOr<std::vector<v1::AttachmentInfo>> AttachmentInfos(const LmdbStore& store,
                                                                const v1::RecordBody& body) {
  std::vector<v1::AttachmentInfo> out;
  for (const v1::Attachment& a : body.attachments()) {
    v1::AttachmentInfo info;
    info.set_name(a.name());
    info.set_sha256(sync::HexOf(a.sha256()));
    info.set_size(a.size());
    SYNC_ASSIGN_OR_RETURN(std::optional<LmdbStore::BlobState> held, store.GetBlob(a.sha256()));
    if (held.has_value()) {
      info.set_complete(held->phase == LmdbStore::BlobState::Phase::kComplete);
      info.set_received(held->received_bytes);
    }
    out.push_back(std::move(info));
  }
  return out;
}

absl::Status ReadAttachment(const LmdbStore& store, const std::string& record_id, const std::string& name,
                            const std::function<bool(uint64_t, const std::string&)>& first,
                            const std::function<bool(const std::string&)>& piece) {
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, store.GetRecord(record_id));
  v1::RecordBody body;
  if (!record.has_value() || !body.ParseFromString(record->body())) {
    return absl::NotFoundError("no record '" + sync::Printable(record_id, 80) + "' on this node");
  }
  const v1::Attachment* wanted = nullptr;
  for (const v1::Attachment& a : body.attachments()) {
    if (a.name() == name) wanted = &a;
  }
  if (wanted == nullptr) {
    std::string names;
    for (const v1::Attachment& a : body.attachments()) names += (names.empty() ? "" : ", ") + a.name();
    return absl::NotFoundError("'" + record_id + "' names no attachment '" + sync::Printable(name, 80) +
                               "' (" + (names.empty() ? "it has none" : "it has: " + names) + ")");
  }
  SYNC_ASSIGN_OR_RETURN(std::optional<LmdbStore::BlobState> held, store.GetBlob(wanted->sha256()));
  const uint32_t chunks = sync::ChunkCount(wanted->size());
  if (!held.has_value() || held->phase != LmdbStore::BlobState::Phase::kComplete) {
    const uint64_t got = held.has_value() ? held->received_bytes : 0;
    const uint32_t got_chunks = held.has_value() ? held->chunks_held : 0;
    if (held.has_value() && held->phase == LmdbStore::BlobState::Phase::kMismatch) {
      return absl::DataLossError("attachment '" + name + "' of " + record_id +
                                 ": its chunks do not make the SHA-256 its record names (the "
                                 "writer signed inconsistent hashes); it cannot be fetched");
    }
    return absl::FailedPreconditionError("attachment '" + name + "' of " + record_id +
                                         " is still arriving: " + HumanBytes(got) + " of " +
                                         HumanBytes(wanted->size()) + " (" + std::to_string(got_chunks) +
                                         " of " + std::to_string(chunks) + " chunks); try again later");
  }
  if (!first(wanted->size(), sync::HexOf(wanted->sha256()))) return absl::CancelledError("reader went away");
  for (uint32_t i = 0; i < chunks; ++i) {
    SYNC_ASSIGN_OR_RETURN(std::optional<std::string> chunk, store.ReadChunk(wanted->sha256(), i));
    if (!chunk.has_value()) {
      return absl::DataLossError("attachment '" + name + "': chunk " + std::to_string(i) + " is missing");
    }
    if (!piece(*chunk)) return absl::CancelledError("reader went away");
  }
  return absl::OkStatus();
}

}  // namespace steersync::node
