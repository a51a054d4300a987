#pragma once
// The Admin gRPC service steerctl talks to: a thin adapter from RPCs to Node
// operations, converting absl::Status to grpc::Status in one place.

#include <memory>

#include <grpcpp/grpcpp.h>

#include "steersync/v1/admin.grpc.pb.h"

namespace steersync::node {

class Node;

std::unique_ptr<grpc::Service> MakeAdminService(Node& node);

// The error details of every error the node itself answers, so that a client
// tells the node's refusal ("recovering ...", UNAVAILABLE too) from a node it
// could not reach.
inline constexpr char kAnsweredByNode[] = "steersync: answered by the node";

}  // namespace steersync::node
