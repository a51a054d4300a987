#include "node/identity.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include "node/tls.h"
#include "sync/attachments.h"
#include "sync/signed_log.h"

namespace steersync::node {
namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};

absl::StatusOr<X509Ptr> ParsePemCert(const std::string& pem, const std::string& what) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return absl::InvalidArgumentError(what + ": not a PEM certificate: " + OpenSslError());
  return cert;
}

struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;

// Bytes of one scalar (r or s) of `key`'s curve: 32 on P-256, 66 on P-521.
size_t EcScalarBytes(EVP_PKEY* key) { return static_cast<size_t>(EVP_PKEY_get_bits(key) + 7) / 8; }

// OpenSSL's DER ECDSA signature as r || s, each `scalar_bytes` long.
absl::StatusOr<std::string> EcSignatureFromDer(const std::string& der, size_t scalar_bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return absl::InternalError("signing failed: the signature is not DER: " + OpenSslError());
  std::string raw(2 * scalar_bytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, static_cast<int>(scalar_bytes)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + scalar_bytes, static_cast<int>(scalar_bytes)) < 0) {
    return absl::InternalError("signing failed: a scalar is longer than the curve's");
  }
  return raw;
}

// r || s (a peer's bytes) as the DER that EVP_PKEY_verify takes.
absl::StatusOr<std::string> EcSignatureToDer(const std::string& raw, size_t scalar_bytes) {
  if (raw.size() != 2 * scalar_bytes) {
    return absl::UnauthenticatedError("an EC signature of " + std::to_string(raw.size()) + " bytes (the key's is " +
                                      std::to_string(2 * scalar_bytes) + ")");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(in, static_cast<int>(scalar_bytes), nullptr);
  BIGNUM* s = BN_bin2bn(in + scalar_bytes, static_cast<int>(scalar_bytes), nullptr);
  // ECDSA_SIG_set0 owns r and s once it succeeds.
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return absl::InternalError("cannot decode an EC signature: " + OpenSslError());
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return absl::InternalError("cannot encode an EC signature: " + OpenSslError());
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

absl::StatusOr<std::string> CertificateNodeId(X509* cert) {
  return CertificateUriName(cert, kNodeUriPrefix);
}

absl::StatusOr<std::string> CertificateUriName(X509* cert, const std::string& uri_prefix) {
  std::unique_ptr<GENERAL_NAMES, void (*)(GENERAL_NAMES*)> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)),
      [](GENERAL_NAMES* n) { GENERAL_NAMES_free(n); });
  std::string found;
  const std::string& prefix = uri_prefix;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const auto* uri = name->d.uniformResourceIdentifier;
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      ASN1_STRING_length(uri));
    if (value.rfind(prefix, 0) != 0) continue;
    if (!found.empty()) return absl::InvalidArgumentError("certificate names two identities");
    found = value.substr(prefix.size());
  }
  if (found.empty()) return absl::InvalidArgumentError("certificate has no " + prefix + " URI SAN");
  return found;
}

namespace {

constexpr char kMinimum[] = "(RSA 2048, EC P-256)";

// The key alone: RSA >= 2048 bits, or EC on P-256, P-384 or P-521.
absl::Status CheckKeyStrength(EVP_PKEY* key) {
  if (key == nullptr) return absl::InvalidArgumentError("no usable public key");
  const int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_RSA || type == EVP_PKEY_RSA_PSS) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits >= 2048) return absl::OkStatus();
    return absl::InvalidArgumentError("RSA " + std::to_string(bits) + " bits is below the minimum " +
                                      kMinimum);
  }
  if (type == EVP_PKEY_EC) {
    char group[80] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(std::string("EC key on an unnamed curve is below the minimum ") +
                                         kMinimum);
    }
    const int nid = OBJ_txt2nid(group);
    if (nid == NID_X9_62_prime256v1 || nid == NID_secp384r1 || nid == NID_secp521r1) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError("EC " + std::string(group) + " is below the minimum " + kMinimum);
  }
  const char* name = OBJ_nid2sn(type);
  return absl::InvalidArgumentError(std::string(name != nullptr ? name : "unknown") +
                                    " keys are not accepted: the minimum is " + kMinimum);
}

}  // namespace

absl::Status CheckCertificateStrength(X509* cert) {
  if (auto key = CheckKeyStrength(X509_get0_pubkey(cert)); !key.ok()) return key;
  // The digest the issuer signed with (for RSA-PSS, the one in its parameters).
  int md_nid = NID_undef;
  if (X509_get_signature_info(cert, &md_nid, nullptr, nullptr, nullptr) != 1) md_nid = NID_undef;
  ERR_clear_error();
  switch (md_nid) {
    case NID_sha256:
    case NID_sha384:
    case NID_sha512:
    case NID_sha3_256:
    case NID_sha3_384:
    case NID_sha3_512:
      return absl::OkStatus();
    default:
      break;
  }
  const char* name = md_nid != NID_undef ? OBJ_nid2sn(md_nid) : OBJ_nid2ln(X509_get_signature_nid(cert));
  return absl::InvalidArgumentError("signed with " + std::string(name != nullptr ? name : "an unknown digest") +
                                    ", below the minimum (SHA-256)");
}

absl::StatusOr<std::unique_ptr<Signer>> Signer::Load(const std::string& cert_path,
                                                     const std::string& key_path) {
  auto cert_pem = ReadFileToString(cert_path);
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = ReadFileToString(key_path);
  if (!key_pem.ok()) return key_pem.status();
  auto cert = ParsePemCert(*cert_pem, cert_path);
  if (!cert.ok()) return cert.status();
  BioPtr bio(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return absl::InvalidArgumentError(key_path + ": not a PEM private key: " + OpenSslError());
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    return absl::InvalidArgumentError(key_path + " does not match " + cert_path);
  }
  auto node_id = CertificateNodeId(cert->get());
  if (!node_id.ok()) return absl::InvalidArgumentError(cert_path + ": " + std::string(node_id.status().message()));
  if (auto strong = CheckCertificateStrength(cert->get()); !strong.ok()) {
    return absl::InvalidArgumentError(cert_path + ": certificate of '" + *node_id +
                                      "': " + std::string(strong.message()));
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert->get(), &der);
  if (len <= 0) return absl::InternalError("cannot encode certificate: " + OpenSslError());
  std::string cert_der(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return std::unique_ptr<Signer>(new Signer(std::move(key), std::move(cert_der), *node_id));
}

absl::Status Signer::Sign(v1::Record& record) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(record.body().data());
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data, record.body().size()) != 1) {
    return absl::InternalError("signing failed: " + OpenSslError());
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                     record.body().size()) != 1) {
    return absl::InternalError("signing failed: " + OpenSslError());
  }
  sig.resize(len);
  if (EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_EC) {
    auto raw = EcSignatureFromDer(sig, EcScalarBytes(key_.get()));
    if (!raw.ok()) return raw.status();
    record.clear_signature();
    record.set_ec_signature(*std::move(raw));
  } else {
    record.clear_ec_signature();
    record.set_signature(std::move(sig));
  }
  record.set_signer_digest(cert_digest_);
  return absl::OkStatus();
}

Signer::Signer(EvpPkeyPtr key, std::string cert_der, std::string node_id)
    : key_(std::move(key)),
      cert_der_(std::move(cert_der)),
      cert_digest_(CertificateBook::DigestOf(cert_der_)),
      node_id_(std::move(node_id)) {}

absl::StatusOr<std::unique_ptr<Verifier>> Verifier::Load(const std::string& ca_path,
                                                         const RevocationSet* revoked,
                                                         const CertificateBook* certificates) {
  auto pem = ReadFileToString(ca_path);
  if (!pem.ok()) return pem.status();
  auto ca = ParsePemCert(*pem, ca_path);
  if (!ca.ok()) return ca.status();
  // The CA's own key (its self-signature proves nothing and is not judged).
  if (auto strong = CheckKeyStrength(X509_get0_pubkey(ca->get())); !strong.ok()) {
    return absl::InvalidArgumentError(ca_path + ": key of the federation CA: " +
                                      std::string(strong.message()));
  }
  X509StorePtr store(X509_STORE_new());
  if (X509_STORE_add_cert(store.get(), ca->get()) != 1) {
    return absl::InternalError("cannot trust " + ca_path + ": " + OpenSslError());
  }
  return std::unique_ptr<Verifier>(new Verifier(std::move(store), std::move(*pem), revoked, certificates));
}

absl::StatusOr<Verifier::TrustedKey> Verifier::TrustSigner(const v1::Record& record) const {
  if (!record.signer_chain().empty()) return Trust(record.signer_chain());
  if (record.signer_digest().size() != SHA256_DIGEST_LENGTH) {
    return absl::UnauthenticatedError("version names no signer certificate");
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = trusted_.find(record.signer_digest());
    if (it != trusted_.end()) return it->second;
  }
  std::optional<std::string> der;
  if (certificates_ != nullptr) der = certificates_->Find(record.signer_digest());
  if (!der.has_value()) {
    return absl::UnauthenticatedError("signed by certificate " + sync::HexOf(record.signer_digest().substr(0, 8)) +
                                      "…, which this node was never sent");
  }
  return Trust(*der);
}

absl::StatusOr<Verifier::TrustedKey> Verifier::Trust(const std::string& cert_der) const {
  const std::string digest = CertificateBook::DigestOf(cert_der);
  {
    absl::MutexLock lock(&mu_);
    auto it = trusted_.find(digest);
    if (it != trusted_.end()) return it->second;
  }
  const auto* begin = reinterpret_cast<const unsigned char*>(cert_der.data());
  const auto* p = begin;
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(cert_der.size())));
  if (!cert) return absl::UnauthenticatedError("signer certificate does not parse");
  if (p != begin + cert_der.size()) {
    // Trailing bytes would make one certificate look like many (and grow
    // the cache below without bound).
    return absl::UnauthenticatedError("signer certificate has trailing bytes");
  }
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(ctx.get(), store_.get(), cert.get(), nullptr) != 1) {
    return absl::InternalError("X509_STORE_CTX_init: " + OpenSslError());
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    return absl::UnauthenticatedError(
        std::string("signer certificate is not trusted: ") +
        X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  auto node_id = CertificateNodeId(cert.get());
  if (!node_id.ok()) return absl::UnauthenticatedError(node_id.status().message());
  if (auto strong = CheckCertificateStrength(cert.get()); !strong.ok()) {
    return absl::UnauthenticatedError("signer certificate of '" + *node_id + "': " +
                                      std::string(strong.message()));
  }
  TrustedKey trusted{*node_id, std::shared_ptr<EVP_PKEY>(X509_get_pubkey(cert.get()), EVP_PKEY_free),
                     SerialHex(cert.get()), nullptr};
  if (!trusted.key) return absl::UnauthenticatedError("signer certificate has no usable key");
  trusted.verify_template.reset(EVP_PKEY_CTX_new(trusted.key.get(), nullptr), EVP_PKEY_CTX_free);
  if (!trusted.verify_template || EVP_PKEY_verify_init(trusted.verify_template.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(trusted.verify_template.get(), EVP_sha256()) != 1) {
    return absl::UnauthenticatedError("signer key cannot verify: " + OpenSslError());
  }
  absl::MutexLock lock(&mu_);
  // Bounded: a federation has a few thousand nodes; past that, start over.
  if (trusted_.size() >= kMaxTrustedCertificates) trusted_.clear();
  trusted_.emplace(digest, trusted);
  return trusted;
}

absl::Status Verifier::Verify(const v1::Record& record, const v1::RecordBody& body, bool linked) const {
  if (record.signature().empty() && record.ec_signature().empty()) {
    return absl::UnauthenticatedError("version is not signed");
  }
  if (!record.signature().empty() && !record.ec_signature().empty()) {
    return absl::UnauthenticatedError("version carries two signatures");
  }
  auto trusted = TrustSigner(record);
  if (!trusted.ok()) return trusted.status();
  if (trusted->node_id != body.version().writer()) {
    return absl::UnauthenticatedError("signed by '" + trusted->node_id + "' but written as '" +
                                      body.version().writer() + "'");
  }
  if (revoked_ != nullptr) {
    if (auto at = revoked_->RevokedAt(trusted->serial_hex)) {
      const int64_t stamped = static_cast<int64_t>(body.version().hlc().wall_micros() / 1'000'000);
      if (stamped >= *at) {
        return absl::UnauthenticatedError("signed by certificate " + trusted->serial_hex + " of '" +
                                          trusted->node_id + "' after its revocation");
      }
    }
  }
  // The body is the writer's already: a later version that verified commits
  // to its digest (sync/signed_log.h).
  if (linked) return absl::OkStatus();
  const std::string digest = sync::BodyDigest(record.body());
  std::string der_from_raw;
  const std::string* signature = &record.signature();
  if (!record.ec_signature().empty()) {
    if (EVP_PKEY_get_base_id(trusted->key.get()) != EVP_PKEY_EC) {
      return absl::UnauthenticatedError("an EC signature, but the signer's key is not an EC key");
    }
    auto der = EcSignatureToDer(record.ec_signature(), EcScalarBytes(trusted->key.get()));
    if (!der.ok()) return der.status();
    der_from_raw = *std::move(der);
    signature = &der_from_raw;
  }
  std::unique_ptr<EVP_PKEY_CTX, void (*)(EVP_PKEY_CTX*)> ctx(
      EVP_PKEY_CTX_dup(trusted->verify_template.get()), EVP_PKEY_CTX_free);
  const int ok =
      ctx && EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                             signature->size(), reinterpret_cast<const unsigned char*>(digest.data()),
                             digest.size()) == 1;
  ERR_clear_error();
  if (!ok) return absl::UnauthenticatedError("signature does not match the signed bytes");
  return absl::OkStatus();
}

}  // namespace steersync::node

namespace steersync::node {

absl::StatusOr<ParsedCrl> Verifier::VerifyCrl(const std::string& crl_bytes) const {
  return ParseAndVerifyCrl(crl_bytes, ca_pem_);
}

int64_t Verifier::NotAfter(const std::string& cert_pem) {
  auto cert = ParsePemCert(cert_pem, "peer");
  if (!cert.ok()) return 0;
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert->get()), &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::vector<std::string> LearnSignerCertificates(const Verifier& verifier, CertificateBook& book,
                                                 const std::vector<std::string>& ders,
                                                 std::vector<std::string>* refused) {
  std::vector<std::string> learnt;
  for (const std::string& der : ders) {
    if (absl::Status trusted = verifier.CheckSignerCertificate(der); !trusted.ok()) {
      if (refused != nullptr) refused->emplace_back(trusted.message());
      continue;
    }
    std::string digest = CertificateBook::DigestOf(der);
    if (book.Add(digest, der)) {
      learnt.push_back(std::move(digest));
    } else if (refused != nullptr) {
      refused->emplace_back("the certificate book is full");
    }
  }
  return learnt;
}

}  // namespace steersync::node
