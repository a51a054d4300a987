#include "node/revocation.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <memory>

namespace steersync::node {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct CrlDeleter {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};

std::string HexOf(const ASN1_INTEGER* serial) {
  std::unique_ptr<BIGNUM, void (*)(BIGNUM*)> bn(ASN1_INTEGER_to_BN(serial, nullptr), BN_free);
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string out(hex);
  OPENSSL_free(hex);
  return out;
}

int64_t UnixTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

std::string SerialHex(X509* cert) { return HexOf(X509_get0_serialNumber(cert)); }

absl::StatusOr<ParsedCrl> ParseAndVerifyCrl(const std::string& crl_bytes,
                                            const std::string& ca_pem) {
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(crl_bytes.data(), static_cast<int>(crl_bytes.size())));
  std::unique_ptr<X509_CRL, CrlDeleter> crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  if (!crl) {
    ERR_clear_error();
    const auto* p = reinterpret_cast<const unsigned char*>(crl_bytes.data());
    crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(crl_bytes.size())));
  }
  if (!crl) return absl::InvalidArgumentError("not a certificate revocation list (PEM or DER)");
  std::unique_ptr<BIO, BioDeleter> ca_bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  std::unique_ptr<X509, X509Deleter> ca(PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr));
  if (!ca) return absl::InvalidArgumentError("CA certificate does not parse");
  EVP_PKEY* ca_key = X509_get0_pubkey(ca.get());
  if (ca_key == nullptr || X509_CRL_verify(crl.get(), ca_key) != 1) {
    ERR_clear_error();
    return absl::UnauthenticatedError("revocation list is not signed by the federation CA");
  }
  ParsedCrl out;
  out.last_update = UnixTime(X509_CRL_get0_lastUpdate(crl.get()));
  STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; entries != nullptr && i < sk_X509_REVOKED_num(entries); ++i) {
    const X509_REVOKED* r = sk_X509_REVOKED_value(entries, i);
    out.revoked[HexOf(X509_REVOKED_get0_serialNumber(r))] =
        UnixTime(X509_REVOKED_get0_revocationDate(r));
  }
  return out;
}

bool RevocationSet::Merge(const ParsedCrl& crl) {
  absl::MutexLock lock(&mu_);
  bool added = false;
  for (const auto& [serial, at] : crl.revoked) added |= revoked_.emplace(serial, at).second;
  return added;
}

std::optional<int64_t> RevocationSet::RevokedAt(const std::string& serial_hex) const {
  absl::MutexLock lock(&mu_);
  auto it = revoked_.find(serial_hex);
  if (it == revoked_.end()) return std::nullopt;
  return it->second;
}

size_t RevocationSet::size() const {
  absl::MutexLock lock(&mu_);
  return revoked_.size();
}

}  // namespace steersync::node
