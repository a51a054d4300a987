// libFuzzer target: the bytes a peer can send on a link, through the same
// path the node takes (node/link.cc): decode v1::SyncMessage, feed
// sync::Session::OnMessage, apply every ApplyRequest through the replica core
// as shipped (sync::Replica with the committee's admission,
// domain::CommitteeAdmission, and the node's signature check,
// node::NodeSignatureCheck, against tests/testdata/certs/ca.crt), acknowledge it, and
// check invariants that must hold for any input. A broken invariant aborts, which libFuzzer
// reports as a crash with the input that caused it.
//
// The link: this node is "vn/quang-ngai", the peer its child
// "vn/quang-ngai/tinh-phong". Input format: see frames.h. A first frame that
// holds an Ack sets our stored checkpoint of the peer's log (what Start() is
// given; 0 otherwise). The next frame is used as the peer's Hello when it is
// one; otherwise a default Hello (applied_seq 0) is fed first. Processing
// stops at the first error, as the node closes the link then.
//
// Only records signed by a test key pass admission, and the fuzzer cannot
// forge signatures: the merge paths are reached by recombining the signed
// records of the seed corpus (tests/fuzz/corpus/, see make_seeds.cc and
// make_kind_seeds.cc).
//
// Two targets are built from this one file (tests/fuzz/CMakeLists.txt):
//   sync_frame_fuzzer           as described above;
//   sync_frame_unsigned_fuzzer  compiled with STEERSYNC_FUZZ_UNSIGNED=1: the
//                               replica's signature check admits every version
//                               (AdmitEverySignature below), so that mutated
//                               payloads of every record kind reach the domain
//                               admission, merge and roster code. Everything
//                               else is the same shipped code.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/err.h>

#include "google/protobuf/stubs/logging.h"
#include "node/identity.h"
#include "node/domain/admission.h"
#include "node/version_signatures.h"
#include "steersync/v1/sync.pb.h"
#include "sync/apply.h"
#include "sync/replica.h"
#include "sync/merge.h"
#include "sync/routing.h"
#include "sync/session.h"
#include "sync/store.h"
#include "sync/version_vector.h"
#include "tests/fuzz/frames.h"

#ifndef STEERSYNC_FUZZ_UNSIGNED
#define STEERSYNC_FUZZ_UNSIGNED 0
#endif

#ifndef STEERSYNC_FUZZ_CA
#error "STEERSYNC_FUZZ_CA (path of the federation CA certificate) must be defined"
#endif

namespace steersync::fuzz {
namespace {


[[noreturn]] void Violated(const char* what, const char* file, int line, const std::string& detail) {
  std::fprintf(stderr, "\nINVARIANT VIOLATED at %s:%d: %s\n  %s\n", file, line, what,
               detail.c_str());
  std::abort();
}
#define FUZZ_CHECK(cond, detail) \
  do {                           \
    if (!(cond)) Violated(#cond, __FILE__, __LINE__, (detail)); \
  } while (false)

// ---- An in-memory store: the LogReader the session reads, and the WriteView
// ApplyRecords writes through (directly: it never fails, so there is nothing
// to roll back).
class MapStore : public sync::LogReader, public sync::WriteView {
 public:
  std::map<std::string, v1::Record, std::less<>> current;
  std::map<std::string, std::map<std::string, v1::Record, std::less<>>, std::less<>> losers;
  std::vector<v1::Record> log;  // log[i] has sequence i + 1
  std::vector<sync::QuarantineEntry> quarantine;
  std::map<std::string, uint64_t, std::less<>> applied;
  std::map<std::string, std::string> meta;
  // The lowest checkpoint the next SetAppliedSeq of the peer may record: the
  // stored one, or 0 once the Session restarted the peer's feed.
  uint64_t checkpoint_floor = 0;

  // sync::LogReader.
  uint64_t HeadSeq() const override { return log.size(); }
  absl::StatusOr<std::vector<sync::LogEntry>> ReadLog(uint64_t after_seq, size_t max_entries,
                                                      size_t max_bytes) const override {
    std::vector<sync::LogEntry> out;
    size_t bytes = 0;
    for (uint64_t seq = after_seq + 1;
         seq <= log.size() && out.size() < max_entries && bytes < max_bytes; ++seq) {
      bytes += log[seq - 1].ByteSizeLong();
      out.push_back({seq, log[seq - 1]});
    }
    return out;
  }
  absl::StatusOr<uint64_t> AppliedSeq(std::string_view peer) const override {
    auto it = applied.find(peer);
    return it == applied.end() ? 0 : it->second;
  }

  // sync::WriteView.
  absl::StatusOr<std::optional<v1::Record>> Get(std::string_view id) override {
    auto it = current.find(id);
    if (it == current.end()) return std::optional<v1::Record>();
    return std::optional<v1::Record>(it->second);
  }
  absl::Status SetCurrent(std::string_view id, const v1::Record& record) override {
    current[std::string(id)] = record;
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> AppendLog(const v1::Record& record) override {
    log.push_back(record);
    return log.size();
  }
  absl::StatusOr<std::vector<v1::Record>> Losers(std::string_view id) override {
    std::vector<v1::Record> out;
    if (auto it = losers.find(id); it != losers.end()) {
      for (const auto& [key, record] : it->second) out.push_back(record);
    }
    return out;
  }
  absl::Status PutLoser(std::string_view id, const v1::Record& record) override {
    v1::RecordBody body;
    FUZZ_CHECK(body.ParseFromString(record.body()), "PutLoser of a version that does not parse");
    losers[std::string(id)][sync::LoserKey(body.version(), record.body())] = record;
    return absl::OkStatus();
  }
  absl::Status DeleteLoser(std::string_view id, std::string_view version_key) override {
    if (auto it = losers.find(id); it != losers.end()) {
      if (auto l = it->second.find(version_key); l != it->second.end()) it->second.erase(l);
      if (it->second.empty()) losers.erase(it);
    }
    return absl::OkStatus();
  }
  absl::Status PutQuarantine(const sync::QuarantineEntry& entry) override {
    quarantine.push_back(entry);
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<std::string>> MetaGet(std::string_view name) override {
    auto it = meta.find(std::string(name));
    if (it == meta.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  absl::Status MetaPut(std::string_view name, std::string_view value) override {
    meta[std::string(name)] = std::string(value);
    return absl::OkStatus();
  }
  absl::Status MetaDelete(std::string_view name) override {
    meta.erase(std::string(name));
    return absl::OkStatus();
  }
  absl::Status SetAppliedSeq(std::string_view peer, uint64_t seq) override {
    // WriteView's REQUIRES: a peer's checkpoint never decreases, except after
    // the peer's log was replaced by a shorter one.
    FUZZ_CHECK(seq >= checkpoint_floor, "checkpoint of " + std::string(peer) + " moved from " +
                                            std::to_string(checkpoint_floor) + " back to " +
                                            std::to_string(seq));
    applied[std::string(peer)] = checkpoint_floor = seq;
    return absl::OkStatus();
  }
};

// Our own change log at the start of every run, so that the outgoing feed
// (Batches to the peer, and the peer's Acks of them) is exercised too: three
// directives addressed down to the peer, one addressed to a sibling commune
// only, and one report the peer itself wrote (never echoed back to it).
const std::vector<v1::Record>& InitialLog() {
  static const std::vector<v1::Record> log = [] {
    std::vector<v1::Record> out;
    auto add = [&](const std::string& writer, const std::string& id, v1::Audience::Direction dir,
                   const std::string& root, const std::string& unit, uint64_t n) {
      v1::RecordBody body;
      body.set_id(id);
      body.set_kind(dir == v1::Audience::DOWN ? v1::DIRECTIVE : v1::REPORT);
      body.mutable_version()->mutable_hlc()->set_wall_micros(kNow - 1'000'000 + n);
      body.mutable_version()->set_writer(writer);
      auto* e = body.mutable_version()->add_vector();
      e->set_node_id(writer);
      e->set_counter(n);
      body.mutable_audience()->set_direction(dir);
      body.mutable_audience()->set_root(root);
      if (!unit.empty()) body.mutable_audience()->add_units(unit);
      v1::Record r;
      r.set_body(body.SerializeAsString());
      out.push_back(std::move(r));
    };
    add(kSelf, "vn/quang-ngai/d/1", v1::Audience::DOWN, kSelf, "", 1);
    add(kSelf, "vn/quang-ngai/d/2", v1::Audience::DOWN, kSelf, "vn/quang-ngai/binh-son", 2);
    add(kSelf, "vn/quang-ngai/d/3", v1::Audience::DOWN, kSelf, "", 3);
    add(kPeer, "vn/quang-ngai/tinh-phong/r/0", v1::Audience::UP, kSelf, "", 1);
    add(kSelf, "vn/quang-ngai/d/4", v1::Audience::DOWN, kSelf, kPeer, 4);
    return out;
  }();
  return log;
}

#if !STEERSYNC_FUZZ_UNSIGNED
// A verifier of the federation CA over `book` (the certificates one run's
// batches carried, as a node's).
std::unique_ptr<node::Verifier> VerifierOver(const node::CertificateBook& book) {
  auto v = node::Verifier::Load(STEERSYNC_FUZZ_CA, nullptr, &book);
  if (!v.ok()) {
    std::fprintf(stderr, "cannot load the CA %s: %s\n", STEERSYNC_FUZZ_CA, v.status().ToString().c_str());
    std::abort();
  }
  return std::move(*v);
}
#endif

#if STEERSYNC_FUZZ_UNSIGNED
// FUZZ-ONLY, never to be used outside tests/fuzz: a signature check that
// admits every version, whatever its signature (or none). It exists so that
// the unsigned fuzzer reaches the domain admission (record_checks.cc,
// act_checks.cc), the merge and the roster with mutated payloads of every
// record kind, which real signatures make unreachable: any mutation of a
// signed body breaks its signature. The signed target (the same file without
// STEERSYNC_FUZZ_UNSIGNED) keeps node::NodeSignatureCheck.
class AdmitEverySignature : public sync::SignatureCheck {
 public:
  sync::Admission Verify(const v1::Record&, const v1::RecordBody&, bool) const override { return {}; }
};
#endif

// The time the replica's clock reads: frames.h's kNow.
class FixedClock : public sync::Clock {
 public:
  int64_t NowMicros() const override { return kNow; }
};

// The frontier of every record id is what store.h promises: a current version
// for every id with losers, losers keyed by their LoserKey, no frontier
// version causally before another, and every admitted version either in the
// frontier or causally before a version in it (never lost).
void CheckFrontiers(const MapStore& store, const std::vector<v1::Record>& admitted) {
  for (const auto& [id, by_key] : store.losers) {
    FUZZ_CHECK(store.current.contains(id), "record '" + id + "' has losers but no current version");
    for (const auto& [key, record] : by_key) {
      v1::RecordBody body;
      FUZZ_CHECK(body.ParseFromString(record.body()), "stored loser of '" + id + "' does not parse");
      FUZZ_CHECK(sync::LoserKey(body.version(), record.body()) == key,
                 "loser of '" + id + "' stored under key " + key);
    }
  }
  for (const v1::Record& record : admitted) {
    v1::RecordBody body;
    body.ParseFromString(record.body());
    std::vector<v1::RecordBody> frontier;
    bool held = false;
    auto visit = [&](const v1::Record& r) {
      if (r.body() == record.body()) held = true;
      frontier.emplace_back().ParseFromString(r.body());
    };
    if (auto it = store.current.find(body.id()); it != store.current.end()) visit(it->second);
    if (auto it = store.losers.find(body.id()); it != store.losers.end()) {
      for (const auto& [key, r] : it->second) visit(r);
    }
    bool dominated = false;
    for (const auto& f : frontier) {
      dominated |= sync::CompareVectors(body.version().vector(), f.version().vector()) ==
                   sync::Causality::kBefore;
    }
    FUZZ_CHECK(held || dominated, "admitted version " + sync::VersionKey(body.version()) +
                                      " of '" + body.id() + "' was lost (frontier holds " +
                                      std::to_string(frontier.size()) + " versions)");
    for (size_t i = 0; i < frontier.size(); ++i) {
      for (size_t j = 0; j < frontier.size(); ++j) {
        FUZZ_CHECK(i == j || sync::CompareVectors(frontier[i].version().vector(),
                                                  frontier[j].version().vector()) !=
                                 sync::Causality::kBefore,
                   "frontier of '" + body.id() + "' holds a causally older version");
      }
    }
  }
}

// STEERSYNC_FUZZ_VERBOSE=1 traces what each input does (for checking seeds:
// `sync_frame_fuzzer tests/fuzz/corpus/seed-versions`).
bool Verbose() {
  static const bool verbose = std::getenv("STEERSYNC_FUZZ_VERBOSE") != nullptr;
  return verbose;
}

// One run: a fresh store and session per input.
class Harness {
 public:
  Harness()
      : session_(Options(), store_),
        admission_(kSelf),
#if !STEERSYNC_FUZZ_UNSIGNED
        verifier_(VerifierOver(certificates_)),
        signatures_(*verifier_, revocations_, nullptr),
#endif
        hlc_(clock_),
        replica_(ReplicaOptions(), admission_, signatures_, hlc_, clock_) {
    store_.log = InitialLog();
  }

  // STEERSYNC_FUZZ_VERBOSE: the versions of each kind admitted (applied,
  // duplicates or stale) and quarantined in this run.
  void PrintKinds() const {
    auto print = [](const char* what, const std::map<std::string, int>& counts) {
      std::fprintf(stderr, "%s by kind:", what);
      for (const auto& [kind, n] : counts) std::fprintf(stderr, " %s %d", kind.c_str(), n);
      std::fprintf(stderr, "\n");
    };
    print("admitted", admitted_by_kind_);
    print("quarantined", quarantined_by_kind_);
  }

  void Run(const uint8_t* data, size_t size) {
    const std::vector<std::string_view> frames = SplitFrames(data, size);
    auto parse = [&](size_t i, v1::SyncMessage& m) {
      return i < frames.size() &&
             m.ParseFromArray(frames[i].data(), static_cast<int>(frames[i].size()));
    };
    size_t next = 0;
    // Our durable checkpoint of the peer's log, as the node reads it from its
    // store when the link opens.
    if (v1::SyncMessage m; parse(0, m) && m.has_ack()) {
      store_.applied[kPeer] = store_.checkpoint_floor = m.ack().applied_seq();
      next = 1;
    }
    checkpoint_ = received_seq_ = store_.applied[kPeer];
    if (Verbose()) {
      std::fprintf(stderr, "start at checkpoint %llu\n", static_cast<unsigned long long>(checkpoint_));
    }
    session_.Start(checkpoint_);
    Drain();
    v1::SyncMessage hello;
    if (parse(next, hello) && hello.has_hello()) {
      ++next;
    } else {
      hello.Clear();
      hello.mutable_hello()->set_node_id(kPeer);
      hello.mutable_hello()->set_protocol_version(sync::kProtocolVersion);
    }
    if (!Feed(std::move(hello))) return;
    for (; next < frames.size(); ++next) {
      v1::SyncMessage m;
      // A frame that does not decode closes the link in the node (gRPC
      // rejects it); here it is skipped so that the rest still counts.
      if (!m.ParseFromArray(frames[next].data(), static_cast<int>(frames[next].size()))) continue;
      if (!Feed(std::move(m))) return;
    }
    // The peer's view of our feed, replayed: acknowledging everything we sent
    // is always acceptable.
    v1::SyncMessage ack;
    ack.mutable_ack()->set_applied_seq(session_.sent_seq());
    if (session_.peer_hello_received()) {
      FUZZ_CHECK(Feed(std::move(ack)), "an Ack of exactly what was sent was refused");
    }
  }

 private:
  static sync::SessionOptions Options() {
    sync::SessionOptions o;
    o.self_id = kSelf;
    o.peer_id = kPeer;
    // Small batches and window, so a short log yields several Batches and Acks.
    o.max_batch_records = 2;
    o.window = 2;
    return o;
  }

  // Feeds one message; false when the session refused it (the link closes).
  bool Feed(v1::SyncMessage m) {
    const uint64_t sent_before = session_.sent_seq();
    const uint64_t received_before = received_seq_;
    const bool is_batch = m.has_batch();
    const bool is_ack = m.has_ack();
    const uint64_t batch_after = m.batch().after_seq();
    const uint64_t batch_last = m.batch().last_seq();
    const size_t batch_records = m.batch().records_size();
    const uint64_t ack_seq = m.ack().applied_seq();
    if (m.has_hello() && !session_.peer_hello_received()) {
      // Where our feed resumes if the session accepts this Hello.
      last_batch_sent_ = m.hello().applied_seq() > store_.HeadSeq() ? 0 : m.hello().applied_seq();
      if (m.hello().recovering()) {
        // A recovering peer takes our log from the start, with its own
        // versions held up to our head now (recovery, sync/session.cc).
        last_batch_sent_ = 0;
        echo_until_ = store_.HeadSeq();
      }
    }

    if (Verbose()) std::fprintf(stderr, "feed %s\n", m.ShortDebugString().substr(0, 200).c_str());
    absl::Status status = session_.OnMessage(std::move(m));
    if (Verbose()) std::fprintf(stderr, "  -> %s\n", status.ToString().c_str());
    if (is_ack) {
      FUZZ_CHECK(status.ok() == (ack_seq <= sent_before),
                 "Ack of " + std::to_string(ack_seq) + " with " + std::to_string(sent_before) +
                     " sent: " + status.ToString());
    }
    // A refused message closes the link: the node takes nothing more from
    // this session (node/link.cc), so its state is not checked any further.
    if (!status.ok()) return false;

    if (is_batch) {
      uint64_t resume = received_before;
      if (!batch_accepted_ && batch_after == 0 && received_before > 0) {
        // The first Batch of a stream restarting at 0 means the peer's log
        // was replaced: the Session takes it again from the start, and the
        // checkpoint may go back (store.h).
        resume = 0;
        store_.checkpoint_floor = 0;
      }
      FUZZ_CHECK(batch_after <= resume && batch_last > resume,
                 "accepted Batch (" + std::to_string(batch_after) + ", " +
                     std::to_string(batch_last) + "] after receiving up to " +
                     std::to_string(received_before));
      batch_accepted_ = true;
      received_seq_ = batch_last;
      accepted_.insert(batch_last);
    }

    std::vector<sync::ApplyRequest> requests = session_.TakeApplyRequests();
    if (is_batch && batch_records > 0) {
      FUZZ_CHECK(requests.size() == 1 && requests[0].last_seq == batch_last &&
                     requests[0].records.size() == batch_records,
                 "a Batch of " + std::to_string(batch_records) + " records to " +
                     std::to_string(batch_last) + " gave " + std::to_string(requests.size()) +
                     " apply requests");
    } else {
      FUZZ_CHECK(requests.empty(), std::to_string(requests.size()) +
                                       " apply requests without a non-empty Batch");
    }
    for (const sync::ApplyRequest& request : requests) Apply(request);
    Drain();
    return true;
  }

  static sync::ReplicaOptions ReplicaOptions() {
    sync::ReplicaOptions o;
    o.self_id = kSelf;
    return o;
  }

  void Apply(const sync::ApplyRequest& request) {
    const size_t quarantined_before = store_.quarantine.size();
    // The two stages the node runs: checks alone (verify stage), then in
    // context on the writer.
#if !STEERSYNC_FUZZ_UNSIGNED
    // The certificates the batch carried, learnt as the node's link does.
    node::LearnSignerCertificates(*verifier_, certificates_, request.certificates, nullptr);
#endif
    const sync::AloneVerdicts alone = replica_.CheckAlone(kPeer, request.records);
    const size_t undo = admission_.Savepoint();
    absl::StatusOr<sync::ApplyStats> stats = replica_.ApplyFromPeer(store_, kPeer, request, &alone);
    FUZZ_CHECK(stats.ok(), "the replica core failed on a store that never fails: " +
                               stats.status().ToString());
    FUZZ_CHECK(admission_.Savepoint() >= undo, "the roster's undo log shrank inside a transaction");
    admission_.Commit();
    std::set<std::string> refused;
    for (const auto& q : stats->rejections) refused.insert(q.record.body());
    for (const v1::Record& record : request.records) {
      v1::RecordBody body;
      const bool parses = body.ParseFromString(record.body());
      if (parses && !refused.contains(record.body())) admitted_.push_back(record);
      if (Verbose()) {
        ++(refused.contains(record.body()) ? quarantined_by_kind_ : admitted_by_kind_)
            [parses ? v1::RecordKind_Name(body.kind()) : "(malformed)"];
      }
    }
    const size_t n = request.records.size();
    if (Verbose()) {
      std::fprintf(stderr, "  apply %zu records to %llu: applied %zu (conflicts %zu), duplicates %zu, "
                   "stale %zu, quarantined %zu\n", n, static_cast<unsigned long long>(request.last_seq),
                   stats->applied, stats->conflicts, stats->duplicates, stats->stale,
                   stats->quarantined);
      for (const auto& q : stats->rejections) {
        std::fprintf(stderr, "    quarantined '%s': %s (%s)\n", q.record_id.c_str(),
                     q.reason_code.c_str(), q.detail.c_str());
      }
    }
    const size_t accounted = stats->applied + stats->duplicates + stats->stale + stats->quarantined;
    FUZZ_CHECK(accounted == n,
               "batch of " + std::to_string(n) + " records: applied " +
                   std::to_string(stats->applied) + " + duplicates " +
                   std::to_string(stats->duplicates) + " + stale " + std::to_string(stats->stale) +
                   " + quarantined " + std::to_string(stats->quarantined));
    FUZZ_CHECK(stats->conflicts <= stats->applied, "more conflicts than applied versions");
    FUZZ_CHECK(stats->rejections.size() == stats->quarantined &&
                   store_.quarantine.size() - quarantined_before == stats->quarantined,
               "quarantined " + std::to_string(stats->quarantined) + ", reported " +
                   std::to_string(stats->rejections.size()) + ", stored " +
                   std::to_string(store_.quarantine.size() - quarantined_before));
    FUZZ_CHECK(store_.applied[kPeer] == request.last_seq, "checkpoint not recorded with the batch");
    CheckFrontiers(store_, admitted_);

    session_.OnApplied(request.last_seq);
    // Applied versions joined our log; the node tells every session.
    absl::Status s = session_.OnLocalAppend();
    FUZZ_CHECK(s.ok(), "OnLocalAppend: " + s.ToString());
  }

  // Takes what the session sends and checks it.
  void Drain() {
    for (const v1::SyncMessage& m : session_.TakeOutgoing()) {
      switch (m.msg_case()) {
        case v1::SyncMessage::kHello:
          if (Verbose()) std::fprintf(stderr, "  sent Hello\n");
          FUZZ_CHECK(!hello_sent_, "a second Hello was sent");
          hello_sent_ = true;
          break;
        case v1::SyncMessage::kAck: {
          const uint64_t a = m.ack().applied_seq();
          // Never beyond what was received, in increasing order, and only at
          // the end of a Batch that was received and applied.
          FUZZ_CHECK(a <= received_seq_, "Ack of " + std::to_string(a) + " but received only up to " +
                                             std::to_string(received_seq_));
          FUZZ_CHECK(!ack_sent_ || a > last_ack_sent_, "Ack of " + std::to_string(a) +
                                                            " after Ack of " +
                                                            std::to_string(last_ack_sent_));
          FUZZ_CHECK(accepted_.contains(a), "Ack of " + std::to_string(a) +
                                                " is not the end of a received Batch");
          if (Verbose()) std::fprintf(stderr, "  sent Ack %llu\n", static_cast<unsigned long long>(a));
          last_ack_sent_ = a;
          ack_sent_ = true;
          break;
        }
        case v1::SyncMessage::kBatch: {
          const v1::Batch& b = m.batch();
          // Contiguous, from where the peer's Hello resumed our feed.
          FUZZ_CHECK(b.after_seq() == last_batch_sent_,
                     "Batch (" + std::to_string(b.after_seq()) + ", " +
                         std::to_string(b.last_seq()) + "] after one ending at " +
                         std::to_string(last_batch_sent_));
          FUZZ_CHECK(b.last_seq() > b.after_seq() && b.last_seq() <= store_.HeadSeq(),
                     "Batch (" + std::to_string(b.after_seq()) + ", " +
                         std::to_string(b.last_seq()) + "] with a log of " +
                         std::to_string(store_.HeadSeq()));
          for (const v1::Record& r : b.records()) {
            v1::RecordBody body;
            FUZZ_CHECK(body.ParseFromString(r.body()), "sent a record that does not parse");
            const bool own = body.version().writer() == kPeer;
            FUZZ_CHECK(own ? echo_until_ >= b.after_seq() + 1 : sync::AddressedTo(body, kSelf, kPeer),
                       own ? "echoed '" + body.id() + "' to a peer that is not recovering"
                           : "sent '" + body.id() + "', not addressed to the peer");
          }
          if (Verbose()) {
            std::fprintf(stderr, "  sent Batch (%llu, %llu] of %d records\n",
                         static_cast<unsigned long long>(b.after_seq()),
                         static_cast<unsigned long long>(b.last_seq()), b.records_size());
          }
          last_batch_sent_ = b.last_seq();
          break;
        }
        default:
          FUZZ_CHECK(false, "sent a message of case " + std::to_string(m.msg_case()));
      }
    }
    // Session invariants (session.h).
    FUZZ_CHECK(session_.acked_seq() <= session_.sent_seq() &&
                   session_.sent_seq() <= store_.HeadSeq(),
               "acked " + std::to_string(session_.acked_seq()) + ", sent " +
                   std::to_string(session_.sent_seq()) + ", head " +
                   std::to_string(store_.HeadSeq()));
    const uint64_t acknowledged = ack_sent_ ? last_ack_sent_ : checkpoint_;
    FUZZ_CHECK(session_.applied_seq() == acknowledged,
               "applied_seq " + std::to_string(session_.applied_seq()) + " but acknowledged " +
                   std::to_string(acknowledged));
    // Everything is applied as soon as it arrives here, so every received
    // Batch has been acknowledged.
    FUZZ_CHECK(acknowledged == received_seq_,
               "received up to " + std::to_string(received_seq_) + " but acknowledged only " +
                   std::to_string(acknowledged));
  }

  MapStore store_;
  sync::Session session_;
  // The replica core as the node builds it, over this run's own revocation
  // set (so runs stay independent of one another).
  node::RevocationSet revocations_;
  domain::CommitteeAdmission admission_;
#if STEERSYNC_FUZZ_UNSIGNED
  AdmitEverySignature signatures_;
#else
  node::CertificateBook certificates_;  // before verifier_, which points to it
  std::unique_ptr<node::Verifier> verifier_;
  node::NodeSignatureCheck signatures_;
#endif
  FixedClock clock_;
  sync::HybridClock hlc_;
  sync::Replica replica_;
  bool hello_sent_ = false;
  uint64_t echo_until_ = 0;  // the peer recovers: its own versions up to here come back
  uint64_t checkpoint_ = 0;       // what Start() was given
  uint64_t received_seq_ = 0;     // end of the newest Batch the session accepted (or checkpoint_)
  bool batch_accepted_ = false;   // the session accepted a Batch on this stream
  std::set<uint64_t> accepted_;   // ends of the Batches it accepted
  bool ack_sent_ = false;         // Acks on this stream: increasing, each the end of a Batch
  uint64_t last_ack_sent_ = 0;
  uint64_t last_batch_sent_ = 0;
  std::vector<v1::Record> admitted_;
  std::map<std::string, int> admitted_by_kind_;     // only with STEERSYNC_FUZZ_VERBOSE
  std::map<std::string, int> quarantined_by_kind_;
};

}  // namespace
}  // namespace steersync::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Mutated strings are often not UTF-8; protobuf logs every such parse.
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int,
                                     const std::string&) {});
  steersync::fuzz::InitialLog();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  steersync::fuzz::Harness harness;
  harness.Run(data, size);
  if (steersync::fuzz::Verbose()) harness.PrintKinds();
  // OpenSSL keeps errors of failed parses queued, allocated, until the next
  // call clears them; libFuzzer then sees more mallocs than frees and reruns
  // the input under LeakSanitizer, which makes every such run ~5x slower.
  ERR_clear_error();
  return 0;
}
