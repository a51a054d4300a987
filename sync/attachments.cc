#include "sync/attachments.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <set>

#include "sync/text.h"

namespace steersync::sync {

uint32_t ChunkCount(uint64_t size) {
  return static_cast<uint32_t>((size + kAttachmentChunkBytes - 1) / kAttachmentChunkBytes);
}

uint64_t ChunkSize(uint64_t size, uint32_t index) {
  const uint64_t begin = uint64_t{index} * kAttachmentChunkBytes;
  if (begin >= size) return 0;
  return std::min(kAttachmentChunkBytes, size - begin);
}

namespace {

const EVP_MD* Sha256() {
  // Fetched once and kept for the process's life (an EVP_MD is immutable
  // and shared between threads): OpenSSL 3's one-shot SHA256() looks the
  // algorithm up in its provider on every call, which cost a store writer
  // more than hashing a 450-byte body itself.
  static const EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return fetched != nullptr ? fetched : EVP_sha256();
}

}  // namespace

std::string Sha256Of(std::string_view bytes) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(digest.data()), &len, Sha256(),
                 nullptr) != 1 ||
      len != SHA256_DIGEST_LENGTH) {
    // Only when OpenSSL cannot hash with the fetched algorithm at all.
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
           reinterpret_cast<unsigned char*>(digest.data()));
  }
  return digest;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(ctx_); }

void Sha256Stream::Update(std::string_view bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }

std::string Sha256Stream::Finish() {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, reinterpret_cast<unsigned char*>(digest.data()), &len);
  return digest;
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  return hex;
}

v1::Attachment DescribeAttachment(std::string name, std::string_view content) {
  v1::Attachment a;
  a.set_name(std::move(name));
  a.set_sha256(Sha256Of(content));
  a.set_size(content.size());
  for (uint32_t i = 0; i < ChunkCount(content.size()); ++i) {
    a.add_chunk_sha256(Sha256Of(content.substr(uint64_t{i} * kAttachmentChunkBytes,
                                               ChunkSize(content.size(), i))));
  }
  return a;
}

bool IsValidAttachmentName(std::string_view name) {
  if (name.empty() || name.size() > kMaxAttachmentNameBytes || name.front() == '.') return false;
  if (name.find('/') != std::string_view::npos) return false;
  // Printable() leaves text unchanged only when it holds no control
  // character, invalid UTF-8 or backslash.
  return Printable(name, name.size() + 1) == name;
}

namespace {

Admission Refuse(std::string detail) { return {false, "BAD_ATTACHMENT", std::move(detail)}; }

}  // namespace

Admission CheckAttachments(const v1::RecordBody& body) {
  if (body.attachments_size() == 0) return {};
  if (body.kind() != v1::DIRECTIVE && body.kind() != v1::REPORT) {
    return Refuse("only directives and reports name attachments");
  }
  if (body.attachments_size() > kMaxAttachmentsPerRecord) {
    return Refuse(std::to_string(body.attachments_size()) + " attachments (at most " +
                  std::to_string(kMaxAttachmentsPerRecord) + ")");
  }
  std::set<std::string_view> names;
  for (const v1::Attachment& a : body.attachments()) {
    if (!IsValidAttachmentName(a.name())) {
      return Refuse("attachment name '" + Printable(a.name(), 80) + "' is not a plain file name");
    }
    if (!names.insert(a.name()).second) return Refuse("two attachments named '" + a.name() + "'");
    if (a.sha256().size() != kSha256Bytes) return Refuse("'" + a.name() + "': sha256 is not 32 bytes");
    if (a.size() == 0 || a.size() > kMaxAttachmentBytes) {
      return Refuse("'" + a.name() + "': size " + std::to_string(a.size()) + " (1.." +
                    std::to_string(kMaxAttachmentBytes) + ")");
    }
    if (a.chunk_sha256_size() != static_cast<int>(ChunkCount(a.size()))) {
      return Refuse("'" + a.name() + "': " + std::to_string(a.chunk_sha256_size()) +
                    " chunk hashes for " + std::to_string(ChunkCount(a.size())) + " chunks");
    }
    for (const std::string& h : a.chunk_sha256()) {
      if (h.size() != kSha256Bytes) return Refuse("'" + a.name() + "': a chunk hash is not 32 bytes");
    }
  }
  return {};
}

bool ChunkMatches(const v1::Attachment& attachment, uint32_t index, std::string_view data) {
  if (index >= static_cast<uint32_t>(attachment.chunk_sha256_size())) return false;
  if (data.size() != ChunkSize(attachment.size(), index)) return false;
  return Sha256Of(data) == attachment.chunk_sha256(static_cast<int>(index));
}

// ---------------------------------------------------------------------------
// ChunkFetcher

void ChunkFetcher::Want(const v1::Attachment& attachment, std::vector<uint32_t> missing) {
  const std::string& sha = attachment.sha256();
  if (files_.count(sha) != 0 || given_up_.count(sha) != 0 || missing.empty()) return;
  File& f = files_[sha];
  f.attachment = attachment;
  f.to_ask.assign(missing.begin(), missing.end());
}

ChunkFetcher::Verdict ChunkFetcher::OnChunk(const v1::Chunk& chunk) {
  auto slot = in_flight_.find(Key(chunk.sha256(), chunk.index()));
  if (slot == in_flight_.end() || slot->second != Slot::kAsked) return Verdict::kUnrequested;
  auto file = files_.find(chunk.sha256());
  if (file == files_.end() || !ChunkMatches(file->second.attachment, chunk.index(), chunk.data())) {
    in_flight_.erase(slot);
    Drop(chunk.sha256());
    return Verdict::kTampered;
  }
  slot->second = Slot::kAccepted;
  return Verdict::kAccept;
}

bool ChunkFetcher::OnRefused(const v1::ChunkRefused& refused) {
  auto slot = in_flight_.find(Key(refused.sha256(), refused.index()));
  if (slot == in_flight_.end() || slot->second != Slot::kAsked) return false;
  in_flight_.erase(slot);
  Drop(refused.sha256());
  return true;
}

void ChunkFetcher::Stored(const std::string& sha256, uint32_t index) {
  in_flight_.erase(Key(sha256, index));
  auto file = files_.find(sha256);
  if (file != files_.end() && file->second.to_ask.empty()) {
    const bool more_in_flight = std::any_of(in_flight_.begin(), in_flight_.end(),
                                            [&](const auto& e) { return e.first.first == sha256; });
    if (!more_in_flight) files_.erase(file);
  }
}

void ChunkFetcher::Drop(const std::string& sha256) {
  files_.erase(sha256);
  given_up_.insert(sha256);
  // Requests still out for it are answered later; their chunks are then
  // refused as unrequested, and they no longer hold the window.
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    it = it->first.first == sha256 && it->second == Slot::kAsked ? in_flight_.erase(it) : std::next(it);
  }
}

std::vector<v1::SyncMessage> ChunkFetcher::TakeRequests() {
  std::vector<v1::SyncMessage> out;
  for (auto& [sha, file] : files_) {
    while (in_flight_.size() < window_ && !file.to_ask.empty()) {
      const uint32_t index = file.to_ask.front();
      file.to_ask.pop_front();
      in_flight_[Key(sha, index)] = Slot::kAsked;
      v1::SyncMessage m;
      m.mutable_chunk_request()->set_sha256(sha);
      m.mutable_chunk_request()->set_index(index);
      out.push_back(std::move(m));
    }
    if (in_flight_.size() >= window_) break;
  }
  return out;
}

}  // namespace steersync::sync
