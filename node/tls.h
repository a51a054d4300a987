#pragma once
// mTLS credentials for node links and the identity carried in certificates.
// A node's identity is the URI SAN "urn:steersync:node:<node-id>" of a
// certificate issued by the federation CA (see deploy/pki.sh).

#include <memory>
#include <optional>
#include <string>

#include <grpcpp/security/auth_context.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/status/statusor.h"
#include "node/config.h"

namespace steersync::node {

inline constexpr char kNodeUriPrefix[] = "urn:steersync:node:";

// Reads a whole file; kNotFound names the path when it is missing.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Server credentials that require and verify a client certificate from the CA.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files);

// Client credentials presenting our certificate and trusting only the CA.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files);

// The node id in the peer's verified certificate, or nullopt when it carries
// none (or more than one, which we refuse as ambiguous).
std::optional<std::string> PeerNodeId(const grpc::AuthContext& context);

}  // namespace steersync::node
