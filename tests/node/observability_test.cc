// Observing a node (issue 11 item 7, docs/operations.md "Observing a node"):
// grpc.health.v1 on every listener (SERVING once started, NOT_SERVING while
// recovering and from the first instant of a stop), server reflection on the
// admin listeners only, /healthz and /readyz beside /metrics, the process,
// build, store and latency metrics, JSON log lines, and the audit line of an
// admin act with who made it. The daemon's --log-format and the audit line
// of a steerctl act are in tests/e2e/operations_process_test.cc.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "node/logging.h"
#include "node/node.h"
#include "node/process_metrics.h"
#include "node/tls.h"
#include "steersync/v1/admin.grpc.pb.h"
#include "steersync/version.h"
#include "tests/testutil/fixtures.h"
#include "tests/testutil/subprocess.h"

namespace steersync::node {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using steersync::testing::CertDir;
using steersync::testing::InProcessNodeOptions;
using steersync::testing::IsOk;
using steersync::testing::NodeCert;
using steersync::testing::NodeKey;
using steersync::testing::TempDir;
using steersync::testing::WaitUntil;
using ::testing::HasSubstr;

constexpr char kRoot[] = "vn";
constexpr char kProvince[] = "vn/quang-ngai";
constexpr char kCommune[] = "vn/quang-ngai/tinh-phong";

// ---------------------------------------------------------------------------
// Clients of the three listeners.

// The Sync listener takes only its children's certificates: a commune's.
std::shared_ptr<grpc::Channel> SyncChannel(const Node& node) {
  auto creds = MakeChannelCredentials({CertDir() + "/ca.crt", NodeCert(kCommune), NodeKey(kCommune)});
  EXPECT_THAT(creds, IsOk());
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(node.sync_port()), *creds);
}

// The TCP admin listener takes admin certificates (CN=ops).
std::shared_ptr<grpc::Channel> AdminTcpChannel(const Node& node) {
  auto creds =
      MakeChannelCredentials({CertDir() + "/ca.crt", CertDir() + "/admin-ops.crt", CertDir() + "/admin-ops.key"});
  EXPECT_THAT(creds, IsOk());
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(node.admin_tcp_port()), *creds);
}

std::shared_ptr<grpc::Channel> AdminSocketChannel(const Node& node) {
  return grpc::CreateChannel("unix:" + node.options().admin_socket,
                             grpc::experimental::LocalCredentials(UDS));
}

// What the listener's grpc.health.v1 Check says of `service`, by name
// ("SERVING", "NOT_SERVING"), or the RPC's error.
std::string HealthOf(const std::shared_ptr<grpc::Channel>& channel, const std::string& service = "") {
  auto stub = Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(10)));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  const grpc::Status s = stub->Check(&ctx, request, &response);
  if (!s.ok()) return "error " + std::to_string(s.error_code()) + ": " + s.error_message();
  return HealthCheckResponse::ServingStatus_Name(response.status());
}

// The services a listener's reflection service (grpc.reflection.v1alpha)
// lists, or the RPC's error. Debian installs no header for the reflection
// messages, but libgrpc++_reflection links them into the generated pool:
// they are built by name and sent over a generic bidi call.
struct Reflected {
  grpc::Status status;
  std::vector<std::string> services;
};
Reflected ReflectedServices(const std::shared_ptr<grpc::Channel>& channel) {
  using google::protobuf::Message;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  const auto* request_type = pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionRequest");
  const auto* response_type = pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionResponse");
  if (request_type == nullptr || response_type == nullptr) {
    return {grpc::Status(grpc::StatusCode::INTERNAL, "reflection messages are not linked in"), {}};
  }
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> request(factory->GetPrototype(request_type)->New());
  request->GetReflection()->SetString(request.get(), request_type->FindFieldByName("list_services"), "");

  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(10)));
  grpc::CompletionQueue cq;
  auto wait = [&cq] {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok;
  };
  auto call = stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  call->StartCall(nullptr);
  Reflected out;
  std::string received;
  if (wait()) {
    grpc::Slice slice(request->SerializeAsString());
    grpc::ByteBuffer bytes(&slice, 1);
    call->Write(bytes, nullptr);
    if (wait()) {
      call->WritesDone(nullptr);
      wait();
      grpc::ByteBuffer reply;
      call->Read(&reply, nullptr);
      if (wait()) {
        std::vector<grpc::Slice> slices;
        EXPECT_TRUE(reply.Dump(&slices).ok());
        for (const auto& s : slices) received.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
  }
  call->Finish(&out.status, nullptr);
  wait();
  std::unique_ptr<Message> response(factory->GetPrototype(response_type)->New());
  if (!out.status.ok() || !response->ParseFromString(received)) return out;
  const auto* list_field = response_type->FindFieldByName("list_services_response");
  const Message& list = response->GetReflection()->GetMessage(*response, list_field);
  const auto* service_field = list.GetDescriptor()->FindFieldByName("service");
  for (int i = 0; i < list.GetReflection()->FieldSize(list, service_field); ++i) {
    const Message& service = list.GetReflection()->GetRepeatedMessage(list, service_field, i);
    out.services.push_back(
        service.GetReflection()->GetString(service, service.GetDescriptor()->FindFieldByName("name")));
  }
  return out;
}

// A plain HTTP/1.0 GET on loopback: the status code and the body.
struct HttpReply {
  int status = 0;
  std::string body;
};
HttpReply HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string raw;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
    EXPECT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  HttpReply reply;
  const size_t space = raw.find(' ');
  const size_t body = raw.find("\r\n\r\n");
  if (space == std::string::npos || body == std::string::npos) return reply;
  reply.status = std::stoi(raw.substr(space + 1, 3));
  reply.body = raw.substr(body + 4);
  return reply;
}

// The value of an unlabelled sample (or of `name{labels}`) in a scrape; -1 if absent.
double Sample(const std::string& page, const std::string& name) {
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

// A province that serves every listener: Sync, the admin socket, the TCP
// admin listener and HTTP, its parent (the root) at `parent_port`.
steersync::testing::InProcessNode ObservedProvince(const TempDir& dir, int parent_port) {
  auto n = InProcessNodeOptions(dir, kProvince, parent_port ? "127.0.0.1:" + std::to_string(parent_port) : "");
  n.options.admin_socket = dir.Sub("run/admin.sock");
  n.runtime.serve_admin = true;
  n.options.admin_tcp_address = "127.0.0.1:0";
  n.options.metrics_address = "127.0.0.1:0";
  return n;
}

// A sink that keeps what it is given; read under the sink's own lock.
class StringSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string Text() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    text_.append(line.data(), line.size());
  }
  void flush_() override {}

 private:
  std::string text_;
};

// Captures what the process logs (the default and the audit logger), in
// `format`, for the test's lifetime.
class CapturedLog {
 public:
  explicit CapturedLog(LogFormat format, spdlog::level::level_enum level = spdlog::level::info)
      : previous_sink_(spdlog::default_logger()->sinks().front()), sink_(std::make_shared<StringSink>()) {
    InstallLogging(sink_, format, level);
  }
  ~CapturedLog() { InstallLogging(previous_sink_, LogFormat::kText, spdlog::level::info); }
  // What was logged so far (the loggers are synchronous: a line is in
  // before the call that logs it returns).
  std::string Text() const { return sink_->Text(); }
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(Text());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

 private:
  const spdlog::sink_ptr previous_sink_;
  const std::shared_ptr<StringSink> sink_;
};

// ---------------------------------------------------------------------------
// Health and readiness

TEST(HealthTest, EveryListenerSaysNotServingWhileRecoveringThenServingThenNotServingFromTheStop) {
  TempDir dir;
  const int root_port = steersync::testing::PickFreePort();
  // An empty store with a parent: the province recovers before it acts, and
  // its parent is not up yet.
  auto p = ObservedProvince(dir, root_port);
  auto province = Node::Create(p.options, p.runtime);
  ASSERT_THAT(province, IsOk());
  ASSERT_THAT((*province)->Start(), IsOk());
  Node& node = **province;
  const std::vector<std::pair<std::string, std::shared_ptr<grpc::Channel>>> listeners = {
      {"steersync.v1.Sync", SyncChannel(node)},
      {"steersync.v1.Admin", AdminTcpChannel(node)},
      {"steersync.v1.Admin", AdminSocketChannel(node)}};
  EXPECT_FALSE(node.serving());
  for (const auto& [service, channel] : listeners) {
    EXPECT_EQ(HealthOf(channel), "NOT_SERVING") << service;
    EXPECT_EQ(HealthOf(channel, service), "NOT_SERVING") << service;
  }
  const HttpReply recovering = HttpGet(node.metrics_port(), "/readyz");
  EXPECT_EQ(recovering.status, 503);
  EXPECT_THAT(recovering.body, ::testing::StartsWith("not ready: recovering (started on an empty store)"));
  EXPECT_EQ(recovering.body.find('\n'), recovering.body.size() - 1) << "one line";
  const HttpReply alive = HttpGet(node.metrics_port(), "/healthz");
  EXPECT_EQ(alive.status, 200);
  EXPECT_EQ(alive.body, "ok\n");

  // The parent comes up: recovery completes, every listener serves.
  auto r = InProcessNodeOptions(dir, kRoot, "");
  r.options.listen_address = "127.0.0.1:" + std::to_string(root_port);
  auto root = Node::Create(r.options, r.runtime);
  ASSERT_THAT(root, IsOk());
  ASSERT_THAT((*root)->Start(), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return node.serving(); })) << node.GetStatus().recovering();
  for (const auto& [service, channel] : listeners) {
    EXPECT_EQ(HealthOf(channel), "SERVING") << service;
    EXPECT_EQ(HealthOf(channel, service), "SERVING") << service;
  }
  const HttpReply ready = HttpGet(node.metrics_port(), "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
  EXPECT_EQ(HttpGet(node.metrics_port(), "/nothing-here").status, 404);

  // A watcher of the Sync listener hears NOT_SERVING when the node stops,
  // before its streams are closed.
  auto stub = Health::NewStub(listeners[0].second);
  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(30)));
  auto watch = stub->Watch(&watch_ctx, HealthCheckRequest());
  HealthCheckResponse seen;
  ASSERT_TRUE(watch->Read(&seen));
  EXPECT_EQ(seen.status(), HealthCheckResponse::SERVING);
  auto stopped = std::async(std::launch::async, [&] { node.Stop(); });
  ASSERT_TRUE(watch->Read(&seen));
  EXPECT_EQ(seen.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(node.serving());
  EXPECT_EQ(node.GetReadiness().reason, "stopping");
  watch_ctx.TryCancel();  // lets the server's shutdown end at once
  stopped.get();
}

TEST(HealthTest, AStoreThatRefusesWritesIsNotReadyAndSaysWhy) {
  TempDir dir;
  auto p = ObservedProvince(dir, 0);
  p.options.map_size_mb = 1;
  auto node = Node::Create(p.options, p.runtime);
  ASSERT_THAT(node, IsOk());
  ASSERT_THAT((*node)->Start(), IsOk());
  EXPECT_EQ(HttpGet((*node)->metrics_port(), "/readyz").status, 200);
  v1::IssueDirectiveRequest big;
  big.set_title("Phụ lục");
  big.set_body(std::string(100'000, 'x'));
  absl::Status last;
  for (int i = 0; i < 40 && last.ok(); ++i) last = (*node)->IssueDirective(big).status();  // 4 MB into 1 MiB
  ASSERT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
  const HttpReply full = HttpGet((*node)->metrics_port(), "/readyz");
  EXPECT_EQ(full.status, 503);
  EXPECT_THAT(full.body, ::testing::StartsWith("not ready: store: "));
  EXPECT_THAT(full.body, HasSubstr("map is full"));
  // Still alive, and its gRPC listeners still serve (reads work).
  EXPECT_EQ(HttpGet((*node)->metrics_port(), "/healthz").status, 200);
  EXPECT_EQ(HealthOf(AdminSocketChannel(**node)), "SERVING");
  // The map's use shows why.
  const std::string page = HttpGet((*node)->metrics_port(), "/metrics").body;
  EXPECT_EQ(Sample(page, "steersync_store_map_bytes"), 1 << 20);
  EXPECT_GT(Sample(page, "steersync_store_used_bytes"), 0.5 * (1 << 20)) << page;
}

// ---------------------------------------------------------------------------
// Reflection

TEST(ReflectionTest, TheAdminListenersListTheAdminServiceAndTheSyncListenerHasNoReflection) {
  TempDir dir;
  auto p = ObservedProvince(dir, 0);
  auto node = Node::Create(p.options, p.runtime);
  ASSERT_THAT(node, IsOk());
  ASSERT_THAT((*node)->Start(), IsOk());
  for (const auto& channel : {AdminSocketChannel(**node), AdminTcpChannel(**node)}) {
    const Reflected r = ReflectedServices(channel);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_THAT(r.services, ::testing::Contains("steersync.v1.Admin"));
    EXPECT_THAT(r.services, ::testing::Not(::testing::Contains("steersync.v1.Sync")));
  }
  const Reflected sync = ReflectedServices(SyncChannel(**node));
  EXPECT_EQ(sync.status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << sync.status.error_message();
}

// ---------------------------------------------------------------------------
// Metrics

TEST(MetricsTest, AScrapeHasProcessBuildStoreAndLatencyMetrics) {
  TempDir dir;
  auto p = ObservedProvince(dir, 0);
  auto province = Node::Create(p.options, p.runtime);
  ASSERT_THAT(province, IsOk());
  ASSERT_THAT((*province)->Start(), IsOk());
  auto c = InProcessNodeOptions(dir, kCommune, "127.0.0.1:" + std::to_string((*province)->sync_port()));
  c.options.metrics_address = "127.0.0.1:0";
  auto commune = Node::Create(c.options, c.runtime);
  ASSERT_THAT(commune, IsOk());
  ASSERT_THAT((*commune)->Start(), IsOk());
  ASSERT_TRUE(WaitUntil([&] { return (*commune)->serving(); }));  // recovered from the province
  v1::IssueDirectiveRequest directive;
  directive.set_title("Chỉ thị");
  directive.set_body("Nội dung");
  ASSERT_THAT((*province)->IssueDirective(directive), IsOk());

  // The commune applies the province's batch: its apply histogram counts it.
  std::string commune_page;
  ASSERT_TRUE(WaitUntil([&] {
    commune_page = HttpGet((*commune)->metrics_port(), "/metrics").body;
    return Sample(commune_page, "steersync_batch_apply_seconds_count") >= 1;
  })) << commune_page;
  EXPECT_GT(Sample(commune_page, "steersync_batch_apply_seconds_sum"), 0);
  EXPECT_GE(Sample(commune_page, "steersync_store_commit_seconds_count"), 1);

  const std::string page = HttpGet((*province)->metrics_port(), "/metrics").body;
  EXPECT_GE(Sample(page, "steersync_store_commit_seconds_count"), 1) << page;
  EXPECT_GE(Sample(page, "steersync_store_commit_seconds_bucket{le=\"+Inf\"}"),
            Sample(page, "steersync_store_commit_seconds_count"));
  EXPECT_EQ(Sample(page, "steersync_build_info{protocol=\"" + std::to_string(sync::kProtocolVersion) +
                             "\",store_format=\"" + std::to_string(LmdbStore::kStoreFormat) +
                             "\",version=\"" + STEERSYNC_VERSION + "\"}"),
            1)
      << page;
  EXPECT_EQ(Sample(page, "steersync_store_map_bytes"), 64 << 20);  // the fixture's map_size_mb
  EXPECT_GT(Sample(page, "steersync_store_used_bytes"), 0);
  EXPECT_LT(Sample(page, "steersync_store_used_bytes"), 64 << 20);
  // This test process's own figures.
  EXPECT_GT(Sample(page, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(Sample(page, "process_virtual_memory_bytes"), 1 << 20);
  EXPECT_GE(Sample(page, "process_cpu_seconds_total"), 0);
  EXPECT_GT(Sample(page, "process_open_fds"), 3);
  EXPECT_GT(Sample(page, "process_max_fds"), 0);
  EXPECT_GT(Sample(page, "process_threads"), 1);
  EXPECT_GT(Sample(page, "process_start_time_seconds"), 1.5e9);  // after 2017
  // The existing figures are still there.
  EXPECT_GE(Sample(page, "steersync_log_head_seq"), 1);
}

TEST(ProcessMetricsTest, ParsesProcStatWhateverTheCommandName) {
  // proc(5): the command name is in parentheses and may hold both.
  const std::string stat =
      "4242 (steer sync) (x)) S 1 4242 4242 0 -1 4194560 900 0 0 0 150 25 0 0 20 0 7 0 "
      "123456 987654321 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto parsed = ParseProcStat(stat);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->utime_ticks, 150u);
  EXPECT_EQ(parsed->stime_ticks, 25u);
  EXPECT_EQ(parsed->num_threads, 7);
  EXPECT_EQ(parsed->starttime_ticks, 123456u);
  EXPECT_EQ(parsed->vsize_bytes, 987654321u);
  EXPECT_EQ(parsed->rss_pages, 2048);
  EXPECT_FALSE(ParseProcStat("4242 (cut short) S 1 2 3").has_value());
  EXPECT_FALSE(ParseProcStat("no parentheses at all").has_value());
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nbtime 1790000000\nprocesses 9\n"), 1790000000);
  EXPECT_FALSE(ParseBootTime("cpu  1 2 3\n").has_value());
}

// ---------------------------------------------------------------------------
// Logs

TEST(LogFormatTest, JsonLinesParseWhateverTheMessageHolds) {
  CapturedLog log(LogFormat::kJson);
  // Text a peer may control: quotes, a newline that would start a forged
  // line, control characters, an escape sequence, bytes that are not UTF-8.
  const std::string hostile = "id \"x\"\n{\"level\":\"error\"} \x01\x1b[31m red \\ \xff\xfe end";
  spdlog::info("link {}: quarantined record '{}'", kCommune, hostile);
  spdlog::warn("Chỉ thị số 01/CT-BCĐ");
  spdlog::debug("not shown at info");
  const std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u) << log.Text();
  std::vector<nlohmann::json> parsed;
  for (const std::string& line : lines) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << line;
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(j["ts"].is_string() && j["level"].is_string() && j["msg"].is_string()) << line;
    EXPECT_THAT(j["ts"].get<std::string>(), ::testing::MatchesRegex(R"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z)"));
    for (char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "a raw control character in " << line;
    parsed.push_back(j);
  }
  EXPECT_EQ(parsed[0]["level"], "info");
  // The message comes back whole: only the bytes that were not UTF-8 are replaced.
  EXPECT_EQ(parsed[0]["msg"], std::string("link ") + kCommune + ": quarantined record 'id \"x\"\n{\"level\":\"error\"} "
                                  "\x01\x1b[31m red \\ \xEF\xBF\xBD\xEF\xBF\xBD end'");
  EXPECT_EQ(parsed[1]["level"], "warn");
  EXPECT_EQ(parsed[1]["msg"], "Chỉ thị số 01/CT-BCĐ");
}

TEST(LogFormatTest, AnAuditEntryCarriesItsFieldsAndIsKeptAboveInfoLevel) {
  CapturedLog log(LogFormat::kJson, spdlog::level::warn);
  spdlog::info("an info line, below the level");
  LogAudit({.who = "uid:1000(alice)", .act = "Backup", .target = "/var/backups/a b", .result = "OK"});
  const std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u) << log.Text();
  const auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "audit: who=uid:1000(alice) act=Backup target=\"/var/backups/a b\" result=OK");
  EXPECT_EQ(j["who"], "uid:1000(alice)");
  EXPECT_EQ(j["act"], "Backup");
  EXPECT_EQ(j["target"], "/var/backups/a b");
  EXPECT_EQ(j["result"], "OK");
}

TEST(LogFormatTest, AuditTextValuesAreQuotedAndMadePrintable) {
  EXPECT_EQ(AuditLine({.who = "cn:ops", .act = "AckDirective", .target = "", .result = "OK"}),
            "audit: who=cn:ops act=AckDirective target=- result=OK");
  EXPECT_EQ(AuditLine({.who = "cn:ops", .act = "RecallDirective", .target = "d/1\nforged=1",
                       .result = "NOT_FOUND: no \"d/1\""}),
            "audit: who=cn:ops act=RecallDirective target=\"d/1\\x0aforged=1\" result=\"NOT_FOUND: no \\\"d/1\\\"\"");
  EXPECT_THAT(ParseLogFormat("json"), IsOk());
  EXPECT_EQ(ParseLogFormat("xml").status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Audit

v1::IssueDirectiveRequest Directive(const std::string& title) {
  v1::IssueDirectiveRequest r;
  r.set_title(title);
  r.set_body("Nội dung");
  return r;
}

TEST(AuditTest, EachAdminActIsAuditedWithWhoMadeItAndReadsAreNot) {
  TempDir dir;
  auto p = ObservedProvince(dir, 0);
  auto node = Node::Create(p.options, p.runtime);
  ASSERT_THAT(node, IsOk());
  ASSERT_THAT((*node)->Start(), IsOk());
  CapturedLog log(LogFormat::kText);

  // Over the TCP admin listener: the admin certificate's CN.
  auto tcp = v1::Admin::NewStub(AdminTcpChannel(**node));
  v1::IssueDirectiveReply issued;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(10)));
    ASSERT_TRUE(tcp->IssueDirective(&ctx, Directive("Chỉ thị"), &issued).ok());
  }
  EXPECT_THAT(log.Text(), HasSubstr("audit: who=cn:ops act=IssueDirective target=" + issued.id() + " result=OK\n"));

  // Over the Unix socket: the uid of the calling process (this one).
  auto local = v1::Admin::NewStub(AdminSocketChannel(**node));
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(10)));
    v1::AckDirectiveRequest ack;
    ack.set_directive_id("vn/quang-ngai/d/nope");
    v1::AckDirectiveReply reply;
    EXPECT_EQ(local->AckDirective(&ctx, ack, &reply).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  const std::string uid = "uid:" + std::to_string(::getuid());
  EXPECT_THAT(log.Text(), HasSubstr("audit: who=" + uid));
  EXPECT_THAT(log.Text(), HasSubstr(" act=AckDirective target=vn/quang-ngai/d/nope result=\"NOT_FOUND: "));

  // A read is not audited.
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(steersync::testing::GrpcDeadline(std::chrono::seconds(10)));
    v1::StatusReply status;
    ASSERT_TRUE(local->GetStatus(&ctx, v1::StatusRequest(), &status).ok());
  }
  size_t audits = 0;
  for (const std::string& line : log.Lines()) audits += line.find("audit: ") != std::string::npos;
  EXPECT_EQ(audits, 2u) << log.Text();
}

}  // namespace
}  // namespace steersync::node
