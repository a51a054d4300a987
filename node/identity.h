#pragma once
// Signing and verifying versions (Decree 30/2020 Art. 5: a digitally signed
// electronic document has legal value). Every version is signed by its
// writing node's key over the exact RecordBody bytes; the writer's
// certificate (DER) travels once per stream and is named in each record by
// its digest (node/certificate_book.h), so any node can verify a relayed
// version against the federation CA without contacting the writer.
//
// Thread safety: Signer and Verifier are thread-safe.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/container/flat_hash_map.h"
#include "node/certificate_book.h"
#include "node/revocation.h"
#include "steersync/v1/record.pb.h"

namespace steersync::node {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct X509StoreDeleter {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using X509StorePtr = std::unique_ptr<X509_STORE, X509StoreDeleter>;

// The node id in a certificate's URI SAN "urn:steersync:node:<id>", or an
// error when there is none or more than one.
absl::StatusOr<std::string> CertificateNodeId(X509* cert);

// The name after `uri_prefix` in the certificate's URI SAN (exactly one).
absl::StatusOr<std::string> CertificateUriName(X509* cert, const std::string& uri_prefix);

// The federation's minimum for every certificate it trusts (a node's own, a
// peer's, an admin client's, a version's signer): an EC key on P-256, P-384
// or P-521, or RSA of at least 2048 bits, and a signature with SHA-256 or
// stronger (never SHA-1 or MD5). OK, or kInvalidArgument saying what falls
// short, e.g. "RSA 1024 bits is below the minimum (RSA 2048, EC P-256)".
absl::Status CheckCertificateStrength(X509* cert);

// Signs with this node's private key; carries its certificate.
class Signer {
 public:
  // Loads the PEM key and certificate (the node's TLS pair); refuses a
  // certificate below the minimum (CheckCertificateStrength).
  static absl::StatusOr<std::unique_ptr<Signer>> Load(const std::string& cert_path,
                                                      const std::string& key_path);
  // Sets record.ec_signature (an EC key's r || s) or record.signature (an
  // RSA key's), and record.signer_digest (the certificate's SHA-256; the
  // certificate itself is in the node's CertificateBook) for record.body.
  absl::Status Sign(v1::Record& record) const;
  const std::string& node_id() const { return node_id_; }
  // The certificate (DER) and its digest, for the node's CertificateBook.
  const std::string& cert_der() const { return cert_der_; }
  const std::string& cert_digest() const { return cert_digest_; }

 private:
  Signer(EvpPkeyPtr key, std::string cert_der, std::string node_id);
  EvpPkeyPtr key_;
  std::string cert_der_;
  std::string cert_digest_;
  std::string node_id_;
};

// Verifies signed versions against the federation CA.
class Verifier {
 public:
  // `revoked` (may be null) must outlive the verifier. Refuses a CA whose
  // key is below the minimum (CheckCertificateStrength).
  // `certificates` (may be null: only records that carry their signer's
  // certificate then verify) must outlive the verifier too.
  static absl::StatusOr<std::unique_ptr<Verifier>> Load(const std::string& ca_path,
                                                        const RevocationSet* revoked = nullptr,
                                                        const CertificateBook* certificates = nullptr);

  // OK when `record.ec_signature` (r || s) or `record.signature` (DER or
  // RSA; exactly one is set) is a valid signature of `record.body` by the
  // key of the signer's certificate (`record.signer_digest` in the
  // CertificateBook, or `record.signer_chain` in older records), that
  // certificate chains to the CA, and its
  // node identity is `body.version.writer` (a certificate below the minimum
  // is not trusted). Errors are kUnauthenticated with a reason a person can
  // act on. A version stamped at or after its signer's
  // revocation time is refused; earlier ones stay valid (they were signed
  // while the key was trusted).
  // `linked`: the body is already authenticated by a linked successor
  // (sync/signed_log.h); every check but the signature's itself is made.
  absl::Status Verify(const v1::Record& record, const v1::RecordBody& body, bool linked = false) const;

  // OK when `der` is a certificate this verifier trusts as a signer's
  // (chains to the CA, meets the minimum, names a node).
  absl::Status CheckSignerCertificate(const std::string& der) const { return Trust(der).status(); }

  // Parses a CRL and checks it is signed by the federation CA.
  absl::StatusOr<ParsedCrl> VerifyCrl(const std::string& crl_bytes) const;

  // notAfter (Unix seconds) of a PEM certificate; 0 if it does not parse.
  static int64_t NotAfter(const std::string& cert_pem);

 private:
  Verifier(X509StorePtr store, std::string ca_pem, const RevocationSet* revoked,
           const CertificateBook* certificates)
      : store_(std::move(store)), ca_pem_(std::move(ca_pem)), revoked_(revoked), certificates_(certificates) {}
  struct TrustedKey {
    std::string node_id;
    std::shared_ptr<EVP_PKEY> key;
    std::string serial_hex;
    // Initialised for verification once; duplicated per call (cheaper than
    // re-initialising, and a context is not shareable across threads).
    std::shared_ptr<EVP_PKEY_CTX> verify_template;
  };
  // Verifies a certificate's chain once; later calls hit the cache.
  absl::StatusOr<TrustedKey> Trust(const std::string& cert_der) const ABSL_LOCKS_EXCLUDED(mu_);
  // The same for the certificate `record` names, by digest or enclosed.
  absl::StatusOr<TrustedKey> TrustSigner(const v1::Record& record) const ABSL_LOCKS_EXCLUDED(mu_);

  static constexpr size_t kMaxTrustedCertificates = 16384;

  X509StorePtr store_;
  const std::string ca_pem_;
  const RevocationSet* revoked_;
  const CertificateBook* certificates_;
  mutable absl::Mutex mu_;
  // By SHA-256 of the certificate's DER.
  mutable absl::flat_hash_map<std::string, TrustedKey> trusted_ ABSL_GUARDED_BY(mu_);
};

// The certificates a peer's batch carried (Batch.certificates) that
// `verifier` trusts as signers', added to `book`; returns their digests, for
// the caller to keep in the store with the batch. An untrusted one is left
// out, its reason appended to `refused` (may be null): the records naming it
// are then refused one by one as signed by a certificate never sent.
std::vector<std::string> LearnSignerCertificates(const Verifier& verifier, CertificateBook& book,
                                                 const std::vector<std::string>& ders,
                                                 std::vector<std::string>* refused);

}  // namespace steersync::node
