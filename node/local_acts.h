#pragma once
// The one way this node makes an act of its own (DOMAIN-MODEL.md §5): the
// writer thread resolves the declared capacity against the roster on today's
// legal date, builds the body, and hands it to the replica core, which signs,
// admits and merges it in the job's own nested transaction. The use cases
// (directive_acts, report_acts, roster_acts) build their acts through it.
//
// Thread safety: thread-safe; Submit's `make` and `done` run on the writer.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "node/certificate_book.h"
#include "node/domain/admission.h"
#include "node/domain/roster.h"
#include "node/recovery.h"
#include "node/store/group_commit_writer.h"
#include "node/store/lmdb_store.h"
#include "steersync/v1/admin.pb.h"
#include "sync/clock.h"
#include "sync/replica.h"

namespace steersync::node {

// What a local write does and in which capacity: the writer computes its
// authority from the roster on today's legal date.
struct LocalAct {
  domain::Act act;
  v1::ActAs as;
  // The version the edit is based on, when it is not the current one at
  // write time (`--if-version`): the edit is then concurrent with whatever
  // was written since, and R1..R5 decide. Unset: the current version.
  std::optional<v1::Version> base;
};

struct Written {
  std::string id;
  std::string version;
};

// Fills kind, audience and payload given the new local counter and returns
// the id; it may read the store through the view. Runs on the writer thread.
using BodyMaker =
    std::function<absl::StatusOr<std::string>(uint64_t counter, LmdbStore::View& view, v1::RecordBody& body)>;

class LocalActs {
 public:
  // Everything borrowed must outlive this object.
  struct Deps {
    std::string self_id;
    const sync::Clock* clock = nullptr;
    GroupCommitWriter* writer = nullptr;
    sync::Replica* replica = nullptr;
    domain::CommitteeAdmission* admission = nullptr;
    const sync::VersionSigner* signer = nullptr;
    // Where the signer's certificate is found, to keep it in the store with
    // the first act it signs (node/certificate_book.h).
    const CertificateBook* certificates = nullptr;
    const LmdbStore* store = nullptr;
    // Closed while the node recovers its own versions (null: never).
    const RecoveryGate* recovery = nullptr;
    // The largest file an act may attach ([node] max_attachment_mb).
    uint64_t max_attachment_bytes = uint64_t{20} << 20;
  };
  explicit LocalActs(Deps deps);

  // Makes the act and waits for its commit; a refused act writes nothing and
  // returns FailedPrecondition "refused: CODE: detail". While the node
  // recovers, waits up to 10 s for it, then fails Unavailable.
  absl::StatusOr<Written> Write(const LocalAct& act, BodyMaker make);
  // The same, without waiting: `done` runs on the writer thread.
  void Submit(LocalAct act, BodyMaker make, std::function<void(absl::StatusOr<Written>)> done);
  // Makes several acts, in order, in one transaction: all of them commit or
  // none does (a report and its SUBMITTED status: a kill between two commits
  // would leave a report its parent never registers received). Each maker
  // sees what the earlier ones wrote. Returns what each wrote, in order;
  // waits like Write(). REQUIRES: `acts` is not empty.
  absl::StatusOr<std::vector<Written>> WriteTogether(std::vector<std::pair<LocalAct, BodyMaker>> acts);
  // The same, without waiting (refused at once while the node recovers):
  // hands `acts` to the writer as one job; `done` runs on the writer thread.
  void SubmitAll(std::vector<std::pair<LocalAct, BodyMaker>> acts,
                 std::function<void(absl::StatusOr<std::vector<Written>>)> done);
  // From now on every act is refused Unavailable (the node is stopping).
  void Close() { closed_ = true; }

  // The version `if_version` of record `id` (current, losing, or still in
  // the recent change log); nullopt when `if_version` is empty.
  absl::StatusOr<std::optional<v1::Version>> FindBase(const std::string& id,
                                                      const std::string& if_version) const;
  // Today's legal date on this node's clock.
  std::string Today() const;

  const std::string& self() const { return self_; }
  uint64_t max_attachment_bytes() const { return max_attachment_bytes_; }
  const LmdbStore& store() const { return *store_; }
  domain::CommitteeAdmission& admission() const { return admission_; }

 private:
  // One act inside the writer's transaction (Submit's job).
  absl::StatusOr<Written> Make(LmdbStore::View& view, const LocalAct& act, const BodyMaker& make);

  const std::string self_;
  const sync::Clock* const clock_;
  GroupCommitWriter* const writer_;
  sync::Replica* const replica_;
  domain::CommitteeAdmission& admission_;
  const sync::VersionSigner* const signer_;
  const CertificateBook* const certificates_;
  const LmdbStore* const store_;
  const RecoveryGate* const recovery_;
  const uint64_t max_attachment_bytes_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> unrostered_warned_{false};
};

}  // namespace steersync::node
