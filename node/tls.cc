#include "node/tls.h"

#include <fstream>
#include <sstream>

#include <grpcpp/security/server_credentials.h>

namespace steersync::node {

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {
struct Pems {
  std::string ca, cert, key;
};
absl::StatusOr<Pems> ReadPems(const TlsFiles& files) {
  Pems p;
  for (auto [path, out] : {std::pair{&files.ca, &p.ca}, {&files.cert, &p.cert}, {&files.key, &p.key}}) {
    auto text = ReadFileToString(*path);
    if (!text.ok()) return text.status();
    if (text->find("-----BEGIN") == std::string::npos) {
      return absl::InvalidArgumentError(*path + " is not a PEM file");
    }
    *out = std::move(*text);
  }
  return p;
}
}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files) {
  auto pems = ReadPems(files);
  if (!pems.ok()) return pems.status();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = pems->ca;
  options.pem_key_cert_pairs.push_back({pems->key, pems->cert});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files) {
  auto pems = ReadPems(files);
  if (!pems.ok()) return pems.status();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = pems->ca;
  options.pem_private_key = pems->key;
  options.pem_cert_chain = pems->cert;
  return grpc::SslCredentials(options);
}

std::optional<std::string> PeerNodeId(const grpc::AuthContext& context) {
  std::optional<std::string> found;
  for (const auto& value : context.FindPropertyValues("peer_uri")) {
    std::string uri(value.data(), value.size());
    if (uri.rfind(kNodeUriPrefix, 0) != 0) continue;
    if (found.has_value()) return std::nullopt;  // two node identities: ambiguous
    found = uri.substr(sizeof(kNodeUriPrefix) - 1);
  }
  return found;
}

}  // namespace steersync::node
