#include "node/explain.h"

#include <algorithm>

#include "node/listings.h"

#include "node/domain/documents.h"
#include "node/domain/roster.h"

#include "sync/merge.h"

namespace steersync::node {
namespace {

std::string RuleText(sync::Rule rule) {
  switch (rule) {
    case sync::Rule::kR1Level: return "R1: the higher unit's version wins";
    case sync::Rule::kR2Rank: return "R2: the higher role rank wins";
    case sync::Rule::kR3Acting: return "R3: at equal rank, the one acting for the Head wins";
    case sync::Rule::kR4Supersession: return "R4: the version that explicitly replaces the other wins";
    case sync::Rule::kR5TieBreak:
      return "R5: tie-break (later legal date, then later clock, then smaller node id)";
    default: return "";
  }
}

// What one version says, in a line.
std::string Content(const v1::RecordBody& body) {
  switch (body.kind()) {
    case v1::DIRECTIVE: {
      v1::Directive d;
      if (!domain::ParseDirective(body, d)) break;
      std::string relations;
      for (const auto& r : d.relations()) {
        relations += " " + v1::DocumentRelation::Kind_Name(r.kind()) + " " + r.target();
      }
      return d.number() + " " + d.title() + relations;
    }
    case v1::REPORT: {
      v1::Report r;
      if (!r.ParseFromString(body.payload())) break;
      return r.period() + " " + r.title();
    }
    case v1::REPORT_STATUS: {
      v1::ReportStatus st;
      if (!st.ParseFromString(body.payload())) break;
      return st.state() + (st.reason().empty() ? "" : ": " + st.reason());
    }
    case v1::ACKNOWLEDGEMENT: {
      v1::Acknowledgement a;
      if (!a.ParseFromString(body.payload())) break;
      return (a.state().empty() ? "ACKNOWLEDGED" : a.state()) + (a.reason().empty() ? "" : ": " + a.reason());
    }
    case v1::MEMBERSHIP: {
      v1::Membership m;
      if (!m.ParseFromString(body.payload())) break;
      return m.full_name() + " " + domain::RoleName(m.role()) + " " + m.valid_from() + ".." + m.valid_to();
    }
    default:
      break;
  }
  return body.tombstone() ? "deleted" : "";
}

v1::VersionInfo Describe(const v1::RecordBody& body) {
  v1::VersionInfo info;
  info.set_officer(body.version().authority().officer());
  info.set_membership_id(body.version().authority().membership_id());
  info.set_formula(body.version().authority().formula());
  info.set_delegation_ref(body.version().authority().delegation_ref());
  info.set_content(Content(body));
  const auto& v = body.version();
  info.set_version(sync::VersionKey(v));
  info.set_writer(v.writer());
  info.set_unit_depth(v.authority().unit_depth());
  info.set_role_rank(v.authority().role_rank());
  info.set_capacity(v.authority().capacity());
  info.set_acting_for_head(v.authority().acting_for_head());
  info.set_legal_date(v.legal_date());
  return info;
}

struct Decided {
  v1::VersionInfo winner;
  v1::VersionInfo loser;
};

Decided Decide(const v1::Record& winner, const v1::RecordBody& winner_body, const v1::Record& loser,
               const v1::RecordBody& loser_body) {
  Decided out{Describe(winner_body), Describe(loser_body)};
  const sync::MergeDecision d =
      sync::Decide(winner_body, winner.body(), loser_body, loser.body());
  out.winner.set_outcome("winner");
  out.loser.set_outcome(std::string(sync::RuleName(d.rule)));
  out.loser.set_explanation("lost to " + out.winner.version() + " by " + RuleText(d.rule));
  return out;
}

}  // namespace

absl::StatusOr<v1::WhyReply> ExplainRecord(const LmdbStore& store, const std::string& record_id) {
  auto current = store.GetRecord(record_id);
  if (!current.ok()) return current.status();
  if (!current->has_value()) return absl::NotFoundError("no record '" + record_id + "' on this node");
  v1::RecordBody winner_body;
  if (!winner_body.ParseFromString((*current)->body())) {
    return absl::DataLossError("record '" + record_id + "' does not parse");
  }
  v1::WhyReply reply;
  reply.set_record_id(record_id);
  reply.set_kind(v1::RecordKind_Name(winner_body.kind()));
  v1::VersionInfo* winner = reply.add_versions();
  *winner = Describe(winner_body);
  winner->set_outcome("winner");
  auto conflicts = store.ListConflicts();
  if (!conflicts.ok()) return conflicts.status();
  int losers = 0;
  for (const auto& c : *conflicts) {
    if (c.record_id != record_id) continue;
    v1::RecordBody loser_body;
    if (!loser_body.ParseFromString(c.loser.body())) continue;
    *reply.add_versions() = Decide(**current, winner_body, c.loser, loser_body).loser;
    ++losers;
  }
  winner->set_explanation(losers == 0 ? "the only version held here"
                                      : "beats " + std::to_string(losers) +
                                            " concurrent version(s) listed below");
  return reply;
}

absl::StatusOr<v1::ListConflictsReply> ListConflicts(const LmdbStore& store, const v1::ListFilter& filter) {
  auto conflicts = store.ListConflicts();
  if (!conflicts.ok()) return conflicts.status();
  v1::ListConflictsReply reply;
  for (const auto& c : *conflicts) {
    auto current = store.GetRecord(c.record_id);
    if (!current.ok()) return current.status();
    v1::RecordBody winner_body, loser_body;
    if (!current->has_value() || !winner_body.ParseFromString((*current)->body()) ||
        !loser_body.ParseFromString(c.loser.body())) {
      return absl::DataLossError("conflict on '" + c.record_id + "' does not parse");
    }
    Decided d = Decide(**current, winner_body, c.loser, loser_body);
    // status: the deciding rule ("R1".."R5"); from: the losing writer.
    if (!PassesFilter(filter, d.winner.legal_date(), d.loser.outcome().substr(0, 2), d.loser.writer())) continue;
    v1::ConflictInfo* info = reply.add_conflicts();
    info->set_record_id(c.record_id);
    *info->mutable_winner() = std::move(d.winner);
    *info->mutable_loser() = std::move(d.loser);
  }
  // Natural id order (d/9 before d/10); a record's losers keep their order.
  std::stable_sort(reply.mutable_conflicts()->begin(), reply.mutable_conflicts()->end(),
                   [](const v1::ConflictInfo& a, const v1::ConflictInfo& b) {
                     return NaturalLess()(a.record_id(), b.record_id());
                   });
  KeepNewest(*reply.mutable_conflicts(), filter.limit());
  return reply;
}

}  // namespace steersync::node
