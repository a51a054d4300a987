// The country in the simulation (tests/sim/country.h), scaled down: the
// nation, 3 provinces and 20 communes over the shipped replica core. A
// national directive reaches every unit through its province, every unit
// registers its receipt on verified arrival (D30 Art. 21.2c, S23), and every
// receipt reaches the nation; a seed replays exactly. sync_bench --country
// runs the full country (docs/performance.md, (e)).
#include <sstream>

#include "node/domain/documents.h"
#include "sync/node_path.h"
#include "tests/sim/country.h"
#include "tests/testutil/fixtures.h"

namespace steersync::sim {
namespace {

using steersync::testing::IsOk;

constexpr int64_t kMs = 1'000;

CountryOptions Small(uint64_t seed) {
  CountryOptions o;
  o.seed = seed;
  o.provinces = 3;
  o.communes = 20;
  return o;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// The receipt `holder` holds of `unit`'s, as (state, writer); empty when none.
std::pair<std::string, std::string> ReceiptAt(const Sim& sim, int holder, int unit, const std::string& directive) {
  std::optional<v1::Record> r = sim.store(holder).Current(sim.node_id(unit) + "/a/" + directive);
  v1::RecordBody body;
  v1::Acknowledgement a;
  if (!r.has_value() || !body.ParseFromString(r->body()) || !a.ParseFromString(body.payload())) return {};
  return {a.state(), body.version().writer()};
}

// The tree of a two-tier country: the nation, its provinces, their communes
// spread evenly (20 over 3: 7, 7, 6), every id a node path of its depth.
TEST(CountrySim, TheTreeIsTheNationItsProvincesAndTheirCommunes) {
  Country country(Small(1));
  const Sim& sim = country.sim();
  ASSERT_EQ(sim.node_count(), 1 + 3 + 20);
  EXPECT_EQ(sim.node_id(kRootNode), kNation);
  EXPECT_EQ(sim.first_commune(), 4);
  EXPECT_EQ(sim.children(kRootNode), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(sim.children(1).size(), 7u);
  EXPECT_EQ(sim.children(2).size(), 7u);
  EXPECT_EQ(sim.children(3).size(), 6u);
  EXPECT_EQ(sim.node_id(1), "vn/p01");
  EXPECT_EQ(sim.node_id(sim.children(3).back()), "vn/p03/c006");
  for (int n = 0; n < sim.node_count(); ++n) {
    SCOPED_TRACE(sim.node_id(n));
    EXPECT_TRUE(sync::IsValidNodeId(sim.node_id(n)));
    EXPECT_EQ(sync::DepthOf(sim.node_id(n)), n == kRootNode ? 0 : n < sim.first_commune() ? 1 : 2);
    if (n != kRootNode) {
      EXPECT_EQ(sim.node_id(sim.parent(n)), sync::ParentOf(sim.node_id(n)));
    }
  }
}

// The nation's Head issues a directive to the whole country: every province
// and every commune holds it (relayed by its province), registers it
// RECEIVED as its clerk (D30 Art. 21.2c, S23) and sends the receipt up; the
// nation holds every unit's receipt, each province its own and its
// communes', each commune only its own. Every node then holds exactly what
// routing says it should (the simulation's oracle), and nothing was
// quarantined: the nation's roster reached every node before the directive.
TEST(CountrySim, ANationalDirectiveIsReceivedByEveryUnitAndEveryReceiptReachesTheNation) {
  Country country(Small(1));
  ASSERT_THAT(country.Settle(), IsOk()) << country.sim().Describe();
  ASSERT_THAT(country.IssueDirective(), IsOk());
  ASSERT_THAT(country.RunUntilQuiescent(), IsOk()) << country.sim().Describe();
  const Sim& sim = country.sim();
  const std::string& directive = country.directive_id();
  ASSERT_EQ(directive.rfind("vn/d/", 0), 0u) << directive;

  const std::string received(domain::ReceiptStateName(domain::ReceiptState::kReceived));
  for (int unit = 1; unit < sim.node_count(); ++unit) {
    SCOPED_TRACE(sim.node_id(unit));
    EXPECT_TRUE(sim.store(unit).Current(directive).has_value());
    ASSERT_TRUE(country.DirectiveHeldAfter(unit).has_value());
    ASSERT_TRUE(country.ReceiptAtNationAfter(unit).has_value());
    // Causality: a receipt leaves a unit after the directive arrived there.
    EXPECT_GT(*country.ReceiptAtNationAfter(unit), *country.DirectiveHeldAfter(unit));
    // A commune's copy was relayed by its province: it came later.
    if (unit >= sim.first_commune()) {
      EXPECT_GT(*country.DirectiveHeldAfter(unit), *country.DirectiveHeldAfter(sim.parent(unit)));
    }
    EXPECT_EQ(ReceiptAt(sim, kRootNode, unit, directive), std::make_pair(received, sim.node_id(unit)));
    EXPECT_EQ(ReceiptAt(sim, unit, unit, directive), std::make_pair(received, sim.node_id(unit)));
    for (int other = 1; other < sim.node_count(); ++other) {
      const bool relays = other == sim.parent(unit);
      if (other == unit || relays) {
        EXPECT_EQ(ReceiptAt(sim, other, unit, directive).first, received) << "at " << sim.node_id(other);
      } else {
        EXPECT_EQ(ReceiptAt(sim, other, unit, directive).first, "") << "at " << sim.node_id(other);
      }
    }
  }
  EXPECT_FALSE(ReceiptAt(sim, kRootNode, kRootNode, directive).first.size()) << "an issuer registers no receipt";
  EXPECT_EQ(sim.stats().writes_refused_authority, 0u);
  for (int n = 0; n < sim.node_count(); ++n) EXPECT_TRUE(sim.store(n).quarantine().empty()) << sim.node_id(n);
  const std::vector<std::string> problems = sim.CheckConverged();
  EXPECT_TRUE(problems.empty()) << sim.Describe() << "\n" << Join(problems);
}

// One seed, one run: the same events, times and stores; another seed draws
// other delays.
TEST(CountrySim, SameSeedReplaysExactly) {
  auto run = [](uint64_t seed) {
    Country country(Small(seed));
    EXPECT_THAT(country.Settle(), IsOk());
    EXPECT_THAT(country.IssueDirective(), IsOk());
    EXPECT_THAT(country.RunUntilQuiescent(), IsOk());
    const Sim& sim = country.sim();
    std::ostringstream trace;
    trace << sim.stats().steps << " " << sim.stats().messages_delivered << " " << sim.now() << "\n";
    for (int n = 0; n < sim.node_count(); ++n) {
      trace << sim.node_id(n) << " " << country.DirectiveHeldAfter(n).value_or(-1) << " "
            << country.ReceiptAtNationAfter(n).value_or(-1) << " " << sim.store(n).HeadSeq() << " "
            << sim.store(n).Digest() << "\n";
    }
    return trace.str();
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

// A province goes down the moment it has admitted the directive, before its
// writer registers its receipt: nothing reaches its communes while it is
// down (the batches it sent die with its streams), they get the directive
// once it is back; its receipt is registered when it comes up (as the
// daemon's RegisterPending at start-up), and the nation still holds every
// unit's receipt, each once.
TEST(CountrySim, AProvinceDownMidFanOutDelaysItsCommunesAndLosesNoReceipt) {
  Country country(Small(5));
  Sim& sim = country.sim();
  ASSERT_THAT(country.Settle(), IsOk());
  ASSERT_THAT(country.IssueDirective(), IsOk());
  constexpr int kProvince = 2;
  constexpr int64_t kDowntime = 400 * kMs;
  while (!sim.store(kProvince).Current(country.directive_id()).has_value()) ASSERT_TRUE(sim.Step());
  const int64_t down_at = sim.now();
  sim.Restart(down_at, kProvince, kDowntime);
  ASSERT_THAT(country.RunUntilQuiescent(), IsOk()) << sim.Describe();

  EXPECT_EQ(sim.stats().restarts, 1u);
  EXPECT_GE(sim.stats().writes_refused_node_down, 1u) << "its receipt was to be written while it was down";
  for (int commune : sim.children(kProvince)) {
    SCOPED_TRACE(sim.node_id(commune));
    ASSERT_TRUE(country.DirectiveHeldAfter(commune).has_value());
    EXPECT_GE(country.issued_at() + *country.DirectiveHeldAfter(commune), down_at + kDowntime)
        << "reached while its province was down";
  }
  for (int unit = 1; unit < sim.node_count(); ++unit) {
    EXPECT_TRUE(country.ReceiptAtNationAfter(unit).has_value()) << sim.node_id(unit);
  }
  const std::vector<std::string> problems = sim.CheckConverged();
  EXPECT_TRUE(problems.empty()) << sim.Describe() << "\n" << Join(problems);
}

}  // namespace
}  // namespace steersync::sim
