#pragma once
// Deterministic simulation of a province and its communes replicating over
// sync::Session, in one thread, from one seed (FoundationDB testing.rst;
// STYLE.md guideline 8).
//
// What is real, as shipped: sync::Session; the replica core (sync::Replica:
// checks alone, clock bound, checks in context, merge, change log, audience
// numbering, checkpoint) for every local act and every batch; the
// committee's admission and rosters (domain::CommitteeAdmission, with its
// undo log following each transaction); routing, merge, HLC. What is
// simulated: time (an event queue ordered by (time, insertion order)), the
// network (one FIFO stream per direction of each parent-child link, with
// seeded delays), signatures (a keyed tag per writer instead of ECDSA), each
// node's single store writer (applies complete in FIFO order after a seeded
// delay), and faults (link resets, partitions that cut or clog links, node
// restarts, failed commits).
//
// The workload plays the node's use cases: it draws an act and a declared
// capacity, computes the authority with domain::Authorize on the node's own
// roster, as the node does, and hands the version to Replica::WriteLocal,
// which judges it with the shipped admission. Forgeries (a hostile node
// running other code) skip that admission and are written straight into the
// forger's own store: a forged authority, or a directive that replaces or
// recalls one signed by a higher rank. Every other node they reach must
// quarantine them.
//
// Every random choice is drawn from one std::mt19937_64 in event order, so a
// seed replays exactly.
//
// Thread safety: not thread-safe.
// Invariants (checked after every step, see CheckStepInvariants()):
//   for every live session: acked_seq <= sent_seq <= own log head and
//   applied_seq <= the peer's log head;
//   a message or apply of an older link incarnation never reaches a session.
// And after every apply (CompleteApply()): a receiver quarantines only forged
// versions, i.e. it always holds the roster an admitted act was made under.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "steersync/v1/record.pb.h"
#include "steersync/v1/sync.pb.h"
#include "sync/apply.h"
#include "sync/clock.h"
#include "sync/hlc.h"
#include "node/domain/admission.h"
#include "node/domain/roster.h"
#include "sync/replica.h"
#include "sync/session.h"
#include "tests/testutil/mem_store.h"

namespace steersync::sim {

inline constexpr char kProvince[] = "vn/quang-ngai";
inline constexpr int kProvinceNode = 0;  // communes are nodes 1..communes

struct SimOptions {
  uint64_t seed = 1;
  int communes = 20;

  // Random workload (AddRandomWorkload): acts attempted over [0, window)
  // (about half are refused by the writer's roster and never written).
  int writes = 130;
  int64_t window_micros = 20'000'000;
  // Ids "vn/quang-ngai/shared/<k>", k < shared_records, edited concurrently by
  // the province and the communes.
  int shared_records = 3;
  // Of the random workload's new directives and reports, 1 in this is forged;
  // 0: none.
  int forge_one_in = 15;
  // Roster records (acting windows, signing authorisations) the random
  // workload writes during the window, after the rosters written at its start.
  int late_roster_writes = 6;

  // Random faults within the window; HealAll() runs at its end.
  bool faults = true;
  // A commit fails (and rolls back) with odds 1 in this; 0: never.
  int commit_fail_one_in = 40;
  // When a stream closes while applies of its batches are queued at the node's
  // writer: false drops them (the brief's model: lost with the stream); true
  // lets them commit without acknowledging, as node/'s GroupCommitWriter does.
  bool abandoned_applies_commit = false;

  // Session options are drawn per seed unless set here.
  std::optional<sync::SessionOptions> session = std::nullopt;

  // RunUntilQuiescent() fails past this many events.
  uint64_t max_steps = 2'000'000;
};

// What a run did; used to show that faults and conflicts really happened.
struct SimStats {
  uint64_t steps = 0;
  uint64_t local_writes = 0;  // every local write, roster records included
  uint64_t roster_writes = 0;  // of local_writes: roster records
  uint64_t forged_writes = 0;  // of local_writes: forged acts
  uint64_t writes_refused_node_down = 0;
  uint64_t writes_refused_authority = 0;  // domain::Authorize refused the act at its writer
  uint64_t forged_quarantined = 0;        // forged versions quarantined at receivers
  uint64_t forged_relations = 0;          // of forged_writes: relations to a higher rank's act
  std::map<std::string, uint64_t> quarantined_by_reason;  // forged_quarantined by reason code
  std::map<std::string, uint64_t> refused_by_reason;  // writes_refused_authority by reason code
  uint64_t messages_delivered = 0;
  uint64_t messages_dropped = 0;  // of a closed link incarnation
  uint64_t applies = 0;
  uint64_t applies_dropped = 0;    // lost with their stream or a restart
  uint64_t applies_abandoned = 0;  // committed after their stream closed
  uint64_t commit_failures = 0;
  uint64_t connects = 0;
  uint64_t resets = 0;
  uint64_t partitions = 0;
  uint64_t restarts = 0;
  uint64_t conflicts = 0;   // versions that joined a frontier as concurrent
  uint64_t duplicates = 0;  // versions received again (resends)
  uint64_t stale = 0;
  uint64_t protocol_errors = 0;
};

// What one local write writes. Unset fields are drawn from the PRNG.
struct WriteSpec {
  // kDirective: the province issues a document (amend: one that replaces one
  // of its own); kReport: a commune reports (amend: a replacement report);
  // kShared: either side writes the status of a commune's report, a record
  // both edit (the commune SUBMITTED/WITHDRAWN, the province ACCEPTED or
  // RETURNED, §1.10); kReceipt: a commune acknowledges a directive it holds,
  // or the province recalls one of its directives from a commune (the same
  // receipt record, §1.9); kRoster: a roster record (clerical).
  enum class Kind { kDirective, kReport, kShared, kReceipt, kRoster };
  int node = kProvinceNode;
  Kind kind = Kind::kDirective;
  int shared_key = 0;  // kShared: which shared record
  // kShared / kReceipt written by the province: the commune whose record it
  // is; unset: drawn.
  std::optional<int> commune = std::nullopt;
  // kShared: edit from a stale base, the version this node held before its
  // current one (`--if-version`), as a second operator of the node would.
  std::optional<bool> stale_base = std::nullopt;
  // DOWN writes: the listed communes (node indices); empty: whole subtree.
  std::optional<std::vector<int>> units = std::nullopt;
  // The capacity the act declares; unset: drawn from the memberships of the
  // writer's body (or none).
  std::optional<domain::Capacity> capacity = std::nullopt;
  // kDirective: the document type (domain::Act::doc_type); unset: drawn.
  std::optional<std::string> doc_type = std::nullopt;
  std::optional<std::string> legal_date = std::nullopt;
  // kDirective/kReport: amend one of the node's own earlier records (random)
  // instead of creating one.
  std::optional<bool> amend = std::nullopt;
  // kDirective/kReport: sign an authority that does not match the roster (a
  // forgery), written as a new record. Unset: false.
  std::optional<bool> forge = std::nullopt;
  // kDirective: forge a relation instead: a directive signed by a lower
  // rank that replaces or recalls one signed by a higher one (§3.4, P 2.1).
  std::optional<bool> forge_relation = std::nullopt;
  // kRoster: id, kind and payload of the record (audience, version and
  // authority are filled by the writer).
  std::optional<v1::RecordBody> roster_record = std::nullopt;
};

// One version some node wrote, with where routing delivers it.
struct WrittenVersion {
  int writer = 0;
  v1::Record record;
  v1::RecordBody body;
  std::vector<bool> reaches;  // by node index; true for the writer itself
  // Signed with an authority that does not match the writer's roster: only
  // its writer holds it; every other node it reaches quarantines it.
  bool forged = false;

  // True when `node` should hold this version (current, loser or replaced by
  // a causally newer one).
  bool ShouldHold(int node) const {
    return reaches[node] && (!forged || node == writer);
  }
};

class Sim {
 public:
  explicit Sim(SimOptions options);
  ~Sim();
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;

  // ---- Topology and state ----
  int node_count() const { return static_cast<int>(nodes_.size()); }
  const std::string& node_id(int node) const;
  testing::MemStore& store(int node);
  const testing::MemStore& store(int node) const;
  int64_t now() const { return now_; }
  const SimStats& stats() const { return stats_; }
  const SimOptions& options() const { return options_; }
  const sync::SessionOptions& session_options() const { return session_options_; }
  const std::vector<WrittenVersion>& written() const { return written_; }
  // "seed N, <options>": for failure messages.
  std::string Describe() const;

  // The node's roster: the roster records current in its store (a copy).
  domain::Roster roster(int node) const;
  // The id of shared record `key` of `commune_node`: its report status.
  std::string SharedRecordId(int commune_node, int key) const;

  // ---- Scheduling (at simulated micros `at`, >= now()) ----
  void Write(int64_t at, WriteSpec spec);
  // Roster records of `node`'s committee (body domain::DefaultBodyOf(node id)).
  // Each returns the record's id ("<node>/m/<n>", "<node>/acting/<n>",
  // "<node>/sa/<n>"), chosen now; the write happens at `at` (and may fail).
  // Dates are YYYY-MM-DD, inclusive; "" is open.
  std::string AddMembership(int64_t at, int node, v1::Role role, std::string valid_from = "",
                            std::string valid_to = "");
  std::string AddActingWindow(int64_t at, int node, std::string membership_id, std::string from,
                              std::string to);
  std::string AddSigningAuthorisation(int64_t at, int node, std::string membership_id,
                                      std::string formula, std::vector<std::string> scope,
                                      std::string from, std::string to);
  // A random roster for every node, written at time 0: 3 to 8 memberships
  // with random roles and validity windows over the legal dates, acting
  // windows for deputies, sometimes a signing authorisation.
  void AddRandomRosters();
  void ResetLink(int64_t at, int commune_node);
  // Cut: the links drop and stay down for `duration`. Clog: they stay up but
  // deliver nothing sent during `duration` before it ends.
  void Partition(int64_t at, std::vector<int> commune_nodes, int64_t duration, bool clog);
  // The node loses its sessions and queued applies, keeps its store, and is
  // down (no links, no writes) for `downtime`.
  void Restart(int64_t at, int node, int64_t downtime);
  // Random rosters (AddRandomRosters()), random writes and, if
  // options.faults, random faults over the window, then HealAll() at its end.
  void AddRandomWorkload();
  // Ends every fault now and stops further random faults.
  void HealAll();
  // The node's next store commit fails (and rolls back), whatever the odds.
  void FailNextCommitForTest(int node) { fail_next_commit_.insert(node); }

  // ---- Running ----
  // Runs the next event; false when none is left.
  bool Step();
  // Runs every event up to and including time `t`, then sets now() to `t`.
  absl::Status RunUntil(int64_t t);
  // Runs until no event is left. Fails past options.max_steps events or when
  // a step invariant broke.
  absl::Status RunUntilQuiescent();

  // ---- Checks ----
  // Empty when every node is up and connected, every session has acknowledged
  // everything, every node's state equals its oracle's (record by record, so
  // nodes that should hold the same versions of a record hold byte-identical
  // state for it) and has lost no version it should hold, every forged
  // version was quarantined exactly once by every other node it reached (and
  // nothing else was), and every node's roster is the one its store holds.
  // Otherwise one line per problem.
  std::vector<std::string> CheckConverged() const;
  // A fresh store holding exactly the versions `node` should hold
  // (WrittenVersion::ShouldHold), applied in canonical order (record id, then
  // VersionKey).
  absl::StatusOr<std::unique_ptr<testing::MemStore>> Oracle(int node) const;
  // Problems seen while stepping (broken step invariants, protocol errors).
  const std::vector<std::string>& violations() const { return violations_; }

 private:
  enum Side { kParentSide = 0, kChildSide = 1 };
  struct Node;
  struct Link;
  class NodeClock;

  // Randomness: the only source, drawn in event order.
  int64_t Uniform(int64_t lo, int64_t hi);  // inclusive
  bool OneIn(int64_t n);
  int RandomCommune();

  // Event queue.
  void Schedule(int64_t at, std::function<void()> fn);

  // Links.
  Link& LinkOf(int commune_node);
  std::vector<Link*> LinksOf(int node);
  sync::Session& SessionAt(Link& link, Side side);
  int NodeAt(const Link& link, Side side) const;
  void TryConnect(int commune_node);
  void Connect(Link& link);
  void Drop(Link& link);
  void Fail(Link& link, const std::string& why);
  void ScheduleReconnect(Link& link);
  void Flush(Link& link, Side side);
  // The daemon's idle flush on every connected link (sync::Session::FlushIdle):
  // true when it sent a batch.
  bool FlushIdle();
  void Send(Link& link, Side from, v1::SyncMessage message);
  void Deliver(int commune_node, uint64_t incarnation, Side to, v1::SyncMessage message);

  // Store writes.
  absl::Status Commit(int node, const std::function<absl::Status(sync::WriteView&)>& fn);
  void QueueApply(Link& link, Side side, sync::ApplyRequest request);
  void CompleteApply(int node, int commune_node, Side side, uint64_t node_epoch,
                     uint64_t incarnation, const sync::ApplyRequest& request);
  void OnCommit(int node);
  void DoWrite(WriteSpec spec);
  void FillBody(const WriteSpec& spec, uint64_t counter, bool amend, v1::RecordBody& body);
  void FillRosterBody(const WriteSpec& spec, v1::RecordBody& body);
  bool FillReceipt(const WriteSpec& spec, v1::RecordBody& body);
  bool FillSharedStatus(const WriteSpec& spec, v1::RecordBody& body);
  // A directive replacing or recalling one signed by a higher rank, signed
  // as a lower one; false when the province holds no such pair.
  bool ForgeRelation(int node, v1::RecordBody& body);
  void WriteForged(int node, v1::RecordBody body);
  void CheckNoEscalation(int node, std::vector<std::string>& problems) const;
  // "<node>/<prefix>/<n>" with the node's next n for `prefix`.
  std::string NextRosterId(int node, const char* prefix);
  void WriteRoster(int64_t at, int node, std::string id, v1::RecordKind kind, std::string payload);
  // Dates among the legal dates, from <= to; with `open_ends` either may be "".
  std::pair<std::string, std::string> RandomWindow(bool open_ends);
  domain::Capacity RandomCapacity(int node, std::string_view legal_date);
  void RandomLateRosterWrite();
  v1::Authority Forge(int node, const domain::Capacity& capacity,
                      const domain::AuthorityVerdict& verdict);
  // (Re)starts the node's process over its store: HLC, rosters, replica core.
  void StartProcess(int node);
  domain::Roster ReadRoster(int node) const;
  std::string RandomActDate(const WriteSpec& spec);
  std::vector<bool> Reaches(const v1::RecordBody& body, int writer) const;

  // Faults.
  void DoRestart(int node, int64_t downtime);
  void NodeUp(int node);
  void RandomFault();

  // Checks.
  void CheckStepInvariants();
  void CheckSessionsDone(std::vector<std::string>& problems) const;
  void CheckAgainstOracles(std::vector<std::string>& problems) const;
  void CheckKept(const testing::MemStore& store, const std::string& where, const std::string& id,
                 const std::vector<const WrittenVersion*>& held,
                 std::vector<std::string>& problems) const;
  void CheckQuarantine(int node, std::vector<std::string>& problems) const;
  void CheckRosterMatchesStore(int node, std::vector<std::string>& problems) const;

  const SimOptions options_;
  std::mt19937_64 rng_;
  sync::SessionOptions session_options_;
  int64_t now_ = 0;
  uint64_t next_order_ = 0;
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> queue_;
  bool faults_enabled_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Link>> links_;  // links_[i] joins the province and node i + 1
  std::vector<WrittenVersion> written_;
  std::set<std::string> forged_bodies_;  // exact body bytes of forged versions
  std::vector<std::string> violations_;
  std::set<int> fail_next_commit_;  // nodes
  SimStats stats_;
};

}  // namespace steersync::sim
