#include "node/domain/documents.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <utility>

#include "node/domain/powers.h"
#include "sync/meta_keys.h"
#include "sync/status_macros.h"

namespace steersync::domain {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Closed sets, name by name: one table per enum, so parsing and printing
// cannot drift apart.
template <typename Enum, size_t N>
std::optional<Enum> Lookup(const std::array<std::pair<Enum, std::string_view>, N>& table,
                           std::string_view name) {
  for (const auto& [value, n] : table) {
    if (n == name) return value;
  }
  return std::nullopt;
}
template <typename Enum, size_t N>
std::string_view NameIn(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum value) {
  for (const auto& [v, n] : table) {
    if (v == value) return n;
  }
  return "?";
}

constexpr std::array<std::pair<ReceiptState, std::string_view>, 4> kReceiptStates{{
    {ReceiptState::kReceived, "RECEIVED"},
    {ReceiptState::kAcknowledged, "ACKNOWLEDGED"},
    {ReceiptState::kReturned, "RETURNED"},
    {ReceiptState::kRecalled, "RECALLED"},
}};
constexpr std::array<std::pair<ReportState, std::string_view>, 6> kReportStates{{
    {ReportState::kSubmitted, "SUBMITTED"},
    {ReportState::kWithdrawn, "WITHDRAWN"},
    {ReportState::kReceived, "RECEIVED"},
    {ReportState::kAccepted, "ACCEPTED"},
    {ReportState::kReturned, "RETURNED"},
    {ReportState::kSuperseded, "SUPERSEDED"},
}};
constexpr std::array<std::pair<DirectiveStatus, std::string_view>, 5> kDirectiveStatuses{{
    {DirectiveStatus::kEffective, "EFFECTIVE"},
    {DirectiveStatus::kAmended, "AMENDED"},
    {DirectiveStatus::kCorrected, "CORRECTED"},
    {DirectiveStatus::kSuperseded, "SUPERSEDED"},
    {DirectiveStatus::kRecalled, "RECALLED"},
}};

}  // namespace

std::string AbbrevOf(const Roster& roster, std::string_view body_id) {
  v1::Body b;
  if (const v1::RecordBody* record = roster.Find(body_id);
      record != nullptr && record->kind() == v1::BODY && b.ParseFromString(record->payload()) &&
      !b.abbrev().empty()) {
    return b.abbrev();
  }
  return "BCĐ";
}

std::string DocumentSymbol(std::string_view doc_type, std::string_view abbrev) {
  if (doc_type == "CV") return std::string(abbrev);
  return std::string(doc_type) + "-" + std::string(abbrev);
}

std::string DisplayNumber(uint64_t serial, std::string_view doc_type, std::string_view abbrev) {
  std::string digits = std::to_string(serial);
  if (digits.size() < 2) digits.insert(0, 2 - digits.size(), '0');
  return digits + "/" + DocumentSymbol(doc_type, abbrev);
}

std::optional<ParsedNumber> ParseDisplayNumber(std::string_view number) {
  const size_t slash = number.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view digits = Trim(number.substr(0, slash));
  const std::string_view symbol = Trim(number.substr(slash + 1));
  if (!AllDigits(digits) || digits.size() > 9 || symbol.empty() ||
      symbol.find('/') != std::string_view::npos || symbol.find(' ') != std::string_view::npos) {
    return std::nullopt;
  }
  ParsedNumber parsed;
  std::from_chars(digits.data(), digits.data() + digits.size(), parsed.serial);
  if (parsed.serial == 0) return std::nullopt;
  const size_t dash = symbol.find('-');
  const std::string_view head = symbol.substr(0, dash);
  if (dash != std::string_view::npos && IsDocumentType(head)) {
    parsed.type_code = std::string(head);
    parsed.abbrev = std::string(symbol.substr(dash + 1));
  } else {
    parsed.abbrev = std::string(symbol);
  }
  if (parsed.abbrev.empty()) return std::nullopt;
  return parsed;
}

absl::Status CheckNumber(std::string_view number, std::string_view doc_type, uint64_t serial) {
  const std::optional<ParsedNumber> parsed = ParseDisplayNumber(number);
  const std::string example = DisplayNumber(serial == 0 ? 1 : serial, doc_type, "BCĐ");
  if (!parsed.has_value()) {
    return absl::InvalidArgumentError("number '" + std::string(number) + "' is not NN/SYMBOL, e.g. '" +
                                      example + "' (DOMAIN-MODEL §1.8)");
  }
  if (doc_type == "CV" && !parsed->type_code.empty()) {
    return absl::InvalidArgumentError("number '" + std::string(number) +
                                      "': a công văn has no type code in its symbol, e.g. '" + example +
                                      "' (DOMAIN-MODEL §1.8)");
  }
  if (doc_type != "CV" && parsed->type_code != doc_type) {
    return absl::InvalidArgumentError("number '" + std::string(number) + "' is not a " +
                                      std::string(doc_type) + " number, e.g. '" + example +
                                      "' (DOMAIN-MODEL §1.8)");
  }
  if (serial != 0 && parsed->serial != serial) {
    return absl::InvalidArgumentError("number '" + std::string(number) + "' does not carry serial " +
                                      std::to_string(serial));
  }
  return absl::OkStatus();
}

bool IsReportingPeriod(std::string_view period) {
  if (period.size() < 4 || !AllDigits(period.substr(0, 4)) || period[0] == '0') return false;
  if (period.size() == 4) return true;
  if (period.size() != 7 || period[4] != '-') return false;
  const std::string_view tail = period.substr(5);
  if (tail[0] == 'H') return tail[1] == '1' || tail[1] == '2';
  if (tail[0] == 'Q') return tail[1] >= '1' && tail[1] <= '4';
  if (!AllDigits(tail)) return false;
  const int month = (tail[0] - '0') * 10 + (tail[1] - '0');
  return month >= 1 && month <= 12;
}

std::optional<ReceiptState> ParseReceiptState(std::string_view name) {
  if (name.empty()) return ReceiptState::kAcknowledged;
  return Lookup(kReceiptStates, name);
}
std::string_view ReceiptStateName(ReceiptState state) { return NameIn(kReceiptStates, state); }

std::string NumberSeries(std::string_view issuer_body, uint32_t year, std::string_view doc_type) {
  return std::string(issuer_body) + "/" + std::to_string(year) + "/" + std::string(doc_type);
}

std::string SerialKey(std::string_view series) { return "serial/" + std::string(series); }

std::string DocumentNumberKey(std::string_view series, uint64_t serial) {
  return "docno/" + std::string(series) + "/" + sync::meta::EncodeU64(serial);
}

std::optional<IssuedNumber> NumberIssuedBy(std::string_view self, const v1::RecordBody& body) {
  if (body.kind() != v1::DIRECTIVE || body.version().writer() != self) return std::nullopt;
  v1::Directive d;
  if (!d.ParseFromString(body.payload()) || d.serial() == 0) return std::nullopt;
  return IssuedNumber{NumberSeries(d.issuer_body(), d.year(), d.series()), d.serial(), body.id()};
}

absl::Status TakeDocumentNumber(sync::WriteView& view, const IssuedNumber& number) {
  const std::string number_key = DocumentNumberKey(number.series, number.serial);
  SYNC_ASSIGN_OR_RETURN(std::optional<std::string> held, view.MetaGet(number_key));
  if (!held.has_value()) SYNC_RETURN_IF_ERROR(view.MetaPut(number_key, number.id));
  const std::string serial_key = SerialKey(number.series);
  SYNC_ASSIGN_OR_RETURN(const uint64_t last, sync::meta::GetU64(view, serial_key));
  if (number.serial > last) SYNC_RETURN_IF_ERROR(sync::meta::PutU64(view, serial_key, number.serial));
  return absl::OkStatus();
}

absl::Status NoteDocumentNumber(sync::WriteView& view, std::string_view self, const v1::RecordBody& body) {
  const std::optional<IssuedNumber> number = NumberIssuedBy(self, body);
  return number.has_value() ? TakeDocumentNumber(view, *number) : absl::OkStatus();
}

bool ParseDirective(const v1::RecordBody& body, v1::Directive& out) {
  if (!out.ParseFromString(body.payload())) return false;
  if (out.issuer().empty()) out.set_issuer(body.version().writer());
  if (out.issued_date().empty()) out.set_issued_date(body.version().legal_date());
  return true;
}

bool ReceiptDueAt(const v1::Directive& d, std::string_view unit) {
  if (d.issuer() == unit) return false;
  const auto& units = d.to_units();
  return units.empty() || std::find(units.begin(), units.end(), unit) != units.end();
}

std::optional<ReportState> ParseReportState(std::string_view name) { return Lookup(kReportStates, name); }
std::string_view ReportStateName(ReportState state) { return NameIn(kReportStates, state); }
bool SetByReportingUnit(ReportState state) {
  return state == ReportState::kSubmitted || state == ReportState::kWithdrawn;
}

std::string_view DirectiveStatusName(DirectiveStatus status) { return NameIn(kDirectiveStatuses, status); }

}  // namespace steersync::domain
