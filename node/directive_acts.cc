// Directives (DOMAIN-MODEL.md §1.8, §1.9): issuing, receipts, recalls.
#include "node/directive_acts.h"

#include "node/attachments.h"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "absl/strings/str_join.h"

#include "node/domain/document_index.h"
#include "node/domain/documents.h"
#include "node/domain/powers.h"
#include "sync/meta_keys.h"
#include "sync/node_path.h"
#include "sync/status_macros.h"
#include "sync/text.h"

namespace steersync::node {
namespace {

// A directive's number in its series (D30 Art. 15): allocated as the next
// free serial, or given (a document registered from paper), and never one the
// series already holds. Only chosen here: the directive takes it in the
// series when it is admitted (domain::NoteDocumentNumber, in the same
// transaction), as a directive of this node's own returned by recovery does.
struct DocumentNumber {
  std::string display;
  uint64_t serial = 0;
};

absl::StatusOr<DocumentNumber> AllocateNumber(sync::WriteView& view, const std::string& issuer_body,
                                              uint32_t year, const std::string& doc_type,
                                              const std::string& abbrev, const std::string& given) {
  // Numbers run per issuer, series and year, from 1 (domain::NumberSeries).
  const std::string series = domain::NumberSeries(issuer_body, year, doc_type);
  const std::string serial_key = domain::SerialKey(series);
  auto number_key = [&](uint64_t serial) { return domain::DocumentNumberKey(series, serial); };
  SYNC_ASSIGN_OR_RETURN(uint64_t last, sync::meta::GetU64(view, serial_key));
  DocumentNumber out;
  if (given.empty()) {
    out.serial = last + 1;
    // Skip serials taken by numbers given by hand.
    for (;; ++out.serial) {
      SYNC_ASSIGN_OR_RETURN(std::optional<std::string> taken, view.MetaGet(number_key(out.serial)));
      if (!taken.has_value()) break;
    }
    out.display = domain::DisplayNumber(out.serial, doc_type, abbrev);
  } else {
    out.serial = domain::ParseDisplayNumber(given)->serial;  // checked by the caller
    SYNC_ASSIGN_OR_RETURN(std::optional<std::string> taken, view.MetaGet(number_key(out.serial)));
    if (taken.has_value()) {
      return absl::AlreadyExistsError("number " + given + " of " + std::to_string(year) + " is already " + *taken +
                                      " (D30 Art. 15: one number per document in a series)");
    }
    out.display = given;
  }
  return out;
}

v1::Record CurrentOrEmpty(const absl::StatusOr<std::optional<v1::Record>>& r) {
  return r.ok() && r->has_value() ? **r : v1::Record();
}

}  // namespace

DirectiveActs::DirectiveActs(LocalActs& local, const LinkRegistry& registry)
    : local_(local), self_(local.self()), store_(&local.store()), admission_(local.admission()),
      registry_(registry) {}

absl::StatusOr<std::string> DirectiveActs::Issue(v1::IssueDirectiveRequest request) {
  if (request.title().empty()) return absl::InvalidArgumentError("directive title is required");
  SYNC_ASSIGN_OR_RETURN(const std::vector<PreparedAttachment> attachments,
                        PrepareAttachments(*request.mutable_attachments(), local_.max_attachment_bytes()));
  if (request.local() && request.to_units_size() > 0) {
    return absl::InvalidArgumentError("a local directive is addressed to no unit (drop --to or --local)");
  }
  for (const auto& unit : request.to_units()) {
    if (!sync::IsValidNodeId(unit) || !sync::IsSelfOrAncestor(self_, unit) ||
        unit == self_) {
      return absl::InvalidArgumentError("'" + sync::Printable(unit, 80) + "' is not a unit below " + self_);
    }
    SYNC_ASSIGN_OR_RETURN(bool known, IsKnownUnit(unit));
    if (!known) {
      return absl::NotFoundError("no unit '" + unit + "' is known here: register it with `steerctl unit add " +
                                 unit + " --name ...` (or let it connect once)");
    }
  }
  const std::string doc_type = request.doc_type().empty() ? "CV" : request.doc_type();
  if (!domain::IsDocumentType(doc_type)) {
    return absl::InvalidArgumentError("'" + sync::Printable(doc_type, 16) +
                                      "' is not a document type code (D30 Appendix III: QĐ, CT, KH, TB, GM, ... or CV)");
  }
  if (!request.number().empty()) SYNC_RETURN_IF_ERROR(domain::CheckNumber(request.number(), doc_type, 0));
  std::vector<v1::DocumentRelation> relations;
  for (const v1::DocumentRelation& rel : request.relations()) {
    if (rel.kind() == v1::DocumentRelation::KIND_UNSPECIFIED || !v1::DocumentRelation::Kind_IsValid(rel.kind())) {
      return absl::InvalidArgumentError("relation to '" + sync::Printable(rel.target(), 80) +
                                        "' has no kind (REPLACES, AMENDS, CORRECTS or RECALLS)");
    }
    SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> target, store_->GetRecord(rel.target()));
    v1::RecordBody target_body;
    if (!target.has_value() || !target_body.ParseFromString(target->body()) ||
        target_body.kind() != v1::DIRECTIVE) {
      return absl::NotFoundError("no directive '" + rel.target() + "' on this node");
    }
    if (target_body.version().writer() != self_) {
      return absl::InvalidArgumentError("'" + rel.target() + "' was issued by " +
                                        target_body.version().writer() +
                                        ": only its issuer replaces, amends, corrects or recalls it");
    }
    relations.push_back(std::move(rel));
  }
  LocalAct act{domain::Act{domain::Action::kIssueDirective, doc_type}, request.act(), std::nullopt};
  SYNC_ASSIGN_OR_RETURN(
      Written w,
      local_.Write(act, [&](uint64_t counter, LmdbStore::View& view, v1::RecordBody& body)
                     -> absl::StatusOr<std::string> {
        const std::string today = local_.Today();
        const std::string issuer_body =
            request.act().body_id().empty() ? domain::DefaultBodyOf(self_) : request.act().body_id();
        const uint32_t year = static_cast<uint32_t>(std::stoi(today.substr(0, 4)));
        SYNC_ASSIGN_OR_RETURN(std::string abbrev, admission_.ReadRoster([&](const domain::Roster& roster) {
          return absl::StatusOr<std::string>(domain::AbbrevOf(roster, issuer_body));
        }));
        SYNC_ASSIGN_OR_RETURN(DocumentNumber number,
                              AllocateNumber(view, issuer_body, year, doc_type, abbrev, request.number()));
        v1::Directive d;
        d.set_number(number.display);
        const uint64_t serial = number.serial;
        d.set_title(request.title());
        d.set_body(request.body());
        // Issuer and issue date are the version's writer and legal date
        // (domain::ParseDirective): a lean record does not repeat them.
        *d.mutable_to_units() = request.to_units();
        d.set_doc_type(doc_type);
        d.set_issuer_body(issuer_body);
        d.set_year(year);
        d.set_series(doc_type);
        d.set_serial(static_cast<uint32_t>(serial));
        for (const auto& rel : relations) *d.add_relations() = rel;
        body.set_kind(v1::DIRECTIVE);
        body.mutable_audience()->set_direction(request.local() ? v1::Audience::LOCAL : v1::Audience::DOWN);
        body.mutable_audience()->set_root(self_);
        *body.mutable_audience()->mutable_units() = request.to_units();
        body.set_payload(d.SerializeAsString());
        // Between documents the relations decide which is in force
        // (ListDirectives); Version.supersedes is for versions of one record.
        const std::string id = self_ + "/d/" + std::to_string(counter);
        SYNC_RETURN_IF_ERROR(AttachToOwnAct(view, attachments, id, body));
        return id;
      }));
  return w.id;
}

absl::StatusOr<std::string> DirectiveActs::Ack(const std::string& directive_id) {
  v1::AckDirectiveRequest request;
  request.set_directive_id(directive_id);
  return Ack(request);
}

absl::StatusOr<std::string> DirectiveActs::Ack(const v1::AckDirectiveRequest& request) {
  const std::string& directive_id = request.directive_id();
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, store_->GetRecord(directive_id));
  v1::RecordBody target;
  if (!record.has_value() || !target.ParseFromString(record->body()) ||
      target.kind() != v1::DIRECTIVE) {
    return absl::NotFoundError("no directive '" + directive_id + "' on this node");
  }
  v1::Directive d;
  if (!domain::ParseDirective(target, d)) return absl::DataLossError("directive does not parse");
  if (d.issuer() == self_) {
    return absl::InvalidArgumentError("a unit does not acknowledge its own directive");
  }
  const std::optional<domain::ReceiptState> parsed = domain::ParseReceiptState(request.state());
  if (parsed != domain::ReceiptState::kAcknowledged && parsed != domain::ReceiptState::kReturned) {
    return absl::InvalidArgumentError("a unit acknowledges (ACKNOWLEDGED) or returns (RETURNED) a directive");
  }
  const std::string state(domain::ReceiptStateName(*parsed));
  const std::string id = self_ + "/a/" + directive_id;
  v1::RecordBody current;
  const v1::Record existing = CurrentOrEmpty(store_->GetRecord(id));
  if (!existing.body().empty() && current.ParseFromString(existing.body()) &&
      request.if_version().empty()) {
    v1::Acknowledgement held;
    held.ParseFromString(current.payload());
    if (domain::ParseReceiptState(held.state()) == parsed && current.version().writer() == self_) {
      return id;  // idempotent
    }
  }
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Version> base, local_.FindBase(id, request.if_version()));
  LocalAct act{domain::Act{domain::Action::kReceipt, ""}, request.act(), base};
  SYNC_ASSIGN_OR_RETURN(
      Written w, local_.Write(act, [&](uint64_t, LmdbStore::View&, v1::RecordBody& body)
                                     -> absl::StatusOr<std::string> {
        v1::Acknowledgement a;
        a.set_directive_id(directive_id);
        a.set_unit(self_);
        a.set_acknowledged_date(local_.Today());
        a.set_state(state);
        a.set_reason(request.reason());
        body.set_kind(v1::ACKNOWLEDGEMENT);
        body.mutable_audience()->set_direction(v1::Audience::UP);
        body.mutable_audience()->set_root(d.issuer());
        body.set_payload(a.SerializeAsString());
        return id;
      }));
  return w.id;
}

absl::StatusOr<v1::RecallDirectiveReply> DirectiveActs::Recall(const v1::RecallDirectiveRequest& request) {
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, store_->GetRecord(request.directive_id()));
  v1::RecordBody target;
  v1::Directive d;
  if (!record.has_value() || !target.ParseFromString(record->body()) ||
      target.kind() != v1::DIRECTIVE || !domain::ParseDirective(target, d)) {
    return absl::NotFoundError("no directive '" + request.directive_id() + "' on this node");
  }
  if (d.issuer() != self_) {
    return absl::PermissionDeniedError("only its issuer " + d.issuer() + " recalls '" +
                                       request.directive_id() + "'");
  }
  // Addressed units; for a directive to the whole subtree, every child that
  // holds it (has linked or acknowledged).
  std::set<std::string> units(d.to_units().begin(), d.to_units().end());
  if (units.empty()) {
    for (const auto& p : registry_.Peers()) {
      if (p.relation == Relation::kChild) units.insert(p.peer);
    }
    // Its receipts, through the index (node/domain/document_index.h).
    SYNC_ASSIGN_OR_RETURN(std::vector<v1::Record> receipts,
                          store_->RecordsIndexedUnder(domain::ReceiptIndexPrefix(request.directive_id())));
    for (const v1::Record& r : receipts) {
      v1::RecordBody body;
      v1::Acknowledgement a;
      if (body.ParseFromString(r.body()) && body.kind() == v1::ACKNOWLEDGEMENT &&
          a.ParseFromString(body.payload()) && a.directive_id() == request.directive_id()) {
        units.insert(a.unit());
      }
    }
  }
  if (units.empty()) return absl::FailedPreconditionError("no unit is known to hold '" + request.directive_id() + "'");
  // One transaction for every unit: a recall is made whole or not at all
  // (a kill halfway left it recalled from some units only).
  std::vector<std::pair<LocalAct, BodyMaker>> acts;
  for (const std::string& unit : units) {
    const std::string id = unit + "/a/" + request.directive_id();
    v1::RecordBody held;
    v1::Acknowledgement held_receipt;
    if (const v1::Record existing = CurrentOrEmpty(store_->GetRecord(id));
        held.ParseFromString(existing.body()) && held_receipt.ParseFromString(held.payload()) &&
        domain::ParseReceiptState(held_receipt.state()) == domain::ReceiptState::kRecalled) {
      continue;  // recalled from this unit already
    }
    // Recalling a document takes the power to issue its type (§4): every
    // receiver looks the type up in the directive it holds (act_checks.cc).
    LocalAct act{domain::Act{domain::Action::kRecallDirective, d.doc_type()}, request.act(), std::nullopt};
    acts.emplace_back(act, [&, unit, id](uint64_t, LmdbStore::View&, v1::RecordBody& body)
                               -> absl::StatusOr<std::string> {
      v1::Acknowledgement a;
      a.set_directive_id(request.directive_id());
      a.set_unit(unit);
      a.set_acknowledged_date(local_.Today());
      a.set_state("RECALLED");
      a.set_reason(request.reason());
      body.set_kind(v1::ACKNOWLEDGEMENT);
      body.mutable_audience()->set_direction(v1::Audience::DOWN);
      body.mutable_audience()->set_root(self_);
      body.mutable_audience()->add_units(unit);
      body.set_payload(a.SerializeAsString());
      return id;
    });
  }
  v1::RecallDirectiveReply reply;
  if (!acts.empty()) {
    SYNC_ASSIGN_OR_RETURN(std::vector<Written> written, local_.WriteTogether(std::move(acts)));
    for (const Written& w : written) reply.add_ids(w.id);
  }
  if (reply.ids().empty()) {
    return absl::FailedPreconditionError("'" + request.directive_id() + "' is already recalled from every unit (" +
                                         absl::StrJoin(units, ", ") + ")");
  }
  return reply;
}

void DirectiveActs::Receive(std::vector<std::string> directive_ids,
                            std::function<void(const std::string& id, absl::Status)> done) {
  for (std::string& directive_id : directive_ids) {
    const std::string id = self_ + "/a/" + directive_id;
    LocalAct act{domain::Act{domain::Action::kReceiveDirective, ""}, v1::ActAs(), std::nullopt};
    local_.Submit(
        act,
        [this, directive_id, id](uint64_t, LmdbStore::View& view, v1::RecordBody& body)
            -> absl::StatusOr<std::string> {
          // Once: never over a receipt already held (an officer's
          // acknowledgement or return, or the issuer's recall).
          SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> held, view.Get(id));
          if (held.has_value()) return absl::AlreadyExistsError("receipt held");
          SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, view.Get(directive_id));
          v1::RecordBody directive_body;
          v1::Directive d;
          if (!record.has_value() || !directive_body.ParseFromString(record->body()) ||
              !domain::ParseDirective(directive_body, d)) {
            return absl::NotFoundError("directive gone");
          }
          // Only a directive addressed to this unit itself: one relayed
          // through it to units below is theirs to acknowledge.
          if (!domain::ReceiptDueAt(d, self_)) return absl::AlreadyExistsError("not addressed here");
          v1::Acknowledgement a;
          a.set_directive_id(directive_id);
          a.set_unit(self_);
          a.set_acknowledged_date(local_.Today());
          a.set_state(std::string(domain::ReceiptStateName(domain::ReceiptState::kReceived)));
          a.set_reason("received and verified");
          body.set_kind(v1::ACKNOWLEDGEMENT);
          body.mutable_audience()->set_direction(v1::Audience::UP);
          body.mutable_audience()->set_root(d.issuer());
          body.set_payload(a.SerializeAsString());
          return id;
        },
        [directive_id, done](absl::StatusOr<Written> w) { done(directive_id, w.status()); });
  }
}

absl::StatusOr<bool> DirectiveActs::IsKnownUnit(const std::string& unit) const {
  for (const auto& p : registry_.Peers()) {
    if (p.peer == unit || sync::IsSelfOrAncestor(p.peer, unit)) return true;
  }
  return admission_.ReadRoster([&](const domain::Roster& roster) -> absl::StatusOr<bool> {
    for (const auto& [id, body] : roster.records()) {
      v1::Unit u;
      if (body.kind() == v1::UNIT && u.ParseFromString(body.payload()) && u.unit() == unit) return true;
    }
    return false;
  });
}

}  // namespace steersync::node
