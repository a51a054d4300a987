// steerctl: the admin CLI of a steersync node.
//
// Parses flags, calls the node's Admin service over its local Unix socket and
// prints the reply, either as readable tables or (with --json) as exactly one
// JSON document on stdout.
//
// Exit codes: 0 on success, 1 on a runtime error (RPC failure, unreadable
// file), 2 on a usage error. Every error is exactly one line on stderr.

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "steersync/v1/admin.grpc.pb.h"
#include "sync/status_macros.h"

namespace {

namespace v1 = ::steersync::v1;
using json = ::nlohmann::json;

constexpr int kExitRuntimeError = 1;
constexpr int kExitUsageError = 2;
constexpr std::chrono::seconds kRpcTimeout{10};

// ---------------------------------------------------------------------------
// Small helpers.

// Replaces line breaks so that an error message stays on one line.
std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return text;
}

// Reads the whole file at `path`. Returns an error naming `what` and the path
// if the file cannot be opened or read.
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

// Formats Unix microseconds as ISO-8601 UTC with second precision,
// e.g. "2024-05-01T12:34:56Z".
std::string FormatMicros(uint64_t micros) {
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[32];
  std::strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

// ISO-8601 string, or JSON null when `micros` is 0 ("never").
json MicrosToJson(uint64_t micros) {
  if (micros == 0) return nullptr;
  return FormatMicros(micros);
}

// ISO-8601 string, or "never" when `micros` is 0.
std::string MicrosToText(uint64_t micros) { return micros == 0 ? "never" : FormatMicros(micros); }

// A JSON array of the strings in a repeated proto field.
template <typename Repeated>
json StringArray(const Repeated& values) {
  json out = json::array();
  for (const std::string& v : values) out.push_back(v);
  return out;
}

// "a, b, c", or "-" when empty.
template <typename Repeated>
std::string JoinOrDash(const Repeated& values) {
  if (values.empty()) return "-";
  std::string out;
  for (const std::string& v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }
std::string YesNo(bool b) { return b ? "yes" : "no"; }

// ---------------------------------------------------------------------------
// Output.

void PrintJson(const json& doc) { std::cout << doc.dump(2) << "\n"; }

// A left-aligned text table. The last column is not padded, so long free
// text (titles, details) goes there.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : widths_(header.size(), 0) {
    AddRow(std::move(header));
  }

  // REQUIRES: row.size() equals the header's size.
  void AddRow(std::vector<std::string> row) {
    for (size_t i = 0; i < row.size(); ++i) widths_[i] = std::max(widths_[i], row[i].size());
    rows_.push_back(std::move(row));
  }

  void Print(std::ostream& out) const {
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) {
        const bool last = i + 1 == row.size();
        out << row[i];
        if (!last) out << std::string(widths_[i] - row[i].size() + 2, ' ');
      }
      out << "\n";
    }
  }

 private:
  std::vector<size_t> widths_;
  std::vector<std::vector<std::string>> rows_;
};

// Prints aligned "key: value" lines.
void PrintKeyValues(const std::vector<std::pair<std::string, std::string>>& lines) {
  size_t width = 0;
  for (const auto& [key, value] : lines) width = std::max(width, key.size());
  for (const auto& [key, value] : lines) {
    std::cout << key << ":" << std::string(width - key.size() + 1, ' ') << value << "\n";
  }
}

// Prints {"id": id} or "<verb> <id>".
void PrintId(const std::string& id, const std::string& verb, bool as_json) {
  if (as_json) {
    PrintJson(json{{"id", id}});
  } else {
    std::cout << verb << " " << id << "\n";
  }
}

// ---------------------------------------------------------------------------
// Connection.

// Options shared by every command; accepted before or after the subcommand.
struct GlobalOptions {
  std::string socket;  // Admin socket path; excludes `config`.
  std::string config;  // node.toml to read [admin] socket from.
  bool json = false;   // Print one JSON document instead of tables.
  // TCP admin listener (host:port) with an admin client certificate.
  std::string address;
  std::string ca, cert, key;
};

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
// REQUIRES: one of them is set (checked at parse time).
absl::StatusOr<std::string> ResolveSocketPath(const GlobalOptions& options) {
  if (!options.socket.empty()) return options.socket;
  return SocketFromConfig(options.config);
}

// Converts an RPC failure into a one-line status. UNAVAILABLE means the node
// could not be reached, so the message names the socket.
absl::Status FromGrpc(const grpc::Status& status, const std::string& socket_path) {
  const std::string message = OneLine(status.error_message());
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return absl::Status(code, "cannot reach node at " + socket_path + ": " + message);
  }
  return absl::Status(code, message.empty() ? "RPC failed" : message);
}

// A thin client of the node's Admin service. Not thread-safe.
class AdminClient {
 public:
  // Over the node's local Unix socket.
  explicit AdminClient(std::string socket_path)
      : socket_path_(std::move(socket_path)),
        stub_(v1::Admin::NewStub(grpc::CreateChannel(
            "unix:" + socket_path_, grpc::experimental::LocalCredentials(UDS)))) {}
  // Over the node's TCP admin listener, with mutual TLS.
  AdminClient(std::string address, std::shared_ptr<grpc::ChannelCredentials> creds)
      : socket_path_(std::move(address)),
        stub_(v1::Admin::NewStub(grpc::CreateChannel(socket_path_, std::move(creds)))) {}

  // Calls one unary Admin method with a deadline of kRpcTimeout.
  // Returns the reply, or the RPC failure converted by FromGrpc.
  template <typename Request, typename Reply>
  absl::StatusOr<Reply> Call(grpc::Status (v1::Admin::Stub::*method)(grpc::ClientContext*,
                                                                      const Request&, Reply*),
                             const Request& request) {
    grpc::ClientContext context;
    // gRPC takes an absolute deadline on the system clock.
    context.set_deadline(std::chrono::system_clock::now() + kRpcTimeout);
    Reply reply;
    const grpc::Status status = (stub_.get()->*method)(&context, request, &reply);
    if (!status.ok()) return FromGrpc(status, socket_path_);
    return reply;
  }

 private:
  const std::string socket_path_;
  const std::unique_ptr<v1::Admin::Stub> stub_;
};

// What the chosen subcommand does once flags are parsed.
using Action = std::function<absl::Status(AdminClient& admin, bool as_json)>;

// ---------------------------------------------------------------------------
// status

json StatusToJson(const v1::StatusReply& r) {
  return json{
      {"node_id", r.node_id()},
      {"parent", {{"address", r.parent_address()}, {"connected", r.parent_connected()}}},
      {"head_seq", r.head_seq()},
      {"children_seen", StringArray(r.children_seen())},
      {"record_count", r.record_count()},
      {"quarantined", r.quarantined_count()},
      {"refused_handshakes", r.refused_handshakes()},
      {"last_refusal", r.last_refusal().empty() ? json(nullptr) : json(r.last_refusal())},
      {"revoked_certificates", r.revoked_certificates()},
      {"warnings", StringArray(r.warnings())},
  };
}

void PrintStatus(const v1::StatusReply& r) {
  const std::string parent =
      r.parent_address().empty()
          ? "(none, this is the root)"
          : r.parent_address() + (r.parent_connected() ? " (connected)" : " (disconnected)");
  PrintKeyValues({
      {"node", r.node_id()},
      {"parent", parent},
      {"head seq", std::to_string(r.head_seq())},
      {"children seen", JoinOrDash(r.children_seen())},
      {"records", std::to_string(r.record_count())},
      {"quarantined", std::to_string(r.quarantined_count())},
      {"refused peers", std::to_string(r.refused_handshakes()) +
                            (r.last_refusal().empty() ? "" : " (last: " + r.last_refusal() + ")")},
      {"revoked certs", std::to_string(r.revoked_certificates())},
  });
  for (const auto& w : r.warnings()) std::cout << "WARNING: " << w << "\n";
}

absl::Status RunStatus(AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::StatusReply reply,
                        admin.Call(&v1::Admin::Stub::GetStatus, v1::StatusRequest()));
  if (as_json) {
    PrintJson(StatusToJson(reply));
  } else {
    PrintStatus(reply);
  }
  return absl::OkStatus();
}

void AddStatusCommand(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("status", "Show this node's sync status");
  cmd->callback([&action] { action = RunStatus; });
}

// ---------------------------------------------------------------------------
// peers

json PeersToJson(const v1::PeersReply& r) {
  json out = json::array();
  for (const v1::PeerInfo& p : r.peers()) {
    out.push_back({
        {"peer", p.peer()},
        {"relation", p.relation()},
        {"connected", p.connected()},
        {"last_contact", MicrosToJson(p.last_contact_micros())},
        {"records_sent", p.records_sent()},
        {"records_received", p.records_received()},
        {"acked_seq", p.acked_seq()},
        {"behind", p.behind()},
        {"rejected", p.rejected()},
    });
  }
  return out;
}

void PrintPeers(const v1::PeersReply& r) {
  Table table({"PEER", "RELATION", "CONNECTED", "LAST-CONTACT", "SENT", "RECEIVED", "BEHIND",
               "REJECTED"});
  for (const v1::PeerInfo& p : r.peers()) {
    table.AddRow({p.peer(), p.relation(), YesNo(p.connected()),
                  MicrosToText(p.last_contact_micros()), std::to_string(p.records_sent()),
                  std::to_string(p.records_received()), std::to_string(p.behind()),
                  std::to_string(p.rejected())});
  }
  table.Print(std::cout);
}

absl::Status RunPeers(AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::PeersReply reply,
                        admin.Call(&v1::Admin::Stub::ListPeers, v1::PeersRequest()));
  if (as_json) {
    PrintJson(PeersToJson(reply));
  } else {
    PrintPeers(reply);
  }
  return absl::OkStatus();
}

void AddPeersCommand(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("peers", "List the parent and children and their sync state");
  cmd->callback([&action] { action = RunPeers; });
}

// ---------------------------------------------------------------------------
// Message bodies (--body TEXT | --body-file F), shared by directives and reports.

struct BodyOptions {
  std::string text;
  std::string file;
};

// Adds mutually exclusive --body and --body-file; CheckBodyGiven() makes one
// of them required.
void AddBodyOptions(CLI::App& cmd, BodyOptions& body) {
  CLI::Option* text = cmd.add_option("--body", body.text, "Body text");
  CLI::Option* file = cmd.add_option("--body-file", body.file, "Read the body from this file");
  text->excludes(file);
}

// Throws a CLI11 usage error unless --body or --body-file was given.
void CheckBodyGiven(const CLI::App& cmd) {
  if (cmd.count("--body") == 0 && cmd.count("--body-file") == 0) {
    throw CLI::RequiredError("--body or --body-file");
  }
}

// The body text, reading --body-file fully if that was given.
absl::StatusOr<std::string> LoadBody(const BodyOptions& body) {
  if (body.file.empty()) return body.text;
  return ReadFile(body.file, "body file");
}

// ---------------------------------------------------------------------------
// directive issue | list | ack

struct IssueOptions {
  std::string number;
  std::string title;
  BodyOptions body;
  std::vector<std::string> to_units;
};

absl::Status RunDirectiveIssue(const IssueOptions& options, AdminClient& admin, bool as_json) {
  v1::IssueDirectiveRequest request;
  request.set_number(options.number);
  request.set_title(options.title);
  SYNC_ASSIGN_OR_RETURN(*request.mutable_body(), LoadBody(options.body));
  for (const std::string& unit : options.to_units) request.add_to_units(unit);
  SYNC_ASSIGN_OR_RETURN(const v1::IssueDirectiveReply reply,
                        admin.Call(&v1::Admin::Stub::IssueDirective, request));
  PrintId(reply.id(), "issued", as_json);
  return absl::OkStatus();
}

void AddDirectiveIssueCommand(CLI::App& parent, Action& action) {
  CLI::App* cmd = parent.add_subcommand("issue", "Issue a directive to subordinate units");
  auto options = std::make_shared<IssueOptions>();
  cmd->add_option("--number", options->number, "Directive number")->required();
  cmd->add_option("--title", options->title, "Directive title")->required();
  AddBodyOptions(*cmd, options->body);
  cmd->add_option("--to", options->to_units, "Addressed unit (repeatable; default: all)")
      ->allow_extra_args(false);
  cmd->callback([cmd, options, &action] {
    CheckBodyGiven(*cmd);
    action = [options](AdminClient& admin, bool as_json) {
      return RunDirectiveIssue(*options, admin, as_json);
    };
  });
}

json DirectivesToJson(const v1::ListDirectivesReply& r) {
  json out = json::array();
  for (const v1::DirectiveInfo& d : r.directives()) {
    out.push_back({
        {"id", d.id()},
        {"number", d.number()},
        {"title", d.title()},
        {"issuer", d.issuer()},
        {"acks", StringArray(d.acks())},
        {"to", StringArray(d.to_units())},
    });
  }
  return out;
}

void PrintDirectives(const v1::ListDirectivesReply& r) {
  Table table({"ID", "NUMBER", "ISSUER", "ACKS", "TITLE"});
  for (const v1::DirectiveInfo& d : r.directives()) {
    table.AddRow({d.id(), d.number(), d.issuer(), std::to_string(d.acks_size()), d.title()});
  }
  table.Print(std::cout);
}

absl::Status RunDirectiveList(AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(
      const v1::ListDirectivesReply reply,
      admin.Call(&v1::Admin::Stub::ListDirectives, v1::ListDirectivesRequest()));
  if (as_json) {
    PrintJson(DirectivesToJson(reply));
  } else {
    PrintDirectives(reply);
  }
  return absl::OkStatus();
}

void AddDirectiveListCommand(CLI::App& parent, Action& action) {
  CLI::App* cmd = parent.add_subcommand("list", "List directives and their acknowledgements");
  cmd->callback([&action] { action = RunDirectiveList; });
}

absl::Status RunDirectiveAck(const std::string& directive_id, AdminClient& admin, bool as_json) {
  v1::AckDirectiveRequest request;
  request.set_directive_id(directive_id);
  SYNC_ASSIGN_OR_RETURN(const v1::AckDirectiveReply reply,
                        admin.Call(&v1::Admin::Stub::AckDirective, request));
  if (as_json) {
    PrintJson(json{{"id", reply.id()}});
  } else {
    std::cout << "acknowledged " << directive_id << " as " << reply.id() << "\n";
  }
  return absl::OkStatus();
}

void AddDirectiveAckCommand(CLI::App& parent, Action& action) {
  CLI::App* cmd = parent.add_subcommand("ack", "Acknowledge a directive");
  auto directive_id = std::make_shared<std::string>();
  cmd->add_option("ID", *directive_id, "Directive id")->required();
  cmd->callback([directive_id, &action] {
    action = [directive_id](AdminClient& admin, bool as_json) {
      return RunDirectiveAck(*directive_id, admin, as_json);
    };
  });
}

void AddDirectiveCommands(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("directive", "Issue, list and acknowledge directives");
  cmd->require_subcommand(1);
  AddDirectiveIssueCommand(*cmd, action);
  AddDirectiveListCommand(*cmd, action);
  AddDirectiveAckCommand(*cmd, action);
}

// ---------------------------------------------------------------------------
// report submit | list

struct SubmitOptions {
  std::string period;
  std::string title;
  BodyOptions body;
  std::string in_reply_to;
};

absl::Status RunReportSubmit(const SubmitOptions& options, AdminClient& admin, bool as_json) {
  v1::SubmitReportRequest request;
  request.set_period(options.period);
  request.set_title(options.title);
  SYNC_ASSIGN_OR_RETURN(*request.mutable_body(), LoadBody(options.body));
  request.set_in_reply_to(options.in_reply_to);
  SYNC_ASSIGN_OR_RETURN(const v1::SubmitReportReply reply,
                        admin.Call(&v1::Admin::Stub::SubmitReport, request));
  PrintId(reply.id(), "submitted", as_json);
  return absl::OkStatus();
}

void AddReportSubmitCommand(CLI::App& parent, Action& action) {
  CLI::App* cmd = parent.add_subcommand("submit", "Submit a report to the parent");
  auto options = std::make_shared<SubmitOptions>();
  cmd->add_option("--period", options->period, "Reporting period")->required();
  cmd->add_option("--title", options->title, "Report title")->required();
  AddBodyOptions(*cmd, options->body);
  cmd->add_option("--in-reply-to", options->in_reply_to, "Id of the directive this answers");
  cmd->callback([cmd, options, &action] {
    CheckBodyGiven(*cmd);
    action = [options](AdminClient& admin, bool as_json) {
      return RunReportSubmit(*options, admin, as_json);
    };
  });
}

json ReportsToJson(const v1::ListReportsReply& r) {
  json out = json::array();
  for (const v1::ReportInfo& report : r.reports()) {
    out.push_back({
        {"id", report.id()},
        {"from", report.from()},
        {"period", report.period()},
        {"title", report.title()},
        {"in_reply_to", report.in_reply_to().empty() ? json(nullptr) : json(report.in_reply_to())},
    });
  }
  return out;
}

void PrintReports(const v1::ListReportsReply& r) {
  Table table({"ID", "FROM", "PERIOD", "IN-REPLY-TO", "TITLE"});
  for (const v1::ReportInfo& report : r.reports()) {
    table.AddRow({report.id(), report.from(), report.period(), OrDash(report.in_reply_to()),
                  report.title()});
  }
  table.Print(std::cout);
}

absl::Status RunReportList(AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::ListReportsReply reply,
                        admin.Call(&v1::Admin::Stub::ListReports, v1::ListReportsRequest()));
  if (as_json) {
    PrintJson(ReportsToJson(reply));
  } else {
    PrintReports(reply);
  }
  return absl::OkStatus();
}

void AddReportListCommand(CLI::App& parent, Action& action) {
  CLI::App* cmd = parent.add_subcommand("list", "List reports");
  cmd->callback([&action] { action = RunReportList; });
}

void AddReportCommands(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("report", "Submit and list reports");
  cmd->require_subcommand(1);
  AddReportSubmitCommand(*cmd, action);
  AddReportListCommand(*cmd, action);
}

// ---------------------------------------------------------------------------
// quarantine list

json QuarantineToJson(const v1::ListQuarantineReply& r) {
  json out = json::array();
  for (const v1::QuarantineInfo& q : r.entries()) {
    out.push_back({
        {"record_id", q.record_id()},
        {"from_peer", q.from_peer()},
        {"reason_code", q.reason_code()},
        {"detail", q.detail()},
        {"received", MicrosToJson(q.received_micros())},
    });
  }
  return out;
}

void PrintQuarantine(const v1::ListQuarantineReply& r) {
  Table table({"RECORD", "FROM", "REASON", "RECEIVED", "DETAIL"});
  for (const v1::QuarantineInfo& q : r.entries()) {
    table.AddRow({q.record_id(), q.from_peer(), q.reason_code(),
                  MicrosToText(q.received_micros()), OneLine(q.detail())});
  }
  table.Print(std::cout);
}

absl::Status RunQuarantineList(AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(
      const v1::ListQuarantineReply reply,
      admin.Call(&v1::Admin::Stub::ListQuarantine, v1::ListQuarantineRequest()));
  if (as_json) {
    PrintJson(QuarantineToJson(reply));
  } else {
    PrintQuarantine(reply);
  }
  return absl::OkStatus();
}

void AddQuarantineCommands(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("quarantine", "Inspect records rejected by this node");
  cmd->require_subcommand(1);
  CLI::App* list = cmd->add_subcommand("list", "List quarantined records");
  list->callback([&action] { action = RunQuarantineList; });
}

// ---------------------------------------------------------------------------
// conflicts, why

json VersionToJson(const v1::VersionInfo& v) {
  return json{{"version", v.version()},       {"writer", v.writer()},
              {"unit_depth", v.unit_depth()}, {"role_rank", v.role_rank()},
              {"capacity", v.capacity()},     {"acting_for_head", v.acting_for_head()},
              {"legal_date", v.legal_date()}, {"outcome", v.outcome()},
              {"explanation", v.explanation()}};
}

absl::Status RunConflicts(AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const v1::ListConflictsReply reply,
                        admin.Call(&v1::Admin::Stub::ListConflicts, v1::ListConflictsRequest()));
  if (as_json) {
    json out = json::array();
    for (const auto& c : reply.conflicts()) {
      out.push_back(json{{"record_id", c.record_id()},
                         {"winner", VersionToJson(c.winner())},
                         {"loser", VersionToJson(c.loser())},
                         {"rule", c.loser().outcome()}});
    }
    PrintJson(out);
    return absl::OkStatus();
  }
  if (reply.conflicts().empty()) {
    std::cout << "no conflicts\n";
    return absl::OkStatus();
  }
  for (const auto& c : reply.conflicts()) {
    std::cout << c.record_id() << "  " << c.loser().outcome() << "  winner " << c.winner().version()
              << "  loser " << c.loser().version() << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunWhy(const std::string& record_id, AdminClient& admin, bool as_json) {
  v1::WhyRequest request;
  request.set_record_id(record_id);
  SYNC_ASSIGN_OR_RETURN(const v1::WhyReply reply, admin.Call(&v1::Admin::Stub::Why, request));
  if (as_json) {
    json versions = json::array();
    for (const auto& v : reply.versions()) versions.push_back(VersionToJson(v));
    PrintJson(json{{"record_id", reply.record_id()}, {"kind", reply.kind()}, {"versions", versions}});
    return absl::OkStatus();
  }
  std::cout << reply.record_id() << " (" << reply.kind() << "): " << reply.versions_size()
            << " version(s)\n";
  for (const auto& v : reply.versions()) {
    std::cout << "  " << (v.outcome() == "winner" ? "WINNER " : "lost   ") << v.version() << "\n"
              << "         unit depth " << v.unit_depth() << ", " << v.capacity() << " (rank "
              << v.role_rank() << ")" << (v.acting_for_head() ? ", acting for the Head" : "")
              << ", legal date " << v.legal_date() << "\n"
              << "         " << v.explanation() << "\n";
  }
  return absl::OkStatus();
}

void AddConflictCommands(CLI::App& app, Action& action) {
  CLI::App* conflicts = app.add_subcommand("conflicts", "List losing concurrent versions and the deciding rule");
  conflicts->callback([&action] { action = RunConflicts; });
  CLI::App* why = app.add_subcommand("why", "Explain every version of a record and which one won");
  auto id = std::make_shared<std::string>();
  why->add_option("RECORD_ID", *id, "record id")->required();
  why->callback([&action, id] {
    action = [id](AdminClient& admin, bool as_json) { return RunWhy(*id, admin, as_json); };
  });
}

// ---------------------------------------------------------------------------
// revocation publish

absl::Status RunRevocationPublish(const std::string& path, AdminClient& admin, bool as_json) {
  SYNC_ASSIGN_OR_RETURN(const std::string crl, ReadFile(path, "revocation list"));
  v1::PublishRevocationListRequest request;
  request.set_crl(crl);
  SYNC_ASSIGN_OR_RETURN(const v1::PublishRevocationListReply reply,
                        admin.Call(&v1::Admin::Stub::PublishRevocationList, request));
  if (as_json) {
    PrintJson(json{{"id", reply.id()}, {"revoked", reply.revoked()}});
  } else {
    std::cout << "published " << reply.id() << ": " << reply.revoked()
              << " revoked certificate(s) now enforced\n";
  }
  return absl::OkStatus();
}

void AddRevocationCommands(CLI::App& app, Action& action) {
  CLI::App* cmd = app.add_subcommand("revocation", "Certificate revocation lists");
  cmd->require_subcommand(1);
  CLI::App* publish =
      cmd->add_subcommand("publish", "Publish a CA-signed CRL (deploy/pki.sh revoke) to this node's subtree");
  auto path = std::make_shared<std::string>();
  publish->add_option("CRL_FILE", *path, "CRL file, PEM or DER")->required();
  publish->callback([&action, path] {
    action = [path](AdminClient& admin, bool as_json) {
      return RunRevocationPublish(*path, admin, as_json);
    };
  });
}

// ---------------------------------------------------------------------------
// Top level.

// Adds --socket, --config and --json. fallthrough() lets subcommands hand
// them up, so they work before or after the subcommand.
// REQUIRES: called before any subcommand is added (fallthrough is inherited
// at creation).
void AddGlobalOptions(CLI::App& app, GlobalOptions& options) {
  app.fallthrough();
  CLI::Option* socket =
      app.add_option("--socket", options.socket, "Admin Unix socket of the node");
  CLI::Option* config =
      app.add_option("--config", options.config, "node.toml to read [admin] socket from");
  socket->excludes(config);
  app.add_flag("--json", options.json, "Print one JSON document instead of tables");
  CLI::Option* address = app.add_option(
      "--address", options.address, "TCP admin listener HOST:PORT (needs --ca, --cert, --key)");
  address->excludes(socket)->excludes(config);
  CLI::Option* ca = app.add_option("--ca", options.ca, "federation CA (PEM), with --address");
  CLI::Option* cert = app.add_option("--cert", options.cert, "admin client certificate (PEM), with --address");
  CLI::Option* key = app.add_option("--key", options.key, "admin client key (PEM), with --address");
  for (CLI::Option* o : {ca, cert, key}) o->needs(address);
  app.callback([socket, config, address, ca, cert, key] {
    if (socket->count() == 0 && config->count() == 0 && address->count() == 0) {
      throw CLI::RequiredError("--socket, --config or --address");
    }
    if (address->count() > 0 && (ca->count() == 0 || cert->count() == 0 || key->count() == 0)) {
      throw CLI::RequiredError("--address needs --ca, --cert and --key");
    }
  });
}

// Connects to the node and runs `action`.
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

// Handles a CLI11 parse outcome: help goes to stdout with exit 0, a usage
// error is one line on stderr with exit 2.
int HandleParseError(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
  std::cerr << "steerctl: " << OneLine(e.what()) << " (see steerctl --help)\n";
  return kExitUsageError;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Admin CLI of a steersync node", "steerctl");
  GlobalOptions options;
  Action action;
  AddGlobalOptions(app, options);
  AddStatusCommand(app, action);
  AddPeersCommand(app, action);
  AddDirectiveCommands(app, action);
  AddReportCommands(app, action);
  AddQuarantineCommands(app, action);
  AddRevocationCommands(app, action);
  AddConflictCommands(app, action);
  app.require_subcommand(1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return HandleParseError(app, e);
  }

  const absl::Status status = Execute(options, action);
  if (!status.ok()) {
    std::cerr << "steerctl: " << OneLine(std::string(status.message())) << "\n";
    return kExitRuntimeError;
  }
  return 0;
}
