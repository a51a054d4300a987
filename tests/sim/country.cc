#include "tests/sim/country.h"

#include <utility>

#include "sync/status_macros.h"

namespace steersync::sim {
namespace {

constexpr char kReceiptInfix[] = "/a/";  // "<unit>/a/<directive id>"

SimOptions SimOptionsOf(const CountryOptions& options) {
  SimOptions o;
  o.seed = options.seed;
  o.provinces = options.provinces;
  o.communes = options.communes;
  o.province_links = options.province_links;
  o.commune_links = options.commune_links;
  o.register_receipts = true;
  // No random workload: one directive. Faults scheduled by the caller
  // (Sim::Restart, Partition) take effect; none is drawn at random (only the
  // random workload draws them) and no commit fails at random.
  o.writes = 0;
  o.forge_one_in = 0;
  o.late_roster_writes = 0;
  o.faults = true;
  o.commit_fail_one_in = 0;
  // The daemon's session options (sync::SessionOptions' defaults).
  o.session = sync::SessionOptions{};
  o.max_steps = options.max_steps;
  return o;
}

}  // namespace

Country::Country(CountryOptions options)
    : options_(std::move(options)), sim_(std::make_unique<Sim>(SimOptionsOf(options_))) {
  for (int n = 0; n < sim_->node_count(); ++n) node_by_id_.emplace(sim_->node_id(n), n);
  directive_at_.resize(sim_->node_count());
  receipt_at_.resize(sim_->node_count());
  sim_->ObserveAdmitted([this](int node, const auto& admitted) { OnAdmitted(node, admitted); });
}

absl::Status Country::Settle() {
  const uint64_t before = sim_->stats().steps;
  for (int n = 0; n < sim_->node_count(); ++n) {
    std::string id = sim_->AddMembership(0, n, v1::HEAD);
    if (n == kRootNode) head_membership_ = std::move(id);
  }
  absl::Status status = sim_->RunUntilQuiescent();
  settle_steps_ = sim_->stats().steps - before;
  return status;
}

absl::Status Country::IssueDirective() {
  steps_at_issue_ = sim_->stats().steps;
  issued_at_ = sim_->now();
  const size_t written = sim_->written().size();
  domain::Capacity head;
  head.membership_id = head_membership_;
  sim_->Write(issued_at_, WriteSpec{.node = kRootNode,
                                    .kind = WriteSpec::Kind::kDirective,
                                    .units = std::vector<int>{},  // the whole country
                                    .capacity = head,
                                    .doc_type = "CT",
                                    .legal_date = kSimToday,
                                    .amend = false});
  SYNC_RETURN_IF_ERROR(sim_->RunUntil(issued_at_));
  if (sim_->written().size() != written + 1) {
    return absl::InternalError("the nation's Head could not issue the directive (" +
                               std::to_string(sim_->stats().writes_refused_authority) + " acts refused)");
  }
  directive_id_ = sim_->written().back().body.id();
  directive_at_[kRootNode] = issued_at_;
  return absl::OkStatus();
}

absl::Status Country::RunUntilQuiescent() { return sim_->RunUntilQuiescent(); }

void Country::OnAdmitted(int node, const std::vector<std::pair<std::string, v1::RecordKind>>& admitted) {
  if (directive_id_.empty()) return;  // settling
  if (node == kRootNode) ++nation_applies_;
  for (const auto& [id, kind] : admitted) {
    if (kind == v1::DIRECTIVE && id == directive_id_ && !directive_at_[node].has_value()) {
      directive_at_[node] = sim_->now();
    }
    if (node != kRootNode || kind != v1::ACKNOWLEDGEMENT) continue;
    const size_t infix = id.find(kReceiptInfix);
    if (infix == std::string::npos || id.substr(infix + sizeof(kReceiptInfix) - 1) != directive_id_) continue;
    const auto unit = node_by_id_.find(std::string_view(id).substr(0, infix));
    if (unit != node_by_id_.end() && !receipt_at_[unit->second].has_value()) {
      receipt_at_[unit->second] = sim_->now();
    }
  }
}

std::optional<int64_t> Country::DirectiveHeldAfter(int node) const {
  const std::optional<int64_t>& at = directive_at_.at(node);
  if (!at.has_value()) return std::nullopt;
  return *at - issued_at_;
}

std::optional<int64_t> Country::ReceiptAtNationAfter(int unit) const {
  const std::optional<int64_t>& at = receipt_at_.at(unit);
  if (!at.has_value()) return std::nullopt;
  return *at - issued_at_;
}

}  // namespace steersync::sim
