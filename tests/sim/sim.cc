#include "tests/sim/sim.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <iterator>
#include <set>
#include <sstream>

#include "node/domain/act_checks.h"
#include "node/domain/documents.h"
#include "node/domain/legal_date.h"
#include "sync/apply.h"
#include "sync/merge.h"
#include "sync/meta_keys.h"
#include "sync/node_path.h"
#include "sync/routing.h"
#include "sync/status_macros.h"
#include "sync/version_vector.h"

namespace steersync::sim {
namespace {

// Unix micros at simulated time 0: 2026-03-04 00:00:10 in Asia/Ho_Chi_Minh,
// so acts may be dated 03-03..03-05 (admission allows the signing day ±1).
constexpr int64_t kEpochMicros = 1'772'557'210'000'000;
// Roster windows are drawn over these days; acts are dated on the middle three.
constexpr const char* kLegalDates[] = {"2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05",
                                       "2026-03-06"};
constexpr int64_t kLegalDateCount = sizeof(kLegalDates) / sizeof(kLegalDates[0]);
// The legal date of roster records: the day the clerk transcribes them.
constexpr const char* kRosterDate = kSimToday;
// Directive document types: CT (chỉ thị) and KH (plan) are the Head's; TB
// (notice) and GM (invitation) also the Standing Agency's (powers.cc).
constexpr const char* kDocTypes[] = {"CT", "KH", "TB", "GM"};
constexpr int64_t kDocTypeCount = sizeof(kDocTypes) / sizeof(kDocTypes[0]);
// Roles a random roster draws from (DOMAIN-MODEL.md §1.6 by level).
constexpr v1::Role kProvinceRoles[] = {v1::HEAD,           v1::STANDING_DEPUTY_HEAD, v1::DEPUTY_HEAD,
                                       v1::STANDING_AGENCY, v1::MEMBER,              v1::SECRETARY,
                                       v1::TEAM_LEADER,     v1::TEAM_MEMBER,         v1::STAFF};
constexpr v1::Role kCommuneRoles[] = {v1::HEAD,        v1::DEPUTY_HEAD,        v1::MEMBER,
                                      v1::TEAM_LEADER, v1::WORKING_GROUP_LEAD, v1::TEAM_MEMBER,
                                      v1::STAFF};
// Bound on the violations kept, so a broken invariant does not flood the log.
constexpr size_t kMaxViolations = 20;

// What the oracle applies with: it is given only the versions a node should
// hold, so it judges nothing.
sync::Admission AdmitAll(std::string_view, const v1::RecordBody&, const v1::Record&) {
  return sync::Admission{};
}

bool IsDeputy(v1::Role role) {
  return role == v1::STANDING_DEPUTY_HEAD || role == v1::DEPUTY_HEAD;
}

// Simulated signatures: a tag binding the writer to the exact body bytes.
// Cheap and deterministic; a version whose bytes change loses its tag.
class SimSignatures : public sync::SignatureCheck, public sync::VersionSigner {
 public:
  // A linked version (sync/signed_log.h) is authenticated by its successor,
  // as in the daemon: only the tag's check is spared.
  sync::Admission Verify(const v1::Record& record, const v1::RecordBody& body, bool linked) const override {
    if (!linked && record.signature() != Tag(body.version().writer(), record.body())) {
      return {false, "BAD_SIGNATURE", "tag does not match the body and its writer"};
    }
    return {};
  }
  absl::Status Sign(v1::Record& record) const override {
    v1::RecordBody body;
    if (!body.ParseFromString(record.body())) return absl::InvalidArgumentError("body does not parse");
    record.set_signature(Tag(body.version().writer(), record.body()));
    return absl::OkStatus();
  }

 private:
  static std::string Tag(const std::string& writer, const std::string& bytes) {
    return "sim:" + writer + ":" + std::to_string(std::hash<std::string>{}(bytes));
  }
};

const SimSignatures& Signatures() {
  static const SimSignatures signatures;
  return signatures;
}

// Current and losing versions of `id` in `store`, as exact bytes (body and
// signature, length-prefixed); "" when it holds none.
std::string RecordState(const testing::MemStore& store, const std::string& id) {
  std::string state;
  auto append = [&](const v1::Record& r) {
    for (const std::string* field : {&r.body(), &r.signature()}) {
      state += std::to_string(field->size());
      state += ':';
      state += *field;
    }
  };
  if (auto current = store.Current(id)) append(*current);
  for (const v1::Record& loser : store.Losers(id)) append(loser);
  return state;
}

// The line about record `id` in MemStore::Describe() output `described`.
std::string LineOf(const std::string& described, const std::string& id) {
  std::istringstream in(described);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(id + " ", 0) == 0) return line;
  }
  return "(none)";
}

// The roster records current in `store`.
domain::Roster RosterOfStore(const testing::MemStore& store) {
  domain::Roster roster;
  for (const std::string& id : store.RecordIds()) {
    std::optional<v1::Record> current = store.Current(id);
    v1::RecordBody body;
    if (current.has_value() && body.ParseFromString(current->body()) &&
        domain::Roster::IsRosterKind(body.kind())) {
      roster.Put(body);
    }
  }
  return roster;
}

// `index` zero-padded to `width` digits.
std::string Padded(int index, size_t width) {
  std::string digits = std::to_string(index);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

// The body of directive `id` held in `store`, or nullopt.
std::optional<std::pair<v1::RecordBody, v1::Directive>> HeldDirective(const testing::MemStore& store,
                                                                       const std::string& id) {
  std::optional<v1::Record> record = store.Current(id);
  v1::RecordBody body;
  v1::Directive d;
  if (!record.has_value() || !body.ParseFromString(record->body()) || body.kind() != v1::DIRECTIVE ||
      !domain::ParseDirective(body, d)) {
    return std::nullopt;
  }
  return std::make_pair(std::move(body), std::move(d));
}

}  // namespace

// A node's physical clock: simulated time plus a fixed per-node skew.
class Sim::NodeClock : public sync::Clock {
 public:
  NodeClock(const int64_t& sim_now, int64_t skew) : sim_now_(sim_now), skew_(skew) {}
  int64_t NowMicros() const override { return kEpochMicros + sim_now_ + skew_; }

 private:
  const int64_t& sim_now_;
  const int64_t skew_;
};

struct Sim::Node {
  std::string id;
  int parent = -1;            // node index; -1 for the root
  std::vector<int> children;  // node indices, ascending
  testing::MemStore store;  // survives restarts
  std::unique_ptr<NodeClock> clock;
  // The node's process, rebuilt on restart (StartProcess): its HLC restored
  // from the store, its rosters loaded from it, and the replica core over
  // them, as the daemon builds them.
  std::unique_ptr<sync::HybridClock> hlc;
  std::unique_ptr<domain::CommitteeAdmission> admission;
  std::unique_ptr<sync::Replica> replica;
  // The admission a forger runs: none. Its versions reach honest nodes,
  // which judge them with the shipped admission.
  testing::AdmitAll forger_policy;
  std::unique_ptr<sync::Replica> forger;  // the same node running a forger's code
  std::vector<std::string> own_ids;  // directives/reports it created, for amendments
  // Per record id, the version this node held before its last write of it:
  // a stale base for an edit (WriteSpec::stale_base).
  std::map<std::string, v1::Version> previous_version;
  // Memberships of its committee scheduled so far, with their roles, for
  // drawing capacities (a write of one may have failed: declaring it is then
  // refused).
  std::vector<std::pair<std::string, v1::Role>> memberships;
  std::map<std::string, int, std::less<>> roster_serials;  // by id prefix
  // Bumped by a restart: applies queued under an older epoch are lost.
  uint64_t epoch = 0;
  bool up = true;
  int64_t down_until = 0;
  // The node has one store writer: applies complete in FIFO order, never
  // before this time.
  int64_t writer_free_at = 0;
};

// One parent-child link: one stream, two sessions, two FIFO directions.
struct Sim::Link {
  int parent = 0;  // node indices
  int child = 0;
  bool touched = false;  // listed in touched_links_ for this step's checks
  // Bumped whenever the stream closes or opens: events carry the incarnation
  // they belong to and are ignored when it is stale.
  uint64_t incarnation = 0;
  bool connected = false;
  int64_t cut_until = 0;   // no connection before this time
  int64_t clog_until = 0;  // nothing sent now is delivered before this time
  std::unique_ptr<sync::Session> sessions[2];  // by Side; set iff connected
  int64_t last_delivery[2] = {0, 0};           // by sending Side: keeps each direction FIFO
};

Sim::Sim(SimOptions options)
    : options_(std::move(options)), rng_(options_.seed), faults_enabled_(options_.faults) {
  if (options_.session.has_value()) {
    session_options_ = *options_.session;
  } else {
    session_options_.max_batch_records = static_cast<size_t>(Uniform(1, 8));
    session_options_.window = static_cast<size_t>(Uniform(1, 4));
    session_options_.max_scan_entries = static_cast<size_t>(Uniform(1, 32));
    session_options_.max_batch_bytes = OneIn(4) ? static_cast<size_t>(Uniform(200, 2000)) : 1 << 20;
  }
  // The tree, parents before children: node i > 0 is the child end of links_[i - 1].
  if (options_.provinces == 0) {
    AddNode(kProvince, -1);
    for (int c = 0; c < options_.communes; ++c) AddNode(CommuneIdIn(kRootNode, c), kRootNode);
  } else {
    AddNode(kNation, -1);
    for (int p = 1; p <= options_.provinces; ++p) AddNode(std::string(kNation) + "/p" + Padded(p, 2), kRootNode);
    first_commune_ = node_count();
    for (int p = 1; p <= options_.provinces; ++p) {
      const int share = options_.communes / options_.provinces + (p <= options_.communes % options_.provinces ? 1 : 0);
      for (int c = 0; c < share; ++c) AddNode(CommuneIdIn(p, c + 1), p);
    }
  }
  for (int n = 1; n < node_count(); ++n) {
    Schedule(Uniform(0, 10'000), [this, n] { TryConnect(n); });
  }
}

void Sim::AddNode(std::string id, int parent) {
  const int n = node_count();
  auto node = std::make_unique<Node>();
  node->id = std::move(id);
  node->parent = parent;
  node->clock = std::make_unique<NodeClock>(now_, Uniform(-50'000, 50'000));
  nodes_.push_back(std::move(node));
  StartProcess(n);
  if (parent < 0) return;
  nodes_[parent]->children.push_back(n);
  auto link = std::make_unique<Link>();
  link->parent = parent;
  link->child = n;
  links_.push_back(std::move(link));
}

// A province's communes: "vn/quang-ngai/c07" (from c00, two digits); a
// country's: "vn/p03/c042" (from c001, three digits).
std::string Sim::CommuneIdIn(int parent, int index) const {
  return nodes_.at(parent)->id + "/c" + Padded(index, options_.provinces == 0 ? 2 : 3);
}

Sim::~Sim() = default;

const std::string& Sim::node_id(int node) const { return nodes_.at(node)->id; }
int Sim::parent(int node) const { return nodes_.at(node)->parent; }
const std::vector<int>& Sim::children(int node) const { return nodes_.at(node)->children; }
testing::MemStore& Sim::store(int node) { return nodes_.at(node)->store; }
const testing::MemStore& Sim::store(int node) const { return nodes_.at(node)->store; }
domain::Roster Sim::roster(int node) const { return ReadRoster(node); }

domain::Roster Sim::ReadRoster(int node) const {
  return nodes_.at(node)->admission->ReadRoster([](const domain::Roster& r) { return r; });
}

void Sim::StartProcess(int node) {
  Node& n = *nodes_[node];
  n.hlc = std::make_unique<sync::HybridClock>(*n.clock);
  if (std::optional<std::string> last = n.store.Meta(sync::meta::kLastHlc)) {
    v1::Hlc hlc;
    if (hlc.ParseFromString(*last)) n.hlc->Restore(hlc);
  }
  n.admission = std::make_unique<domain::CommitteeAdmission>(n.id);
  n.admission->Reset(RosterOfStore(n.store));
  sync::ReplicaOptions options;
  options.self_id = n.id;
  n.replica = std::make_unique<sync::Replica>(options, *n.admission, Signatures(), *n.hlc, *n.clock);
  n.forger = std::make_unique<sync::Replica>(options, n.forger_policy, Signatures(), *n.hlc, *n.clock);
}

std::string Sim::Describe() const {
  std::ostringstream out;
  out << "seed " << options_.seed << " (provinces " << options_.provinces << ", communes "
      << options_.communes << ", batch records "
      << session_options_.max_batch_records << ", batch bytes " << session_options_.max_batch_bytes
      << ", scan " << session_options_.max_scan_entries << ", window " << session_options_.window
      << ", faults " << options_.faults << ", commit_fail_one_in "
      << options_.commit_fail_one_in << ", abandoned_applies_commit "
      << options_.abandoned_applies_commit << ", writes " << options_.writes << ", forge_one_in "
      << options_.forge_one_in << ", late_roster_writes " << options_.late_roster_writes << ")";
  return out.str();
}

// ---- Randomness -------------------------------------------------------------

int64_t Sim::Uniform(int64_t lo, int64_t hi) {
  // Modulo rather than std::uniform_int_distribution, whose output differs
  // between standard libraries: a seed must replay everywhere.
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  return lo + static_cast<int64_t>(rng_() % span);
}

bool Sim::OneIn(int64_t n) { return Uniform(1, n) == 1; }

int Sim::RandomCommune() { return static_cast<int>(Uniform(first_commune_, node_count() - 1)); }

// ---- Event queue ------------------------------------------------------------

void Sim::Schedule(int64_t at, std::function<void()> fn) {
  queue_.emplace(std::make_pair(std::max(at, now_), next_order_++), std::move(fn));
}

bool Sim::Step() {
  if (queue_.empty()) return false;
  auto event = queue_.extract(queue_.begin());
  now_ = event.key().first;
  ++stats_.steps;
  event.mapped()();
  CheckStepInvariants();
  return true;
}

absl::Status Sim::RunUntil(int64_t t) {
  while (!queue_.empty() && queue_.begin()->first.first <= t) {
    Step();
    if (stats_.steps > options_.max_steps) {
      return absl::DeadlineExceededError("more than " + std::to_string(options_.max_steps) +
                                         " steps");
    }
  }
  now_ = std::max(now_, t);
  if (!violations_.empty()) return absl::InternalError(violations_.front());
  return absl::OkStatus();
}

absl::Status Sim::RunUntilQuiescent() {
  do {
    while (Step()) {
      if (stats_.steps > options_.max_steps) {
        return absl::DeadlineExceededError("no quiescence after " +
                                           std::to_string(options_.max_steps) + " steps");
      }
    }
    // Idle: the daemon's once-a-second flush of what sessions kept back.
  } while (FlushIdle());

  if (!violations_.empty()) return absl::InternalError(violations_.front());
  return absl::OkStatus();
}

// ---- Links ------------------------------------------------------------------

Sim::Link& Sim::LinkOf(int child_node) { return *links_.at(child_node - 1); }

std::vector<Sim::Link*> Sim::LinksOf(int node) {
  std::vector<Link*> out;
  const Node& n = *nodes_[node];
  if (n.parent >= 0) out.push_back(&LinkOf(node));
  for (int child : n.children) out.push_back(&LinkOf(child));
  return out;
}

Sim::Side Sim::SideOf(const Link& link, int node) const {
  return node == link.parent ? kParentSide : kChildSide;
}

sync::Session& Sim::SessionAt(Link& link, Side side) {
  if (!link.touched) {
    link.touched = true;
    touched_links_.push_back(&link);
  }
  return *link.sessions[side];
}

int Sim::NodeAt(const Link& link, Side side) const {
  return side == kParentSide ? link.parent : link.child;
}

// A link between the nation and a province, or one to a commune.
const LinkDelay& Sim::DelayOf(const Link& link) const {
  return options_.provinces > 0 && link.parent == kRootNode ? options_.province_links : options_.commune_links;
}

void Sim::TryConnect(int child_node) {
  Link& link = LinkOf(child_node);
  if (link.connected || now_ < link.cut_until) return;  // the heal retries
  if (!nodes_[link.parent]->up || !nodes_[child_node]->up) return;  // NodeUp retries
  Connect(link);
}

void Sim::Connect(Link& link) {
  ++link.incarnation;
  link.connected = true;
  ++stats_.connects;
  for (Side side : {kParentSide, kChildSide}) {
    const Node& self = *nodes_[NodeAt(link, side)];
    const Node& peer = *nodes_[NodeAt(link, side == kParentSide ? kChildSide : kParentSide)];
    sync::SessionOptions o = session_options_;
    o.self_id = self.id;
    o.peer_id = peer.id;
    link.sessions[side] = std::make_unique<sync::Session>(o, self.store);
    absl::StatusOr<uint64_t> applied = self.store.AppliedSeq(peer.id);
    link.sessions[side]->Start(applied.value_or(0));
  }
  Flush(link, kParentSide);
  Flush(link, kChildSide);
}

void Sim::Drop(Link& link) {
  if (!link.connected) return;
  ++link.incarnation;
  link.connected = false;
  link.sessions[kParentSide].reset();
  link.sessions[kChildSide].reset();
}

void Sim::ScheduleReconnect(Link& link) {
  Schedule(now_ + Uniform(1'000, 200'000), [this, n = link.child] { TryConnect(n); });
}

void Sim::Fail(Link& link, const std::string& why) {
  ++stats_.protocol_errors;
  if (violations_.size() < kMaxViolations) {
    violations_.push_back("t=" + std::to_string(now_) + " link " + nodes_[link.child]->id + ": " +
                          why);
  }
  Drop(link);
  ScheduleReconnect(link);
}

bool Sim::FlushIdle() {
  bool sent = false;
  for (auto& link : links_) {
    if (!link->connected) continue;
    for (const Side side : {kParentSide, kChildSide}) {
      sync::Session& session = SessionAt(*link, side);
      const uint64_t batches = session.counters().batches_sent;
      if (absl::Status status = session.FlushIdle(); !status.ok()) {
        Fail(*link, "FlushIdle: " + status.ToString());
        continue;
      }
      sent = sent || session.counters().batches_sent != batches;
      Flush(*link, side);
    }
  }
  return sent;
}

void Sim::Flush(Link& link, Side side) {
  sync::Session& session = SessionAt(link, side);
  for (v1::SyncMessage& m : session.TakeOutgoing()) Send(link, side, std::move(m));
  for (sync::ApplyRequest& r : session.TakeApplyRequests()) QueueApply(link, side, std::move(r));
}

void Sim::Send(Link& link, Side from, v1::SyncMessage message) {
  // The link's delay, now and then a slow path; TCP keeps each direction of
  // a stream in order, and a clogged link holds what is sent meanwhile.
  const LinkDelay& delay = DelayOf(link);
  const bool slow = delay.slow_one_in > 0 && OneIn(delay.slow_one_in);
  int64_t t = now_ + (slow ? Uniform(delay.slow_min_micros, delay.slow_max_micros)
                           : Uniform(delay.min_micros, delay.max_micros));
  t = std::max({t, link.last_delivery[from], link.clog_until});
  link.last_delivery[from] = t;
  const Side to = from == kParentSide ? kChildSide : kParentSide;
  Schedule(t, [this, n = link.child, inc = link.incarnation, to,
               m = std::move(message)]() mutable { Deliver(n, inc, to, std::move(m)); });
}

void Sim::Deliver(int child_node, uint64_t incarnation, Side to, v1::SyncMessage message) {
  Link& link = LinkOf(child_node);
  if (!link.connected || link.incarnation != incarnation) {
    ++stats_.messages_dropped;  // sent on a stream that has since closed
    return;
  }
  ++stats_.messages_delivered;
  absl::Status status = SessionAt(link, to).OnMessage(std::move(message));
  if (!status.ok()) {
    Fail(link, nodes_[NodeAt(link, to)]->id + " rejected a message: " + status.ToString());
    return;
  }
  Flush(link, to);
}

// ---- Store writes -----------------------------------------------------------

absl::Status Sim::Commit(int node, const std::function<absl::Status(sync::WriteView&)>& fn) {
  Node& n = *nodes_[node];
  testing::MemStore& store = n.store;
  // The rosters follow the store's transactions, as the daemon's writer
  // makes them (GroupCommitWriter::TxnObserver).
  const size_t savepoint = n.admission->Savepoint();
  auto finish = [&](absl::Status status) {
    if (status.ok()) {
      n.admission->Commit();
    } else {
      n.admission->RollbackTo(savepoint);
    }
    return status;
  };
  const bool forced = fail_next_commit_.erase(node) > 0;
  if (forced || (faults_enabled_ && options_.commit_fail_one_in > 0 &&
                 OneIn(options_.commit_fail_one_in))) {
    ++stats_.commit_failures;
    // Run the whole transaction, then fail it: nothing it wrote may survive.
    const uint64_t head = store.HeadSeq();
    const std::string digest = store.Digest();
    absl::Status status = store.Write([&](sync::WriteView& view) -> absl::Status {
      SYNC_RETURN_IF_ERROR(fn(view));
      return absl::UnavailableError("injected commit failure");
    });
    if (store.HeadSeq() != head || store.Digest() != digest) {
      violations_.push_back("a failed commit changed the store of " + n.id);
    }
    return finish(status);
  }
  return finish(store.Write(fn));
}

void Sim::QueueApply(Link& link, Side side, sync::ApplyRequest request) {
  const int node = NodeAt(link, side);
  Node& n = *nodes_[node];
  const int64_t t = std::max(now_ + Uniform(100, 5'000), n.writer_free_at);
  n.writer_free_at = t;
  auto shared = std::make_shared<const sync::ApplyRequest>(std::move(request));
  Schedule(t, [this, node, child = link.child, side, epoch = n.epoch, inc = link.incarnation,
               shared] { CompleteApply(node, child, side, epoch, inc, *shared); });
}

void Sim::CompleteApply(int node, int child_node, Side side, uint64_t node_epoch,
                        uint64_t incarnation, const sync::ApplyRequest& request) {
  Node& n = *nodes_[node];
  if (n.epoch != node_epoch) {
    ++stats_.applies_dropped;  // the node crashed before this commit
    return;
  }
  Link& link = LinkOf(child_node);
  const bool live = link.connected && link.incarnation == incarnation;
  if (!live && !options_.abandoned_applies_commit) {
    ++stats_.applies_dropped;  // lost with its stream
    return;
  }
  const Side peer_side = side == kParentSide ? kChildSide : kParentSide;
  const std::string& peer = nodes_[NodeAt(link, peer_side)]->id;
  sync::ApplyStats result;
  // The daemon's path: checks alone (its verify stage), then the writer.
  const sync::AloneVerdicts alone = n.replica->CheckAlone(peer, request.records);
  absl::Status status = Commit(node, [&](sync::WriteView& view) -> absl::Status {
    SYNC_ASSIGN_OR_RETURN(result, n.replica->ApplyFromPeer(view, peer, request, &alone));
    return absl::OkStatus();
  });
  if (!status.ok()) {
    // The stream closes and resumes from the checkpoint (node/link.cc).
    if (live) {
      Drop(link);
      ScheduleReconnect(link);
    }
    return;
  }
  ++stats_.applies;
  if (!live) ++stats_.applies_abandoned;
  stats_.conflicts += result.conflicts;
  stats_.duplicates += result.duplicates;
  stats_.stale += result.stale;
  for (const sync::QuarantineEntry& q : result.rejections) {
    if (forged_bodies_.contains(q.record.body())) {
      ++stats_.forged_quarantined;
      ++stats_.quarantined_by_reason[q.reason_code];
    } else if (violations_.size() < kMaxViolations) {
      violations_.push_back("t=" + std::to_string(now_) + " " + n.id + " quarantined " +
                            q.record_id + " from " + peer + ", which is not forged: " +
                            q.reason_code + ": " + q.detail);
    }
  }
  if (live) {
    SessionAt(link, side).OnApplied(request.last_seq);
    Flush(link, side);
  }
  OnCommit(node);
  if (admitted_observer_) admitted_observer_(node, result.admitted_ids);
  if (options_.register_receipts) RegisterReceipts(node, result.admitted_ids);
}

void Sim::RegisterReceipts(int node, const std::vector<std::pair<std::string, v1::RecordKind>>& admitted) {
  for (const auto& [id, kind] : admitted) {
    if (kind != v1::DIRECTIVE) continue;
    const auto held = HeldDirective(nodes_[node]->store, id);
    if (!held.has_value() || !domain::ReceiptDueAt(held->second, nodes_[node]->id)) continue;
    // Submitted to the node's writer: it commits after the applies queued
    // before it (writer_free_at), as one of the writer's transactions.
    Node& n = *nodes_[node];
    const int64_t t = std::max(now_ + Uniform(100, 5'000), n.writer_free_at);
    n.writer_free_at = t;
    Write(t, WriteSpec{.node = node,
                       .kind = WriteSpec::Kind::kReceipt,
                       .directive_id = id,
                       .receipt_state = std::string(domain::ReceiptStateName(domain::ReceiptState::kReceived)),
                       .capacity = domain::Capacity{},  // the node's clerk (D30 Art. 21.2c)
                       .legal_date = kSimToday});
  }
}

// At start-up: whatever arrived and has no receipt yet (ReceiptRegistrar::RegisterPending).
void Sim::RegisterPendingReceipts(int node) {
  std::vector<std::pair<std::string, v1::RecordKind>> pending;
  const Node& n = *nodes_[node];
  for (const std::string& id : n.store.RecordIds()) {
    const auto held = HeldDirective(n.store, id);
    if (held.has_value() && held->first.version().writer() != n.id &&
        !n.store.Current(n.id + "/a/" + id).has_value()) {
      pending.emplace_back(id, v1::DIRECTIVE);
    }
  }
  RegisterReceipts(node, pending);
}

void Sim::OnCommit(int node) {
  for (Link* link : LinksOf(node)) {
    if (!link->connected) continue;
    const Side side = SideOf(*link, node);
    absl::Status status = SessionAt(*link, side).OnLocalAppend();
    if (!status.ok()) {
      Fail(*link, "OnLocalAppend at " + nodes_[node]->id + ": " + status.ToString());
      continue;
    }
    Flush(*link, side);
  }
}

void Sim::Write(int64_t at, WriteSpec spec) {
  Schedule(at, [this, spec = std::move(spec)] { DoWrite(spec); });
}

std::string Sim::SharedRecordId(int commune_node, int key) const {
  return nodes_.at(commune_node)->id + "/r/s" + std::to_string(key) + "/status";
}

// A local act as the node makes one: the writer computes the authority of
// the capacity it declares from its own roster (domain::Authorize, as
// Node::SubmitLocal does) and hands the version to the replica core, whose
// shipped admission may still refuse it (relations, lifecycle order). A
// forgery skips all that: the forger's own code writes it.
void Sim::DoWrite(WriteSpec spec) {
  Node& node = *nodes_[spec.node];
  if (!node.up) {
    ++stats_.writes_refused_node_down;
    return;
  }
  // Ids embed the next counter; nothing else writes before this act.
  const std::optional<std::string> last = node.store.Meta(sync::meta::kLocalCounter);
  const uint64_t counter = (last.has_value() ? sync::meta::DecodeU64(*last) : 0) + 1;
  v1::RecordBody body;
  const bool roster = spec.kind == WriteSpec::Kind::kRoster;
  const bool act = spec.kind == WriteSpec::Kind::kDirective || spec.kind == WriteSpec::Kind::kReport;
  bool forged = act && (spec.forge.value_or(false) || spec.forge_relation.value_or(false));
  if (roster) {
    FillRosterBody(spec, body);
  } else if (spec.kind == WriteSpec::Kind::kShared) {
    if (!FillSharedStatus(spec, body)) return;
  } else if (spec.kind == WriteSpec::Kind::kReceipt) {
    if (!FillReceipt(spec, body)) return;
  } else if (spec.forge_relation.value_or(false) && spec.kind == WriteSpec::Kind::kDirective) {
    body.set_id(node.id + "/d/" + std::to_string(counter));
    if (!ForgeRelation(spec.node, body)) return;
  } else {
    const bool amend = act && !forged && !node.own_ids.empty() && spec.amend.value_or(OneIn(6));
    FillBody(spec, counter, amend, body);
  }
  if (!roster && !body.version().has_authority()) {
    std::optional<domain::Act> what = domain::ActOf(body);
    if (what.has_value() && what->action == domain::Action::kRecallDirective) {
      v1::Acknowledgement a;
      a.ParseFromString(body.payload());
      if (auto d = HeldDirective(node.store, a.directive_id())) what->doc_type = d->second.doc_type();
    }
    const domain::Capacity capacity =
        spec.capacity.has_value() ? *spec.capacity
                                  : RandomCapacity(spec.node, body.version().legal_date());
    domain::AuthorityVerdict verdict = domain::Authorize(
        ReadRoster(spec.node), node.id, capacity, body.version().legal_date(), *what);
    if (forged) {
      *body.mutable_version()->mutable_authority() = Forge(spec.node, capacity, verdict);
    } else if (!verdict.ok) {
      ++stats_.writes_refused_authority;
      ++stats_.refused_by_reason[verdict.reason_code];
      return;
    } else {
      *body.mutable_version()->mutable_authority() = std::move(verdict.authority);
    }
  }
  sync::Replica& replica = forged ? *node.forger : *node.replica;
  // A stale base: the version this node held before its current one.
  std::optional<v1::Version> base;
  if (spec.stale_base.value_or(false)) {
    if (auto it = node.previous_version.find(body.id()); it != node.previous_version.end()) base = it->second;
  }
  if (std::optional<v1::Record> current = node.store.Current(body.id())) {
    v1::RecordBody held;
    if (held.ParseFromString(current->body())) node.previous_version[body.id()] = held.version();
  }
  sync::LocalWrite written;
  std::string refusal;
  absl::Status status = Commit(spec.node, [&](sync::WriteView& view) -> absl::Status {
    absl::StatusOr<sync::LocalWrite> w = replica.WriteLocal(view, counter, body, base, Signatures());
    if (absl::IsFailedPrecondition(w.status())) refusal = std::string(w.status().message());
    SYNC_RETURN_IF_ERROR(w.status());
    written = *std::move(w);
    return absl::OkStatus();
  });
  if (!refusal.empty()) {
    // "refused: CODE: detail": the shipped admission refused it at its writer.
    ++stats_.writes_refused_authority;
    const size_t colon = refusal.find(':', 9);
    ++stats_.refused_by_reason[refusal.substr(9, colon == std::string::npos ? 0 : colon - 9)];
    return;
  }
  if (!status.ok()) return;  // an injected failure: the write never happened
  if (act && !forged &&
      std::find(node.own_ids.begin(), node.own_ids.end(), written.body.id()) == node.own_ids.end()) {
    node.own_ids.push_back(written.body.id());
  }
  if (roster) ++stats_.roster_writes;
  if (forged) {
    ++stats_.forged_writes;
    if (spec.forge_relation.value_or(false)) ++stats_.forged_relations;
    forged_bodies_.insert(written.record.body());
  }
  ++stats_.local_writes;
  written_.push_back(
      {spec.node, written.record, written.body, Reaches(written.body, spec.node), forged});
  OnCommit(spec.node);
}

std::string Sim::RandomActDate(const WriteSpec& spec) {
  return spec.legal_date.has_value() ? *spec.legal_date : kLegalDates[Uniform(1, kLegalDateCount - 2)];
}

// Fills id, kind, audience, payload and legal date of a new directive (the
// province) or report (a commune); `amend` makes it replace one of the
// node's own (a directive REPLACES it, D30 Art. 18.3; a report supersedes it).
// REQUIRES: kDirective at the province, kReport at a commune.
void Sim::FillBody(const WriteSpec& spec, uint64_t counter, bool amend, v1::RecordBody& body) {
  const Node& node = *nodes_[spec.node];
  const bool at_province = spec.node == kProvinceNode;
  const std::string id = node.id + (at_province ? "/d/" : "/r/") + std::to_string(counter);
  const std::string replaced =
      amend ? node.own_ids[Uniform(0, static_cast<int64_t>(node.own_ids.size()) - 1)] : "";
  body.set_id(id);
  v1::Audience* audience = body.mutable_audience();
  audience->set_root(at_province ? node.id : nodes_[node.parent]->id);
  if (at_province) {
    body.set_kind(v1::DIRECTIVE);
    audience->set_direction(v1::Audience::DOWN);
    if (spec.units.has_value()) {
      for (int u : *spec.units) audience->add_units(nodes_.at(u)->id);
    } else if (OneIn(3)) {
      for (int c = first_commune_; c < node_count(); ++c) {
        if (OneIn(4)) audience->add_units(nodes_[c]->id);
      }
      if (audience->units().empty()) audience->add_units(nodes_[RandomCommune()]->id);
    }
    v1::Directive d;
    d.set_doc_type(spec.doc_type.has_value() ? *spec.doc_type
                                             : kDocTypes[Uniform(0, kDocTypeCount - 1)]);
    d.set_number(domain::DisplayNumber(counter, d.doc_type(), "BCĐ"));
    d.set_title("directive " + id);
    // As the daemon writes it: the issuer is the version's writer.
    *d.mutable_to_units() = audience->units();
    if (!replaced.empty()) {
      v1::DocumentRelation* rel = d.add_relations();
      rel->set_kind(v1::DocumentRelation::REPLACES);
      rel->set_target(replaced);
      body.mutable_version()->add_supersedes(replaced);
    }
    body.set_payload(d.SerializeAsString());
  } else {
    body.set_kind(v1::REPORT);
    audience->set_direction(v1::Audience::UP);
    v1::Report r;
    r.set_period("2026-Q1");
    r.set_title("report " + id);
    r.set_from_unit(node.id);
    r.set_supersedes_report(replaced);
    body.set_payload(r.SerializeAsString());
  }
  body.mutable_version()->set_legal_date(RandomActDate(spec));
}

// The status of a commune's report, the record both levels edit (§1.10): the
// commune sets SUBMITTED or WITHDRAWN and sends it up; the province sets
// ACCEPTED or RETURNED and sends it down to that commune only.
bool Sim::FillSharedStatus(const WriteSpec& spec, v1::RecordBody& body) {
  const bool at_province = spec.node == kProvinceNode;
  const int commune = at_province ? spec.commune.value_or(RandomCommune()) : spec.node;
  const std::string id = SharedRecordId(commune, spec.shared_key);
  v1::ReportStatus st;
  st.set_report_id(id.substr(0, id.size() - std::string_view("/status").size()));
  body.set_id(id);
  body.set_kind(v1::REPORT_STATUS);
  body.mutable_audience()->set_root(kProvince);
  if (at_province) {
    st.set_state(OneIn(2) ? "ACCEPTED" : "RETURNED");
    body.mutable_audience()->set_direction(v1::Audience::DOWN);
    body.mutable_audience()->add_units(nodes_[commune]->id);
  } else {
    st.set_state(OneIn(3) ? "WITHDRAWN" : "SUBMITTED");
    body.mutable_audience()->set_direction(v1::Audience::UP);
  }
  body.set_payload(st.SerializeAsString());
  body.mutable_version()->set_legal_date(RandomActDate(spec));
  return true;
}

// A directive's receipt at one unit (§1.9): the unit acknowledges or
// returns a directive it holds, or registers it RECEIVED (once: never over a
// receipt held); the root recalls one of its directives from a commune it was
// sent to (D30 Art. 18.4). False when there is none.
bool Sim::FillReceipt(const WriteSpec& spec, v1::RecordBody& body) {
  const Node& node = *nodes_[spec.node];
  const bool at_province = spec.node == kRootNode;
  std::string directive;
  if (spec.directive_id.has_value()) {
    directive = *spec.directive_id;
  } else {
    std::vector<std::string> directives;
    if (at_province) {
      for (const std::string& id : node.own_ids) {
        if (HeldDirective(node.store, id).has_value()) directives.push_back(id);
      }
    } else {
      for (const std::string& id : node.store.RecordIds()) {
        if (HeldDirective(node.store, id).has_value()) directives.push_back(id);
      }
    }
    if (directives.empty()) return false;
    directive = directives[Uniform(0, static_cast<int64_t>(directives.size()) - 1)];
  }
  const auto held = HeldDirective(node.store, directive);
  if (!held.has_value()) return false;
  int commune = spec.node;
  if (at_province) {
    std::vector<int> reached;
    for (int c = first_commune_; c < node_count(); ++c) {
      if (sync::AddressedTo(held->first, node.id, nodes_[c]->id)) reached.push_back(c);
    }
    if (reached.empty()) return false;
    commune = spec.commune.value_or(reached[Uniform(0, static_cast<int64_t>(reached.size()) - 1)]);
  }
  const std::string& unit = nodes_[commune]->id;
  const std::string id = unit + "/a/" + directive;
  const bool received = spec.receipt_state == domain::ReceiptStateName(domain::ReceiptState::kReceived);
  if (received && node.store.Current(id).has_value()) return false;
  v1::Acknowledgement a;
  a.set_directive_id(directive);
  a.set_unit(unit);
  a.set_acknowledged_date(RandomActDate(spec));
  body.set_id(id);
  body.set_kind(v1::ACKNOWLEDGEMENT);
  if (at_province) {
    a.set_state(spec.receipt_state.value_or("RECALLED"));
    body.mutable_audience()->set_root(node.id);
    body.mutable_audience()->set_direction(v1::Audience::DOWN);
    body.mutable_audience()->add_units(unit);
  } else {
    a.set_state(spec.receipt_state.has_value() ? *spec.receipt_state : OneIn(4) ? "RETURNED" : "ACKNOWLEDGED");
    if (received) a.set_reason("received and verified");
    // Up to the issuer, through every level between (as the daemon's).
    body.mutable_audience()->set_root(held->second.issuer());
    body.mutable_audience()->set_direction(v1::Audience::UP);
  }
  body.set_payload(a.SerializeAsString());
  body.mutable_version()->set_legal_date(a.acknowledged_date());
  return true;
}

// Escalation by relation (what issue 9 found live): a directive whose signer
// really holds its capacity, but which replaces or recalls a directive signed
// by a higher rank. Addressed like its target, so every node it reaches
// holds the target and can judge it.
bool Sim::ForgeRelation(int node, v1::RecordBody& body) {
  const Node& n = *nodes_[node];
  const domain::Roster roster = ReadRoster(node);
  const std::string date = kLegalDates[2];
  for (const std::string& target_id : n.own_ids) {
    const auto target = HeldDirective(n.store, target_id);
    if (!target.has_value()) continue;
    const uint32_t target_rank = domain::EffectiveRank(target->first.version().authority());
    for (const auto& [membership, role] : n.memberships) {
      const domain::Capacity capacity{domain::DefaultBodyOf(n.id), membership, "", std::nullopt};
      domain::AuthorityVerdict verdict =
          domain::Authorize(roster, n.id, capacity, date, domain::Act{domain::Action::kIssueDirective, "GM"});
      if (!verdict.ok || domain::EffectiveRank(verdict.authority) >= target_rank) continue;
      v1::Directive d;
      d.set_doc_type("GM");
      d.set_number(domain::DisplayNumber(std::stoull(body.id().substr(body.id().rfind('/') + 1)), "GM", "BCĐ"));
      d.set_title("forged relation to " + target_id);
      *d.mutable_to_units() = target->second.to_units();
      v1::DocumentRelation* rel = d.add_relations();
      rel->set_kind(OneIn(2) ? v1::DocumentRelation::RECALLS : v1::DocumentRelation::REPLACES);
      rel->set_target(target_id);
      body.set_kind(v1::DIRECTIVE);
      *body.mutable_audience() = target->first.audience();
      body.set_payload(d.SerializeAsString());
      body.mutable_version()->add_supersedes(target_id);
      body.mutable_version()->set_legal_date(date);
      *body.mutable_version()->mutable_authority() = verdict.authority;
      return true;
    }
  }
  return false;
}

// A roster record of the writer's committee: it flows around its owner (its
// subtree and its ancestors); written by the node's clerk.
void Sim::FillRosterBody(const WriteSpec& spec, v1::RecordBody& body) {
  const Node& node = *nodes_[spec.node];
  body = *spec.roster_record;
  v1::Audience* audience = body.mutable_audience();
  audience->set_root(node.id);
  audience->set_direction(v1::Audience::AROUND);
  domain::AuthorityVerdict verdict =
      domain::Authorize(ReadRoster(spec.node), node.id, domain::Capacity{}, kRosterDate,
                        domain::Act{domain::Action::kRosterEntry, ""});
  if (!verdict.ok && violations_.size() < kMaxViolations) {
    violations_.push_back("roster entry " + body.id() + " refused at its writer: " +
                          verdict.reason_code + ": " + verdict.detail);
  }
  *body.mutable_version()->mutable_authority() = std::move(verdict.authority);
  body.mutable_version()->set_legal_date(kRosterDate);
}

// What a forger signs: the authority computed for its declared capacity with
// one claim raised (rank R2, acting R3 or level R1) or, when the roster
// refused the act, a Head's authority for it anyway. Either way receivers
// recompute something else and quarantine it.
v1::Authority Sim::Forge(int node, const domain::Capacity& capacity,
                         const domain::AuthorityVerdict& verdict) {
  const std::string& id = nodes_[node]->id;
  if (!verdict.ok) {
    v1::Authority a;
    a.set_unit_depth(static_cast<uint32_t>(sync::DepthOf(id)));
    a.set_body_id(capacity.body_id.empty() ? domain::DefaultBodyOf(id) : capacity.body_id);
    a.set_membership_id(capacity.membership_id);
    a.set_formula(capacity.formula);
    a.set_role_rank(domain::RankOf(v1::HEAD));
    a.set_capacity("HEAD");
    return a;
  }
  v1::Authority a = verdict.authority;
  switch (Uniform(0, 2)) {
    case 0:
      if (a.role_rank() < domain::RankOf(v1::HEAD)) {
        a.set_role_rank(domain::RankOf(v1::HEAD));
        break;
      }
      [[fallthrough]];
    case 1:
      a.set_acting_for_head(!a.acting_for_head());
      break;
    default:
      a.set_unit_depth(a.unit_depth() - 1);  // a province claims the nation's level, a commune the province's
      break;
  }
  return a;
}

// A declared capacity: none (the node's clerk) 1 in 12; otherwise, 3 times in
// 4 one of the committee's leaders (Head or Deputy) in office on `legal_date`
// by the writer's roster, else anyone scheduled on it (perhaps out of office,
// or never recorded because the write failed). Deputies mostly sign KT.;
// now and then anyone signs TUQ. or declares another unit's body.
domain::Capacity Sim::RandomCapacity(int node, std::string_view legal_date) {
  const Node& n = *nodes_[node];
  domain::Capacity c;
  if (n.memberships.empty() || OneIn(12)) return c;
  const domain::Roster roster = ReadRoster(node);
  std::vector<size_t> leaders;
  for (size_t i = 0; i < n.memberships.size(); ++i) {
    const auto& [id, role] = n.memberships[i];
    const v1::Membership* m = roster.FindMembership(id);
    if ((role == v1::HEAD || IsDeputy(role)) && m != nullptr &&
        domain::InWindow(legal_date, m->valid_from(), m->valid_to())) {
      leaders.push_back(i);
    }
  }
  const size_t pick = !leaders.empty() && !OneIn(4)
                          ? leaders[Uniform(0, static_cast<int64_t>(leaders.size()) - 1)]
                          : static_cast<size_t>(Uniform(0, static_cast<int64_t>(n.memberships.size()) - 1));
  const auto& [membership_id, role] = n.memberships[pick];
  c.membership_id = membership_id;
  if (IsDeputy(role) ? !OneIn(3) : OneIn(12)) {
    c.formula = "KT";
  } else if (OneIn(15)) {
    c.formula = "TUQ";
  }
  if (OneIn(40) && node_count() > 1) {
    c.body_id = domain::DefaultBodyOf(nodes_[node == kProvinceNode ? 1 : kProvinceNode]->id);
  }
  return c;
}

// ---- Rosters ----------------------------------------------------------------

std::string Sim::NextRosterId(int node, const char* prefix) {
  Node& n = *nodes_.at(node);
  return n.id + "/" + prefix + "/" + std::to_string(++n.roster_serials[prefix]);
}

void Sim::WriteRoster(int64_t at, int node, std::string id, v1::RecordKind kind,
                      std::string payload) {
  v1::RecordBody body;
  body.set_id(std::move(id));
  body.set_kind(kind);
  body.set_payload(std::move(payload));
  Write(at, WriteSpec{.node = node, .kind = WriteSpec::Kind::kRoster, .roster_record = std::move(body)});
}

std::string Sim::AddMembership(int64_t at, int node, v1::Role role, std::string valid_from,
                               std::string valid_to) {
  Node& n = *nodes_.at(node);
  std::string id = NextRosterId(node, "m");
  // Short names and references: every act made in the membership carries the
  // officer's name, and the simulation's cost grows with the bytes it moves.
  const std::string serial = std::to_string(n.memberships.size() + 1);
  v1::Membership m;
  m.set_person_id("p" + serial);
  m.set_full_name("Officer " + serial);
  m.set_body_id(domain::DefaultBodyOf(n.id));
  m.set_role(role);
  m.set_order_in_decision(static_cast<uint32_t>(n.memberships.size() + 1));
  m.set_valid_from(std::move(valid_from));
  m.set_valid_to(std::move(valid_to));
  m.set_appointed_by_doc("1/QĐ-BCĐ");
  n.memberships.emplace_back(id, role);
  WriteRoster(at, node, id, v1::MEMBERSHIP, m.SerializeAsString());
  return id;
}

std::string Sim::AddActingWindow(int64_t at, int node, std::string membership_id,
                                 std::string from, std::string to) {
  const Node& n = *nodes_.at(node);
  std::string id = NextRosterId(node, "acting");
  v1::ActingWindow a;
  a.set_acting_membership_id(std::move(membership_id));
  a.set_body_id(domain::DefaultBodyOf(n.id));
  a.set_from(std::move(from));
  a.set_to(std::move(to));
  a.set_basis(sync::DepthOf(n.id) == 2 ? "AUTO_C4_1" : "AUTO_P4_2");
  WriteRoster(at, node, id, v1::ACTING_WINDOW, a.SerializeAsString());
  return id;
}

std::string Sim::AddSigningAuthorisation(int64_t at, int node, std::string membership_id,
                                         std::string formula, std::vector<std::string> scope,
                                         std::string from, std::string to) {
  const Node& n = *nodes_.at(node);
  std::string id = NextRosterId(node, "auth");
  v1::SigningAuthorisation a;
  a.set_delegate_membership_id(std::move(membership_id));
  a.set_body_id(domain::DefaultBodyOf(n.id));
  a.set_formula(std::move(formula));
  for (std::string& s : scope) a.add_scope(std::move(s));
  a.set_from(std::move(from));
  a.set_to(std::move(to));
  a.set_granted_by_doc("2/QĐ-BCĐ");
  WriteRoster(at, node, id, v1::SIGNING_AUTHORISATION, a.SerializeAsString());
  return id;
}

std::pair<std::string, std::string> Sim::RandomWindow(bool open_ends) {
  const int64_t from = Uniform(0, kLegalDateCount - 1);
  const int64_t to = Uniform(from, kLegalDateCount - 1);
  std::string f = open_ends && OneIn(3) ? "" : kLegalDates[from];
  std::string t = open_ends && OneIn(2) ? "" : kLegalDates[to];
  return {std::move(f), std::move(t)};
}

void Sim::AddRandomRosters() {
  for (int node = 0; node < node_count(); ++node) {
    const bool province = node == kProvinceNode;
    const int64_t members = Uniform(3, 8);
    std::vector<std::string> deputies;
    std::vector<std::string> all;
    for (int64_t k = 0; k < members; ++k) {
      // Most committees have a Head and a Deputy listed first; any role may
      // repeat, windows may overlap or leave gaps.
      v1::Role role;
      if (k == 0 && !OneIn(6)) {
        role = v1::HEAD;
      } else if (k == 1 && !OneIn(4)) {
        role = province ? v1::STANDING_DEPUTY_HEAD : v1::DEPUTY_HEAD;
      } else if (province) {
        role = kProvinceRoles[Uniform(0, std::size(kProvinceRoles) - 1)];
      } else {
        role = kCommuneRoles[Uniform(0, std::size(kCommuneRoles) - 1)];
      }
      auto [from, to] = RandomWindow(/*open_ends=*/true);
      std::string id = AddMembership(0, node, role, std::move(from), std::move(to));
      if (IsDeputy(role)) deputies.push_back(id);
      all.push_back(std::move(id));
    }
    // Every province committee has its Standing Agency (P 6), who issues
    // notices and invitations in its own name.
    if (province) all.push_back(AddMembership(0, node, v1::STANDING_AGENCY));
    for (const std::string& deputy : deputies) {
      if (!OneIn(2)) continue;
      auto [from, to] = RandomWindow(/*open_ends=*/false);
      AddActingWindow(0, node, deputy, std::move(from), std::move(to));
    }
    if (OneIn(3)) {
      const std::string& who = !deputies.empty() && !OneIn(3)
                                   ? deputies[Uniform(0, static_cast<int64_t>(deputies.size()) - 1)]
                                   : all[Uniform(0, static_cast<int64_t>(all.size()) - 1)];
      std::vector<std::string> scope;
      if (OneIn(2)) scope.push_back(kDocTypes[Uniform(0, kDocTypeCount - 1)]);
      auto [from, to] = RandomWindow(/*open_ends=*/true);
      AddSigningAuthorisation(0, node, who, OneIn(2) ? "KT" : "TUQ", std::move(scope),
                              std::move(from), std::move(to));
    }
  }
}

// During the workload a node records a new acting window for one of its
// deputies, or a signing authorisation: acts made after it may rely on it,
// and receivers must have it before they judge them.
void Sim::RandomLateRosterWrite() {
  const int node = OneIn(3) ? kProvinceNode : RandomCommune();
  const auto& memberships = nodes_[node]->memberships;
  if (memberships.empty()) return;
  std::vector<std::string> deputies;
  for (const auto& [id, role] : memberships) {
    if (IsDeputy(role)) deputies.push_back(id);
  }
  if (!deputies.empty() && OneIn(2)) {
    auto [from, to] = RandomWindow(/*open_ends=*/false);
    AddActingWindow(now_, node, deputies[Uniform(0, static_cast<int64_t>(deputies.size()) - 1)],
                    std::move(from), std::move(to));
    return;
  }
  auto [from, to] = RandomWindow(/*open_ends=*/true);
  AddSigningAuthorisation(now_, node,
                          memberships[Uniform(0, static_cast<int64_t>(memberships.size()) - 1)].first,
                          OneIn(2) ? "KT" : "TUQ", {}, std::move(from), std::move(to));
}

// Nodes a version written at `writer` reaches: a breadth-first walk over the
// tree, crossing an edge u -> v when the session at u would send it to v
// (AddressedTo, and never back to its writer). In a country, provinces relay
// between the nation and the communes; the walk assumes the relay still holds
// the version when it sends (a version superseded at the relay first is not
// sent on), which holds while each relayed record has one version, as in the
// country's runs. The random workload has no relay.
std::vector<bool> Sim::Reaches(const v1::RecordBody& body, int writer) const {
  std::vector<bool> reached(nodes_.size(), false);
  reached[writer] = true;
  std::deque<int> frontier{writer};
  while (!frontier.empty()) {
    const int u = frontier.front();
    frontier.pop_front();
    std::vector<int> neighbours = nodes_[u]->children;
    if (nodes_[u]->parent >= 0) neighbours.push_back(nodes_[u]->parent);
    for (int v : neighbours) {
      if (reached[v] || nodes_[v]->id == body.version().writer()) continue;
      if (!sync::AddressedTo(body, nodes_[u]->id, nodes_[v]->id)) continue;
      reached[v] = true;
      frontier.push_back(v);
    }
  }
  return reached;
}

// ---- Faults -----------------------------------------------------------------

void Sim::ResetLink(int64_t at, int child_node) {
  Schedule(at, [this, child_node] {
    Link& link = LinkOf(child_node);
    if (!faults_enabled_ || !link.connected) return;
    ++stats_.resets;
    Drop(link);
    ScheduleReconnect(link);
  });
}

void Sim::Partition(int64_t at, std::vector<int> child_nodes, int64_t duration, bool clog) {
  Schedule(at, [this, nodes = std::move(child_nodes), duration, clog] {
    if (!faults_enabled_) return;
    ++stats_.partitions;
    for (int c : nodes) {
      Link& link = LinkOf(c);
      if (clog) {
        link.clog_until = std::max(link.clog_until, now_ + duration);
        continue;
      }
      link.cut_until = std::max(link.cut_until, now_ + duration);
      Drop(link);
      Schedule(link.cut_until, [this, c] { TryConnect(c); });
    }
  });
}

void Sim::Restart(int64_t at, int node, int64_t downtime) {
  Schedule(at, [this, node, downtime] {
    if (faults_enabled_) DoRestart(node, downtime);
  });
}

void Sim::DoRestart(int node, int64_t downtime) {
  Node& n = *nodes_[node];
  if (!n.up) return;
  ++stats_.restarts;
  ++n.epoch;
  n.up = false;
  n.down_until = now_ + downtime;
  n.writer_free_at = now_;
  for (Link* link : LinksOf(node)) Drop(*link);
  // A new process: the HLC restarts from the last persisted local timestamp,
  // the rosters are loaded from the store.
  StartProcess(node);
  Schedule(n.down_until, [this, node] { NodeUp(node); });
}

void Sim::NodeUp(int node) {
  Node& n = *nodes_[node];
  if (n.up || now_ < n.down_until) return;
  n.up = true;
  for (Link* link : LinksOf(node)) ScheduleReconnect(*link);
  if (options_.register_receipts) RegisterPendingReceipts(node);
}

void Sim::HealAll() {
  faults_enabled_ = false;
  for (auto& link : links_) {
    link->cut_until = std::min(link->cut_until, now_);
    link->clog_until = std::min(link->clog_until, now_);
  }
  for (int node = 0; node < node_count(); ++node) {
    if (nodes_[node]->up) continue;
    nodes_[node]->down_until = now_;
    NodeUp(node);
  }
  for (auto& link : links_) {
    if (!link->connected) ScheduleReconnect(*link);
  }
}

void Sim::RandomFault() {
  const int64_t kind = Uniform(0, 9);
  if (kind < 6) {
    ResetLink(now_, RandomCommune());
  } else if (kind < 8) {
    std::vector<int> cut;
    for (int c = first_commune_; c < node_count(); ++c) {
      if (OneIn(3)) cut.push_back(c);
    }
    if (cut.empty()) cut.push_back(RandomCommune());
    Partition(now_, std::move(cut), Uniform(500'000, 8'000'000), OneIn(3));
  } else {
    const int node = OneIn(6) ? kProvinceNode : RandomCommune();
    Restart(now_, node, Uniform(50'000, 5'000'000));
  }
}

void Sim::AddRandomWorkload() {
  if (options_.provinces != 0) {
    violations_.push_back("the random workload plays one province and its communes (provinces 0)");
    return;
  }
  AddRandomRosters();
  for (int i = 0; i < options_.late_roster_writes; ++i) {
    Schedule(Uniform(0, options_.window_micros - 1), [this] { RandomLateRosterWrite(); });
  }
  for (int i = 0; i < options_.writes; ++i) {
    Schedule(Uniform(0, options_.window_micros - 1), [this] {
      // Drawn when it runs, so the spec sees the state of that moment.
      WriteSpec spec;
      const int64_t r = Uniform(0, 99);
      if (r < 20) {
        spec.node = kProvinceNode;
        spec.kind = WriteSpec::Kind::kDirective;
      } else if (r < 45) {
        spec.node = RandomCommune();
        spec.kind = WriteSpec::Kind::kReport;
      } else if (r < 60) {
        spec.node = OneIn(3) ? kProvinceNode : RandomCommune();
        spec.kind = WriteSpec::Kind::kReceipt;
      } else {
        // A few hot records: a commune's report status, edited by the commune
        // and the province, and now and then from a stale base (`--if-version`:
        // two operators of one node), so every rule gets to decide.
        const int hot = static_cast<int>(std::min<int64_t>(3, options_.communes));
        spec.node = OneIn(2) ? kProvinceNode : static_cast<int>(Uniform(1, hot));
        spec.commune = static_cast<int>(Uniform(1, hot));
        spec.kind = WriteSpec::Kind::kShared;
        spec.shared_key = static_cast<int>(Uniform(0, options_.shared_records - 1));
        spec.stale_base = OneIn(3);
      }
      const bool act = spec.kind == WriteSpec::Kind::kDirective || spec.kind == WriteSpec::Kind::kReport;
      if (act && options_.forge_one_in > 0 && OneIn(options_.forge_one_in)) {
        if (spec.kind == WriteSpec::Kind::kDirective && OneIn(2)) {
          spec.forge_relation = true;
        } else {
          spec.forge = true;
        }
      }
      DoWrite(std::move(spec));
    });
  }
  if (options_.faults) {
    const int64_t faults = Uniform(8, 20);
    for (int64_t i = 0; i < faults; ++i) {
      Schedule(Uniform(0, options_.window_micros - 1), [this] {
        if (faults_enabled_) RandomFault();
      });
    }
  }
  Schedule(options_.window_micros, [this] { HealAll(); });
}

// ---- Checks -----------------------------------------------------------------

void Sim::CheckStepInvariants() {
  std::vector<Link*> touched;
  touched.swap(touched_links_);
  for (Link* link : touched) link->touched = false;
  if (violations_.size() >= kMaxViolations) return;
  for (Link* link : touched) {
    if (!link->connected) continue;
    for (Side side : {kParentSide, kChildSide}) {
      const sync::Session& s = *link->sessions[side];
      const uint64_t head = nodes_[NodeAt(*link, side)]->store.HeadSeq();
      const Side other = side == kParentSide ? kChildSide : kParentSide;
      const uint64_t peer_head = nodes_[NodeAt(*link, other)]->store.HeadSeq();
      if (s.acked_seq() > s.sent_seq() || s.sent_seq() > head || s.applied_seq() > peer_head) {
        violations_.push_back("t=" + std::to_string(now_) + " session at " +
                              nodes_[NodeAt(*link, side)]->id + ": acked " +
                              std::to_string(s.acked_seq()) + " sent " +
                              std::to_string(s.sent_seq()) + " head " + std::to_string(head) +
                              " applied " + std::to_string(s.applied_seq()) + " peer head " +
                              std::to_string(peer_head));
      }
    }
  }
}

std::vector<std::string> Sim::CheckConverged() const {
  std::vector<std::string> problems = violations_;
  for (const auto& node : nodes_) {
    if (!node->up) problems.push_back(node->id + " is down");
  }
  CheckSessionsDone(problems);
  CheckAgainstOracles(problems);
  for (int node = 0; node < node_count(); ++node) {
    CheckQuarantine(node, problems);
    CheckRosterMatchesStore(node, problems);
    CheckNoEscalation(node, problems);
  }
  return problems;
}

void Sim::CheckSessionsDone(std::vector<std::string>& problems) const {
  for (const auto& link : links_) {
    const Node& parent = *nodes_[link->parent];
    const testing::MemStore& parent_store = parent.store;
    const Node& child = *nodes_[link->child];
    if (!link->connected) {
      problems.push_back("link to " + child.id + " is not connected");
      continue;
    }
    const sync::Session& down = *link->sessions[kParentSide];
    const sync::Session& up = *link->sessions[kChildSide];
    auto expect = [&](const char* what, uint64_t got, uint64_t want) {
      if (got != want) {
        problems.push_back("link " + child.id + ": " + what + " " + std::to_string(got) +
                           ", want " + std::to_string(want));
      }
    };
    expect("parent session acked_seq", down.acked_seq(), parent_store.HeadSeq());
    expect("parent session sent_seq", down.sent_seq(), parent_store.HeadSeq());
    expect("parent session applied_seq", down.applied_seq(), child.store.HeadSeq());
    expect("child session acked_seq", up.acked_seq(), child.store.HeadSeq());
    expect("child session sent_seq", up.sent_seq(), child.store.HeadSeq());
    expect("child session applied_seq", up.applied_seq(), parent_store.HeadSeq());
    // Stored checkpoints may lag (batches with nothing for the receiver are
    // acknowledged without a write) but never pass the peer's head.
    if (child.store.AppliedSeq(parent.id).value_or(0) > parent_store.HeadSeq() ||
        parent_store.AppliedSeq(child.id).value_or(0) > child.store.HeadSeq()) {
      problems.push_back("link " + child.id + ": a stored checkpoint is past the peer's head");
    }
  }
}

// Records merge independently, so a node's oracle is the union of per-record
// oracles: for each record id, the versions the node should hold of it,
// applied in canonical order to a fresh store. Nodes that should hold the
// same versions of a record share one per-record oracle, so each is built
// once, and those nodes must hold byte-identical state for it.
void Sim::CheckAgainstOracles(std::vector<std::string>& problems) const {
  std::map<std::string, std::vector<const WrittenVersion*>> by_id;
  for (const WrittenVersion& w : written_) by_id[w.body.id()].push_back(&w);
  std::vector<size_t> expected_records(nodes_.size(), 0);
  for (auto& [id, versions] : by_id) {
    std::sort(versions.begin(), versions.end(), [](const WrittenVersion* a, const WrittenVersion* b) {
      return sync::VersionKey(a->body.version()) < sync::VersionKey(b->body.version());
    });
    struct Group {
      std::unique_ptr<testing::MemStore> oracle;
      std::string state;  // RecordState of the oracle
    };
    std::map<std::vector<bool>, Group> groups;  // by which versions a node should hold
    for (int node = 0; node < node_count(); ++node) {
      std::vector<bool> which;
      std::vector<const WrittenVersion*> held;
      for (const WrittenVersion* w : versions) {
        which.push_back(w->ShouldHold(node));
        if (which.back()) held.push_back(w);
      }
      if (held.empty()) continue;
      ++expected_records[node];
      auto [it, inserted] = groups.try_emplace(std::move(which));
      Group& group = it->second;
      if (inserted) {
        std::vector<v1::Record> records;
        for (const WrittenVersion* w : held) records.push_back(w->record);
        group.oracle = std::make_unique<testing::MemStore>();
        absl::Status built = group.oracle->Write([&](sync::WriteView& view) -> absl::Status {
          return sync::ApplyRecords(view, "", records, 0, AdmitAll, 0).status();
        });
        if (!built.ok()) {
          problems.push_back(id + ": building the oracle failed: " + built.ToString());
          continue;
        }
        group.state = RecordState(*group.oracle, id);
        CheckKept(*group.oracle, "the oracle of " + nodes_[node]->id, id, held, problems);
      }
      if (group.oracle == nullptr) continue;
      const testing::MemStore& store = nodes_[node]->store;
      if (RecordState(store, id) != group.state) {
        problems.push_back(nodes_[node]->id + " differs from its oracle on " + id + ":\n  have: " +
                           LineOf(store.Describe(), id) + "\n  want: " +
                           LineOf(group.oracle->Describe(), id));
        CheckKept(store, nodes_[node]->id, id, held, problems);
      }
    }
  }
  for (int node = 0; node < node_count(); ++node) {
    const std::vector<std::string> ids = nodes_[node]->store.RecordIds();
    if (ids.size() == expected_records[node]) continue;
    std::string unexpected;
    for (const std::string& id : ids) {
      auto it = by_id.find(id);
      const bool should = it != by_id.end() &&
                          std::any_of(it->second.begin(), it->second.end(),
                                      [&](const WrittenVersion* w) { return w->ShouldHold(node); });
      if (!should) unexpected += " " + id;
    }
    problems.push_back(nodes_[node]->id + " holds " + std::to_string(ids.size()) +
                       " records, its oracle " + std::to_string(expected_records[node]) +
                       "; unexpected:" + unexpected);
  }
}

// No version of `id` in `held` is lost in `store`: each is held (current or
// loser) or causally older than one held.
void Sim::CheckKept(const testing::MemStore& store, const std::string& where, const std::string& id,
                    const std::vector<const WrittenVersion*>& held,
                    std::vector<std::string>& problems) const {
  struct Kept {
    std::string bytes;  // exact signed bytes
    v1::RecordBody body;
  };
  std::vector<Kept> kept;
  std::vector<v1::Record> records = store.Losers(id);
  if (auto current = store.Current(id)) records.push_back(*std::move(current));
  for (v1::Record& r : records) {
    Kept& k = kept.emplace_back();
    if (!k.body.ParseFromString(r.body())) problems.push_back(where + ": a version of " + id + " does not parse");
    k.bytes = std::move(*r.mutable_body());
  }
  for (const WrittenVersion* w : held) {
    const bool found = std::any_of(kept.begin(), kept.end(), [&](const Kept& k) {
      return k.bytes == w->record.body() ||
             sync::CompareVectors(w->body.version().vector(), k.body.version().vector()) ==
                 sync::Causality::kBefore;
    });
    if (!found) {
      problems.push_back(where + " lost version " + sync::VersionKey(w->body.version()) + " of " + id);
    }
  }
}

// Every forged version that reached `node` from another writer was
// quarantined there exactly once and never merged; nothing else was
// quarantined.
void Sim::CheckQuarantine(int node, std::vector<std::string>& problems) const {
  const testing::MemStore& store = nodes_[node]->store;
  const std::string& id = nodes_[node]->id;
  std::map<std::string, std::pair<const WrittenVersion*, int>> expected;  // by body bytes
  for (const WrittenVersion& w : written_) {
    if (!w.forged || !w.reaches[node] || w.writer == node) continue;
    expected.try_emplace(w.record.body(), &w, 0);
    const std::string state = RecordState(store, w.body.id());
    if (!state.empty()) {
      problems.push_back(id + " merged forged version " + sync::VersionKey(w.body.version()) +
                         " of " + w.body.id());
    }
  }
  for (const sync::QuarantineEntry& q : store.quarantine()) {
    auto it = expected.find(q.record.body());
    if (it == expected.end()) {
      problems.push_back(id + " quarantined " + q.record_id + " from " + q.from_peer +
                         ", which is not forged: " + q.reason_code + ": " + q.detail);
      continue;
    }
    ++it->second.second;
  }
  for (const auto& [bytes, seen] : expected) {
    const auto& [w, count] = seen;
    if (count != 1) {
      problems.push_back(id + " quarantined forged version " + sync::VersionKey(w->body.version()) +
                         " of " + w->body.id() + " " + std::to_string(count) + " times, want 1");
    }
  }
}

// The node's roster is the one its store holds: exactly the roster records it
// should hold, each as current in the store.
void Sim::CheckRosterMatchesStore(int node, std::vector<std::string>& problems) const {
  const Node& n = *nodes_[node];
  std::set<std::string> want;
  for (const WrittenVersion& w : written_) {
    if (w.ShouldHold(node) && domain::Roster::IsRosterKind(w.body.kind())) want.insert(w.body.id());
  }
  const domain::Roster roster = ReadRoster(node);
  const auto& have = roster.records();
  if (have.size() != want.size()) {
    problems.push_back(n.id + "'s roster has " + std::to_string(have.size()) +
                       " records, want " + std::to_string(want.size()));
  }
  for (const auto& [id, body] : have) {
    std::optional<v1::Record> current = n.store.Current(id);
    if (!want.contains(id) || !current.has_value() ||
        current->body() != body.SerializeAsString()) {
      problems.push_back(n.id + "'s roster record " + id + " is not the one its store holds");
    }
  }
}

// No act held changes the status of an act signed by a higher rank (P 2.1,
// DOMAIN-MODEL §3.4): every relation and recall held, current or losing,
// carries at least its target's rank.
void Sim::CheckNoEscalation(int node, std::vector<std::string>& problems) const {
  const testing::MemStore& store = nodes_[node]->store;
  auto check = [&](const v1::RecordBody& by, const std::string& target_id, const char* what) {
    const auto target = HeldDirective(store, target_id);
    if (!target.has_value()) return;
    const uint32_t mine = domain::EffectiveRank(by.version().authority());
    const uint32_t theirs = domain::EffectiveRank(target->first.version().authority());
    if (mine < theirs) {
      problems.push_back(nodes_[node]->id + " holds " + by.id() + " (rank " + std::to_string(mine) + "), which " +
                         what + " " + target_id + " (rank " + std::to_string(theirs) + ")");
    }
  };
  for (const std::string& id : store.RecordIds()) {
    std::vector<v1::Record> versions = store.Losers(id);
    if (auto current = store.Current(id)) versions.push_back(*current);
    for (const v1::Record& r : versions) {
      v1::RecordBody body;
      // A forgery stays in its forger's store; nobody else holds it.
      if (forged_bodies_.contains(r.body()) || !body.ParseFromString(r.body())) continue;
      if (body.kind() == v1::DIRECTIVE) {
        v1::Directive d;
        d.ParseFromString(body.payload());
        for (const auto& rel : d.relations()) check(body, rel.target(), "relates to");
      } else if (body.kind() == v1::ACKNOWLEDGEMENT) {
        v1::Acknowledgement a;
        a.ParseFromString(body.payload());
        if (a.state() == "RECALLED") check(body, a.directive_id(), "recalls");
      }
    }
  }
}

absl::StatusOr<std::unique_ptr<testing::MemStore>> Sim::Oracle(int node) const {
  std::vector<const WrittenVersion*> versions;
  for (const WrittenVersion& w : written_) {
    if (w.ShouldHold(node)) versions.push_back(&w);
  }
  std::sort(versions.begin(), versions.end(), [](const WrittenVersion* a, const WrittenVersion* b) {
    if (a->body.id() != b->body.id()) return a->body.id() < b->body.id();
    return sync::VersionKey(a->body.version()) < sync::VersionKey(b->body.version());
  });
  std::vector<v1::Record> records;
  records.reserve(versions.size());
  for (const WrittenVersion* w : versions) records.push_back(w->record);
  auto oracle = std::make_unique<testing::MemStore>();
  // ApplyRecords merges the records one by one, in this order.
  SYNC_RETURN_IF_ERROR(oracle->Write([&](sync::WriteView& view) -> absl::Status {
    return sync::ApplyRecords(view, "", records, 0, AdmitAll, 0).status();
  }));
  return oracle;
}

}  // namespace steersync::sim
