#pragma once
// steerctl's output: text formatting, tables and JSON documents.
//
// Every command prints either readable text or (with --json) exactly one
// JSON document on stdout. Nothing here writes to stderr.
//
// Thread safety: none needed; steerctl is single-threaded.

#include <cstdint>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "steersync/v1/admin.pb.h"

namespace steersync::cli {

using json = ::nlohmann::json;

// Replaces line breaks so that an error message stays on one line.
std::string OneLine(std::string text);

// Formats Unix microseconds as ISO-8601 UTC with second precision,
// e.g. "2024-05-01T12:34:56Z".
std::string FormatMicros(uint64_t micros);

// ISO-8601 string, or JSON null when `micros` is 0 ("never").
json MicrosToJson(uint64_t micros);

// ISO-8601 string, or "never" when `micros` is 0.
std::string MicrosToText(uint64_t micros);

// `s`, or JSON null when it is empty (an optional field left unset).
json StringOrNull(const std::string& s);

// A JSON array of the strings in a repeated proto field.
template <typename Repeated>
json StringArray(const Repeated& values) {
  json out = json::array();
  for (const std::string& v : values) out.push_back(v);
  return out;
}

// "a, b, c", or "-" when empty.
template <typename Repeated>
std::string JoinOrDash(const Repeated& values) {
  if (values.empty()) return "-";
  std::string out;
  for (const std::string& v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

std::string OrDash(const std::string& s);
std::string YesNo(bool b);

// Prints `doc` indented, followed by a newline.
void PrintJson(const json& doc);

// A left-aligned text table. The last column is not padded, so long free
// text (titles, details) goes there. Widths count UTF-8 code points.
class Table {
 public:
  explicit Table(std::vector<std::string> header);

  // REQUIRES: row.size() equals the header's size.
  void AddRow(std::vector<std::string> row);

  void Print(std::ostream& out) const;

 private:
  std::vector<size_t> widths_;
  std::vector<std::vector<std::string>> rows_;
};

// Prints aligned "key: value" lines.
void PrintKeyValues(const std::vector<std::pair<std::string, std::string>>& lines);

// Prints {"id": id} or "<verb> <id>".
void PrintId(const std::string& id, const std::string& verb, bool as_json);

// Prints {"id": ..., "version": ...} or "<verb> <id>".
void PrintWrite(const v1::WriteReply& reply, const std::string& verb, bool as_json);

}  // namespace steersync::cli
