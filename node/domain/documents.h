#pragma once
// Documents as the regulations shape them (DOMAIN-MODEL.md §1.8, §1.9, §1.10;
// D30 Art. 15; Decree 09/2019 Art. 12): numbers and symbols, reporting
// periods, and the closed sets of lifecycle states. One place for each rule;
// the node's acts and the admission of a peer's versions both call these.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "sync/store.h"
#include "node/domain/roster.h"

namespace steersync::domain {

// ---- Numbers and symbols (§1.8, D30 Art. 15) --------------------------------

// The symbol of a document: "<TYPE>-<ABBREV>" ("KH-BCĐ"), or for a công văn,
// which has no type code, just "<ABBREV>" ("BCĐ").
std::string DocumentSymbol(std::string_view doc_type, std::string_view abbrev);

// "03/KH-BCĐ": the serial zero-padded to two digits, a slash, the symbol.
std::string DisplayNumber(uint64_t serial, std::string_view doc_type, std::string_view abbrev);

// The abbreviation a body's documents carry ("BCĐ" unless its BODY record
// says otherwise, DOMAIN-MODEL §1.3).
std::string AbbrevOf(const Roster& roster, std::string_view body_id);

struct ParsedNumber {
  uint64_t serial = 0;
  std::string type_code;  // "" for a công văn
  std::string abbrev;     // the issuer's abbreviation and any unit suffix
};

// Parses a display number; tolerates blanks around the slash ("01 /QĐ-BCĐ").
// A normative document's "39/2021/QĐ-UBND" keeps its year in `abbrev`'s
// place and is not a committee number: refused.
std::optional<ParsedNumber> ParseDisplayNumber(std::string_view number);

// OK when `number` is a well-formed display number whose type code is
// `doc_type` (none for "CV") and, if `serial` is not 0, whose serial is it.
absl::Status CheckNumber(std::string_view number, std::string_view doc_type, uint64_t serial);

// Number series in the store's meta: one per issuing body, year and type.
//   "serial/<series>"                -> the highest serial used (u64 BE)
//   "docno/<series>/<serial u64 BE>" -> the id of the directive holding it
// where <series> is "<issuer_body>/<year>/<type>".
std::string NumberSeries(std::string_view issuer_body, uint32_t year, std::string_view doc_type);
std::string SerialKey(std::string_view series);
std::string DocumentNumberKey(std::string_view series, uint64_t serial);

// A directive's number in its series, and the directive holding it.
struct IssuedNumber {
  std::string series;  // NumberSeries()
  uint64_t serial = 0;
  std::string id;
};
// The number of directive `body` when `self` issued it (nullopt for any
// other record, or a directive without a serial).
std::optional<IssuedNumber> NumberIssuedBy(std::string_view self, const v1::RecordBody& body);
// Takes `number` in its series: its serial is held by its directive (unless
// already held) and the series continues after it.
absl::Status TakeDocumentNumber(sync::WriteView& view, const IssuedNumber& number);

// Records directive `body`'s number in its series when the issuer is
// `self` (NumberIssuedBy, TakeDocumentNumber). Run for
// every admitted version (CommitteeAdmission::OnAdmitted), so a node
// restored from a backup that gets its newer directives back from its
// neighbours (recovery) never gives their numbers again (D30 Art. 15).
absl::Status NoteDocumentNumber(sync::WriteView& view, std::string_view self, const v1::RecordBody& body);

// ---- Reporting periods (Decree 09/2019 Art. 12, P 12.2, C 10) ---------------

// "2026" (year), "2026-H1"/"2026-H2" (half), "2026-Q1".."2026-Q4" (quarter),
// "2026-01".."2026-12" (month).
bool IsReportingPeriod(std::string_view period);
inline constexpr char kPeriodFormats[] = "2026, 2026-H1, 2026-Q4 or 2026-11 (Decree 09/2019 Art. 12)";

// ---- Lifecycle states (§1.9 receipts, §1.10 reports) -------------------------

// A directive's receipt at one addressed unit: RECEIVED by the unit's node
// on verified arrival (D30 Art. 21.2c, S23), then the person's ACKNOWLEDGED
// or RETURNED; RECALLED by the issuer.
enum class ReceiptState { kReceived, kAcknowledged, kReturned, kRecalled };
std::optional<ReceiptState> ParseReceiptState(std::string_view name);  // "" = ACKNOWLEDGED
std::string_view ReceiptStateName(ReceiptState state);
// True when `unit` registers `d` RECEIVED on its verified arrival: `d` is
// addressed to the unit itself (its to_units list it, or list none: the
// whole subtree of its issuer) and the unit is not its issuer. A unit it is
// only relayed through, to units listed below it, does not.
bool ReceiptDueAt(const v1::Directive& d, std::string_view unit);

// The directive `body` carries (false when its payload is not a Directive),
// with what a directive written since 0.3.0 leaves to its version filled in
// (issue 13 item 2, lean records): its issuer is the version's writer, its
// issue date the version's legal date. Older directives name both, and
// record_checks.cc admits them only when the issuer is the writer. Every
// reader of a directive's issuer or date parses it here.
bool ParseDirective(const v1::RecordBody& body, v1::Directive& out);

// A report's status. The reporting unit sets SUBMITTED and WITHDRAWN; its
// superior RECEIVED (on verified arrival), ACCEPTED, RETURNED, SUPERSEDED.
enum class ReportState { kSubmitted, kWithdrawn, kReceived, kAccepted, kReturned, kSuperseded };
std::optional<ReportState> ParseReportState(std::string_view name);
std::string_view ReportStateName(ReportState state);
bool SetByReportingUnit(ReportState state);

// A directive's status, derived from the relations and recalls held.
enum class DirectiveStatus { kEffective, kAmended, kCorrected, kSuperseded, kRecalled };
std::string_view DirectiveStatusName(DirectiveStatus status);

}  // namespace steersync::domain
