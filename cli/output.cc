#include "cli/output.h"

#include <algorithm>
#include <ctime>

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

json MicrosToJson(uint64_t micros) {
  if (micros == 0) return nullptr;
  return FormatMicros(micros);
}

std::string MicrosToText(uint64_t micros) { return micros == 0 ? "never" : FormatMicros(micros); }

json StringOrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }
std::string YesNo(bool b) { return b ? "yes" : "no"; }

void PrintJson(const json& doc) { std::cout << doc.dump(2) << "\n"; }

Table::Table(std::vector<std::string> header) : widths_(header.size(), 0) {
  AddRow(std::move(header));
}

void Table::AddRow(std::vector<std::string> row) {
  for (size_t i = 0; i < row.size(); ++i) widths_[i] = std::max(widths_[i], DisplayWidth(row[i]));
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
    std::cout << key << ":" << std::string(width - key.size() + 1, ' ') << value << "\n";
  }
}

void PrintId(const std::string& id, const std::string& verb, bool as_json) {
  if (as_json) {
    PrintJson(json{{"id", id}});
  } else {
    std::cout << verb << " " << id << "\n";
  }
}

void PrintWrite(const v1::WriteReply& reply, const std::string& verb, bool as_json) {
  if (as_json) {
    PrintJson(json{{"id", reply.id()}, {"version", reply.version()}});
  } else {
    std::cout << verb << " " << reply.id() << "\n";
  }
}

}  // namespace steersync::cli
