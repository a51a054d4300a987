// Deterministic multi-node simulation of the replication core (STYLE.md
// guideline 8): a province and its communes write random rosters, act under
// them, conflict, lose links, partition and restart; after healing, every
// node must hold exactly what routing says it should, merged as one canonical
// application of that set would merge it, and every forged act must have
// been quarantined everywhere else. Every failure prints its seed; a seed
// replays exactly.
#include <iostream>
#include <map>
#include <sstream>

#include "sync/apply.h"
#include "sync/merge.h"
#include "sync/version_vector.h"
#include "tests/sim/sim.h"
#include "tests/testutil/fixtures.h"

namespace steersync::sim {
namespace {

using steersync::testing::IsOk;
using steersync::testing::MemStore;

constexpr int64_t kMs = 1'000;
constexpr int64_t kSec = 1'000'000;

sync::Admission AdmitAll(std::string_view, const v1::RecordBody&, const v1::Record&) {
  return sync::Admission{};
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string KeyOf(const v1::Record& record) {
  v1::RecordBody body;
  return body.ParseFromString(record.body()) ? sync::VersionKey(body.version()) : "<unparsable>";
}

std::vector<std::string> KeysOf(const std::vector<v1::Record>& records) {
  std::vector<std::string> keys;
  for (const auto& r : records) keys.push_back(KeyOf(r));
  return keys;
}

// A capacity in `membership_id` of the writer's own committee.
domain::Capacity Capacity(std::string membership_id, std::string formula = "") {
  domain::Capacity c;
  c.membership_id = std::move(membership_id);
  c.formula = std::move(formula);
  return c;
}

// The line of MemStore::Describe() output `described` about record `id`.
std::string LineOf(const std::string& described, const std::string& id) {
  std::istringstream in(described);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(id + " ", 0) == 0) return line + "\n";
  }
  return "";
}

// The first version `writer` wrote of `id`.
const WrittenVersion* FindWritten(const Sim& sim, int writer, const std::string& id) {
  for (const WrittenVersion& w : sim.written()) {
    if (w.writer == writer && w.body.id() == id) return &w;
  }
  return nullptr;
}

void ExpectConverged(const Sim& sim) {
  const std::vector<std::string> problems = sim.CheckConverged();
  EXPECT_TRUE(problems.empty()) << sim.Describe() << "\n" << Join(problems);
}

// ---- Many seeds ---------------------------------------------------------------

class ConvergenceSim : public ::testing::TestWithParam<int> {};

// Issue 3's property: for random rosters and random concurrent writes on a
// province and 20 communes, whatever the delivery order, duplication or
// partitions, every replica ends with the state its oracle has (byte-identical
// where two should hold the same versions); no admitted version is lost; every
// forged version is quarantined by every other node it reaches, and nothing
// else is.
TEST_P(ConvergenceSim, RandomWorkloadWithFaultsConverges) {
  const uint64_t seed = static_cast<uint64_t>(GetParam());
  Sim sim(SimOptions{.seed = seed});
  sim.AddRandomWorkload();
  ASSERT_THAT(sim.RunUntilQuiescent(), IsOk()) << "seed " << seed << ": " << sim.Describe();
  ExpectConverged(sim);
  EXPECT_GT(sim.stats().local_writes, 0u) << "seed " << seed;
  // Exactly once: a checkpoint commits with the records it covers, so after a
  // reset, restart or failed commit the peer resends only what was not
  // applied (DESIGN.md "Replication").
  EXPECT_EQ(sim.stats().duplicates, 0u) << "seed " << seed;
}

INSTANTIATE_TEST_SUITE_P(Seeds, ConvergenceSim, ::testing::Range(1, 501));

// ---- The harness itself ---------------------------------------------------------

TEST(ConvergenceSimHarness, SameSeedReplaysExactly) {
  auto run = [](uint64_t seed) {
    Sim sim(SimOptions{.seed = seed});
    sim.AddRandomWorkload();
    EXPECT_THAT(sim.RunUntilQuiescent(), IsOk());
    std::ostringstream trace;
    trace << sim.stats().steps << " " << sim.stats().messages_delivered << " "
          << sim.stats().conflicts << " " << sim.now() << "\n";
    for (int n = 0; n < sim.node_count(); ++n) {
      trace << sim.store(n).HeadSeq() << " " << sim.store(n).Digest();
    }
    return trace.str();
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

// Guards against a vacuous simulation: across a few seeds the faults and
// conflicts the convergence check is meant to survive really happen.
TEST(ConvergenceSimHarness, FaultsAndConflictsReallyHappen) {
  SimStats total;
  int nodes_with_losers = 0;
  std::map<std::string, int> decided_by;  // rule -> losers it decided, over all nodes
  // Enough seeds that every rule decides some loser (R5, the tie-break,
  // needs two equal authorities writing one record concurrently: rare).
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    Sim sim(SimOptions{.seed = seed});
    sim.AddRandomWorkload();
    ASSERT_THAT(sim.RunUntilQuiescent(), IsOk()) << "seed " << seed;
    const SimStats& s = sim.stats();
    total.steps += s.steps;
    total.applies += s.applies;
    total.messages_delivered += s.messages_delivered;
    total.local_writes += s.local_writes;
    total.conflicts += s.conflicts;
    total.duplicates += s.duplicates;
    total.resets += s.resets;
    total.partitions += s.partitions;
    total.restarts += s.restarts;
    total.commit_failures += s.commit_failures;
    total.applies_dropped += s.applies_dropped;
    total.messages_dropped += s.messages_dropped;
    total.roster_writes += s.roster_writes;
    total.forged_writes += s.forged_writes;
    total.forged_quarantined += s.forged_quarantined;
    total.forged_relations += s.forged_relations;
    for (const auto& [reason, n] : s.quarantined_by_reason) total.quarantined_by_reason[reason] += n;
    total.writes_refused_authority += s.writes_refused_authority;
    for (const auto& [reason, n] : s.refused_by_reason) total.refused_by_reason[reason] += n;
    for (int n = 0; n < sim.node_count(); ++n) {
      bool has_losers = false;
      for (const std::string& id : sim.store(n).RecordIds()) {
        const std::vector<v1::Record> losers = sim.store(n).Losers(id);
        if (losers.empty()) continue;
        has_losers = true;
        const v1::Record winner = *sim.store(n).Current(id);
        v1::RecordBody w;
        ASSERT_TRUE(w.ParseFromString(winner.body()));
        for (const v1::Record& loser : losers) {
          v1::RecordBody l;
          ASSERT_TRUE(l.ParseFromString(loser.body()));
          ++decided_by[std::string(sync::RuleName(
              sync::Decide(l, loser.body(), w, winner.body()).rule))];
        }
      }
      if (has_losers) ++nodes_with_losers;
    }
  }
  std::cout << "20 seeds: " << total.steps << " events, " << total.local_writes << " writes, "
            << total.messages_delivered << " messages, " << total.applies << " applies, "
            << total.conflicts << " conflicts, " << total.resets << " resets, "
            << total.partitions << " partitions, " << total.restarts << " restarts, "
            << total.commit_failures << " failed commits, " << total.applies_dropped
            << " applies lost, " << nodes_with_losers << " nodes with losers\n"
            << "  rosters: " << total.roster_writes << " roster records, "
            << total.writes_refused_authority << " acts refused at their writer (";
  for (const auto& [reason, n] : total.refused_by_reason) std::cout << reason << " " << n << " ";
  std::cout << "), "
            << total.forged_writes << " forged, " << total.forged_quarantined
            << " forged versions quarantined at receivers (";
  for (const auto& [reason, n] : total.quarantined_by_reason) std::cout << reason << " " << n << " ";
  std::cout << "), of which " << total.forged_relations
            << " relations to a higher rank's act\n  losers decided by:";
  for (const auto& [rule, n] : decided_by) std::cout << " " << rule << "=" << n;
  std::cout << "\n";
  EXPECT_GT(total.local_writes - total.roster_writes, 1000u);  // acts
  EXPECT_GT(total.conflicts, 0u);
  EXPECT_GT(total.resets, 0u);
  EXPECT_GT(total.partitions, 0u);
  EXPECT_GT(total.restarts, 0u);
  EXPECT_GT(total.commit_failures, 0u);
  EXPECT_GT(total.applies_dropped, 0u);
  EXPECT_GT(total.messages_dropped, 0u);
  EXPECT_GT(nodes_with_losers, 0);
  EXPECT_GT(total.roster_writes, 40u * 21u * 3u);
  EXPECT_GT(total.writes_refused_authority, 0u);
  EXPECT_GT(total.forged_writes, 0u);
  EXPECT_GT(total.forged_quarantined, total.forged_writes);
  // Escalation by relation (a lower rank replacing or recalling a higher
  // rank's document, P 2.1, §3.4) is forged and refused everywhere.
  EXPECT_GT(total.forged_relations, 0u);
  EXPECT_GT(total.quarantined_by_reason["RELATION_DENIED"], 0u);
  // Authorities from real rosters decide real conflicts by level, by rank, by
  // acting for the Head, and otherwise by the tie-break.
  EXPECT_GT(decided_by["R1"], 0);
  EXPECT_GT(decided_by["R2"], 0);
  EXPECT_GT(decided_by["R3"], 0);
  EXPECT_GT(decided_by["R5"], 0);
}

// A failed transaction leaves the store exactly as it was.
TEST(ConvergenceSimHarness, MemStoreWriteIsAllOrNothing) {
  MemStore store;
  v1::RecordBody body;
  body.set_id("vn/quang-ngai/d/1");
  body.mutable_version()->set_writer("vn/quang-ngai");
  v1::Record record;
  record.set_body(body.SerializeAsString());
  const absl::Status failed = store.Write([&](sync::WriteView& view) -> absl::Status {
    EXPECT_THAT(view.SetCurrent(body.id(), record), IsOk());
    EXPECT_THAT(view.AppendLog(record), IsOk());
    EXPECT_THAT(view.SetAppliedSeq("vn/quang-ngai/c00", 7), IsOk());
    return absl::AbortedError("roll back");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(store.HeadSeq(), 0u);
  EXPECT_EQ(store.Digest(), "");
  EXPECT_EQ(*store.AppliedSeq("vn/quang-ngai/c00"), 0u);
}

// Four batches reach a commune at once (a clogged link); the commit of the
// first fails and the stream closes. If the three queued behind it are lost
// with the stream (SimOptions::abandoned_applies_commit = false), the commune
// later gets all four again. If they still commit, as node/'s
// GroupCommitWriter lets them, their checkpoint skips the failed batch and its
// record is never resent: the checker must report that loss.
TEST(ConvergenceSimHarness, CheckerCatchesABatchSkippedAfterAFailedCommit) {
  for (bool abandoned_commit : {false, true}) {
    SCOPED_TRACE(abandoned_commit ? "queued applies still commit" : "queued applies are lost");
    sync::SessionOptions one_per_batch;
    one_per_batch.max_batch_records = 1;
    one_per_batch.window = 4;
    Sim sim(SimOptions{.seed = 5,
                       .communes = 2,
                       .commit_fail_one_in = 0,
                       .abandoned_applies_commit = abandoned_commit,
                       .session = one_per_batch});
    constexpr int kCommune = 1;
    sim.Partition(500 * kMs, {kCommune}, 1500 * kMs, /*clog=*/true);
    for (int i = 0; i < 4; ++i) {
      sim.Write(1 * kSec, WriteSpec{.node = kProvinceNode, .kind = WriteSpec::Kind::kDirective,
                                    .units = std::vector<int>{kCommune}, .amend = false});
    }
    ASSERT_THAT(sim.RunUntil(1500 * kMs), IsOk());
    sim.FailNextCommitForTest(kCommune);
    ASSERT_THAT(sim.RunUntilQuiescent(), IsOk()) << sim.Describe();
    ASSERT_EQ(sim.stats().commit_failures, 1u);
    const std::vector<std::string> problems = sim.CheckConverged();
    if (abandoned_commit) {
      EXPECT_EQ(sim.stats().applies_abandoned, 3u);
      EXPECT_THAT(problems, ::testing::Contains(::testing::HasSubstr(
                                "vn/quang-ngai/c00 lost version vn/quang-ngai@")))
          << Join(problems);
    } else {
      EXPECT_TRUE(problems.empty()) << Join(problems);
    }
  }
}

// ---- Named scenarios ------------------------------------------------------------

// Half the communes are cut off while both sides keep writing; nothing crosses
// the cut until it heals, then everyone converges.
TEST(ConvergenceSimScenario, PartitionHealsAndBothSidesConverge) {
  Sim sim(SimOptions{.seed = 7, .communes = 20, .commit_fail_one_in = 0});
  std::vector<int> cut;
  for (int c = 1; c <= 10; ++c) cut.push_back(c);
  sim.Partition(200 * kMs, cut, 20 * kSec, /*clog=*/false);
  for (int i = 0; i < 40; ++i) {
    const int64_t at = 1 * kSec + i * 300 * kMs;
    sim.Write(at, WriteSpec{.node = kProvinceNode, .kind = WriteSpec::Kind::kDirective});
    sim.Write(at, WriteSpec{.node = 1 + i % 20, .kind = WriteSpec::Kind::kReport});
    sim.Write(at + 100 * kMs, WriteSpec{.node = i % 2 == 0 ? kProvinceNode : 1 + (i * 7) % 20,
                                        .kind = WriteSpec::Kind::kShared,
                                        .shared_key = i % 3});
  }
  ASSERT_THAT(sim.RunUntil(19 * kSec), IsOk()) << sim.Describe();

  // Before the heal: the connected side has converged, the cut side has not.
  for (int c = 1; c <= 20; ++c) {
    auto oracle = sim.Oracle(c);
    ASSERT_THAT(oracle, IsOk());
    if (c <= 10) {
      EXPECT_NE(sim.store(c).Describe(), (*oracle)->Describe()) << sim.node_id(c) << " saw across the cut";
      EXPECT_EQ(*sim.store(c).AppliedSeq(kProvince), 0u) << sim.node_id(c);
    } else {
      EXPECT_EQ(sim.store(c).Describe(), (*oracle)->Describe()) << sim.node_id(c);
    }
  }
  ASSERT_THAT(sim.RunUntilQuiescent(), IsOk()) << sim.Describe();
  ExpectConverged(sim);
}

// A commune catching up on a long backlog restarts in the middle, and so does
// the province; the catch-up resumes from the durable checkpoint and nothing
// is lost.
TEST(ConvergenceSimScenario, RestartMidCatchUpLosesNothing) {
  sync::SessionOptions small;
  small.max_batch_records = 5;
  small.window = 2;
  Sim sim(SimOptions{.seed = 11, .communes = 3, .commit_fail_one_in = 0, .session = small});
  constexpr int kCommune = 1;
  sim.Partition(0, {kCommune}, 10 * kSec, /*clog=*/false);  // it misses the backlog
  for (int i = 0; i < 200; ++i) {
    sim.Write(1 * kMs + i * 20 * kMs,
              WriteSpec{.node = kProvinceNode, .kind = WriteSpec::Kind::kDirective,
                        .units = std::vector<int>{}, .amend = false});
  }
  sim.Write(5 * kSec, WriteSpec{.node = kCommune, .kind = WriteSpec::Kind::kReport});
  ASSERT_THAT(sim.RunUntil(10 * kSec - 1), IsOk());
  const uint64_t head = sim.store(kProvinceNode).HeadSeq();
  ASSERT_EQ(*sim.store(kCommune).AppliedSeq(kProvince), 0u);

  auto run_until_applied = [&](uint64_t seq) {
    while (*sim.store(kCommune).AppliedSeq(kProvince) < seq) ASSERT_TRUE(sim.Step());
  };
  run_until_applied(head / 4);
  const uint64_t at_first_restart = *sim.store(kCommune).AppliedSeq(kProvince);
  EXPECT_LT(at_first_restart, head) << "the restart must interrupt the catch-up";
  sim.Restart(sim.now(), kCommune, 300 * kMs);
  ASSERT_THAT(sim.RunUntil(sim.now()), IsOk());
  EXPECT_EQ(*sim.store(kCommune).AppliedSeq(kProvince), at_first_restart)
      << "a restart keeps the durable checkpoint";

  run_until_applied(head / 2);
  sim.Restart(sim.now(), kProvinceNode, 300 * kMs);
  ASSERT_THAT(sim.RunUntilQuiescent(), IsOk()) << sim.Describe();

  ExpectConverged(sim);
  EXPECT_EQ(sim.stats().restarts, 2u);
  // The backlog was the province's whole log when the catch-up began; what
  // came later (the commune's own report) is not addressed to it.
  EXPECT_GE(*sim.store(kCommune).AppliedSeq(kProvince), head);
  for (const WrittenVersion& w : sim.written()) {
    if (w.writer == kProvinceNode) {
      EXPECT_TRUE(sim.store(kCommune).Current(w.body.id()).has_value()) << w.body.id();
    }
  }
}

// DESIGN.md R1 (DOMAIN-MODEL §1.10, E1): the province's review of a commune's
// report beats the commune's concurrent status of it, however strong the
// commune's other credentials (rank, later legal date, later HLC) and
// whichever was written first; the commune's version stays visible as a
// loser on the province and on that commune, and goes nowhere else (the
// status travels between the two only). Both authorities come from the
// rosters: a province Deputy Head (80) against the commune's Head (100).
TEST(ConvergenceSimScenario, ConcurrentEditOfSharedRecordIsWonByTheProvince) {
  for (bool province_first : {true, false}) {
    SCOPED_TRACE(province_first ? "province writes first" : "commune writes first");
    Sim sim(SimOptions{.seed = 3, .communes = 3, .commit_fail_one_in = 0});
    constexpr int kCommune = 2;
    const std::string deputy = sim.AddMembership(0, kProvinceNode, v1::DEPUTY_HEAD);
    const std::string head = sim.AddMembership(0, kCommune, v1::HEAD, "2026-03-01");
    // Cut the commune off so neither write can see the other.
    sim.Partition(100 * kMs, {kCommune}, 2 * kSec, /*clog=*/false);
    const int64_t first = 500 * kMs, second = 900 * kMs;
    sim.Write(province_first ? first : second,
              WriteSpec{.node = kProvinceNode, .kind = WriteSpec::Kind::kShared,
                        .commune = kCommune,
                        .capacity = Capacity(deputy),
                        .legal_date = "2026-03-03"});
    sim.Write(province_first ? second : first,
              WriteSpec{.node = kCommune, .kind = WriteSpec::Kind::kShared,
                        .capacity = Capacity(head),
                        .legal_date = "2026-03-04"});
    ASSERT_THAT(sim.RunUntilQuiescent(), IsOk()) << sim.Describe();
    ExpectConverged(sim);

    const std::string id = sim.SharedRecordId(kCommune, 0);
    const WrittenVersion* p = FindWritten(sim, kProvinceNode, id);
    const WrittenVersion* x = FindWritten(sim, kCommune, id);
    ASSERT_NE(p, nullptr);
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(p->body.version().authority().capacity(), "DEPUTY_HEAD");
    EXPECT_EQ(p->body.version().authority().role_rank(), 80u);
    EXPECT_EQ(x->body.version().authority().capacity(), "HEAD");
    EXPECT_EQ(x->body.version().authority().role_rank(), 100u);
    EXPECT_EQ(sync::CompareVectors(p->body.version().vector(), x->body.version().vector()),
              sync::Causality::kConcurrent);
    EXPECT_EQ(sync::Decide(x->body, x->record.body(), p->body, p->record.body()).rule,
              sync::Rule::kR1Level);
    const std::string p_key = sync::VersionKey(p->body.version());
    const std::string x_key = sync::VersionKey(x->body.version());
    for (int n : {kProvinceNode, kCommune}) {
      SCOPED_TRACE(sim.node_id(n));
      ASSERT_TRUE(sim.store(n).Current(id).has_value());
      EXPECT_EQ(KeyOf(*sim.store(n).Current(id)), p_key);
      EXPECT_EQ(KeysOf(sim.store(n).Losers(id)), std::vector<std::string>{x_key});
    }
    for (int n : {1, 3}) {
      SCOPED_TRACE(sim.node_id(n));
      EXPECT_FALSE(sim.store(n).Current(id).has_value()) << "another commune's report status";
    }

    // Arrival order does not matter: both orders give one state.
    auto apply_in_order = [](const std::vector<const WrittenVersion*>& order) {
      MemStore store;
      for (const WrittenVersion* w : order) {
        EXPECT_THAT(store.Write([&](sync::WriteView& view) -> absl::Status {
          return sync::ApplyRecords(view, "", {w->record}, 0, AdmitAll, 0).status();
        }),
                    IsOk());
      }
      return store.Describe();
    };
    EXPECT_EQ(apply_in_order({p, x}), apply_in_order({x, p}));
    EXPECT_EQ(apply_in_order({p, x}), LineOf(sim.store(kProvinceNode).Describe(), id));
  }
}

// The roster decides what a writer may write and what receivers admit: the
// Head only within the term, a Member not at all, a Deputy for the Head (KT.)
// only once an acting window covers the date, written later in the run; a
// forged directive reaches every commune and is quarantined by each; a
// commune with no roster yet acts as its clerk (STAFF).
TEST(ConvergenceSimScenario, TheRosterDecidesWhatIsWrittenAndWhatIsQuarantined) {
  Sim sim(SimOptions{.seed = 13, .communes = 3, .commit_fail_one_in = 0});
  const std::string head = sim.AddMembership(0, kProvinceNode, v1::HEAD, "2026-03-02", "2026-03-04");
  const std::string deputy = sim.AddMembership(0, kProvinceNode, v1::STANDING_DEPUTY_HEAD);
  const std::string member = sim.AddMembership(0, kProvinceNode, v1::MEMBER);
  auto directive = [&](int64_t at, const std::string& membership, const std::string& formula,
                       const std::string& date, bool forge = false) {
    sim.Write(at, WriteSpec{.node = kProvinceNode, .kind = WriteSpec::Kind::kDirective,
                            .units = std::vector<int>{},
                            .capacity = Capacity(membership, formula),
                            .doc_type = "CT", .legal_date = date, .amend = false, .forge = forge});
  };
  directive(1 * kSec, head, "", "2026-03-03");      // the Head, in office
  directive(1 * kSec, head, "", "2026-03-05");      // refused: the term ended 03-04
  directive(1 * kSec, member, "", "2026-03-03");    // refused: a Member issues no directive
  directive(1 * kSec, deputy, "KT", "2026-03-05");  // refused: nobody acts for the Head yet
  const std::string acting =
      sim.AddActingWindow(2 * kSec, kProvinceNode, deputy, "2026-03-05", "2026-03-06");
  directive(3 * kSec, deputy, "KT", "2026-03-05");  // acting for the Head
  directive(3 * kSec, head, "", "2026-03-03", /*forge=*/true);
  sim.Write(3 * kSec, WriteSpec{.node = 1, .kind = WriteSpec::Kind::kReport, .amend = false});
  ASSERT_THAT(sim.RunUntilQuiescent(), IsOk()) << sim.Describe();
  ExpectConverged(sim);

  EXPECT_EQ(sim.stats().roster_writes, 4u);
  EXPECT_EQ(sim.stats().writes_refused_authority, 3u);
  EXPECT_EQ(sim.stats().forged_writes, 1u);
  EXPECT_EQ(sim.stats().forged_quarantined, 3u);
  std::vector<const WrittenVersion*> directives;
  const WrittenVersion* report = nullptr;
  for (const WrittenVersion& w : sim.written()) {
    if (w.body.kind() == v1::DIRECTIVE && !w.forged) directives.push_back(&w);
    if (w.body.kind() == v1::REPORT) report = &w;
  }
  ASSERT_EQ(directives.size(), 2u);
  const v1::Authority& by_head = directives[0]->body.version().authority();
  EXPECT_EQ(by_head.membership_id(), head);
  EXPECT_EQ(by_head.role_rank(), 100u);
  EXPECT_FALSE(by_head.acting_for_head());
  const v1::Authority& by_deputy = directives[1]->body.version().authority();
  EXPECT_EQ(by_deputy.membership_id(), deputy);
  EXPECT_EQ(by_deputy.role_rank(), 90u);
  EXPECT_EQ(by_deputy.formula(), "KT");
  EXPECT_TRUE(by_deputy.acting_for_head());
  EXPECT_EQ(by_deputy.delegation_ref(), acting);
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->body.version().authority().capacity(), "STAFF");
  for (int c = 1; c <= 3; ++c) {
    SCOPED_TRACE(sim.node_id(c));
    EXPECT_NE(sim.roster(c).FindMembership(head), nullptr) << "the province's roster flows down";
    for (const WrittenVersion* d : directives) {
      EXPECT_TRUE(sim.store(c).Current(d->body.id()).has_value()) << d->body.id();
    }
    ASSERT_EQ(sim.store(c).quarantine().size(), 1u);
    EXPECT_EQ(sim.store(c).quarantine()[0].reason_code, "AUTHORITY_MISMATCH");
  }
}

}  // namespace
}  // namespace steersync::sim
