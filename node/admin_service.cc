#include "node/admin_service.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "absl/status/status.h"
#include "node/attachments.h"
#include "node/explain.h"
#include "node/logging.h"
#include "node/node.h"
#include "sync/text.h"

namespace steersync::node {
namespace {

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()), kAnsweredByNode);
}

// Copies an operation's result into the reply, or its error into the status.
template <typename T>
grpc::Status Answer(absl::StatusOr<T> result, T* reply) {
  if (!result.ok()) return ToGrpc(result.status());
  *reply = std::move(*result);
  return grpc::Status::OK;
}

// "OK", or the canonical code's name and the message ("NOT_FOUND: ...").
std::string ResultText(const grpc::Status& s) {
  if (s.ok()) return "OK";
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())) + ": " + s.error_message();
}

// The Admin RPCs. Every act that changes something (a record, a revocation
// list, a backup on disk) logs one audit line when it ends, whatever its
// result (node/logging.h); reads are logged at debug only.
class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(Node& node) : node_(node) {}

  grpc::Status GetStatus(grpc::ServerContext* ctx, const v1::StatusRequest*,
                         v1::StatusReply* reply) override {
    Read(ctx, "GetStatus");
    *reply = node_.GetStatus();
    return grpc::Status::OK;
  }
  grpc::Status ListPeers(grpc::ServerContext* ctx, const v1::PeersRequest*,
                         v1::PeersReply* reply) override {
    Read(ctx, "ListPeers");
    *reply = node_.ListPeers();
    return grpc::Status::OK;
  }
  grpc::Status IssueDirective(grpc::ServerContext* ctx, const v1::IssueDirectiveRequest* request,
                              v1::IssueDirectiveReply* reply) override {
    auto id = node_.IssueDirective(*request);
    if (!id.ok()) return Audited(ctx, "IssueDirective", "", ToGrpc(id.status()));
    reply->set_id(*id);
    return Audited(ctx, "IssueDirective", *id, grpc::Status::OK);
  }
  grpc::Status ListDirectives(grpc::ServerContext* ctx, const v1::ListDirectivesRequest* request,
                              v1::ListDirectivesReply* reply) override {
    Read(ctx, "ListDirectives");
    auto r = node_.ListDirectives(*request);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status ShowDirective(grpc::ServerContext* ctx, const v1::ShowRequest* request,
                             v1::DirectiveInfo* reply) override {
    Read(ctx, "ShowDirective");
    return Answer(node_.ShowDirective(request->id()), reply);
  }
  grpc::Status ShowReport(grpc::ServerContext* ctx, const v1::ShowRequest* request, v1::ReportInfo* reply) override {
    Read(ctx, "ShowReport");
    return Answer(node_.ShowReport(request->id()), reply);
  }
  grpc::Status AckDirective(grpc::ServerContext* ctx, const v1::AckDirectiveRequest* request,
                            v1::AckDirectiveReply* reply) override {
    auto id = node_.AckDirective(*request);
    if (id.ok()) reply->set_id(*id);
    return Audited(ctx, "AckDirective", request->directive_id(), id.ok() ? grpc::Status::OK : ToGrpc(id.status()));
  }
  grpc::Status AttachmentGet(grpc::ServerContext* ctx, const v1::AttachmentGetRequest* request,
                             grpc::ServerWriter<v1::AttachmentPiece>* writer) override {
    Read(ctx, "AttachmentGet");
    const absl::Status s = ReadAttachment(
        node_.store(), request->record_id(), request->name(),
        [writer](uint64_t size, const std::string& sha256) {
          v1::AttachmentPiece header;
          header.set_size(size);
          header.set_sha256(sha256);
          return writer->Write(header);
        },
        [writer](const std::string& data) {
          v1::AttachmentPiece piece;
          piece.set_data(data);
          return writer->Write(piece);
        });
    return ToGrpc(s);
  }
  grpc::Status SubmitReport(grpc::ServerContext* ctx, const v1::SubmitReportRequest* request,
                            v1::SubmitReportReply* reply) override {
    auto id = node_.SubmitReport(*request);
    if (!id.ok()) return Audited(ctx, "SubmitReport", "", ToGrpc(id.status()));
    reply->set_id(*id);
    return Audited(ctx, "SubmitReport", *id, grpc::Status::OK);
  }
  grpc::Status AddObligation(grpc::ServerContext* ctx, const v1::AddObligationRequest* request,
                             v1::WriteReply* reply) override {
    auto w = node_.AddObligation(*request);
    if (!w.ok()) return Audited(ctx, "AddObligation", "", ToGrpc(w.status()));
    *reply = std::move(*w);
    return Audited(ctx, "AddObligation", reply->id(), grpc::Status::OK);
  }
  grpc::Status ListObligations(grpc::ServerContext* ctx, const v1::ListObligationsRequest* request,
                               v1::ListObligationsReply* reply) override {
    Read(ctx, "ListObligations");
    auto r = node_.ListObligations(request->filter());
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status AssignTask(grpc::ServerContext* ctx, const v1::AssignTaskRequest* request,
                          v1::WriteReply* reply) override {
    auto w = node_.AssignTask(*request);
    if (!w.ok()) return Audited(ctx, "AssignTask", request->to(), ToGrpc(w.status()));
    *reply = std::move(*w);
    return Audited(ctx, "AssignTask", reply->id(), grpc::Status::OK);
  }
  grpc::Status SetTaskStatus(grpc::ServerContext* ctx, const v1::SetTaskStatusRequest* request,
                             v1::WriteReply* reply) override {
    auto w = node_.SetTaskStatus(*request);
    if (!w.ok()) return Audited(ctx, "SetTaskStatus", request->task_id(), ToGrpc(w.status()));
    *reply = std::move(*w);
    return Audited(ctx, "SetTaskStatus", request->task_id(), grpc::Status::OK);
  }
  grpc::Status ListTasks(grpc::ServerContext* ctx, const v1::ListTasksRequest* request,
                         v1::ListTasksReply* reply) override {
    Read(ctx, "ListTasks");
    auto r = node_.ListTasks(request->filter());
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status ListOverdue(grpc::ServerContext* ctx, const v1::ListOverdueRequest*,
                           v1::ListOverdueReply* reply) override {
    Read(ctx, "ListOverdue");
    auto r = node_.ListOverdue();
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status SubtreeList(grpc::ServerContext* ctx, const v1::SubtreeListRequest*,
                           v1::SubtreeListReply* reply) override {
    Read(ctx, "SubtreeList");
    auto r = node_.ListSubtree();
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status ListReports(grpc::ServerContext* ctx, const v1::ListReportsRequest* request,
                           v1::ListReportsReply* reply) override {
    Read(ctx, "ListReports");
    auto r = node_.ListReports(*request);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status ListQuarantine(grpc::ServerContext* ctx, const v1::ListQuarantineRequest* request,
                              v1::ListQuarantineReply* reply) override {
    Read(ctx, "ListQuarantine");
    auto r = node_.ListQuarantine(*request);
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status PublishRevocationList(grpc::ServerContext* ctx,
                                     const v1::PublishRevocationListRequest* request,
                                     v1::PublishRevocationListReply* reply) override {
    auto r = node_.PublishRevocationList(request->crl());
    if (!r.ok()) return Audited(ctx, "PublishRevocationList", "", ToGrpc(r.status()));
    *reply = std::move(*r);
    return Audited(ctx, "PublishRevocationList", reply->id(), grpc::Status::OK);
  }
  grpc::Status ListConflicts(grpc::ServerContext* ctx, const v1::ListConflictsRequest* request,
                             v1::ListConflictsReply* reply) override {
    Read(ctx, "ListConflicts");
    auto r = node::ListConflicts(node_.store(), request->filter());
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  grpc::Status Why(grpc::ServerContext* ctx, const v1::WhyRequest* request,
                   v1::WhyReply* reply) override {
    Read(ctx, "Why");
    auto r = ExplainRecord(node_.store(), request->record_id());
    if (!r.ok()) return ToGrpc(r.status());
    *reply = std::move(*r);
    return grpc::Status::OK;
  }
  // Roster writes: the target is the record written (WriteReply.id), or,
  // when the act failed, the id the request names.
  grpc::Status AddUnit(grpc::ServerContext* ctx, const v1::AddUnitRequest* request,
                       v1::WriteReply* reply) override {
    return AuditedWrite(ctx, "AddUnit", request->unit(), node_.AddUnit(*request), reply);
  }
  grpc::Status AddBody(grpc::ServerContext* ctx, const v1::AddBodyRequest* request,
                       v1::WriteReply* reply) override {
    return AuditedWrite(ctx, "AddBody", request->slug(), node_.AddBody(*request), reply);
  }
  grpc::Status AddMember(grpc::ServerContext* ctx, const v1::AddMemberRequest* request,
                         v1::WriteReply* reply) override {
    return AuditedWrite(ctx, "AddMember", request->person_id(), node_.AddMember(*request), reply);
  }
  grpc::Status EndMember(grpc::ServerContext* ctx, const v1::EndMemberRequest* request,
                         v1::WriteReply* reply) override {
    return AuditedWrite(ctx, "EndMember", request->membership_id(), node_.EndMember(*request), reply);
  }
  grpc::Status SetActing(grpc::ServerContext* ctx, const v1::SetActingRequest* request,
                         v1::WriteReply* reply) override {
    return AuditedWrite(ctx, "SetActing", request->acting_membership_id(), node_.SetActing(*request), reply);
  }
  grpc::Status SetAbsence(grpc::ServerContext* ctx, const v1::SetAbsenceRequest* request,
                          v1::SetAbsenceReply* reply) override {
    return AuditedWrite(ctx, "SetAbsence", request->membership_id(), node_.SetAbsence(*request), reply);
  }
  grpc::Status AddAuthorisation(grpc::ServerContext* ctx, const v1::AddAuthorisationRequest* request,
                                v1::WriteReply* reply) override {
    return AuditedWrite(ctx, "AddAuthorisation", request->delegate_membership_id(),
                        node_.AddAuthorisation(*request), reply);
  }
  grpc::Status ListRoster(grpc::ServerContext* ctx, const v1::ListRosterRequest* request,
                          v1::ListRosterReply* reply) override {
    Read(ctx, "ListRoster");
    return Answer(node_.ListRoster(*request), reply);
  }
  grpc::Status SetReportStatus(grpc::ServerContext* ctx, const v1::SetReportStatusRequest* request,
                               v1::WriteReply* reply) override {
    return Audited(ctx, "SetReportStatus", request->report_id(), Answer(node_.SetReportStatus(*request), reply));
  }
  grpc::Status RecallDirective(grpc::ServerContext* ctx, const v1::RecallDirectiveRequest* request,
                               v1::RecallDirectiveReply* reply) override {
    return Audited(ctx, "RecallDirective", request->directive_id(),
                   Answer(node_.RecallDirective(*request), reply));
  }
  // ---- Extensions and the calendar (issue 12 items 2-3) ----
  grpc::Status ExtensionAsk(grpc::ServerContext* ctx, const v1::ExtensionAskRequest* request,
                            v1::WriteReply* reply) override {
    return AuditedWrite(ctx, "ExtensionAsk", request->obligation(), node_.AskExtension(*request), reply);
  }
  grpc::Status ExtensionDecide(grpc::ServerContext* ctx, const v1::ExtensionDecideRequest* request,
                               v1::WriteReply* reply) override {
    return AuditedWrite(ctx, "ExtensionDecide", request->request_id(), node_.DecideExtension(*request), reply);
  }
  grpc::Status ExtensionList(grpc::ServerContext* ctx, const v1::ExtensionListRequest* request,
                             v1::ExtensionListReply* reply) override {
    Read(ctx, "ExtensionList");
    return Answer(node_.ListExtensions(request->filter()), reply);
  }
  grpc::Status CalendarSet(grpc::ServerContext* ctx, const v1::CalendarSetRequest* request,
                           v1::WriteReply* reply) override {
    return AuditedWrite(ctx, "CalendarSet", std::to_string(request->year()), node_.SetCalendar(*request), reply);
  }
  grpc::Status CalendarShow(grpc::ServerContext* ctx, const v1::CalendarShowRequest* request,
                            v1::CalendarShowReply* reply) override {
    Read(ctx, "CalendarShow");
    return Answer(node_.ShowCalendar(request->year()), reply);
  }
  // The copy runs on this handler's thread in a read transaction of its own:
  // the writer and the links go on meanwhile.
  grpc::Status Backup(grpc::ServerContext* ctx, const v1::BackupRequest* request,
                      v1::BackupReply* reply) override {
    const std::string& id = node_.options().id;
    const std::string dest = sync::Printable(request->path(), 1024);  // for the log
    spdlog::info("{}: backup to {} requested", id, dest);
    const auto start = std::chrono::steady_clock::now();
    auto r = node_.store().Backup(request->path());
    if (!r.ok()) {
      spdlog::warn("{}: backup to {} failed: {}", id, dest, r.status().ToString());
      return Audited(ctx, "Backup", request->path(), ToGrpc(r.status()));
    }
    spdlog::info("{}: backup written to {}: {} bytes in {} ms", id, dest, r->bytes,
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start).count());
    reply->set_path(r->path);
    reply->set_bytes(r->bytes);
    return Audited(ctx, "Backup", r->path, grpc::Status::OK);
  }

 private:
  // Logs the audit line of `act` on `target` ("" if none) and returns `result`.
  grpc::Status Audited(grpc::ServerContext* ctx, const char* act, const std::string& target,
                       grpc::Status result) const {
    LogAudit({.who = node_.AdminCaller(*ctx), .act = act, .target = target, .result = ResultText(result)});
    return result;
  }
  template <typename Reply>
  grpc::Status AuditedWrite(grpc::ServerContext* ctx, const char* act, const std::string& named,
                            absl::StatusOr<Reply> result, Reply* reply) const {
    const std::string target = result.ok() && !result->id().empty() ? result->id() : named;
    return Audited(ctx, act, target, Answer(std::move(result), reply));
  }
  // A read changes nothing: logged at debug, for tracing who looks.
  void Read(grpc::ServerContext* ctx, const char* what) const {
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("admin: who={} read={}", node_.AdminCaller(*ctx), what);
    }
  }

  Node& node_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAdminService(Node& node) {
  return std::make_unique<AdminService>(node);
}

}  // namespace steersync::node
