#pragma once
// steersyncd's log output (docs/operations.md, "Observing a node"): text or
// JSON lines on stderr, and the audit line of every admin act.
//
//   text  2026-11-30T08:15:02.123 info vn/quang-ngai: started; log head 42
//   json  {"ts":"2026-11-30T01:15:02.123Z","level":"info","msg":"vn/quang-ngai: started; log head 42"}
//
// In JSON every line is one object: quotes, backslashes and control
// characters of the message are escaped and bytes that are not UTF-8 are
// replaced (U+FFFD), so text from peers cannot break a line or forge one.
// An audit entry adds its fields to the object ("who", "act", "target",
// "result"), beside the same text in "msg".
//
// The audit entries go to a logger of their own, on the same output, whose
// level is always info: `[log] level = "warn"` (or a SIGHUP changing the
// level) hides the node's info lines, never its audit trail.
//
// Thread safety: InstallLogging() is called once, before the node starts
// (steersyncd's main); everything else is thread-safe. The loggers are
// synchronous: a line is formatted on the thread that logs it.

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <spdlog/formatter.h>

#include "absl/status/statusor.h"

namespace steersync::node {

enum class LogFormat { kText, kJson };

// "text" or "json"; kInvalidArgument otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(std::string_view name);

// The formatter of `format`: text is steersyncd's pattern (local time),
// json one object per line as above (UTC time).
std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format);

// Sends spdlog's default logger and the audit logger to `sink`, formatted as
// `format`; the default logger at `level`. In JSON, gRPC's own log lines
// (gpr_log) are sent through the default logger too, so that every line on
// the output is an object.
void InstallLogging(spdlog::sink_ptr sink, LogFormat format, spdlog::level::level_enum level);

// One admin act (node/admin_service.cc).
struct AuditEntry {
  std::string who;     // "uid:1000(alice)" on the Unix socket, "cn:ops" over mTLS
  std::string act;     // the Admin RPC, e.g. "IssueDirective"
  std::string target;  // the record or path acted on; "" when none
  std::string result;  // "OK", or "<CODE>: <message>"
};

// The text of an entry: `audit: who=W act=A target=T result=R`, each value
// made printable (sync::Printable) and quoted when it holds a space, '"' or
// '='; an empty value is written "-".
std::string AuditLine(const AuditEntry& entry);

// Logs `entry` at info on the audit logger (the default logger before
// InstallLogging, e.g. in tests).
void LogAudit(const AuditEntry& entry);

}  // namespace steersync::node
