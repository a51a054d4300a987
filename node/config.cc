#include "node/config.h"

#include "sync/attachments.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "sync/node_path.h"
#include "sync/status_macros.h"

namespace steersync::node {
namespace {

using Keys = std::set<std::string>;

absl::Status CheckKnown(const toml::table& table, const std::string& prefix, const Keys& known,
                        const std::string& origin) {
  for (const auto& [key, value] : table) {
    const std::string name(key.str());
    if (!known.count(name)) {
      return absl::InvalidArgumentError(origin + ": unknown key '" + prefix + name + "'");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RequiredString(const toml::table& table, const std::string& section,
                                           const std::string& key, const std::string& origin) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    return absl::InvalidArgumentError(origin + ": missing required key '" + section + "." + key +
                                      "'");
  }
  const auto* s = node->as_string();
  if (s == nullptr || s->get().empty()) {
    return absl::InvalidArgumentError(origin + ": key '" + section + "." + key +
                                      "' must be a non-empty string");
  }
  return s->get();
}

absl::StatusOr<const toml::table*> Section(const toml::table& root, const std::string& name,
                                           bool required, const std::string& origin) {
  const toml::node* node = root.get(name);
  if (node == nullptr) {
    if (required) return absl::InvalidArgumentError(origin + ": missing required section [" + name + "]");
    return static_cast<const toml::table*>(nullptr);
  }
  const toml::table* t = node->as_table();
  if (t == nullptr) return absl::InvalidArgumentError(origin + ": '" + name + "' must be a table");
  return t;
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

}  // namespace

// An optional integer key: nullopt when absent, an error naming the key and
// the range when it is not an integer in [lo, hi].
absl::StatusOr<std::optional<int64_t>> IntegerInRange(const toml::table& table, const std::string& section,
                                                      const std::string& key, int64_t lo, int64_t hi,
                                                      const std::string& origin) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return std::nullopt;
  const auto* i = node->as_integer();
  if (i == nullptr || i->get() < lo || i->get() > hi) {
    return absl::InvalidArgumentError(origin + ": '" + section + "." + key + "' must be an integer in " +
                                      std::to_string(lo) + ".." + std::to_string(hi));
  }
  return i->get();
}

#define CONFIG_ASSIGN(lhs, expr)       \
  do {                                 \
    auto v_ = (expr);                  \
    if (!v_.ok()) return v_.status();  \
    lhs = std::move(v_).value();       \
  } while (false)

absl::StatusOr<NodeOptions> ParseConfig(const std::string& toml_text, const std::string& base_dir,
                                        const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ": " << e.description();
    return absl::InvalidArgumentError(msg.str());
  }
  if (auto s = CheckKnown(root, "", {"node", "listen", "parent", "tls", "admin", "metrics", "log", "limits"}, origin);
      !s.ok()) {
    return s;
  }
  NodeOptions opt;
  const toml::table* t = nullptr;

  CONFIG_ASSIGN(t, Section(root, "node", true, origin));
  if (auto s = CheckKnown(*t, "node.", {"id", "data_dir", "map_size_mb", "max_clock_skew_seconds", "max_attachment_mb",
                                       "status_interval_seconds", "status_heartbeat_seconds",
                                       "head_interval_seconds"}, origin); !s.ok()) return s;
  CONFIG_ASSIGN(opt.id, RequiredString(*t, "node", "id", origin));
  if (!sync::IsValidNodeId(opt.id)) {
    return absl::InvalidArgumentError(origin + ": 'node.id' = '" + opt.id +
                                      "' is not a node id (segments of a-z, 0-9, '-', joined by '/')");
  }
  CONFIG_ASSIGN(opt.data_dir, RequiredString(*t, "node", "data_dir", origin));
  opt.data_dir = Resolve(base_dir, opt.data_dir);
  SYNC_ASSIGN_OR_RETURN(std::optional<int64_t> map_size_mb,
                IntegerInRange(*t, "node", "map_size_mb", 16, int64_t{1} << 30, origin));
  if (map_size_mb.has_value()) opt.map_size_mb = static_cast<uint64_t>(*map_size_mb);
  SYNC_ASSIGN_OR_RETURN(std::optional<int64_t> skew, IntegerInRange(*t, "node", "max_clock_skew_seconds", 1, 86'400, origin));
  if (skew.has_value()) opt.max_clock_skew_seconds = *skew;
  constexpr int64_t kMaxAttachmentMb = static_cast<int64_t>(sync::kMaxAttachmentBytes >> 20);
  SYNC_ASSIGN_OR_RETURN(std::optional<int64_t> attachment_mb,
                        IntegerInRange(*t, "node", "max_attachment_mb", 1, kMaxAttachmentMb, origin));
  if (attachment_mb.has_value()) opt.max_attachment_mb = static_cast<uint64_t>(*attachment_mb);
  // This node's status record for the units above (node/status_reporter.h).
  SYNC_ASSIGN_OR_RETURN(std::optional<int64_t> interval,
                        IntegerInRange(*t, "node", "status_interval_seconds", 1, 3600, origin));
  if (interval.has_value()) opt.status_interval_seconds = *interval;
  SYNC_ASSIGN_OR_RETURN(std::optional<int64_t> heartbeat,
                        IntegerInRange(*t, "node", "status_heartbeat_seconds", 10, 86'400, origin));
  if (heartbeat.has_value()) opt.status_heartbeat_seconds = *heartbeat;
  // Signed sequence heads (node/head_publisher.h).
  SYNC_ASSIGN_OR_RETURN(std::optional<int64_t> head_interval,
                        IntegerInRange(*t, "node", "head_interval_seconds", 1, 3600, origin));
  if (head_interval.has_value()) opt.head_interval_seconds = *head_interval;

  CONFIG_ASSIGN(t, Section(root, "listen", false, origin));
  if (t != nullptr) {
    if (auto s = CheckKnown(*t, "listen.", {"address"}, origin); !s.ok()) return s;
    CONFIG_ASSIGN(opt.listen_address, RequiredString(*t, "listen", "address", origin));
  }

  CONFIG_ASSIGN(t, Section(root, "parent", false, origin));
  if (t != nullptr) {
    if (auto s = CheckKnown(*t, "parent.", {"address"}, origin); !s.ok()) return s;
    CONFIG_ASSIGN(opt.parent_address, RequiredString(*t, "parent", "address", origin));
  }
  const bool is_root = sync::ParentOf(opt.id).empty();
  if (is_root && !opt.parent_address.empty()) {
    return absl::InvalidArgumentError(origin + ": node '" + opt.id +
                                      "' is a root (no parent in its id) but has a [parent] section");
  }
  // A non-root node without [parent] is the top of its own federation (a
  // province running without the national level): allowed, it only serves.
  CONFIG_ASSIGN(t, Section(root, "tls", true, origin));
  if (auto s = CheckKnown(*t, "tls.", {"ca", "cert", "key"}, origin); !s.ok()) return s;
  CONFIG_ASSIGN(opt.tls.ca, RequiredString(*t, "tls", "ca", origin));
  CONFIG_ASSIGN(opt.tls.cert, RequiredString(*t, "tls", "cert", origin));
  CONFIG_ASSIGN(opt.tls.key, RequiredString(*t, "tls", "key", origin));
  opt.tls.ca = Resolve(base_dir, opt.tls.ca);
  opt.tls.cert = Resolve(base_dir, opt.tls.cert);
  opt.tls.key = Resolve(base_dir, opt.tls.key);

  CONFIG_ASSIGN(t, Section(root, "admin", true, origin));
  if (auto s = CheckKnown(*t, "admin.", {"socket", "group", "tcp_address"}, origin); !s.ok()) return s;
  CONFIG_ASSIGN(opt.admin_socket, RequiredString(*t, "admin", "socket", origin));
  if (t->contains("group")) CONFIG_ASSIGN(opt.admin_group, RequiredString(*t, "admin", "group", origin));
  if (t->contains("tcp_address")) {
    CONFIG_ASSIGN(opt.admin_tcp_address, RequiredString(*t, "admin", "tcp_address", origin));
  }
  opt.admin_socket = Resolve(base_dir, opt.admin_socket);

  CONFIG_ASSIGN(t, Section(root, "metrics", false, origin));
  if (t != nullptr) {
    if (auto s = CheckKnown(*t, "metrics.", {"address"}, origin); !s.ok()) return s;
    CONFIG_ASSIGN(opt.metrics_address, RequiredString(*t, "metrics", "address", origin));
  }

  CONFIG_ASSIGN(t, Section(root, "log", false, origin));
  if (t != nullptr) {
    if (auto s = CheckKnown(*t, "log.", {"level", "format"}, origin); !s.ok()) return s;
    if (t->contains("level")) {
      CONFIG_ASSIGN(opt.log_level, RequiredString(*t, "log", "level", origin));
      static const Keys kLevels = {"trace", "debug", "info", "warn", "error"};
      if (!kLevels.count(opt.log_level)) {
        return absl::InvalidArgumentError(origin + ": 'log.level' = '" + opt.log_level +
                                          "' is not one of trace, debug, info, warn, error");
      }
    }
    if (t->contains("format")) {
      CONFIG_ASSIGN(opt.log_format, RequiredString(*t, "log", "format", origin));
      if (opt.log_format != "text" && opt.log_format != "json") {
        return absl::InvalidArgumentError(origin + ": 'log.format' = '" + opt.log_format +
                                          "' is not one of text, json");
      }
    }
  }
  CONFIG_ASSIGN(t, Section(root, "limits", false, origin));
  if (t != nullptr) {
    if (auto s = CheckKnown(*t, "limits.", {"quarantine_entries_per_peer", "quarantine_mb_per_peer"}, origin);
        !s.ok()) {
      return s;
    }
    SYNC_ASSIGN_OR_RETURN(std::optional<int64_t> entries,
                  IntegerInRange(*t, "limits", "quarantine_entries_per_peer", 100, 10'000'000, origin));
    if (entries.has_value()) opt.quarantine_entries_per_peer = static_cast<uint64_t>(*entries);
    SYNC_ASSIGN_OR_RETURN(std::optional<int64_t> mb, IntegerInRange(*t, "limits", "quarantine_mb_per_peer", 1, 65'536, origin));
    if (mb.has_value()) opt.quarantine_mb_per_peer = static_cast<uint64_t>(*mb);
  }
  return opt;
}

absl::StatusOr<NodeOptions> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string base = std::filesystem::path(path).parent_path().string();
  return ParseConfig(text.str(), base, path);
}

}  // namespace steersync::node
