// Local acts: every act this node makes goes through LocalActs::Submit, on
// the writer thread, in one nested transaction (DOMAIN-MODEL.md §5).
#include "node/local_acts.h"

#include <future>

#include <spdlog/spdlog.h>

#include "absl/strings/str_join.h"

#include "node/domain/legal_date.h"
#include "sync/merge.h"
#include "sync/status_macros.h"

namespace steersync::node {
namespace {

// How far back in the change log `--if-version` looks for its base.
constexpr size_t kBaseSearchEntries = 20000;

// The authority of `act` declared as `as` by `self` on `date`.
absl::StatusOr<domain::AuthorityVerdict> ResolveAuthority(const domain::Roster& roster,
                                                        const std::string& self,
                                                        const v1::ActAs& as, const domain::Act& act,
                                                        const std::string& date) {
  domain::Capacity capacity{as.body_id(), as.membership_id(), as.formula(), std::nullopt};
  if (capacity.body_id.empty()) capacity.body_id = domain::DefaultBodyOf(self);
  if (!as.role().empty()) {
    std::optional<v1::Role> role = domain::ParseRole(as.role());
    if (!role.has_value()) {
      return absl::InvalidArgumentError(
          "unknown role '" + as.role() +
          "' (HEAD, STANDING_DEPUTY_HEAD, DEPUTY_HEAD, STANDING_AGENCY, MEMBER, SECRETARY, "
          "TEAM_LEADER, WORKING_GROUP_LEAD, TEAM_MEMBER, STAFF)");
    }
    if (capacity.membership_id.empty()) {
      std::vector<std::string> ids = roster.MembersWithRole(capacity.body_id, *role, date);
      if (ids.empty()) {
        return absl::FailedPreconditionError("no " + domain::RoleName(*role) + " of '" + capacity.body_id +
                                             "' on " + date + " (see `steerctl member list`)");
      }
      if (ids.size() > 1) {
        return absl::FailedPreconditionError("several members are " + domain::RoleName(*role) + " on " +
                                             date + ": choose one with --member (" + absl::StrJoin(ids, ", ") + ")");
      }
      capacity.membership_id = ids[0];
    } else if (const v1::Membership* m = roster.FindMembership(capacity.membership_id);
               m != nullptr && m->role() != *role) {
      return absl::InvalidArgumentError("membership '" + capacity.membership_id + "' is " +
                                        domain::RoleName(m->role()) + ", not " + domain::RoleName(*role));
    }
  }
  domain::AuthorityVerdict verdict = domain::Authorize(roster, self, capacity, date, act);
  if (!verdict.ok && verdict.reason_code == "POWER_DENIED" && capacity.formula.empty()) {
    // A Deputy holding a delegation signs the Head's acts as KT. (D30 Art. 13.1).
    domain::Capacity kt = capacity;
    kt.formula = "KT";
    domain::AuthorityVerdict with_kt = domain::Authorize(roster, self, kt, date, act);
    if (with_kt.ok && with_kt.note.empty()) return with_kt;
  }
  if (!verdict.ok) {
    std::string hint;
    if (verdict.reason_code == "CAPACITY_REQUIRED") hint = " (add --as ROLE)";
    return absl::PermissionDeniedError("refused: " + verdict.reason_code + ": " + verdict.detail + hint);
  }
  return verdict;
}

}  // namespace

LocalActs::LocalActs(Deps deps)
    : self_(std::move(deps.self_id)),
      clock_(deps.clock),
      writer_(deps.writer),
      replica_(deps.replica),
      admission_(*deps.admission),
      signer_(deps.signer),
      certificates_(deps.certificates),
      store_(deps.store),
      recovery_(deps.recovery),
      max_attachment_bytes_(deps.max_attachment_bytes) {}

std::string LocalActs::Today() const { return domain::LegalDate(clock_->NowMicros()); }

absl::StatusOr<Written> LocalActs::Make(LmdbStore::View& view, const LocalAct& act, const BodyMaker& make) {
  const std::string legal_date = domain::LegalDate(clock_->NowMicros());
  SYNC_ASSIGN_OR_RETURN(domain::AuthorityVerdict verdict, admission_.ReadRoster([&](const domain::Roster& roster) {
    return ResolveAuthority(roster, self_, act.as, act.act, legal_date);
  }));
  SYNC_ASSIGN_OR_RETURN(uint64_t counter, replica_->NextCounter(view));
  v1::RecordBody body;
  SYNC_ASSIGN_OR_RETURN(std::string id, make(counter, view, body));
  body.set_id(id);
  if (verdict.note.rfind("unrostered", 0) == 0) {
    // Bootstrap mode: said once, not for every act.
    if (!unrostered_warned_.exchange(true)) {
      spdlog::warn("{}: {} (acts are made at STAFF rank until `steerctl member add`)",
                   self_, verdict.note);
    }
  } else if (!verdict.note.empty()) {
    spdlog::warn("{}: {}: {}", self_, id, verdict.note);
  }
  body.mutable_version()->set_legal_date(legal_date);
  *body.mutable_version()->mutable_authority() = verdict.authority;
  SYNC_ASSIGN_OR_RETURN(sync::LocalWrite written,
                        replica_->WriteLocal(view, counter, std::move(body), act.base, *signer_));
  if (certificates_ != nullptr && !written.record.signer_digest().empty()) {
    SYNC_RETURN_IF_ERROR(KeepCertificate(view, *certificates_, written.record.signer_digest()));
  }
  return Written{id, written.version_key};
}

void LocalActs::SubmitAll(std::vector<std::pair<LocalAct, BodyMaker>> acts,
                          std::function<void(absl::StatusOr<std::vector<Written>>)> done) {
  if (recovery_ != nullptr && recovery_->recovering()) {
    // Never wait on the writer thread (which recovery itself needs).
    done(absl::UnavailableError(recovery_->Describe()));
    return;
  }
  if (closed_) {
    done(absl::UnavailableError(self_ + " is stopping"));
    return;
  }
  auto result = std::make_shared<std::vector<Written>>();
  // One job: the writer runs it in one nested transaction, so the acts
  // commit together or not at all.
  writer_->Submit(
      [this, acts = std::move(acts), result](LmdbStore::View& view) -> absl::Status {
        result->clear();
        for (const auto& [act, make] : acts) {
          SYNC_ASSIGN_OR_RETURN(Written w, Make(view, act, make));
          result->push_back(std::move(w));
        }
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        // A refused act (or any failed job) wrote nothing: its nested
        // transaction was dropped without touching the other jobs.
        done(status.ok() ? absl::StatusOr<std::vector<Written>>(*result)
                         : absl::StatusOr<std::vector<Written>>(status));
      });
}

void LocalActs::Submit(LocalAct act, BodyMaker make, std::function<void(absl::StatusOr<Written>)> done) {
  std::vector<std::pair<LocalAct, BodyMaker>> acts;
  acts.emplace_back(std::move(act), std::move(make));
  SubmitAll(std::move(acts), [done = std::move(done)](absl::StatusOr<std::vector<Written>> w) {
    done(w.ok() ? absl::StatusOr<Written>(std::move(w->front())) : absl::StatusOr<Written>(w.status()));
  });
}

absl::StatusOr<Written> LocalActs::Write(const LocalAct& act, BodyMaker make) {
  std::vector<std::pair<LocalAct, BodyMaker>> acts;
  acts.emplace_back(act, std::move(make));
  SYNC_ASSIGN_OR_RETURN(std::vector<Written> w, WriteTogether(std::move(acts)));
  return std::move(w.front());
}

absl::StatusOr<std::vector<Written>> LocalActs::WriteTogether(std::vector<std::pair<LocalAct, BodyMaker>> acts) {
  // A recovery usually ends within moments of the start: an act waits a
  // little for it, well inside steerctl's 10 s deadline, so that the officer
  // reads why it was refused rather than "Deadline Exceeded".
  constexpr absl::Duration kWaitForRecovery = absl::Seconds(3);
  if (recovery_ != nullptr && !recovery_->WaitOpen(kWaitForRecovery)) {
    return absl::UnavailableError(recovery_->Describe() + " (see `steerctl status`)");
  }
  std::promise<absl::StatusOr<std::vector<Written>>> done;
  auto future = done.get_future();
  SubmitAll(std::move(acts), [&done](absl::StatusOr<std::vector<Written>> w) { done.set_value(std::move(w)); });
  return future.get();
}

absl::StatusOr<std::optional<v1::Version>> LocalActs::FindBase(const std::string& id,
                                                               const std::string& if_version) const {
  if (if_version.empty()) return std::optional<v1::Version>();
  auto matches = [&](const v1::Record& r) -> std::optional<v1::Version> {
    v1::RecordBody b;
    if (b.ParseFromString(r.body()) && b.id() == id && sync::VersionKey(b.version()) == if_version) {
      return b.version();
    }
    return std::nullopt;
  };
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> current, store_->GetRecord(id));
  if (!current.has_value()) return absl::NotFoundError("no record '" + id + "' on this node");
  if (auto v = matches(*current)) return v;
  SYNC_ASSIGN_OR_RETURN(std::vector<sync::ConflictEntry> conflicts, store_->ListConflicts());
  for (const auto& c : conflicts) {
    if (c.record_id != id) continue;
    if (auto v = matches(c.loser)) return v;
  }
  const uint64_t head = store_->HeadSeq();
  uint64_t after = head > kBaseSearchEntries ? head - kBaseSearchEntries : 0;
  while (after < head) {
    SYNC_ASSIGN_OR_RETURN(std::vector<sync::LogEntry> entries, store_->ReadLog(after, 1000, 64 << 20));
    if (entries.empty()) break;
    for (const auto& e : entries) {
      if (auto v = matches(e.record)) return v;
    }
    after = entries.back().seq;
  }
  return absl::NotFoundError("version " + if_version + " of '" + id +
                             "' is not one this node holds (see `steerctl why " + id + "`)");
}

}  // namespace steersync::node
