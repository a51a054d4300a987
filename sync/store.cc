#include "sync/store.h"

#include <utility>

#include "sync/status_macros.h"

namespace steersync::sync {

SharedLogEntry ParseLogEntry(LogEntry entry) {
  auto parsed = std::make_shared<ParsedLogEntry>();
  parsed->seq = entry.seq;
  parsed->record_bytes = entry.record.ByteSizeLong();
  parsed->body_parses = parsed->body.ParseFromString(entry.record.body());
  parsed->record = std::move(entry.record);
  return parsed;
}

absl::StatusOr<std::vector<SharedLogEntry>> LogReader::ReadParsedLog(uint64_t after_seq, size_t max_entries,
                                                                     size_t max_bytes) const {
  SYNC_ASSIGN_OR_RETURN(std::vector<LogEntry> entries, ReadLog(after_seq, max_entries, max_bytes));
  std::vector<SharedLogEntry> out;
  out.reserve(entries.size());
  for (LogEntry& entry : entries) out.push_back(ParseLogEntry(std::move(entry)));
  return out;
}

}  // namespace steersync::sync
