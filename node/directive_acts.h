#pragma once
// Directives (DOMAIN-MODEL.md §1.8, §1.9, §3.4): issuing one with its number
// and relations, acknowledging or returning one received, recalling one
// issued, and registering a verified arrival as received (S23).
//
// Thread safety: thread-safe (acts go through LocalActs).

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/local_acts.h"
#include "node/net/link_registry.h"
#include "steersync/v1/admin.pb.h"

namespace steersync::node {

class DirectiveActs {
 public:
  // `local` and `registry` must outlive this object.
  DirectiveActs(LocalActs& local, const LinkRegistry& registry);

  // Takes the request by value: attached files are moved, not copied.
  absl::StatusOr<std::string> Issue(v1::IssueDirectiveRequest request);
  absl::StatusOr<std::string> Ack(const std::string& directive_id);
  absl::StatusOr<std::string> Ack(const v1::AckDirectiveRequest& request);
  // Recalls one of this node's directives from every unit it addressed
  // (D30 Art. 18.4): each unit's receipt becomes RECALLED.
  absl::StatusOr<v1::RecallDirectiveReply> Recall(const v1::RecallDirectiveRequest& request);
  // Registers the directives just admitted from above, when addressed to this
  // unit, as ACKNOWLEDGED (D30 Art. 21.2c, S23). Does not wait: `done` runs
  // on the writer thread for each id with the write's status (AlreadyExists:
  // nothing to register, a receipt held or not addressed here).
  void Receive(std::vector<std::string> directive_ids,
               std::function<void(const std::string& id, absl::Status)> done);
  // A unit registered in the roster held here (`steerctl unit add`) or one
  // that has linked to this node: what a directive may be addressed to.
  absl::StatusOr<bool> IsKnownUnit(const std::string& unit) const;

 private:
  LocalActs& local_;
  const std::string& self_;
  const LmdbStore* const store_;
  domain::CommitteeAdmission& admission_;
  const LinkRegistry& registry_;
};

}  // namespace steersync::node
