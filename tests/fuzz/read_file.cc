// node/identity.cc reads PEM files through node::ReadFileToString, defined in
// node/tls.cc together with the gRPC credentials code. The fuzz binaries do
// not link gRPC, so they take this copy instead of tls.cc.
#include <fstream>
#include <sstream>

#include "node/tls.h"

namespace steersync::node {

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace steersync::node
