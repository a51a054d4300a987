#include "tests/sim/sim.h"

#include <algorithm>
#include <deque>
#include <set>
#include <sstream>

#include "sync/apply.h"
#include "sync/merge.h"
#include "sync/node_path.h"
#include "sync/routing.h"
#include "sync/status_macros.h"
#include "sync/version_vector.h"

namespace steersync::sim {
namespace {

// Unix micros at simulated time 0 (2026-09-21), so HLCs look like real ones.
constexpr int64_t kEpochMicros = 1'790'000'000'000'000;
constexpr uint32_t kRoleRanks[] = {100, 90, 80, 70, 60, 10};
constexpr const char* kLegalDates[] = {"2026-03-02", "2026-03-03", "2026-03-04"};
// Bound on the violations kept, so a broken invariant does not flood the log.
constexpr size_t kMaxViolations = 20;

// The domain's admission policy is tested elsewhere (tests/node/policy_test);
// here routing alone decides who receives what.
sync::Admission AdmitAll(std::string_view, const v1::RecordBody&, const v1::Record&) {
  return sync::Admission{};
}

// "vn/quang-ngai/c07": zero-padded to two digits.
std::string CommuneId(int index) {
  const std::string digits = std::to_string(index);
  return std::string(kProvince) + "/c" + (index < 10 ? "0" : "") + digits;
}

// Lines of `a` missing from `b`, prefixed with `mark`.
std::string MissingLines(const std::string& a, const std::string& b, const char* mark) {
  std::set<std::string> in_b;
  std::istringstream bs(b);
  for (std::string line; std::getline(bs, line);) in_b.insert(line);
  std::string out;
  std::istringstream as(a);
  for (std::string line; std::getline(as, line);) {
    if (!in_b.contains(line)) out += std::string(mark) + line + "\n";
  }
  return out;
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
  testing::MemStore store;  // survives restarts
  std::unique_ptr<NodeClock> clock;
  std::unique_ptr<sync::HybridClock> hlc;  // rebuilt on restart from last_local_hlc
  // Persisted with every local write, as node.cc keeps them in the store's
  // meta table: the per-node version counter and the last local HLC.
  uint64_t local_counter = 0;
  v1::Hlc last_local_hlc;
  std::vector<std::string> own_ids;  // directives/reports it created, for amendments
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
  int child = 0;  // node index of the commune
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
  for (int n = 0; n <= options_.communes; ++n) {
    auto node = std::make_unique<Node>();
    node->id = n == kProvinceNode ? std::string(kProvince) : CommuneId(n - 1);
    node->clock = std::make_unique<NodeClock>(now_, Uniform(-50'000, 50'000));
    node->hlc = std::make_unique<sync::HybridClock>(*node->clock);
    nodes_.push_back(std::move(node));
  }
  for (int n = 1; n <= options_.communes; ++n) {
    auto link = std::make_unique<Link>();
    link->child = n;
    links_.push_back(std::move(link));
    Schedule(Uniform(0, 10'000), [this, n] { TryConnect(n); });
  }
}

Sim::~Sim() = default;

const std::string& Sim::node_id(int node) const { return nodes_.at(node)->id; }
testing::MemStore& Sim::store(int node) { return nodes_.at(node)->store; }
const testing::MemStore& Sim::store(int node) const { return nodes_.at(node)->store; }

std::string Sim::Describe() const {
  std::ostringstream out;
  out << "seed " << options_.seed << " (communes " << options_.communes << ", batch records "
      << session_options_.max_batch_records << ", batch bytes " << session_options_.max_batch_bytes
      << ", scan " << session_options_.max_scan_entries << ", window " << session_options_.window
      << ", faults " << options_.faults << ", commit_fail_one_in "
      << options_.commit_fail_one_in << ", abandoned_applies_commit "
      << options_.abandoned_applies_commit << ")";
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

int Sim::RandomCommune() { return static_cast<int>(Uniform(1, options_.communes)); }

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
  while (Step()) {
    if (stats_.steps > options_.max_steps) {
      return absl::DeadlineExceededError("no quiescence after " +
                                         std::to_string(options_.max_steps) + " steps");
    }
  }
  if (!violations_.empty()) return absl::InternalError(violations_.front());
  return absl::OkStatus();
}

// ---- Links ------------------------------------------------------------------

Sim::Link& Sim::LinkOf(int commune_node) { return *links_.at(commune_node - 1); }

std::vector<Sim::Link*> Sim::LinksOf(int node) {
  std::vector<Link*> out;
  if (node == kProvinceNode) {
    for (auto& link : links_) out.push_back(link.get());
  } else {
    out.push_back(&LinkOf(node));
  }
  return out;
}

sync::Session& Sim::SessionAt(Link& link, Side side) { return *link.sessions[side]; }

int Sim::NodeAt(const Link& link, Side side) const {
  return side == kParentSide ? kProvinceNode : link.child;
}

void Sim::TryConnect(int commune_node) {
  Link& link = LinkOf(commune_node);
  if (link.connected || now_ < link.cut_until) return;  // the heal retries
  if (!nodes_[kProvinceNode]->up || !nodes_[commune_node]->up) return;  // NodeUp retries
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

void Sim::Flush(Link& link, Side side) {
  sync::Session& session = SessionAt(link, side);
  for (v1::SyncMessage& m : session.TakeOutgoing()) Send(link, side, std::move(m));
  for (sync::ApplyRequest& r : session.TakeApplyRequests()) QueueApply(link, side, std::move(r));
}

void Sim::Send(Link& link, Side from, v1::SyncMessage message) {
  // Mostly LAN-like delays, sometimes a slow path; TCP keeps each direction
  // of a stream in order, and a clogged link holds what is sent meanwhile.
  int64_t t = now_ + (OneIn(25) ? Uniform(50'000, 500'000) : Uniform(200, 20'000));
  t = std::max({t, link.last_delivery[from], link.clog_until});
  link.last_delivery[from] = t;
  const Side to = from == kParentSide ? kChildSide : kParentSide;
  Schedule(t, [this, n = link.child, inc = link.incarnation, to,
               m = std::move(message)]() mutable { Deliver(n, inc, to, std::move(m)); });
}

void Sim::Deliver(int commune_node, uint64_t incarnation, Side to, v1::SyncMessage message) {
  Link& link = LinkOf(commune_node);
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
  testing::MemStore& store = nodes_[node]->store;
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
      violations_.push_back("a failed commit changed the store of " + nodes_[node]->id);
    }
    return status;
  }
  return store.Write(fn);
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

void Sim::CompleteApply(int node, int commune_node, Side side, uint64_t node_epoch,
                        uint64_t incarnation, const sync::ApplyRequest& request) {
  Node& n = *nodes_[node];
  if (n.epoch != node_epoch) {
    ++stats_.applies_dropped;  // the node crashed before this commit
    return;
  }
  Link& link = LinkOf(commune_node);
  const bool live = link.connected && link.incarnation == incarnation;
  if (!live && !options_.abandoned_applies_commit) {
    ++stats_.applies_dropped;  // lost with its stream
    return;
  }
  const Side peer_side = side == kParentSide ? kChildSide : kParentSide;
  const std::string& peer = nodes_[NodeAt(link, peer_side)]->id;
  sync::ApplyStats result;
  absl::Status status = Commit(node, [&](sync::WriteView& view) -> absl::Status {
    SYNC_ASSIGN_OR_RETURN(result, sync::ApplyRecords(view, peer, request.records,
                                                     request.last_seq, AdmitAll,
                                                     n.clock->NowMicros()));
    return absl::OkStatus();
  });
  if (!status.ok()) {
    // As node/link.cc does: the stream closes and resumes from the checkpoint.
    if (live) {
      Drop(link);
      ScheduleReconnect(link);
    }
    return;
  }
  ++stats_.applies;
  if (!live) ++stats_.applies_abandoned;
  n.hlc->Observe(result.max_hlc);
  stats_.conflicts += result.conflicts;
  stats_.duplicates += result.duplicates;
  stats_.stale += result.stale;
  if (result.quarantined > 0 && violations_.size() < kMaxViolations) {
    violations_.push_back(n.id + " quarantined " + std::to_string(result.quarantined) +
                          " versions from " + peer + ": " + result.rejections[0].reason_code);
  }
  if (live) {
    SessionAt(link, side).OnApplied(request.last_seq);
    Flush(link, side);
  }
  OnCommit(node);
}

void Sim::OnCommit(int node) {
  const Side side = node == kProvinceNode ? kParentSide : kChildSide;
  for (Link* link : LinksOf(node)) {
    if (!link->connected) continue;
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

// A local write as node.cc's WriteLocal makes it: the new version's vector is
// the vector of the node's current version of the id (if any) with the node's
// own entry set to its next counter. The counter is per node, not per record
// (as in node.cc), so a node never reuses a counter for two versions.
void Sim::DoWrite(WriteSpec spec) {
  Node& node = *nodes_[spec.node];
  if (!node.up) {
    ++stats_.writes_refused_node_down;
    return;
  }
  const uint64_t counter = node.local_counter + 1;
  v1::RecordBody body;
  v1::Record record;
  sync::ApplyStats result;
  absl::Status status = Commit(spec.node, [&](sync::WriteView& view) -> absl::Status {
    body.Clear();
    FillBody(spec, counter, body);
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> existing, view.Get(body.id()));
    v1::Version* version = body.mutable_version();
    if (existing.has_value()) {
      v1::RecordBody previous;
      if (previous.ParseFromString(existing->body())) {
        *version->mutable_vector() = previous.version().vector();
      }
    }
    sync::SetCounter(*version->mutable_vector(), node.id, counter);
    *version->mutable_hlc() = node.hlc->Now();
    version->set_writer(node.id);
    record.set_body(body.SerializeAsString());
    SYNC_ASSIGN_OR_RETURN(result, sync::ApplyRecords(view, "", {record}, 0, AdmitAll,
                                                     node.clock->NowMicros()));
    return absl::OkStatus();
  });
  if (!status.ok()) return;  // an injected failure: the write never happened
  if (result.applied != 1 && violations_.size() < kMaxViolations) {
    violations_.push_back("local write of " + body.id() + " at " + node.id +
                          " did not join the frontier");
  }
  node.local_counter = counter;
  node.last_local_hlc = body.version().hlc();
  if (spec.kind != WriteSpec::Kind::kShared &&
      std::find(node.own_ids.begin(), node.own_ids.end(), body.id()) == node.own_ids.end()) {
    node.own_ids.push_back(body.id());
  }
  ++stats_.local_writes;
  stats_.conflicts += result.conflicts;
  written_.push_back({spec.node, record, body, Reaches(body, spec.node)});
  OnCommit(spec.node);
}

// Fills id, kind, audience, payload and authority; the version's vector, HLC
// and writer are the caller's.
// REQUIRES: kDirective at the province, kReport at a commune.
void Sim::FillBody(const WriteSpec& spec, uint64_t counter, v1::RecordBody& body) {
  const Node& node = *nodes_[spec.node];
  const bool at_province = spec.node == kProvinceNode;
  const bool amend = spec.kind != WriteSpec::Kind::kShared && !node.own_ids.empty() &&
                     spec.amend.value_or(OneIn(6));
  std::string id;
  if (spec.kind == WriteSpec::Kind::kShared) {
    id = std::string(kProvince) + "/shared/" + std::to_string(spec.shared_key);
  } else if (amend) {
    id = node.own_ids[Uniform(0, static_cast<int64_t>(node.own_ids.size()) - 1)];
  } else {
    id = node.id + (at_province ? "/d/" : "/r/") + std::to_string(counter);
  }
  body.set_id(id);
  v1::Audience* audience = body.mutable_audience();
  audience->set_root(kProvince);
  if (at_province) {
    body.set_kind(v1::DIRECTIVE);
    audience->set_direction(v1::Audience::DOWN);
    if (spec.units.has_value()) {
      for (int u : *spec.units) audience->add_units(nodes_.at(u)->id);
    } else if (OneIn(3)) {
      for (int c = 1; c <= options_.communes; ++c) {
        if (OneIn(4)) audience->add_units(nodes_[c]->id);
      }
      if (audience->units().empty()) audience->add_units(nodes_[RandomCommune()]->id);
    }
    v1::Directive d;
    d.set_number(std::to_string(counter) + "/CT-BCĐ");
    d.set_title("directive " + id);
    d.set_issuer(node.id);
    *d.mutable_to_units() = audience->units();
    body.set_payload(d.SerializeAsString());
  } else {
    body.set_kind(v1::REPORT);
    audience->set_direction(v1::Audience::UP);
    v1::Report r;
    r.set_period("2026-Q1");
    r.set_title("report " + id + " #" + std::to_string(counter));
    r.set_from_unit(node.id);
    body.set_payload(r.SerializeAsString());
  }
  v1::Version* version = body.mutable_version();
  if (spec.authority.has_value()) {
    *version->mutable_authority() = *spec.authority;
  } else {
    version->mutable_authority()->set_role_rank(kRoleRanks[Uniform(0, 5)]);
    version->mutable_authority()->set_acting_for_head(OneIn(4));
    version->mutable_authority()->set_capacity("SIM");
  }
  version->mutable_authority()->set_unit_depth(static_cast<uint32_t>(sync::DepthOf(node.id)));
  version->set_legal_date(spec.legal_date.has_value() ? *spec.legal_date
                                                      : kLegalDates[Uniform(0, 2)]);
}

// Nodes a version written at `writer` reaches: a breadth-first walk over the
// tree, crossing an edge u -> v when the session at u would send it to v
// (AddressedTo, and never back to its writer). With one level of communes
// nothing is relayed; a deeper tree would also need the relay to keep the
// version in its frontier, which this walk does not model.
std::vector<bool> Sim::Reaches(const v1::RecordBody& body, int writer) const {
  std::vector<bool> reached(nodes_.size(), false);
  reached[writer] = true;
  std::deque<int> frontier{writer};
  while (!frontier.empty()) {
    const int u = frontier.front();
    frontier.pop_front();
    std::vector<int> neighbours;
    if (u == kProvinceNode) {
      for (int c = 1; c <= options_.communes; ++c) neighbours.push_back(c);
    } else {
      neighbours.push_back(kProvinceNode);
    }
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

void Sim::ResetLink(int64_t at, int commune_node) {
  Schedule(at, [this, commune_node] {
    Link& link = LinkOf(commune_node);
    if (!faults_enabled_ || !link.connected) return;
    ++stats_.resets;
    Drop(link);
    ScheduleReconnect(link);
  });
}

void Sim::Partition(int64_t at, std::vector<int> commune_nodes, int64_t duration, bool clog) {
  Schedule(at, [this, nodes = std::move(commune_nodes), duration, clog] {
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
  // A new process: the HLC restarts from the last persisted local timestamp.
  n.hlc = std::make_unique<sync::HybridClock>(*n.clock);
  n.hlc->Restore(n.last_local_hlc);
  Schedule(n.down_until, [this, node] { NodeUp(node); });
}

void Sim::NodeUp(int node) {
  Node& n = *nodes_[node];
  if (n.up || now_ < n.down_until) return;
  n.up = true;
  for (Link* link : LinksOf(node)) ScheduleReconnect(*link);
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
    for (int c = 1; c <= options_.communes; ++c) {
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
  for (int i = 0; i < options_.writes; ++i) {
    Schedule(Uniform(0, options_.window_micros - 1), [this] {
      // Drawn when it runs, so the spec sees the state of that moment.
      WriteSpec spec;
      const int64_t r = Uniform(0, 99);
      if (r < 20) {
        spec.node = kProvinceNode;
        spec.kind = WriteSpec::Kind::kDirective;
      } else if (r < 50) {
        spec.node = RandomCommune();
        spec.kind = WriteSpec::Kind::kReport;
      } else {
        spec.node = OneIn(3) ? kProvinceNode : RandomCommune();
        spec.kind = WriteSpec::Kind::kShared;
        spec.shared_key = static_cast<int>(Uniform(0, options_.shared_records - 1));
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
  if (violations_.size() >= kMaxViolations) return;
  for (auto& link : links_) {
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
    if (!node->store.quarantine().empty()) {
      problems.push_back(node->id + " quarantined " +
                         std::to_string(node->store.quarantine().size()) + " versions");
    }
  }
  CheckSessionsDone(problems);
  for (int node = 0; node < node_count(); ++node) CheckNodeMatchesOracle(node, problems);
  return problems;
}

void Sim::CheckSessionsDone(std::vector<std::string>& problems) const {
  const testing::MemStore& province = nodes_[kProvinceNode]->store;
  for (const auto& link : links_) {
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
    expect("province session acked_seq", down.acked_seq(), province.HeadSeq());
    expect("province session sent_seq", down.sent_seq(), province.HeadSeq());
    expect("province session applied_seq", down.applied_seq(), child.store.HeadSeq());
    expect("commune session acked_seq", up.acked_seq(), child.store.HeadSeq());
    expect("commune session sent_seq", up.sent_seq(), child.store.HeadSeq());
    expect("commune session applied_seq", up.applied_seq(), province.HeadSeq());
    // Stored checkpoints may lag (batches with nothing for the receiver are
    // acknowledged without a write) but never pass the peer's head.
    if (child.store.AppliedSeq(kProvince).value_or(0) > province.HeadSeq() ||
        province.AppliedSeq(child.id).value_or(0) > child.store.HeadSeq()) {
      problems.push_back("link " + child.id + ": a stored checkpoint is past the peer's head");
    }
  }
}

void Sim::CheckNodeMatchesOracle(int node, std::vector<std::string>& problems) const {
  const testing::MemStore& store = nodes_[node]->store;
  const std::string& id = nodes_[node]->id;
  absl::StatusOr<std::unique_ptr<testing::MemStore>> oracle = Oracle(node);
  if (!oracle.ok()) {
    problems.push_back(id + ": building the oracle failed: " + oracle.status().ToString());
    return;
  }
  if (store.Digest() != (*oracle)->Digest()) {
    const std::string got = store.Describe();
    const std::string want = (*oracle)->Describe();
    problems.push_back(id + " differs from its oracle:\n" + MissingLines(want, got, "  missing: ") +
                       MissingLines(got, want, "  unexpected: "));
  }
  // No version routed here is lost: each is held (current or loser) or
  // causally older than one held.
  struct Held {
    std::string bytes;  // exact signed bytes
    v1::RecordBody body;
  };
  std::map<std::string, std::vector<Held>> held;  // by record id, parsed once
  for (const WrittenVersion& w : written_) {
    if (!w.reaches[node]) continue;
    auto [it, inserted] = held.try_emplace(w.body.id());
    if (inserted) {
      std::vector<v1::Record> records = store.Losers(w.body.id());
      if (auto current = store.Current(w.body.id())) records.push_back(*std::move(current));
      for (v1::Record& r : records) {
        Held& h = it->second.emplace_back();
        h.body.ParseFromString(r.body());
        h.bytes = std::move(*r.mutable_body());
      }
    }
    const bool kept = std::any_of(it->second.begin(), it->second.end(), [&](const Held& h) {
      return h.bytes == w.record.body() ||
             sync::CompareVectors(w.body.version().vector(), h.body.version().vector()) ==
                 sync::Causality::kBefore;
    });
    if (!kept) {
      problems.push_back(id + " lost version " + sync::VersionKey(w.body.version()) + " of " +
                         w.body.id());
    }
  }
}

absl::StatusOr<std::unique_ptr<testing::MemStore>> Sim::Oracle(int node) const {
  std::vector<const WrittenVersion*> versions;
  for (const WrittenVersion& w : written_) {
    if (w.reaches[node]) versions.push_back(&w);
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
