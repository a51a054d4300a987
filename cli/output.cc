#include "cli/output.h"

#include "sync/text.h"

#include <algorithm>
#include <ctime>

#include <google/protobuf/util/json_util.h>

namespace steersync::cli {
namespace {

// Columns `s` takes on a terminal: its UTF-8 code points (continuation bytes
// not counted), so that "BCĐ" or a Vietnamese name pads like ASCII text.
// Assumes precomposed (NFC) text, as Vietnamese input normally is.
size_t DisplayWidth(const std::string& s) {
  return std::count_if(s.begin(), s.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

}  // namespace

std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return text;
}

std::string FormatMicros(uint64_t micros) {
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[32];
  std::strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

std::string MicrosToText(uint64_t micros) { return micros == 0 ? "never" : FormatMicros(micros); }

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }
std::string YesNo(bool b) { return b ? "yes" : "no"; }

absl::StatusOr<json> MessageToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  const auto status = google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!status.ok()) {
    return absl::InternalError("cannot print " + message.GetTypeName() + " as JSON: " +
                               std::string(status.message()));
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InternalError("protobuf printed " + message.GetTypeName() + " as invalid JSON");
  }
  return doc;
}

void MicrosFieldToIso(json& doc, const std::string& micros_key, const std::string& key) {
  const uint64_t micros = std::stoull(doc.at(micros_key).get<std::string>());
  doc.erase(micros_key);
  doc[key] = micros == 0 ? json(nullptr) : json(FormatMicros(micros));
}

void PrintJson(const json& doc) {
  std::cout << doc.dump(2, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace) << "\n";
}

absl::Status PrintMessageJson(const google::protobuf::Message& message) {
  absl::StatusOr<json> doc = MessageToJson(message);
  if (!doc.ok()) return doc.status();
  PrintJson(*doc);
  return absl::OkStatus();
}

absl::Status PrintReply(const google::protobuf::Message& reply, const std::string& text,
                        bool as_json) {
  if (as_json) return PrintMessageJson(reply);
  std::cout << text << "\n";
  return absl::OkStatus();
}

Table::Table(std::vector<std::string> header) : widths_(header.size(), 0) {
  AddRow(std::move(header));
}

void Table::AddRow(std::vector<std::string> row) {
  for (size_t i = 0; i < row.size(); ++i) {
    // Cells hold a peer's words (titles, ids, reasons, names): escaped here,
    // once for every table, and measured as printed.
    row[i] = sync::Printable(row[i], row[i].size());
    widths_[i] = std::max(widths_[i], DisplayWidth(row[i]));
  }
  rows_.push_back(std::move(row));
}

void Table::Print(std::ostream& out) const {
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      const bool last = i + 1 == row.size();
      out << row[i];
      if (!last) out << std::string(widths_[i] - DisplayWidth(row[i]) + 2, ' ');
    }
    out << "\n";
  }
}

void PrintKeyValues(const std::vector<std::pair<std::string, std::string>>& lines) {
  size_t width = 0;
  for (const auto& [key, value] : lines) width = std::max(width, key.size());
  for (const auto& [key, value] : lines) {
    std::cout << key << ":" << std::string(width - key.size() + 1, ' ')
              << sync::Printable(value, value.size()) << "\n";
  }
}

void PrintDocumentText(std::ostream& out, const std::string& text) {
  if (text.empty()) {
    out << "  (no text)\n";
    return;
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out << "  " << sync::Printable(line, line.size()) << "\n";
    if (end == text.size()) break;
    start = end + 1;
  }
}

}  // namespace steersync::cli
