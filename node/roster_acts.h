#pragma once
// Keeping this node's roster (DOMAIN-MODEL.md §1.1–§1.7): units, bodies,
// memberships, acting windows, absences and signing authorisations, each a
// record transcribing an external decision (S17).
//
// Thread safety: thread-safe (acts go through LocalActs).

#include <string>

#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "node/local_acts.h"
#include "steersync/v1/admin.pb.h"

namespace steersync::node {

class RosterActs {
 public:
  // `local` must outlive this object.
  explicit RosterActs(LocalActs& local)
      : local_(local), self_(local.self()), store_(&local.store()), admission_(local.admission()) {}

  absl::StatusOr<v1::WriteReply> AddUnit(const v1::AddUnitRequest& request);
  absl::StatusOr<v1::WriteReply> AddBody(const v1::AddBodyRequest& request);
  absl::StatusOr<v1::WriteReply> AddMember(const v1::AddMemberRequest& request);
  absl::StatusOr<v1::WriteReply> EndMember(const v1::EndMemberRequest& request);
  absl::StatusOr<v1::WriteReply> SetActing(const v1::SetActingRequest& request);
  absl::StatusOr<v1::SetAbsenceReply> SetAbsence(const v1::SetAbsenceRequest& request);
  absl::StatusOr<v1::WriteReply> AddAuthorisation(const v1::AddAuthorisationRequest& request);
  absl::StatusOr<v1::ListRosterReply> ListRoster(const v1::ListRosterRequest& request) const;
  // Writes one roster record of this node (clerical: it transcribes a
  // decision); ids ending in '#' take the write's counter.
  absl::StatusOr<v1::WriteReply> Write(v1::RecordKind kind, std::string id, const google::protobuf::Message& payload);

 private:
  LocalActs& local_;
  const std::string& self_;
  const LmdbStore* const store_;
  domain::CommitteeAdmission& admission_;
};

}  // namespace steersync::node
