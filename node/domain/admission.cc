#include "node/domain/admission.h"

#include "node/domain/act_checks.h"
#include "node/domain/document_index.h"
#include "node/domain/documents.h"
#include "node/domain/record_checks.h"
#include "sync/status_macros.h"

namespace steersync::domain {

sync::Admission CommitteeAdmission::CheckAlone(std::string_view from_peer,
                                               const v1::RecordBody& body) const {
  return CheckRecordAlone(self_, from_peer, body);
}

absl::StatusOr<sync::Admission> CommitteeAdmission::CheckInContext(sync::WriteView& view,
                                                                   const v1::RecordBody& body,
                                                                   std::string_view body_bytes) {
  absl::MutexLock lock(&mu_);
  return AdmitAct(roster_, view, body, body_bytes);
}

absl::Status CommitteeAdmission::OnAdmitted(sync::WriteView& view, const v1::RecordBody& body) {
  SYNC_RETURN_IF_ERROR(IndexDocument(view, body));
  SYNC_RETURN_IF_ERROR(NoteDocumentNumber(view, self_, body));
  if (!Roster::IsRosterKind(body.kind())) return absl::OkStatus();
  // The roster takes the record's merge winner, which may not be `body`.
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> current, view.Get(body.id()));
  v1::RecordBody winner;
  if (!current.has_value() || !winner.ParseFromString(current->body())) {
    return absl::DataLossError("roster record " + body.id() + " unreadable after its merge");
  }
  absl::MutexLock lock(&mu_);
  const v1::RecordBody* before = roster_.Find(body.id());
  undo_.emplace_back(body.id(), before ? std::optional<v1::RecordBody>(*before) : std::nullopt);
  roster_.Put(winner);
  return absl::OkStatus();
}

void CommitteeAdmission::Reset(Roster roster) {
  absl::MutexLock lock(&mu_);
  roster_ = std::move(roster);
  undo_.clear();
}

size_t CommitteeAdmission::Savepoint() const {
  absl::MutexLock lock(&mu_);
  return undo_.size();
}

void CommitteeAdmission::RollbackTo(size_t savepoint) {
  absl::MutexLock lock(&mu_);
  while (undo_.size() > savepoint) {
    auto& [id, before] = undo_.back();
    if (before.has_value()) {
      roster_.Put(*before);
    } else {
      roster_.Erase(id);
    }
    undo_.pop_back();
  }
}

void CommitteeAdmission::Commit() {
  absl::MutexLock lock(&mu_);
  undo_.clear();
}

}  // namespace steersync::domain
