#pragma once
// steerctl's connection to a node: the Admin service client, the options that
// say where the node is, and the Action a parsed subcommand leaves to run.
//
// Thread safety: not thread-safe; steerctl is single-threaded.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "node/net/grpc_deadline.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "steersync/v1/admin.grpc.pb.h"

namespace steersync::cli {

namespace v1 = ::steersync::v1;

// How long one Admin RPC may take.
inline constexpr std::chrono::seconds kRpcTimeout{10};
// How long reading one attachment may take.
inline constexpr std::chrono::seconds kStreamTimeout{300};

// Options shared by every command; accepted before or after the subcommand.
struct GlobalOptions {
  std::string socket;  // Admin socket path; excludes `config`.
  std::string config;  // node.toml to read [admin] socket from.
  bool json = false;   // Print one JSON document instead of tables.
  // TCP admin listener (host:port) with an admin client certificate.
  std::string address;
  std::string ca, cert, key;
};

// Reads the whole file at `path`. Returns an error naming `what` and the path
// if the file cannot be opened or read.
absl::StatusOr<std::string> ReadFile(const std::string& path, const std::string& what);

// A thin client of the node's Admin service.
class AdminClient {
 public:
  // Over the node's local Unix socket.
  explicit AdminClient(std::string socket_path);
  // Over the node's TCP admin listener, with mutual TLS.
  AdminClient(std::string address, std::shared_ptr<grpc::ChannelCredentials> creds);

  // Calls one unary Admin method with a deadline of kRpcTimeout.
  // Returns the reply, or the RPC failure as a one-line status (UNAVAILABLE
  // names the socket or address that could not be reached).
  template <typename Request, typename Reply>
  absl::StatusOr<Reply> Call(grpc::Status (v1::Admin::Stub::*method)(grpc::ClientContext*,
                                                                      const Request&, Reply*),
                             const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(node::GrpcDeadline(kRpcTimeout));
    Reply reply;
    const grpc::Status status = (stub_.get()->*method)(&context, request, &reply);
    if (!status.ok()) return FromGrpc(status);
    return reply;
  }

  // Reads one attachment (Admin.AttachmentGet), handing each piece to
  // `on_piece` in order; a false return cancels the call. Deadline:
  // kStreamTimeout.
  absl::Status GetAttachment(const v1::AttachmentGetRequest& request,
                             const std::function<bool(const v1::AttachmentPiece&)>& on_piece);

 private:
  absl::Status FromGrpc(const grpc::Status& status) const;

  const std::string target_;  // Socket path or host:port, for error messages.
  const std::unique_ptr<v1::Admin::Stub> stub_;
};

// What the chosen subcommand does once flags are parsed.
using Action = std::function<absl::Status(AdminClient& admin, bool as_json)>;

// Connects to the node that `options` name and runs `action`.
// REQUIRES: options.socket, options.config or options.address (with ca, cert
// and key) is set (checked at parse time).
absl::Status Execute(const GlobalOptions& options, const Action& action);

}  // namespace steersync::cli
