#include "cli/admin_client.h"

#include <grpcpp/security/credentials.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include <toml++/toml.h>

#include "cli/output.h"
#include "node/admin_service.h"
#include "sync/status_macros.h"

namespace steersync::cli {
namespace {

// Reads `[admin] socket` from the node config at `config_path`, resolving a
// relative socket path against the config file's directory. Other keys are
// ignored.
absl::StatusOr<std::string> SocketFromConfig(const std::string& config_path) {
  SYNC_ASSIGN_OR_RETURN(const std::string text, ReadFile(config_path, "config"));
  toml::table root;
  try {
    root = toml::parse(text, config_path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(config_path + ":" + std::to_string(e.source().begin.line) +
                                      ": " + std::string(e.description()));
  }
  const std::optional<std::string> socket = root["admin"]["socket"].value<std::string>();
  if (!socket.has_value() || socket->empty()) {
    return absl::InvalidArgumentError(config_path + ": missing string key 'socket' in [admin]");
  }
  const std::filesystem::path path(*socket);
  if (path.is_absolute()) return *socket;
  const std::filesystem::path base = std::filesystem::path(config_path).parent_path();
  return (base / path).lexically_normal().string();
}

// The admin socket path from --socket, or else from --config.
absl::StatusOr<std::string> ResolveSocketPath(const GlobalOptions& options) {
  if (!options.socket.empty()) return options.socket;
  return SocketFromConfig(options.config);
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (file == nullptr) {
    return absl::NotFoundError("cannot read " + what + " " + path + ": " + std::strerror(errno));
  }
  std::string contents;
  char buffer[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) contents.append(buffer, n);
  if (std::ferror(file.get())) {
    return absl::DataLossError("cannot read " + what + " " + path + ": " + std::strerror(errno));
  }
  return contents;
}

AdminClient::AdminClient(std::string socket_path)
    : target_(std::move(socket_path)),
      stub_(v1::Admin::NewStub(grpc::CreateChannel(
          "unix:" + target_, grpc::experimental::LocalCredentials(UDS)))) {}

AdminClient::AdminClient(std::string address, std::shared_ptr<grpc::ChannelCredentials> creds)
    : target_(std::move(address)),
      stub_(v1::Admin::NewStub(grpc::CreateChannel(target_, std::move(creds)))) {}

absl::Status AdminClient::GetAttachment(const v1::AttachmentGetRequest& request,
                                        const std::function<bool(const v1::AttachmentPiece&)>& on_piece) {
  grpc::ClientContext context;
  context.set_deadline(node::GrpcDeadline(kStreamTimeout));
  std::unique_ptr<grpc::ClientReader<v1::AttachmentPiece>> reader = stub_->AttachmentGet(&context, request);
  v1::AttachmentPiece piece;
  bool cancelled = false;
  while (reader->Read(&piece)) {
    if (!on_piece(piece)) {
      context.TryCancel();
      cancelled = true;
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  if (cancelled) return absl::AbortedError("stopped reading the attachment");
  return status.ok() ? absl::OkStatus() : FromGrpc(status);
}

absl::Status AdminClient::FromGrpc(const grpc::Status& status) const {
  const std::string message = OneLine(status.error_message());
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && status.error_details() != node::kAnsweredByNode) {
    return absl::Status(code, "cannot reach node at " + target_ + ": " + message);
  }
  return absl::Status(code, message.empty() ? "RPC failed" : message);
}

absl::Status Execute(const GlobalOptions& options, const Action& action) {
  if (!options.address.empty()) {
    grpc::SslCredentialsOptions tls;
    SYNC_ASSIGN_OR_RETURN(tls.pem_root_certs, ReadFile(options.ca, "CA certificate"));
    SYNC_ASSIGN_OR_RETURN(tls.pem_cert_chain, ReadFile(options.cert, "admin certificate"));
    SYNC_ASSIGN_OR_RETURN(tls.pem_private_key, ReadFile(options.key, "admin key"));
    AdminClient admin(options.address, grpc::SslCredentials(tls));
    return action(admin, options.json);
  }
  SYNC_ASSIGN_OR_RETURN(const std::string socket_path, ResolveSocketPath(options));
  AdminClient admin(socket_path);
  return action(admin, options.json);
}

}  // namespace steersync::cli
