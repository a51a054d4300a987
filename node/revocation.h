#pragma once
// Certificate revocation (issue: security). The federation CA signs a CRL
// (deploy/pki.sh revoke); a node publishes it as a REVOCATION_LIST record that
// flows down the tree. Every node keeps the union of the lists it holds and
// consults it at each TLS handshake and for each signed version.
//
// Thread safety: RevocationSet is thread-safe.

#include <openssl/x509.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace steersync::node {

struct ParsedCrl {
  // Serial number (upper-case hex) -> revocation time, Unix seconds.
  std::map<std::string, int64_t> revoked;
  int64_t last_update = 0;
};

// Parses a CRL (PEM or DER) and checks it is signed by the CA in `ca_pem`.
absl::StatusOr<ParsedCrl> ParseAndVerifyCrl(const std::string& crl_bytes, const std::string& ca_pem);

// Upper-case hex serial of a certificate.
std::string SerialHex(X509* cert);

class RevocationSet {
 public:
  // Adds every entry of `crl` (a union: nothing is ever un-revoked).
  // Returns true when something new was added.
  bool Merge(const ParsedCrl& crl) ABSL_LOCKS_EXCLUDED(mu_);
  // The revocation time of `serial_hex`, if revoked.
  std::optional<int64_t> RevokedAt(const std::string& serial_hex) const ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, int64_t> revoked_ ABSL_GUARDED_BY(mu_);
};

}  // namespace steersync::node
