#include "node/certificate_book.h"

#include <openssl/sha.h>

#include "sync/attachments.h"

namespace steersync::node {

std::string CertificateBook::DigestOf(std::string_view der) { return sync::Sha256Of(der); }

bool CertificateBook::Add(std::string digest, std::string der) {
  absl::MutexLock lock(&mu_);
  if (by_digest_.contains(digest)) return true;
  if (by_digest_.size() >= kMaxCertificates) return false;
  by_digest_.emplace(std::move(digest), std::move(der));
  return true;
}

std::optional<std::string> CertificateBook::Find(std::string_view digest) const {
  absl::MutexLock lock(&mu_);
  auto it = by_digest_.find(std::string(digest));
  if (it == by_digest_.end()) return std::nullopt;
  return it->second;
}

bool CertificateBook::Contains(std::string_view digest) const {
  absl::MutexLock lock(&mu_);
  return by_digest_.contains(std::string(digest));
}

size_t CertificateBook::size() const {
  absl::MutexLock lock(&mu_);
  return by_digest_.size();
}

absl::Status KeepCertificate(sync::WriteView& view, const CertificateBook& book, std::string_view digest) {
  const std::string name = kCertificatePrefix + std::string(digest);
  auto kept = view.MetaGet(name);
  if (!kept.ok()) return kept.status();
  if (kept->has_value()) return absl::OkStatus();
  std::optional<std::string> der = book.Find(digest);
  if (!der.has_value()) return absl::NotFoundError("no certificate with that digest");
  return view.MetaPut(name, *der);
}

void LoadCertificates(const std::vector<std::pair<std::string, std::string>>& kept, CertificateBook& book) {
  const size_t prefix = std::string_view(kCertificatePrefix).size();
  for (const auto& [name, der] : kept) {
    if (name.size() == prefix + SHA256_DIGEST_LENGTH) book.Add(name.substr(prefix), der);
  }
}

}  // namespace steersync::node
