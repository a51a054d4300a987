#pragma once
// Reports (DOMAIN-MODEL.md §1.10): submitting one to the parent, its status
// (WITHDRAWN by the unit; ACCEPTED, RETURNED, SUPERSEDED by the parent), and
// registering a child's report RECEIVED on verified arrival (D30 Art. 21.2c).
//
// Thread safety: thread-safe (acts go through LocalActs).

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/local_acts.h"
#include "steersync/v1/admin.pb.h"

namespace steersync::node {

class ReportActs {
 public:
  // `local` must outlive this object.
  explicit ReportActs(LocalActs& local);

  // By value: attached files are moved, not copied.
  absl::StatusOr<std::string> Submit(v1::SubmitReportRequest request);
  // Sets a report's status: WITHDRAWN/SUBMITTED by the reporting unit,
  // ACCEPTED/RETURNED by the receiving one (§1.10).
  absl::StatusOr<v1::WriteReply> SetStatus(const v1::SetReportStatusRequest& request);
  // Registers the reports just admitted from children RECEIVED. Does not
  // wait: `done` runs on the writer thread for each id with the write's
  // status (AlreadyExists: nothing to register).
  void Receive(std::vector<std::string> report_ids, std::function<void(const std::string& id, absl::Status)> done);

 private:
  LocalActs& local_;
  const std::string& self_;
  const LmdbStore* const store_;
};

}  // namespace steersync::node
