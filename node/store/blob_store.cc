// LmdbStore's attachment databases (store format 3): blobs, blob_chunks,
// blob_refs. See lmdb_store.h for the layout and its invariants.

#include "node/store/lmdb_store.h"
#include "sync/attachments.h"
#include "sync/status_macros.h"

namespace steersync::node {
namespace {

using lmdb::DecodeSeq;
using lmdb::EncodeSeq;

std::string EncodeU32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string ChunkKey(std::string_view sha256, uint32_t index) {
  return std::string(sha256) + EncodeU32(index);
}

uint32_t DecodeU32(std::string_view b) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[0])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[2])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[3]));
}

// phase(1) received_bytes(u64 BE) chunks_held(u32 BE) attachment(proto).
std::string EncodeBlob(const LmdbStore::BlobState& b) {
  return std::string(1, static_cast<char>(b.phase)) + EncodeSeq(b.received_bytes) +
         EncodeU32(b.chunks_held) + b.attachment.SerializeAsString();
}

absl::StatusOr<LmdbStore::BlobState> DecodeBlob(std::string_view sha256, std::string_view v) {
  LmdbStore::BlobState b;
  if (v.size() < 13 || static_cast<uint8_t>(v[0]) > 2 ||
      !b.attachment.ParseFromArray(v.data() + 13, static_cast<int>(v.size() - 13))) {
    return absl::DataLossError("blob " + sync::HexOf(sha256) + " does not parse");
  }
  b.phase = static_cast<LmdbStore::BlobState::Phase>(v[0]);
  b.received_bytes = DecodeSeq(v.substr(1, 8));
  b.chunks_held = DecodeU32(v.substr(9, 4));
  return b;
}

}  // namespace

absl::Status LmdbStore::OpenBlobDbis(lmdb::WriteTxn* txn, MDB_txn* read_txn) {
  if (txn != nullptr) {
    SYNC_ASSIGN_OR_RETURN(blobs_, txn->OpenDbi("blobs"));
    SYNC_ASSIGN_OR_RETURN(blob_chunks_, txn->OpenDbi("blob_chunks"));
    SYNC_ASSIGN_OR_RETURN(blob_refs_, txn->OpenDbi("blob_refs"));
    has_blobs_ = true;
    return absl::OkStatus();
  }
  for (auto [name, dbi] : {std::pair{"blobs", &blobs_}, std::pair{"blob_chunks", &blob_chunks_},
                           std::pair{"blob_refs", &blob_refs_}}) {
    const int rc = mdb_dbi_open(read_txn, name, 0, &dbi->handle);
    if (rc == MDB_NOTFOUND) return absl::OkStatus();  // format 2: no attachments
    SYNC_RETURN_IF_ERROR(lmdb::MdbToStatus(rc, std::string("mdb_dbi_open(") + name + ")"));
  }
  has_blobs_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<LmdbStore::BlobState>> LmdbStore::GetBlob(std::string_view sha256) const {
  if (!has_blobs_) return std::optional<BlobState>();
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(auto value, txn.Get(blobs_, sha256));
  if (!value.has_value()) return std::optional<BlobState>();
  SYNC_ASSIGN_OR_RETURN(BlobState b, DecodeBlob(sha256, *value));
  return std::optional<BlobState>(std::move(b));
}

absl::StatusOr<std::vector<uint32_t>> LmdbStore::MissingChunks(const BlobState& blob) const {
  const std::string& sha = blob.attachment.sha256();
  const uint32_t count = sync::ChunkCount(blob.attachment.size());
  std::vector<uint32_t> missing;
  if (!has_blobs_) {
    for (uint32_t i = 0; i < count; ++i) missing.push_back(i);
    return missing;
  }
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn.get(), blob_chunks_));
  SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(sha));
  uint32_t next = 0;
  while (found && c.key().size() == sha.size() + 4 && c.key().substr(0, sha.size()) == sha) {
    const uint32_t held = DecodeU32(c.key().substr(sha.size()));
    for (; next < held && next < count; ++next) missing.push_back(next);
    next = held + 1;
    SYNC_ASSIGN_OR_RETURN(found, c.Next());
  }
  for (; next < count; ++next) missing.push_back(next);
  return missing;
}

absl::StatusOr<std::optional<std::string>> LmdbStore::ReadChunk(std::string_view sha256,
                                                                uint32_t index) const {
  if (!has_blobs_) return std::optional<std::string>();
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(auto value, txn.Get(blob_chunks_, ChunkKey(sha256, index)));
  if (!value.has_value()) return std::optional<std::string>();
  return std::optional<std::string>(std::string(*value));
}

absl::StatusOr<std::vector<LmdbStore::BlobState>> LmdbStore::ArrivingBlobsFrom(std::string_view peer) const {
  std::vector<BlobState> out;
  if (!has_blobs_) return out;
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(lmdb::Cursor blobs, lmdb::Cursor::Open(txn.get(), blobs_));
  SYNC_ASSIGN_OR_RETURN(bool found, blobs.Seek(""));
  while (found) {
    SYNC_ASSIGN_OR_RETURN(BlobState b, DecodeBlob(blobs.key(), blobs.value()));
    if (b.phase == BlobState::Phase::kArriving) {
      // Named by a record from `peer`? (A few refs per file.)
      const std::string sha(blobs.key());
      SYNC_ASSIGN_OR_RETURN(lmdb::Cursor refs, lmdb::Cursor::Open(txn.get(), blob_refs_));
      SYNC_ASSIGN_OR_RETURN(bool ref, refs.Seek(sha));
      while (ref && refs.key().substr(0, sha.size()) == sha) {
        if (refs.value() == peer) {
          out.push_back(std::move(b));
          break;
        }
        SYNC_ASSIGN_OR_RETURN(ref, refs.Next());
      }
    }
    SYNC_ASSIGN_OR_RETURN(found, blobs.Next());
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> LmdbStore::RecordsNaming(std::string_view sha256) const {
  std::vector<std::string> out;
  if (!has_blobs_ || sha256.size() != sync::kSha256Bytes) return out;
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(lmdb::Cursor refs, lmdb::Cursor::Open(txn.get(), blob_refs_));
  SYNC_ASSIGN_OR_RETURN(bool found, refs.Seek(sha256));
  while (found && refs.key().substr(0, sha256.size()) == sha256) {
    out.emplace_back(refs.key().substr(sha256.size()));
    SYNC_ASSIGN_OR_RETURN(found, refs.Next());
  }
  return out;
}

absl::StatusOr<LmdbStore::BlobTotals> LmdbStore::Blobs() const {
  BlobTotals t;
  if (!has_blobs_) return t;
  SYNC_ASSIGN_OR_RETURN(lmdb::ReadTxn txn, lmdb::ReadTxn::Begin(*env_));
  SYNC_ASSIGN_OR_RETURN(lmdb::Cursor c, lmdb::Cursor::Open(txn.get(), blobs_));
  SYNC_ASSIGN_OR_RETURN(bool found, c.Seek(""));
  while (found) {
    SYNC_ASSIGN_OR_RETURN(BlobState b, DecodeBlob(c.key(), c.value()));
    switch (b.phase) {
      case BlobState::Phase::kComplete: ++t.complete; break;
      case BlobState::Phase::kArriving: ++t.arriving; break;
      case BlobState::Phase::kMismatch: ++t.mismatched; break;
    }
    t.bytes_held += b.received_bytes;
    t.bytes_expected += b.attachment.size();
    SYNC_ASSIGN_OR_RETURN(found, c.Next());
  }
  return t;
}

// ---- View ---------------------------------------------------------------------

absl::StatusOr<bool> LmdbStore::View::NameBlob(const v1::Attachment& attachment,
                                               std::string_view record_id,
                                               std::string_view source_peer) {
  const std::string& sha = attachment.sha256();
  const std::string ref = sha + std::string(record_id);
  SYNC_ASSIGN_OR_RETURN(auto held_ref, txn_.Get(store_.blob_refs_, ref));
  if (!held_ref.has_value()) SYNC_RETURN_IF_ERROR(txn_.Put(store_.blob_refs_, ref, source_peer));
  SYNC_ASSIGN_OR_RETURN(auto value, txn_.Get(store_.blobs_, sha));
  if (value.has_value()) {
    SYNC_ASSIGN_OR_RETURN(BlobState b, DecodeBlob(sha, *value));
    return b.phase == BlobState::Phase::kArriving;
  }
  BlobState fresh;
  fresh.attachment = attachment;
  fresh.attachment.clear_name();  // content-addressed: one file, whatever it is called
  SYNC_RETURN_IF_ERROR(txn_.Put(store_.blobs_, sha, EncodeBlob(fresh)));
  return true;
}

absl::StatusOr<LmdbStore::View::ChunkOutcome> LmdbStore::View::PutChunk(std::string_view sha256,
                                                                        uint32_t index,
                                                                        std::string_view data) {
  SYNC_ASSIGN_OR_RETURN(auto value, txn_.Get(store_.blobs_, sha256));
  if (!value.has_value()) return ChunkOutcome::kNotArriving;
  SYNC_ASSIGN_OR_RETURN(BlobState b, DecodeBlob(sha256, *value));
  if (b.phase != BlobState::Phase::kArriving) return ChunkOutcome::kNotArriving;
  const std::string key = ChunkKey(sha256, index);
  SYNC_ASSIGN_OR_RETURN(auto held, txn_.Get(store_.blob_chunks_, key));
  if (held.has_value()) return ChunkOutcome::kAlreadyHeld;
  SYNC_RETURN_IF_ERROR(txn_.Put(store_.blob_chunks_, key, data));
  b.received_bytes += data.size();
  ++b.chunks_held;
  ChunkOutcome outcome = ChunkOutcome::kStored;
  const uint32_t count = sync::ChunkCount(b.attachment.size());
  if (b.chunks_held == count) {
    // The file is whole: its own hash, over the chunks in order.
    sync::Sha256Stream hash;
    for (uint32_t i = 0; i < count; ++i) {
      SYNC_ASSIGN_OR_RETURN(auto chunk, txn_.Get(store_.blob_chunks_, ChunkKey(sha256, i)));
      if (!chunk.has_value()) return absl::DataLossError("blob " + sync::HexOf(sha256) + " lost a chunk");
      hash.Update(*chunk);
    }
    if (hash.Finish() == sha256) {
      b.phase = BlobState::Phase::kComplete;
      outcome = ChunkOutcome::kCompleted;
    } else {
      for (uint32_t i = 0; i < count; ++i) SYNC_RETURN_IF_ERROR(txn_.Delete(store_.blob_chunks_, ChunkKey(sha256, i)));
      b.phase = BlobState::Phase::kMismatch;
      b.received_bytes = 0;
      b.chunks_held = 0;
      outcome = ChunkOutcome::kMismatch;
    }
  }
  SYNC_RETURN_IF_ERROR(txn_.Put(store_.blobs_, sha256, EncodeBlob(b)));
  return outcome;
}

absl::Status LmdbStore::View::PutBlob(const v1::Attachment& attachment, std::string_view content) {
  const std::string& sha = attachment.sha256();
  SYNC_ASSIGN_OR_RETURN(auto value, txn_.Get(store_.blobs_, sha));
  if (value.has_value()) {
    SYNC_ASSIGN_OR_RETURN(BlobState held, DecodeBlob(sha, *value));
    if (held.phase == BlobState::Phase::kComplete) return absl::OkStatus();  // stored once
  }
  const uint32_t count = sync::ChunkCount(content.size());
  for (uint32_t i = 0; i < count; ++i) {
    SYNC_RETURN_IF_ERROR(txn_.Put(store_.blob_chunks_, ChunkKey(sha, i),
                                  content.substr(uint64_t{i} * sync::kAttachmentChunkBytes,
                                                 sync::ChunkSize(content.size(), i))));
  }
  BlobState b;
  b.attachment = attachment;
  b.attachment.clear_name();
  b.phase = BlobState::Phase::kComplete;
  b.received_bytes = content.size();
  b.chunks_held = count;
  return txn_.Put(store_.blobs_, sha, EncodeBlob(b));
}

}  // namespace steersync::node
