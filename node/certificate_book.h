#pragma once
// The signer certificates this node knows, by SHA-256 of their DER (issue 13
// item 2: lean records). A record names its signer's certificate by digest
// (Record.signer_digest); the certificate travels once per stream
// (Batch.certificates) and is kept once per node, in the store's meta values
// under kCertificatePrefix, written in the transaction of the first records
// that name it. The book is the in-memory index of those values.
//
// Thread safety: thread-safe.

#include <optional>
#include <utility>
#include <vector>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "sync/store.h"

namespace steersync::node {

// "cert/<32-byte digest>" -> the certificate's DER.
inline constexpr char kCertificatePrefix[] = "cert/";

class CertificateBook {
 public:
  // A federation has a few thousand nodes, each with a few certificates over
  // the years; past this many, Add refuses (the peer's records then fail as
  // signed by an unknown certificate, and are quarantined, not lost).
  static constexpr size_t kMaxCertificates = 1 << 16;

  static std::string DigestOf(std::string_view der);

  // Keeps `der` under `digest` (DigestOf(der)). False when the book is full.
  bool Add(std::string digest, std::string der) ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<std::string> Find(std::string_view digest) const ABSL_LOCKS_EXCLUDED(mu_);
  bool Contains(std::string_view digest) const ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> by_digest_ ABSL_GUARDED_BY(mu_);
};

// Writes the certificate named by `digest` into `view`'s meta values unless
// it is there already, in the caller's transaction (with the records that
// name it). NotFound when the book does not hold it.
absl::Status KeepCertificate(sync::WriteView& view, const CertificateBook& book, std::string_view digest);

// Fills `book` with every certificate kept in `meta_scan`'s results
// (name, DER), i.e. LmdbStore::MetaScan(kCertificatePrefix).
void LoadCertificates(const std::vector<std::pair<std::string, std::string>>& kept, CertificateBook& book);

}  // namespace steersync::node
