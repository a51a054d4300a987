#include "node/admin_service.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "node/explain.h"
#include "node/node.h"
#include "sync/text.h"

namespace steersync::node {
namespace {

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

// Copies an operation's result into the reply, or its error into the status.
template <typename T>
grpc::Status Answer(absl::StatusOr<T> result, T* reply) {
  if (!result.ok()) return ToGrpc(result.status());
  *reply = std::move(*result);
  return grpc::Status::OK;
}

class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(Node& node) : node_(node) {}

  grpc::Status GetStatus(grpc::ServerContext*, const v1::StatusRequest*,
                         v1::StatusReply* reply) override {
    *reply = node_.GetStatus();
    return grpc::Status::OK;
  }
  grpc::Status ListPeers(grpc::ServerContext*, const v1::PeersRequest*,
                         v1::PeersReply* reply) override {
    *reply = node_.ListPeers();
    return grpc::Status::OK;
  }
  grpc::Status IssueDirective(grpc::ServerContext*, const v1::IssueDirectiveRequest* request,
                              v1::IssueDirectiveReply* reply) override {
    auto id = node_.IssueDirective(*request);
    if (!id.ok()) return ToGrpc(id.status());
    reply->set_id(*id);
    return grpc::Status::OK;
  }
  grpc::Status ListDirectives(grpc::ServerContext*, const v1::ListDirectivesRequest* request,
                              v1::ListDirectivesReply* reply) override {
    auto r = node_.ListDirectives(*request);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status ShowDirective(grpc::ServerContext*, const v1::ShowRequest* request,
                             v1::DirectiveInfo* reply) override {
    return Answer(node_.ShowDirective(request->id()), reply);
  }
  grpc::Status ShowReport(grpc::ServerContext*, const v1::ShowRequest* request, v1::ReportInfo* reply) override {
    return Answer(node_.ShowReport(request->id()), reply);
  }
  grpc::Status AckDirective(grpc::ServerContext*, const v1::AckDirectiveRequest* request,
                            v1::AckDirectiveReply* reply) override {
    auto id = node_.AckDirective(*request);
    if (!id.ok()) return ToGrpc(id.status());
    reply->set_id(*id);
    return grpc::Status::OK;
  }
  grpc::Status SubmitReport(grpc::ServerContext*, const v1::SubmitReportRequest* request,
                            v1::SubmitReportReply* reply) override {
    auto id = node_.SubmitReport(*request);
    if (!id.ok()) return ToGrpc(id.status());
    reply->set_id(*id);
    return grpc::Status::OK;
  }
  grpc::Status ListReports(grpc::ServerContext*, const v1::ListReportsRequest* request,
                           v1::ListReportsReply* reply) override {
    auto r = node_.ListReports(*request);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status ListQuarantine(grpc::ServerContext*, const v1::ListQuarantineRequest* request,
                              v1::ListQuarantineReply* reply) override {
    auto r = node_.ListQuarantine(*request);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status PublishRevocationList(grpc::ServerContext*,
                                     const v1::PublishRevocationListRequest* request,
                                     v1::PublishRevocationListReply* reply) override {
    auto r = node_.PublishRevocationList(request->crl());
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status ListConflicts(grpc::ServerContext*, const v1::ListConflictsRequest*,
                             v1::ListConflictsReply* reply) override {
    auto r = node::ListConflicts(node_.store());
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status Why(grpc::ServerContext*, const v1::WhyRequest* request,
                   v1::WhyReply* reply) override {
    auto r = ExplainRecord(node_.store(), request->record_id());
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status AddUnit(grpc::ServerContext*, const v1::AddUnitRequest* request,
                       v1::WriteReply* reply) override {
    return Answer(node_.AddUnit(*request), reply);
  }
  grpc::Status AddBody(grpc::ServerContext*, const v1::AddBodyRequest* request,
                       v1::WriteReply* reply) override {
    return Answer(node_.AddBody(*request), reply);
  }
  grpc::Status AddMember(grpc::ServerContext*, const v1::AddMemberRequest* request,
                         v1::WriteReply* reply) override {
    return Answer(node_.AddMember(*request), reply);
  }
  grpc::Status EndMember(grpc::ServerContext*, const v1::EndMemberRequest* request,
                         v1::WriteReply* reply) override {
    return Answer(node_.EndMember(*request), reply);
  }
  grpc::Status SetActing(grpc::ServerContext*, const v1::SetActingRequest* request,
                         v1::WriteReply* reply) override {
    return Answer(node_.SetActing(*request), reply);
  }
  grpc::Status SetAbsence(grpc::ServerContext*, const v1::SetAbsenceRequest* request,
                          v1::SetAbsenceReply* reply) override {
    return Answer(node_.SetAbsence(*request), reply);
  }
  grpc::Status AddAuthorisation(grpc::ServerContext*, const v1::AddAuthorisationRequest* request,
                                v1::WriteReply* reply) override {
    return Answer(node_.AddAuthorisation(*request), reply);
  }
  grpc::Status ListRoster(grpc::ServerContext*, const v1::ListRosterRequest* request,
                          v1::ListRosterReply* reply) override {
    return Answer(node_.ListRoster(*request), reply);
  }
  grpc::Status SetReportStatus(grpc::ServerContext*, const v1::SetReportStatusRequest* request,
                               v1::WriteReply* reply) override {
    return Answer(node_.SetReportStatus(*request), reply);
  }
  grpc::Status RecallDirective(grpc::ServerContext*, const v1::RecallDirectiveRequest* request,
                               v1::RecallDirectiveReply* reply) override {
    return Answer(node_.RecallDirective(*request), reply);
  }
  // The copy runs on this handler's thread in a read transaction of its own:
  // the writer and the links go on meanwhile.
  grpc::Status Backup(grpc::ServerContext*, const v1::BackupRequest* request,
                      v1::BackupReply* reply) override {
    const std::string& id = node_.options().id;
    const std::string dest = sync::Printable(request->path(), 1024);  // for the log
    spdlog::info("{}: backup to {} requested", id, dest);
    const auto start = std::chrono::steady_clock::now();
    auto r = node_.store().Backup(request->path());
    if (!r.ok()) {
      spdlog::warn("{}: backup to {} failed: {}", id, dest, r.status().ToString());
      return ToGrpc(r.status());
    }
    spdlog::info("{}: backup written to {}: {} bytes in {} ms", id, dest, r->bytes,
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start).count());
    reply->set_path(r->path);
    reply->set_bytes(r->bytes);
    return grpc::Status::OK;
  }

 private:
  Node& node_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAdminService(Node& node) {
  return std::make_unique<AdminService>(node);
}

}  // namespace steersync::node
