#include "node/logging.h"

#include <ctime>
#include <utility>

#include <grpc/support/log.h>
#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sync/text.h"

namespace steersync::node {
namespace {

// steersyncd's text lines (local time, as before there was a JSON format).
constexpr char kTextPattern[] = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v";

// The entry LogAudit is logging on this thread, for the JSON formatter to
// add as fields; null otherwise. Valid because the loggers are synchronous:
// the sinks format the line inside LogAudit's call.
thread_local const AuditEntry* t_audit_entry = nullptr;

// The names of steersyncd's --log-level and [log] level for the levels.
std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

// "2026-11-30T01:15:02.123Z": the line's own time stamp (taken by spdlog
// when the line was logged), in UTC.
std::string UtcTimestamp(spdlog::log_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf, n) + fmt::format(".{:03d}Z", millis);
}

// One JSON object per line: {"ts","level","msg"} and, for an audit entry,
// its fields. nlohmann escapes quotes, backslashes and control characters;
// bytes that are not UTF-8 are replaced rather than failing the line.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json line;
    line["ts"] = UtcTimestamp(msg.time);
    line["level"] = LevelName(msg.level);
    line["msg"] = std::string(msg.payload.data(), msg.payload.size());
    if (const AuditEntry* audit = t_audit_entry) {
      line["who"] = audit->who;
      line["act"] = audit->act;
      line["target"] = audit->target;
      line["result"] = audit->result;
    }
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// gRPC's own lines (gpr_log) through the default logger, in JSON mode.
void GrpcLogToSpdlog(gpr_log_func_args* args) {
  const spdlog::level::level_enum level = args->severity == GPR_LOG_SEVERITY_ERROR  ? spdlog::level::err
                                          : args->severity == GPR_LOG_SEVERITY_INFO ? spdlog::level::info
                                                                                    : spdlog::level::debug;
  spdlog::log(level, "grpc: {} ({}:{})", args->message, args->file, args->line);
}

// The audit logger, once installed. Never destroyed: gRPC threads may log
// while the process exits.
struct AuditLogger {
  absl::Mutex mu;
  std::shared_ptr<spdlog::logger> logger ABSL_GUARDED_BY(mu);
};
AuditLogger& Audit() {
  static AuditLogger* audit = new AuditLogger();
  return *audit;
}

// An audit value for the text line: printable, quoted when needed.
std::string AuditValue(const std::string& value) {
  if (value.empty()) return "-";
  std::string printable = sync::Printable(value, 300);
  if (printable.find_first_of(" \"=") == std::string::npos) return printable;
  std::string quoted = "\"";
  for (char c : printable) quoted += c == '"' ? std::string("\\\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError("log format '" + std::string(name) + "' is not one of text, json");
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format) {
  if (format == LogFormat::kJson) return std::make_unique<JsonFormatter>();
  return std::make_unique<spdlog::pattern_formatter>(kTextPattern);
}

void InstallLogging(spdlog::sink_ptr sink, LogFormat format, spdlog::level::level_enum level) {
  sink->set_formatter(MakeLogFormatter(format));
  auto main_logger = std::make_shared<spdlog::logger>("steersyncd", sink);
  main_logger->set_level(level);
  spdlog::set_default_logger(main_logger);
  // Not registered with spdlog: spdlog::set_level (a SIGHUP) leaves it at info.
  auto audit = std::make_shared<spdlog::logger>("audit", sink);
  audit->set_level(spdlog::level::info);
  {
    absl::MutexLock lock(&Audit().mu);
    Audit().logger = std::move(audit);
  }
  if (format == LogFormat::kJson) gpr_set_log_function(GrpcLogToSpdlog);
}

std::string AuditLine(const AuditEntry& entry) {
  return "audit: who=" + AuditValue(entry.who) + " act=" + AuditValue(entry.act) +
         " target=" + AuditValue(entry.target) + " result=" + AuditValue(entry.result);
}

void LogAudit(const AuditEntry& entry) {
  std::shared_ptr<spdlog::logger> logger;
  {
    absl::MutexLock lock(&Audit().mu);
    logger = Audit().logger;
  }
  if (!logger) logger = spdlog::default_logger();
  const AuditEntry* outer = std::exchange(t_audit_entry, &entry);
  logger->info("{}", AuditLine(entry));
  t_audit_entry = outer;
}

}  // namespace steersync::node
