#include "node/status_reporter.h"

#include <future>

#include <spdlog/spdlog.h>

#include "node/domain/unit_status.h"

namespace steersync::node {
namespace {

// What a status says, without the times that move with every message: two
// statuses with the same material need no new version but for the heartbeat.
std::string Material(v1::UnitStatus status) {
  status.clear_parent_last_contact_micros();
  for (v1::UnitStatus::Child& c : *status.mutable_children()) c.clear_last_seen_micros();
  return status.SerializeAsString();
}

}  // namespace

StatusReporter::StatusReporter(Options options, const sync::Clock& clock, LocalActs& local, Compute compute,
                               Fingerprint fingerprint)
    : options_(options),
      clock_(clock),
      local_(local),
      compute_(std::move(compute)),
      fingerprint_(std::move(fingerprint)),
      thread_([this] { Run(); }) {}

StatusReporter::~StatusReporter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void StatusReporter::Run() {
  while (true) {
    Look();
    absl::MutexLock lock(&mu_);
    // Wakes early only to stop: the interval paces the looks.
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval)) return;
  }
}

void StatusReporter::RecallStored() {
  recalled_ = true;
  // The status this node wrote before it (re)started: an unchanged one is
  // not written again, and the heartbeat counts from it.
  absl::StatusOr<std::optional<v1::Record>> held = local_.store().GetRecord(domain::StatusRecordId(local_.self()));
  v1::RecordBody body;
  v1::UnitStatus stored;
  if (!held.ok() || !held->has_value() || !body.ParseFromString((*held)->body()) ||
      !stored.ParseFromString(body.payload())) {
    return;
  }
  last_material_ = Material(std::move(stored));
  last_written_micros_ = static_cast<int64_t>(body.version().hlc().wall_micros());
}

void StatusReporter::Look() {
  if (!recalled_) RecallStored();
  const std::string fingerprint = fingerprint_();
  const int64_t now = clock_.NowMicros();
  const bool heartbeat_due =
      last_written_micros_ == 0 || now - last_written_micros_ >= absl::ToInt64Microseconds(options_.heartbeat);
  if (fingerprint == last_fingerprint_ && !heartbeat_due) return;
  absl::StatusOr<v1::UnitStatus> status = compute_();
  if (!status.ok()) {
    if (!warned_) spdlog::warn("{}: status not computed: {}", local_.self(), status.status().ToString());
    warned_ = true;
    return;
  }
  std::string material = Material(*status);
  if (material == last_material_ && !heartbeat_due) {
    last_fingerprint_ = fingerprint;
    return;
  }
  const std::string self = local_.self();
  // The node's clerk writes it, like a revocation list: no committee act.
  const LocalAct act{domain::Act{domain::Action::kRosterEntry, ""}, v1::ActAs(), std::nullopt};
  std::promise<absl::StatusOr<Written>> done;
  // Submit, not Write: refused at once while the node recovers (no wait).
  local_.Submit(act,
                [&](uint64_t, LmdbStore::View&, v1::RecordBody& body) -> absl::StatusOr<std::string> {
                  body.set_kind(v1::UNIT_STATUS);
                  *body.mutable_audience() = domain::StatusAudience(self);
                  body.set_payload(status->SerializeAsString());
                  return domain::StatusRecordId(self);
                },
                [&done](absl::StatusOr<Written> w) { done.set_value(std::move(w)); });
  const absl::StatusOr<Written> written = done.get_future().get();
  if (!written.ok()) {
    if (!warned_) spdlog::warn("{}: status not written: {}", self, written.status().ToString());
    warned_ = true;
    return;
  }
  warned_ = false;
  last_material_ = std::move(material);
  last_written_micros_ = now;
  last_fingerprint_ = fingerprint;  // the write moved the head: the next look computes once more
}

}  // namespace steersync::node
