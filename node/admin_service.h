#pragma once
// The Admin gRPC service steerctl talks to: a thin adapter from RPCs to Node
// operations, converting absl::Status to grpc::Status in one place.

#include <memory>

#include <grpcpp/grpcpp.h>

#include "steersync/v1/admin.grpc.pb.h"

namespace steersync::node {

class Node;

std::unique_ptr<grpc::Service> MakeAdminService(Node& node);

}  // namespace steersync::node
