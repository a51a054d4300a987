// What steerctl lists, read from the store: directives with the status their
// relations and receipts give them, reports with theirs, the quarantine.
#include "node/listings.h"

#include "node/attachments.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "node/domain/document_index.h"
#include "node/domain/documents.h"
#include "node/domain/legal_date.h"
#include "node/link.h"  // kReturnedPrefix
#include "sync/audience_seq.h"  // StampedAfter
#include "sync/merge.h"
#include "sync/status_macros.h"

namespace steersync::node {
namespace {

// "KT. DEPUTY_HEAD Trần Phước Hiền": how an act was signed, for listings.
std::string SignedAs(const v1::Authority& a) {
  return (a.formula().empty() ? "" : a.formula() + ". ") + a.capacity() +
         (a.officer().empty() ? "" : " " + a.officer());
}

// What a directive record says, for a listing (`with_body`: and its text).
v1::DirectiveInfo DirectiveInfoOf(const v1::RecordBody& body, const v1::Directive& d, bool with_body) {
  v1::DirectiveInfo info;
  info.set_id(body.id());
  info.set_number(d.number());
  info.set_title(d.title());
  info.set_issuer(d.issuer());
  *info.mutable_to() = d.to_units();
  info.set_issued_date(d.issued_date());
  info.set_doc_type(d.doc_type());
  if (d.serial() != 0) {
    info.set_identity(d.issuer_body() + " " + std::to_string(d.year()) + " " + d.series() + " " +
                      std::to_string(d.serial()));
  }
  info.set_signed_as(SignedAs(body.version().authority()));
  info.set_local(body.audience().direction() == v1::Audience::LOCAL);
  info.set_version(sync::VersionKey(body.version()));
  *info.mutable_relations() = d.relations();
  if (with_body) info.set_body(d.body());
  return info;
}

// Adds one unit's receipt of `info`'s directive to it.
void AddReceipt(const v1::Acknowledgement& a, v1::DirectiveInfo& info) {
  const std::optional<domain::ReceiptState> state = domain::ParseReceiptState(a.state());
  if (!state.has_value()) return;
  switch (*state) {
    case domain::ReceiptState::kRecalled: info.add_recalled_from(a.unit()); break;
    case domain::ReceiptState::kReturned: info.add_returned_by(a.unit()); break;
    case domain::ReceiptState::kAcknowledged: info.add_acks(a.unit()); break;
    case domain::ReceiptState::kReceived: info.add_received_by(a.unit()); break;
  }
}

// The relations held that name a directive: (kind, by whom), in the order
// of the records table, then of each directive's relations.
using Affected = std::vector<std::pair<v1::DocumentRelation::Kind, std::string>>;

// Sets `info`'s affected_by and status from the relations naming it and its
// recalls (AddReceipt first).
void SetStatus(const Affected& affected, v1::DirectiveInfo& info) {
  // Derived from every relation held, so the arrival order never matters
  // (E6). The strongest effect decides: a recall, then a replacement, then
  // an amendment or correction.
  using domain::DirectiveStatus;
  DirectiveStatus status = DirectiveStatus::kEffective;
  for (const auto& [kind, by] : affected) {
    info.add_affected_by(v1::DocumentRelation::Kind_Name(kind) + " by " + by);
    switch (kind) {
      case v1::DocumentRelation::RECALLS: status = DirectiveStatus::kRecalled; break;
      case v1::DocumentRelation::REPLACES:
        if (status != DirectiveStatus::kRecalled) status = DirectiveStatus::kSuperseded;
        break;
      case v1::DocumentRelation::AMENDS:
        if (status == DirectiveStatus::kEffective) status = DirectiveStatus::kAmended;
        break;
      case v1::DocumentRelation::CORRECTS:
        if (status == DirectiveStatus::kEffective) status = DirectiveStatus::kCorrected;
        break;
      default: break;
    }
  }
  if (status == DirectiveStatus::kEffective && info.recalled_from_size() > 0) status = DirectiveStatus::kRecalled;
  info.set_status(std::string(domain::DirectiveStatusName(status)));
}

// Every directive held, with receipts and the status relations give it (a
// scan of every record: for lists; one directive is read by ShowDirectiveIn).
absl::StatusOr<std::map<std::string, v1::DirectiveInfo, NaturalLess>> CollectDirectives(const LmdbStore& store) {
  std::map<std::string, v1::DirectiveInfo, NaturalLess> directives;
  std::map<std::string, Affected> affected;  // by target
  std::vector<v1::Acknowledgement> receipts;
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    if (body.kind() == v1::ACKNOWLEDGEMENT) {
      v1::Acknowledgement a;
      if (a.ParseFromString(body.payload())) receipts.push_back(std::move(a));
    } else if (body.kind() == v1::DIRECTIVE) {
      v1::Directive d;
      if (!domain::ParseDirective(body, d)) return;
      directives[body.id()] = DirectiveInfoOf(body, d, /*with_body=*/false);
      for (const auto& rel : d.relations()) {
        affected[rel.target()].emplace_back(rel.kind(), body.id());
      }
    }
  }));
  for (const v1::Acknowledgement& a : receipts) {
    auto it = directives.find(a.directive_id());
    if (it != directives.end()) AddReceipt(a, it->second);
  }
  for (auto& [id, info] : directives) SetStatus(affected[id], info);
  return directives;
}

// The body of a current record read from the store; DataLoss if it does not
// parse (as ForEachRecord).
absl::StatusOr<v1::RecordBody> BodyOf(const v1::Record& record) {
  v1::RecordBody body;
  if (!body.ParseFromString(record.body())) return absl::DataLossError("a record's body does not parse");
  return body;
}

}  // namespace

bool PassesFilter(const v1::ListFilter& filter, std::string_view date, std::string_view status,
                  std::string_view from) {
  if (!filter.since().empty() && date.substr(0, 10) < filter.since()) return false;
  if (!filter.status().empty() && status != filter.status()) return false;
  return filter.from().empty() || from == filter.from();
}

absl::StatusOr<v1::ListDirectivesReply> ListDirectivesIn(const LmdbStore& store,
                                                          const v1::ListDirectivesRequest& filter) {
  SYNC_ASSIGN_OR_RETURN(auto directives, CollectDirectives(store));
  v1::ListDirectivesReply reply;
  for (auto& [id, info] : directives) {
    if (!filter.status().empty() && info.status() != filter.status()) continue;
    if (!filter.since().empty() && info.issued_date() < filter.since()) continue;
    if (!filter.from().empty() && info.issuer() != filter.from()) continue;
    *reply.add_directives() = std::move(info);
  }
  KeepNewest(*reply.mutable_directives(), filter.limit());
  return reply;
}

namespace {

// The files the record `body` names, and what this node holds of each.
absl::Status AddAttachments(const LmdbStore& store, const v1::RecordBody& body,
                            google::protobuf::RepeatedPtrField<v1::AttachmentInfo>& out) {
  SYNC_ASSIGN_OR_RETURN(std::vector<v1::AttachmentInfo> infos, AttachmentInfos(store, body));
  for (v1::AttachmentInfo& info : infos) *out.Add() = std::move(info);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::DirectiveInfo> ShowDirectiveIn(const LmdbStore& store, const std::string& id) {
  // The directive, its receipts and the directives naming it, through the
  // indexes (node/domain/document_index.h): what CollectDirectives finds of
  // it, in the same order, without reading every record.
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, store.GetRecord(id));
  std::optional<v1::RecordBody> body;
  if (record.has_value()) {
    SYNC_ASSIGN_OR_RETURN(body, BodyOf(*record));
  }
  v1::Directive d;
  if (!body.has_value() || body->kind() != v1::DIRECTIVE || !domain::ParseDirective(*body, d)) {
    return absl::NotFoundError("no directive '" + id + "' on this node (see `steerctl directive list`)");
  }
  v1::DirectiveInfo info = DirectiveInfoOf(*body, d, /*with_body=*/true);
  SYNC_ASSIGN_OR_RETURN(std::vector<v1::Record> receipts,
                        store.RecordsIndexedUnder(domain::ReceiptIndexPrefix(id)));
  for (const v1::Record& r : receipts) {
    SYNC_ASSIGN_OR_RETURN(v1::RecordBody b, BodyOf(r));
    v1::Acknowledgement a;
    if (b.kind() == v1::ACKNOWLEDGEMENT && a.ParseFromString(b.payload()) && a.directive_id() == id) {
      AddReceipt(a, info);
    }
  }
  SYNC_ASSIGN_OR_RETURN(std::vector<v1::Record> naming, store.RecordsIndexedUnder(domain::RelationIndexPrefix(id)));
  Affected affected;
  for (const v1::Record& r : naming) {
    SYNC_ASSIGN_OR_RETURN(v1::RecordBody b, BodyOf(r));
    v1::Directive by;
    if (b.kind() != v1::DIRECTIVE || !domain::ParseDirective(b, by)) continue;
    for (const auto& rel : by.relations()) {
      if (rel.target() == id) affected.emplace_back(rel.kind(), b.id());
    }
  }
  SetStatus(affected, info);
  SYNC_RETURN_IF_ERROR(AddAttachments(store, *body, *info.mutable_attachments()));
  return info;
}

namespace {

// What report record `body` says, with the status `status` (its REPORT_STATUS
// record, if held) gives it; `with_body`: and its text.
v1::ReportInfo ReportInfoOf(const v1::RecordBody& body, const v1::Report& r, const v1::RecordBody* status,
                            bool with_body) {
  v1::ReportInfo info;
  info.set_id(body.id());
  info.set_from(r.from_unit());
  info.set_period(r.period());
  info.set_title(r.title());
  info.set_in_reply_to(r.in_reply_to());
  info.set_supersedes_report(r.supersedes_report());
  info.set_obligation(r.obligation_id());
  info.set_date(body.version().legal_date());
  info.set_to(body.audience().root());
  info.set_signed_as(SignedAs(body.version().authority()));
  info.set_version(sync::VersionKey(body.version()));
  if (with_body) info.set_body(r.body());
  info.set_status("SUBMITTED");
  v1::ReportStatus st;
  if (status != nullptr && st.ParseFromString(status->payload())) {
    info.set_status(st.state());
    info.set_status_reason(st.reason());
    info.set_status_version(sync::VersionKey(status->version()));
  }
  return info;
}

// The id of report `id`'s status record.
std::string StatusIdOf(std::string_view id) { return std::string(id) + "/status"; }

// Every report held (a scan of every record: for lists).
absl::StatusOr<v1::ListReportsReply> CollectReports(const LmdbStore& store) {
  v1::ListReportsReply reply;
  std::map<std::string, v1::RecordBody> statuses;
  std::map<std::string, v1::RecordBody, NaturalLess> reports;
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    if (body.kind() == v1::REPORT) reports.emplace(body.id(), body);
    if (body.kind() == v1::REPORT_STATUS) statuses[body.id()] = body;
  }));
  for (const auto& [id, body] : reports) {
    v1::Report r;
    if (!r.ParseFromString(body.payload())) continue;
    auto it = statuses.find(StatusIdOf(id));
    *reply.add_reports() = ReportInfoOf(body, r, it == statuses.end() ? nullptr : &it->second, false);
  }
  return reply;
}

}  // namespace

absl::StatusOr<v1::ListReportsReply> ListReportsIn(const LmdbStore& store, const v1::ListReportsRequest& filter) {
  SYNC_ASSIGN_OR_RETURN(v1::ListReportsReply all, CollectReports(store));
  v1::ListReportsReply reply;
  for (v1::ReportInfo& r : *all.mutable_reports()) {
    if (!filter.status().empty() && r.status() != filter.status()) continue;
    if (!filter.from().empty() && r.from() != filter.from()) continue;
    if (!filter.period().empty() && r.period() != filter.period()) continue;
    if (!filter.since().empty() && r.date() < filter.since()) continue;
    *reply.add_reports() = std::move(r);
  }
  KeepNewest(*reply.mutable_reports(), filter.limit());
  return reply;
}

absl::StatusOr<v1::ReportInfo> ShowReportIn(const LmdbStore& store, const std::string& id) {
  // The report's record and its status record, by id.
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> record, store.GetRecord(id));
  std::optional<v1::RecordBody> body;
  if (record.has_value()) {
    SYNC_ASSIGN_OR_RETURN(body, BodyOf(*record));
  }
  v1::Report r;
  if (!body.has_value() || body->kind() != v1::REPORT || !r.ParseFromString(body->payload())) {
    return absl::NotFoundError("no report '" + id + "' on this node (see `steerctl report list`)");
  }
  SYNC_ASSIGN_OR_RETURN(std::optional<v1::Record> status_record, store.GetRecord(StatusIdOf(id)));
  std::optional<v1::RecordBody> status;
  if (status_record.has_value()) {
    SYNC_ASSIGN_OR_RETURN(status, BodyOf(*status_record));
  }
  if (status.has_value() && status->kind() != v1::REPORT_STATUS) status.reset();
  v1::ReportInfo info = ReportInfoOf(*body, r, status.has_value() ? &*status : nullptr, /*with_body=*/true);
  SYNC_RETURN_IF_ERROR(AddAttachments(store, *body, *info.mutable_attachments()));
  return info;
}

absl::Status IndexDocumentsOnce(LmdbStore& store) {
  SYNC_ASSIGN_OR_RETURN(std::optional<std::string> built, store.MetaGet(domain::kDocumentIndexBuiltKey));
  if (built.has_value()) return absl::OkStatus();
  std::vector<std::string> keys;
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    for (std::string& key : domain::DocumentIndexKeys(body)) keys.push_back(std::move(key));
  }));
  // A version admitted between the scan and this write was indexed by its
  // admission (CommitteeAdmission::OnAdmitted).
  return store.Write([&](LmdbStore::View& view) -> absl::Status {
    for (const std::string& key : keys) SYNC_RETURN_IF_ERROR(view.MetaPut(key, ""));
    return view.MetaPut(domain::kDocumentIndexBuiltKey, "");
  });
}

namespace {
constexpr char kNumberGivenTwicePrefix[] = "docno-twice/";
}  // namespace

absl::Status NoteDocumentNumbersOnce(LmdbStore& store, const std::string& self) {
  constexpr char kNumbersNotedKey[] = "idx/numbers";
  SYNC_ASSIGN_OR_RETURN(std::optional<std::string> noted, store.MetaGet(kNumbersNotedKey));
  if (noted.has_value()) return absl::OkStatus();
  // The numbers only, not the records: a province may hold a million.
  std::vector<domain::IssuedNumber> numbers;
  // (series, serial) -> the earliest issued directive seen with it: its id
  // and when it was signed. Records come in id order, not issue order.
  std::map<std::pair<std::string, uint64_t>, std::pair<std::string, v1::Hlc>> first_holder;
  std::vector<std::pair<std::string, std::string>> given_twice;  // ("<earlier>\n<later>", the number shown)
  SYNC_RETURN_IF_ERROR(store.ForEachRecord([&](const v1::Record&, const v1::RecordBody& body) {
    std::optional<domain::IssuedNumber> number = domain::NumberIssuedBy(self, body);
    if (!number.has_value()) return;
    auto [held, first] =
        first_holder.try_emplace({number->series, number->serial}, number->id, body.version().hlc());
    if (!first) {
      v1::Directive d;
      const std::string shown = domain::ParseDirective(body, d) ? d.number() : number->series;
      auto& [held_id, held_hlc] = held->second;
      if (sync::StampedAfter(held_hlc, body.version().hlc())) {
        given_twice.emplace_back(number->id + "\n" + held_id, shown);  // this one came first
        held_id = number->id;
        held_hlc = body.version().hlc();
      } else {
        given_twice.emplace_back(held_id + "\n" + number->id, shown);
      }
    }
    numbers.push_back(*std::move(number));
  }));
  // A directive admitted between the scan and this write took its number
  // in its own admission (CommitteeAdmission::OnAdmitted).
  return store.Write([&](LmdbStore::View& view) -> absl::Status {
    for (const domain::IssuedNumber& number : numbers) {
      SYNC_RETURN_IF_ERROR(domain::TakeDocumentNumber(view, number));
    }
    for (const auto& [ids, shown] : given_twice) {
      SYNC_RETURN_IF_ERROR(view.MetaPut(kNumberGivenTwicePrefix + ids, shown));
    }
    return view.MetaPut(kNumbersNotedKey, "");
  });
}

absl::StatusOr<std::vector<std::string>> NumbersGivenTwice(const LmdbStore& store, size_t limit) {
  SYNC_ASSIGN_OR_RETURN(auto twice, store.MetaScan(kNumberGivenTwicePrefix));
  std::vector<std::string> lines;
  for (const auto& [key, shown] : twice) {
    if (lines.size() == limit) break;
    const std::string ids = key.substr(sizeof(kNumberGivenTwicePrefix) - 1);
    const size_t nl = ids.find('\n');
    if (nl == std::string::npos) continue;
    const std::string first = ids.substr(0, nl), second = ids.substr(nl + 1);
    // Settled once either one is recalled.
    const std::string recalled(domain::DirectiveStatusName(domain::DirectiveStatus::kRecalled));
    absl::StatusOr<v1::DirectiveInfo> a = ShowDirectiveIn(store, first), b = ShowDirectiveIn(store, second);
    if ((a.ok() && a->status() == recalled) || (b.ok() && b->status() == recalled)) continue;
    lines.push_back("number " + shown + " was given to both " + first + " and " + second +
                    " (by a node restored from a backup before 0.3; D30 Art. 15: one document per number): "
                    "recall the later one (`steerctl directive recall " + second +
                    " --reason \"number given twice\"`) and issue it again for a new number");
  }
  return lines;
}

absl::StatusOr<v1::ListQuarantineReply> ListQuarantineIn(const LmdbStore& store,
                                                         const v1::ListQuarantineRequest& page) {
  v1::ListQuarantineReply reply;
  SYNC_ASSIGN_OR_RETURN(auto entries, store.ListQuarantine());
  for (const auto& q : entries) {
    v1::QuarantineInfo* info = reply.add_entries();
    info->set_record_id(q.record_id);
    info->set_from_peer(q.from_peer);
    info->set_reason_code(q.reason_code);
    info->set_detail(q.detail);
    info->set_received_micros(static_cast<uint64_t>(q.received_micros));
  }
  SYNC_ASSIGN_OR_RETURN(auto returned, store.MetaScan(kReturnedPrefix));
  for (const auto& [key, value] : returned) {
    const std::string rest = key.substr(std::string(kReturnedPrefix).size());
    const size_t nl = rest.find('\n');
    const size_t v1_end = value.find('\n');
    const size_t v2_end = value.find('\n', v1_end + 1);
    if (nl == std::string::npos || v1_end == std::string::npos || v2_end == std::string::npos) continue;
    v1::QuarantineInfo* info = reply.add_entries();
    info->set_returned_by(rest.substr(0, nl));
    info->set_record_id(rest.substr(nl + 1));
    info->set_received_micros(std::strtoull(value.substr(0, v1_end).c_str(), nullptr, 10));
    info->set_reason_code(value.substr(v1_end + 1, v2_end - v1_end - 1));
    info->set_detail(value.substr(v2_end + 1));
  }
  // The filters (item 8), then newest first, then the page asked for.
  auto& page_entries = *reply.mutable_entries();
  v1::ListFilter filter;
  filter.set_since(page.since());
  filter.set_status(page.status());
  filter.set_from(page.from());
  google::protobuf::RepeatedPtrField<v1::QuarantineInfo> kept;
  for (v1::QuarantineInfo& q : page_entries) {
    const std::string date = domain::LegalDate(static_cast<int64_t>(q.received_micros()));
    if (PassesFilter(filter, date, q.reason_code(), q.returned_by().empty() ? q.from_peer() : q.returned_by())) {
      *kept.Add() = std::move(q);
    }
  }
  page_entries.Swap(&kept);
  std::stable_sort(page_entries.begin(), page_entries.end(),
                   [](const v1::QuarantineInfo& a, const v1::QuarantineInfo& b) {
                     return a.received_micros() > b.received_micros();
                   });
  reply.set_total(static_cast<uint64_t>(page_entries.size()));
  constexpr uint32_t kDefaultPage = 100, kMaxPage = 1000;
  const int limit = static_cast<int>(page.limit() == 0 ? kDefaultPage : std::min(page.limit(), kMaxPage));
  const int offset = static_cast<int>(std::min<uint64_t>(page.offset(), page_entries.size()));
  page_entries.DeleteSubrange(0, offset);
  if (page_entries.size() > limit) page_entries.DeleteSubrange(limit, page_entries.size() - limit);
  return reply;
}

}  // namespace steersync::node
