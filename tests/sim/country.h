#pragma once
// The whole country in the simulation (issue 13 item 5 (e)): the nation, its
// provinces and their communes (two-tier local government since 1 July 2025:
// 34 provinces, 3,321 communes), each a node of tests/sim/sim.h running the
// shipped replica core, over links with the delays of a national network.
//
// The run: every committee writes its Head's membership (rosters flow around
// their owner: the nation's to every node, a commune's up to its province and
// the nation) and the tree settles; then the nation's Head issues one
// directive to the whole country, and every unit registers its receipt on
// verified arrival (S23, D30 Art. 21.2c; SimOptions::register_receipts) and
// sends it up, through its province, to the nation.
//
// What it measures, in simulated time from the issue: when each node first
// held the directive, and when the nation first held each unit's receipt.
//
// Thread safety: not thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "tests/sim/sim.h"

namespace steersync::sim {

struct CountryOptions {
  uint64_t seed = 1;
  int provinces = 34;
  int communes = 3321;
  // One way, per message (docs/performance.md, "(e) The whole country").
  // The national backbone, nation <-> province: a few hundred to ~1,700 km
  // of fibre, routers and TLS at both ends.
  LinkDelay province_links{.min_micros = 20'000,
                           .max_micros = 40'000,
                           .slow_one_in = 100,
                           .slow_min_micros = 200'000,
                           .slow_max_micros = 1'000'000};
  // A province's network to its communes: fibre to wards, DSL, 4G or radio
  // to mountain communes and islands.
  LinkDelay commune_links{.min_micros = 30'000,
                          .max_micros = 150'000,
                          .slow_one_in = 100,
                          .slow_min_micros = 200'000,
                          .slow_max_micros = 1'000'000};
  // Sim::RunUntilQuiescent fails past this many events (each phase).
  uint64_t max_steps = 100'000'000;
};

class Country {
 public:
  // Builds the tree: every node's process and store, every link (connected
  // by Settle()).
  explicit Country(CountryOptions options);
  Country(const Country&) = delete;
  Country& operator=(const Country&) = delete;

  // Connects every link, writes every committee's Head membership, and runs
  // until nothing is left to do.
  absl::Status Settle();
  // The nation's Head issues one directive (CT) to the whole country now.
  // REQUIRES: Settle() succeeded; called once.
  absl::Status IssueDirective();
  // Runs until nothing is left to do: every receipt is at the nation and
  // every session has acknowledged everything.
  absl::Status RunUntilQuiescent();

  Sim& sim() { return *sim_; }
  const Sim& sim() const { return *sim_; }
  // Events run by Settle(), and since IssueDirective().
  uint64_t settle_steps() const { return settle_steps_; }
  uint64_t directive_steps() const { return sim_->stats().steps - steps_at_issue_; }
  // Batches from provinces the nation applied since IssueDirective().
  uint64_t nation_applies() const { return nation_applies_; }

  // Set by IssueDirective().
  const std::string& directive_id() const { return directive_id_; }
  // Simulated micros at which it was issued.
  int64_t issued_at() const { return issued_at_; }
  // Micros from the issue until `node` first held the directive (0 for the
  // nation); nullopt: never.
  std::optional<int64_t> DirectiveHeldAfter(int node) const;
  // Micros from the issue until the nation first held `unit`'s receipt of
  // the directive; nullopt: never.
  std::optional<int64_t> ReceiptAtNationAfter(int unit) const;

 private:
  void OnAdmitted(int node, const std::vector<std::pair<std::string, v1::RecordKind>>& admitted);

  const CountryOptions options_;
  std::unique_ptr<Sim> sim_;
  std::map<std::string, int, std::less<>> node_by_id_;
  std::string head_membership_;  // the nation's Head
  std::string directive_id_;
  int64_t issued_at_ = 0;
  uint64_t settle_steps_ = 0;
  uint64_t steps_at_issue_ = 0;
  uint64_t nation_applies_ = 0;
  std::vector<std::optional<int64_t>> directive_at_;  // by node: sim micros
  std::vector<std::optional<int64_t>> receipt_at_;    // by unit node: sim micros at the nation
};

}  // namespace steersync::sim
