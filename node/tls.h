#pragma once
// mTLS credentials for node links and the identity carried in certificates.
// A node's identity is the URI SAN "urn:steersync:node:<node-id>" of a
// certificate issued by the federation CA (see deploy/pki.sh).
//
// Production links use gRPC's TLS credentials with a file-watching
// certificate provider (renewed certificate and key files take effect on new
// handshakes without a restart) and a PeerCheck run after every handshake:
// chain to the CA, the certificate minimum (CheckCertificateStrength), not
// revoked, and the identity this side expects.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/security/auth_context.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_verifier.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/config.h"
#include "node/identity.h"
#include "node/revocation.h"

namespace steersync::node {

inline constexpr char kNodeUriPrefix[] = "urn:steersync:node:";
// Admin client certificates (TCP admin listener) carry urn:steersync:admin:<name>.
inline constexpr char kAdminUriPrefix[] = "urn:steersync:admin:";

// Reads a whole file; kNotFound names the path when it is missing.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Decides, after each TLS handshake, whether the peer may connect.
// Thread safety: thread-safe; shared by every handshake of one side.
// Refusals of every side of this process in the order they happened (1, 2,
// ...), so the newest can be told without reading a clock.
uint64_t NextRefusalOrder();

class PeerCheck {
 public:
  // `accept(node_id)` says whether this side talks to that node (a child on
  // the server, the configured parent on the client). `revoked` may be null.
  // `uri_prefix` selects the identity read from the certificate (node or admin).
  // `side` names the listener or dialler in logs and refusals, e.g.
  // "vn/quang-ngai (serving children)".
  PeerCheck(std::string ca_pem, const RevocationSet* revoked,
            std::function<bool(const std::string&)> accept, std::string side,
            std::string uri_prefix = kNodeUriPrefix);

  // OK, or why the peer is refused (also logged and counted).
  // `peer_chain_pem`: the peer's certificate, then any intermediates.
  grpc::Status Check(const std::string& peer_chain_pem);

  uint64_t refused() const { return refused_.load(); }
  // "<side>: <why>" of the newest refusal ("" if none); `at` (may be null)
  // receives its place in NextRefusalOrder() (0 if never).
  std::string last_refusal(uint64_t* order = nullptr) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  grpc::Status Refuse(std::string why) ABSL_LOCKS_EXCLUDED(mu_);

  X509StorePtr store_;
  const RevocationSet* revoked_;
  const std::function<bool(const std::string&)> accept_;
  const std::string side_;
  const std::string uri_prefix_;
  std::atomic<uint64_t> refused_{0};
  mutable absl::Mutex mu_;
  std::string last_refusal_ ABSL_GUARDED_BY(mu_);
  uint64_t last_refusal_order_ ABSL_GUARDED_BY(mu_) = 0;
};

struct TlsOptions {
  // How often renewed certificate/key files are picked up, in seconds.
  unsigned refresh_interval_sec = 5;
};

// Server credentials: the client must present a certificate; `check` decides.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, std::shared_ptr<PeerCheck> check, const TlsOptions& options);

// Channel credentials for the link to the parent; `check` verifies the parent.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files, std::shared_ptr<PeerCheck> check, const TlsOptions& options);

// Plain mTLS client credentials (CA-verified server, our certificate), for
// tools and tests that dial a node directly.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files);

// Serial (upper-case hex) of the certificate the peer presented, if any.
std::optional<std::string> PeerCertSerial(const grpc::AuthContext& context);

// notAfter (Unix seconds) of the certificate the peer presented; 0 if unknown.
int64_t PeerCertNotAfter(const grpc::AuthContext& context);

// The node id in the peer's verified certificate, or nullopt when it carries
// none (or more than one, which we refuse as ambiguous).
std::optional<std::string> PeerNodeId(const grpc::AuthContext& context);

}  // namespace steersync::node
