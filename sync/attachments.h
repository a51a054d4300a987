#pragma once
// Attachments (issue 12 item 1): files a record names by SHA-256, whose bytes
// travel beside the record in chunks the receiver pulls (sync.proto
// ChunkRequest / Chunk). This header holds the rules every node applies the
// same way: the chunking, the shape of a descriptor (v1::Attachment), the
// check of an arriving chunk, and ChunkFetcher, the receiving side of one
// stream as a state machine with no I/O.
//
// Invariants of a descriptor that passes CheckAttachments:
//   1 <= size <= kMaxAttachmentBytes; sha256 is 32 bytes;
//   chunk_sha256 has ChunkCount(size) entries of 32 bytes;
//   names are unique within the record and safe as file names.

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <openssl/types.h>

#include "absl/status/statusor.h"
#include "steersync/v1/record.pb.h"
#include "steersync/v1/sync.pb.h"
#include "sync/apply.h"

namespace steersync::sync {

// Bytes of every chunk but a file's last. One chunk is one frame of a
// stream: far below kMaxSyncFrameBytes, and small enough that a batch queued
// behind one in flight waits for 256 KiB at most.
inline constexpr uint64_t kAttachmentChunkBytes = 256 << 10;
// The most any node accepts in a descriptor, whatever its own issuing limit
// (node.toml [attachments] max_mb): it bounds a record's chunk hashes
// (1,024 x 34 bytes) and what one file may cost a receiver.
inline constexpr uint64_t kMaxAttachmentBytes = uint64_t{256} << 20;
// Files one record may name, and the longest name (bytes).
inline constexpr int kMaxAttachmentsPerRecord = 16;
inline constexpr size_t kMaxAttachmentNameBytes = 200;
inline constexpr size_t kSha256Bytes = 32;

// Chunks of a file of `size` bytes.
uint32_t ChunkCount(uint64_t size);
// Bytes of chunk `index` of a file of `size` bytes (0 past the end).
uint64_t ChunkSize(uint64_t size, uint32_t index);

// SHA-256 of `bytes` (32 bytes). Thread-safe. Every one-shot SHA-256 in
// steersync is taken here (bodies, certificates, files, the R5 tie-break):
// std::string's ordering of digests is memcmp's, byte by unsigned byte.
std::string Sha256Of(std::string_view bytes);
// SHA-256 over bytes given piece by piece (a file read chunk by chunk).
// Not thread-safe.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view bytes);
  // The 32-byte digest of everything given. Call once.
  std::string Finish();

 private:
  EVP_MD_CTX* ctx_;  // owned
};
std::string HexOf(std::string_view bytes);

// The descriptor of a file named `name` holding `content`.
v1::Attachment DescribeAttachment(std::string name, std::string_view content);

// A file name may be any UTF-8 text of printable characters without '/',
// '\\' or a leading '.', of 1..kMaxAttachmentNameBytes bytes.
bool IsValidAttachmentName(std::string_view name);

// The shape of every descriptor of `body` (see the invariants above).
// Refused with reason BAD_ATTACHMENT.
Admission CheckAttachments(const v1::RecordBody& body);

// Whether `data` is chunk `index` of the file `attachment` describes: the
// right size and the hash its record lists. REQUIRES: CheckAttachments held.
bool ChunkMatches(const v1::Attachment& attachment, uint32_t index, std::string_view data);

// The receiving side of one stream: which chunks of which files to ask the
// peer for, at most `window` at a time (asked and not yet stored), and the
// verdict on each chunk that arrives. So what the peer's chunks may hold in
// this node's memory is bounded by window * kAttachmentChunkBytes.
//
// Thread safety: not thread-safe; the owner (node/link.cc) serialises calls.
class ChunkFetcher {
 public:
  explicit ChunkFetcher(size_t window) : window_(window) {}

  // Asks for the chunks `missing` of the file `attachment` describes (the
  // ones not stored here). A file already wanted is left as it is.
  void Want(const v1::Attachment& attachment, std::vector<uint32_t> missing);

  enum class Verdict {
    kAccept,       // asked for, and matches: store it, then call Stored()
    kUnrequested,  // no request of ours on this stream names it
    kTampered,     // asked for, but its bytes do not match the signed hash
  };
  // Judges an arriving chunk. A tampered chunk ends the fetch of its file on
  // this stream (it is asked again on the next one, maybe of another peer).
  Verdict OnChunk(const v1::Chunk& chunk);
  // The peer refused to send a chunk we asked: the file is not fetched from
  // it on this stream any more. False if we had not asked for it.
  bool OnRefused(const v1::ChunkRefused& refused);
  // An accepted chunk is durable: its slot in the window is free.
  void Stored(const std::string& sha256, uint32_t index);

  // ChunkRequests to send now, filling the window.
  std::vector<v1::SyncMessage> TakeRequests();

  // Chunks asked for or accepted and not yet stored.
  size_t in_flight() const { return in_flight_.size(); }
  bool wanted(const std::string& sha256) const { return files_.count(sha256) != 0; }

 private:
  struct File {
    v1::Attachment attachment;
    std::deque<uint32_t> to_ask;
  };
  using Key = std::pair<std::string, uint32_t>;
  enum class Slot { kAsked, kAccepted };

  void Drop(const std::string& sha256);

  const size_t window_;
  std::map<std::string, File> files_;  // by sha256; erased once nothing is left to do
  std::map<Key, Slot> in_flight_;
  std::set<std::string> given_up_;     // files dropped on this stream
};

}  // namespace steersync::sync
