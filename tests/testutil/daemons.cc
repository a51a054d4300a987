#include "tests/testutil/daemons.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

namespace steersync::testing {

Daemon::Daemon(const TempDir& dir, DaemonSpec spec) : spec_(std::move(spec)) {
  if (spec_.data_dir.empty()) spec_.data_dir = dir.Sub("data/" + spec_.name);
  config_ = dir.Sub(spec_.name + ".toml");
  log_ = dir.Sub(spec_.name + ".log");
  socket_ = dir.Sub("run/" + spec_.name + ".sock");
  std::ofstream out(config_);
  out << "[node]\nid = \"" << spec_.id << "\"\ndata_dir = \"" << spec_.data_dir << "\"\n" << spec_.node_extra;
  if (spec_.listen_port != 0) out << "[listen]\naddress = \"127.0.0.1:" << spec_.listen_port << "\"\n";
  if (spec_.parent_port != 0) out << "[parent]\naddress = \"127.0.0.1:" << spec_.parent_port << "\"\n";
  out << "[tls]\nca = \"" << CertDir() << "/ca.crt\"\ncert = \"" << NodeCert(spec_.id) << "\"\nkey = \""
      << NodeKey(spec_.id) << "\"\n";
  out << "[admin]\nsocket = \"" << socket_ << "\"\n";
}

Daemon::~Daemon() { Kill(); }

void Daemon::Start(const std::vector<std::string>& flags) {
  std::vector<std::string> argv{BinaryPath("node/steersyncd"), "--config", config_};
  argv.insert(argv.end(), flags.begin(), flags.end());
  process_ = std::make_unique<Subprocess>(argv, log_);
}

bool Daemon::WaitServing(std::chrono::milliseconds timeout) const {
  return WaitUntil([&] { return Status().has_value(); }, timeout);
}

void Daemon::Kill() {
  if (!process_) return;
  process_->Signal(SIGKILL);
  process_->Wait();
  process_.reset();
}

int Daemon::Stop() {
  if (!process_) return -1;
  process_->Signal(SIGTERM);
  const int status = process_->Wait();
  process_.reset();
  return status;
}

std::unique_ptr<v1::Admin::Stub> Daemon::Admin() const {
  return v1::Admin::NewStub(
      grpc::CreateChannel("unix:" + socket_, grpc::experimental::LocalCredentials(UDS)));
}

std::optional<v1::StatusReply> Daemon::Status() const {
  auto admin = Admin();
  grpc::ClientContext ctx;
  ctx.set_deadline(GrpcDeadline(std::chrono::seconds(5)));
  v1::StatusReply reply;
  if (!admin->GetStatus(&ctx, v1::StatusRequest(), &reply).ok()) return std::nullopt;
  return reply;
}

std::optional<v1::PeersReply> Daemon::Peers() const {
  auto admin = Admin();
  grpc::ClientContext ctx;
  ctx.set_deadline(GrpcDeadline(std::chrono::seconds(5)));
  v1::PeersReply reply;
  if (!admin->ListPeers(&ctx, v1::PeersRequest(), &reply).ok()) return std::nullopt;
  return reply;
}

std::string Daemon::ReadLog() const {
  std::ifstream in(log_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Finished Steerctl(const TempDir& dir, const Daemon& node, std::vector<std::string> args) {
  args.insert(args.begin(), {BinaryPath("cli/steerctl"), "--socket", node.socket()});
  return RunCommand(dir.path().string(), args);
}

}  // namespace steersync::testing
