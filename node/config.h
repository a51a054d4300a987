#pragma once
// steersyncd's configuration: a TOML file parsed once into typed options.
// Unknown keys and missing required keys are startup errors naming the key.
//
//   [node]   id, data_dir, map_size_mb (optional, default 8192),
//            max_clock_skew_seconds (optional, default 300),
//            max_attachment_mb (optional, default 20, at most 256),
//            status_interval_seconds (optional, default 30),
//            status_heartbeat_seconds (optional, default 600)
//            head_interval_seconds (optional, default 10)
//   [listen] address                 only on nodes that have children
//   [parent] address                 absent on the top node (root or a province
//                                    running without the national level)
//   [tls]    ca, cert, key
//   [admin]  socket, group (optional), tcp_address (optional)
//   [metrics] address                optional: host:port for Prometheus /metrics
//   [log]    level                   optional: trace, debug, info, warn, error
//                                    (re-read on SIGHUP)
//            format                  optional: text (default) or json
//   [limits] quarantine_entries_per_peer, quarantine_mb_per_peer
//                                    optional: what the quarantine keeps of one
//                                    peer's refused versions (10000, 32)
//
// Relative paths are resolved against the config file's directory.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace steersync::node {

struct TlsFiles {
  std::string ca;    // PEM: the federation CA
  std::string cert;  // PEM: this node's certificate
  std::string key;   // PEM: this node's private key
};

struct NodeOptions {
  // Path-shaped node id, e.g. "vn/quang-ngai/tinh-phong".
  std::string id;
  // LMDB environment directory; created if missing.
  std::string data_dir;
  // Upper bound of the LMDB map, in MiB.
  uint64_t map_size_mb = 8192;
  // A peer's version stamped further ahead of this node's clock is refused
  // (CLOCK_AHEAD) and never moves this node's clock.
  int64_t max_clock_skew_seconds = 300;
  // Each peer's share of the quarantine (LmdbStore::QuarantineQuota): its
  // oldest entries are evicted past either bound.
  uint64_t quarantine_entries_per_peer = 10'000;
  uint64_t quarantine_mb_per_peer = 32;
  // The largest file this node's own acts may attach (--attach), MiB. What
  // peers send is bounded by sync::kMaxAttachmentBytes whatever this is, so
  // nodes with different settings still exchange every file.
  uint64_t max_attachment_mb = 20;
  // This node's status record, for the units above (`steerctl subtree`):
  // looked at (and rewritten when it changed) at most this often...
  int64_t status_interval_seconds = 30;
  // ...and rewritten at least this often, changed or not.
  int64_t status_heartbeat_seconds = 600;
  // This node's signed sequence heads (node/head_publisher.h): a sequence
  // that rested this long gets a head within this long again.
  int64_t head_interval_seconds = 10;
  // host:port to serve children on; empty when the node has no children.
  std::string listen_address;
  // host:port of the parent; empty on the root.
  std::string parent_address;
  TlsFiles tls;
  // Unix socket path of the admin service.
  std::string admin_socket;
  // Group allowed to use the socket (mode 0660); empty: owner only (0600).
  std::string admin_group;
  // Optional host:port of a TCP admin listener requiring an admin client
  // certificate (URI SAN urn:steersync:admin:<name>) from the federation CA.
  std::string admin_tcp_address;
  // host:port serving Prometheus metrics at /metrics; empty: not served.
  std::string metrics_address;
  // steersyncd's log level ([log] level); empty: not set in the file.
  std::string log_level;
  // steersyncd's log format ([log] format): "text" or "json"; empty: not set
  // in the file (text). steersyncd --log-format wins over it.
  std::string log_format;
};

// Parses TOML text. `base_dir` resolves relative paths; `origin` names the
// source in error messages.
absl::StatusOr<NodeOptions> ParseConfig(const std::string& toml_text, const std::string& base_dir,
                                        const std::string& origin);

// Reads and parses a config file.
absl::StatusOr<NodeOptions> LoadConfig(const std::string& path);

}  // namespace steersync::node
