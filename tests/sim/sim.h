#pragma once
// Deterministic simulation of a tree of nodes replicating over sync::Session,
// in one thread, from one seed (FoundationDB testing.rst; STYLE.md guideline
// 8): a province and its communes, or the whole country (the nation, its
// provinces and their communes, SimOptions::provinces).
//
// What is real, as shipped: sync::Session; the replica core (sync::Replica:
// checks alone, clock bound, checks in context, merge, change log, audience
// numbering, checkpoint) for every local act and every batch; the
// committee's admission and rosters (domain::CommitteeAdmission, with its
// undo log following each transaction); routing, merge, HLC. What is
// simulated: time (an event queue ordered by (time, insertion order)), the
// network (one FIFO stream per direction of each parent-child link, with
// seeded delays, LinkDelay), signatures (a keyed tag per writer instead of
// ECDSA), each node's single store writer (applies complete in FIFO order
// after a seeded delay), and faults (link resets, partitions that cut or
// clog links, node restarts, failed commits).
//
// The workload plays the node's use cases: it draws an act and a declared
// capacity, computes the authority with domain::Authorize on the node's own
// roster, as the node does, and hands the version to Replica::WriteLocal,
// which judges it with the shipped admission. Forgeries (a hostile node
// running other code) skip that admission and are written straight into the
// forger's own store: a forged authority, or a directive that replaces or
// recalls one signed by a higher rank. Every other node they reach must
// quarantine them. The random workload plays a province and its communes
// (SimOptions::provinces == 0); in a country, the nation issues directives
// and every unit registers their receipts (SimOptions::register_receipts).
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

// The root of a province's tree (provinces == 0); its communes are nodes
// 1..communes.
inline constexpr char kProvince[] = "vn/quang-ngai";
inline constexpr int kProvinceNode = 0;
// The root of the country's tree (provinces > 0): node 0 too.
inline constexpr char kNation[] = "vn";
inline constexpr int kRootNode = 0;
// The nodes' day during a run (simulated time 0 is 00:00:10 on it, local
// time; nodes' clocks are skewed by milliseconds).
inline constexpr char kSimToday[] = "2026-03-04";

// One-way delay of each message on a link: uniform in [min, max] micros, and
// 1 in `slow_one_in` messages (0: none) takes [slow_min, slow_max] instead
// (a lost segment resent). Either direction of a stream stays in order, as
// TCP keeps it: a message never arrives before one sent earlier.
struct LinkDelay {
  int64_t min_micros = 200;
  int64_t max_micros = 20'000;
  int64_t slow_one_in = 25;
  int64_t slow_min_micros = 50'000;
  int64_t slow_max_micros = 500'000;
};

struct SimOptions {
  uint64_t seed = 1;
  // The tree. provinces == 0: the province kProvince (node 0) and `communes`
  // communes "vn/quang-ngai/c00".. (nodes 1..communes). provinces > 0: the
  // nation kNation (node 0), provinces "vn/p01".. (nodes 1..provinces), and
  // `communes` communes "vn/p01/c001".. spread over them as evenly as possible,
  // province by province (the first communes % provinces provinces have one
  // more), as nodes provinces+1.. .
  int communes = 20;
  int provinces = 0;
  // Delays of links to communes, and of links between the nation and its
  // provinces. The defaults are a LAN with a slow path now and then.
  LinkDelay commune_links;
  LinkDelay province_links;

  // What the daemon's receipt registrar does (node/receipts.h): a unit that
  // admits a directive from a peer and is due its receipt
  // (domain::ReceiptDueAt) registers it RECEIVED, as its clerk, in a local
  // write after the apply; a registration a restart lost is made when the
  // node is up again.
  bool register_receipts = false;

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
  // receipt record, §1.9); kRoster: a roster record (clerical). In a
  // country (SimOptions::provinces > 0) "the province" of kDirective and
  // kReceipt is the root, the nation, and any other unit acknowledges;
  // kReport and kShared are a province's workload (provinces == 0).
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
  // kReceipt: the directive (unset: one the node holds, drawn) and the
  // state written (unset: drawn; the root writes RECALLED).
  std::optional<std::string> directive_id = std::nullopt;
  std::optional<std::string> receipt_state = std::nullopt;
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
  // The node's parent (-1 for the root) and children, in node order.
  int parent(int node) const;
  const std::vector<int>& children(int node) const;
  // Communes are nodes first_commune()..node_count()-1.
  int first_commune() const { return first_commune_; }
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
  // The link between `child_node` and its parent closes (and reconnects).
  void ResetLink(int64_t at, int child_node);
  // The links between `child_nodes` and their parents. Cut: the links drop
  // and stay down for `duration`. Clog: they stay up but deliver nothing sent
  // during `duration` before it ends.
  void Partition(int64_t at, std::vector<int> child_nodes, int64_t duration, bool clog);
  // The node loses its sessions and queued applies, keeps its store, and is
  // down (no links, no writes) for `downtime`.
  void Restart(int64_t at, int node, int64_t downtime);
  // Random rosters (AddRandomRosters()), random writes and, if
  // options.faults, random faults over the window, then HealAll() at its end.
  // REQUIRES: options.provinces == 0 (the workload plays a province and its
  // communes); otherwise it records a violation and schedules nothing.
  void AddRandomWorkload();
  // Ends every fault now and stops further random faults.
  void HealAll();
  // The node's next store commit fails (and rolls back), whatever the odds.
  void FailNextCommitForTest(int node) { fail_next_commit_.insert(node); }

  // Called after each commit of a batch from a peer, at now(), with the node
  // and the versions it admitted (ids and kinds, sync::ApplyStats). Replaces
  // any observer set before; null: none.
  using AdmittedObserver =
      std::function<void(int node, const std::vector<std::pair<std::string, v1::RecordKind>>& admitted)>;
  void ObserveAdmitted(AdmittedObserver observer) { admitted_observer_ = std::move(observer); }

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

  // Topology.
  void AddNode(std::string id, int parent);
  std::string CommuneIdIn(int parent, int index) const;

  // Links.
  Link& LinkOf(int child_node);
  // The node's link to its parent (if any), then its links to its children.
  std::vector<Link*> LinksOf(int node);
  // The side `node` holds of `link`, one of its LinksOf().
  Side SideOf(const Link& link, int node) const;
  // Marks the link for CheckStepInvariants().
  sync::Session& SessionAt(Link& link, Side side);
  int NodeAt(const Link& link, Side side) const;
  const LinkDelay& DelayOf(const Link& link) const;
  void TryConnect(int child_node);
  void Connect(Link& link);
  void Drop(Link& link);
  void Fail(Link& link, const std::string& why);
  void ScheduleReconnect(Link& link);
  void Flush(Link& link, Side side);
  // The daemon's idle flush on every connected link (sync::Session::FlushIdle):
  // true when it sent a batch.
  bool FlushIdle();
  void Send(Link& link, Side from, v1::SyncMessage message);
  void Deliver(int child_node, uint64_t incarnation, Side to, v1::SyncMessage message);

  // Store writes.
  absl::Status Commit(int node, const std::function<absl::Status(sync::WriteView&)>& fn);
  void QueueApply(Link& link, Side side, sync::ApplyRequest request);
  void CompleteApply(int node, int child_node, Side side, uint64_t node_epoch,
                     uint64_t incarnation, const sync::ApplyRequest& request);
  // SimOptions::register_receipts: the receipts of the directives among
  // `admitted` that `node` is due, each a local write through its writer;
  // RegisterPendingReceipts: of every directive it holds (at start-up).
  void RegisterReceipts(int node, const std::vector<std::pair<std::string, v1::RecordKind>>& admitted);
  void RegisterPendingReceipts(int node);
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
  // Over the links whose sessions the step touched (touched_links_): a step
  // that touches no session moves only store heads, which only grow.
  void CheckStepInvariants();
  void CheckSessionsDone(std::vector<std::string>& problems) const;
  void CheckAgainstOracles(std::vector<std::string>& problems) const;
  void CheckKept(const testing::MemStore& store, const std::string& where, const std::string& id,
                 const std::vector<const WrittenVersion*>& held,
                 std::vector<std::string>& problems) const;
  void CheckQuarantine(int node, std::vector<std::string>& problems) const;
  void CheckRosterMatchesStore(int node, std::vector<std::string>& problems) const;

  const SimOptions options_;
  AdmittedObserver admitted_observer_;
  std::mt19937_64 rng_;
  sync::SessionOptions session_options_;
  int64_t now_ = 0;
  uint64_t next_order_ = 0;
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> queue_;
  bool faults_enabled_;
  std::vector<std::unique_ptr<Node>> nodes_;
  int first_commune_ = 1;
  std::vector<std::unique_ptr<Link>> links_;  // links_[i] joins node i + 1 and its parent
  std::vector<Link*> touched_links_;          // by this step, once each (Link::touched)
  std::vector<WrittenVersion> written_;
  std::set<std::string> forged_bodies_;  // exact body bytes of forged versions
  std::vector<std::string> violations_;
  std::set<int> fail_next_commit_;  // nodes
  SimStats stats_;
};

}  // namespace steersync::sim
