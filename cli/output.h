#pragma once
// steerctl's output: text formatting, tables and JSON documents.
//
// Every command prints either readable text or (with --json) exactly one
// JSON document on stdout. Nothing here writes to stderr.
//
// JSON documents are Admin API reply messages (or arrays of the messages a
// list reply holds) in protobuf's proto3 JSON mapping: keys are the proto
// field names, empty fields are printed ("" / 0 / false / []), 64-bit
// integers are strings. Keys are sorted, the document indented by 2.
//
// Thread safety: none needed; steerctl is single-threaded.

#include <cstdint>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace steersync::cli {

using json = ::nlohmann::json;

// Replaces line breaks so that an error message stays on one line.
std::string OneLine(std::string text);

// Formats Unix microseconds as ISO-8601 UTC with second precision,
// e.g. "2024-05-01T12:34:56Z".
std::string FormatMicros(uint64_t micros);

// ISO-8601 string, or "never" when `micros` is 0.
std::string MicrosToText(uint64_t micros);

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

// Prints a document's text (a peer's words) for a reader: each line passed
// through sync::Printable (no control character or escape sequence reaches
// the terminal), indented by two spaces; "(no text)" when empty.
void PrintDocumentText(std::ostream& out, const std::string& text);
std::string YesNo(bool b);

// `message` in the proto3 JSON mapping described above. Fails only for a
// message protobuf cannot print (none of the Admin API's can fail).
absl::StatusOr<json> MessageToJson(const google::protobuf::Message& message);

// In `doc`, replaces the Unix-microseconds field `micros_key` (a uint64, so
// a string) with `key`: an ISO-8601 string, or null when 0 ("never").
void MicrosFieldToIso(json& doc, const std::string& micros_key, const std::string& key);

// Prints `doc` indented, followed by a newline.
void PrintJson(const json& doc);

// Prints MessageToJson(message).
absl::Status PrintMessageJson(const google::protobuf::Message& message);

// A JSON array of the messages in `messages` (a repeated message field),
// each passed through `adapt(json&)` first.
template <typename Repeated, typename Adapt>
absl::StatusOr<json> MessageListToJson(const Repeated& messages, Adapt adapt) {
  json out = json::array();
  for (const google::protobuf::Message& m : messages) {
    absl::StatusOr<json> doc = MessageToJson(m);
    if (!doc.ok()) return doc.status();
    adapt(*doc);
    out.push_back(*std::move(doc));
  }
  return out;
}

// Prints MessageListToJson(messages, adapt).
template <typename Repeated, typename Adapt>
absl::Status PrintMessageListJson(const Repeated& messages, Adapt adapt) {
  absl::StatusOr<json> out = MessageListToJson(messages, adapt);
  if (!out.ok()) return out.status();
  PrintJson(*out);
  return absl::OkStatus();
}

template <typename Repeated>
absl::Status PrintMessageListJson(const Repeated& messages) {
  return PrintMessageListJson(messages, [](json&) {});
}

// Prints `reply` as JSON with --json, else the line `text`.
absl::Status PrintReply(const google::protobuf::Message& reply, const std::string& text,
                        bool as_json);

// A left-aligned text table. The last column is not padded, so long free
// text (titles, details) goes there. Widths count UTF-8 code points. Every
// cell is passed through sync::Printable as it is added: no control
// character or escape sequence from a peer reaches the terminal.
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

// Prints aligned "key: value" lines, each value through sync::Printable.
void PrintKeyValues(const std::vector<std::pair<std::string, std::string>>& lines);

}  // namespace steersync::cli
