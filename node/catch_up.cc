#include "node/catch_up.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace steersync::node {

void CatchUpProgress::Start(int64_t now_micros, uint64_t peer_head, uint64_t applied_seq) {
  peer_head_ = peer_head;
  applied_seq_ = applied_seq;
  records_ = 0;
  started_micros_ = last_logged_micros_ = now_micros;
  start_remaining_ = peer_head > applied_seq ? peer_head - applied_seq : 0;
  active_ = start_remaining_ >= kReportedFromEntries;
  finished_unlogged_ = false;
  window_.clear();
  window_.push_back({now_micros, applied_seq, 0});
}

void CatchUpProgress::OnApplied(int64_t now_micros, uint64_t last_seq, uint64_t records) {
  if (last_seq > applied_seq_) applied_seq_ = last_seq;
  if (applied_seq_ > peer_head_) peer_head_ = applied_seq_;  // the log grew meanwhile
  records_ += records;
  window_.push_back({now_micros, applied_seq_, records_});
  // Keep one sample at or before the window's start, so the rate spans it.
  while (window_.size() > 2 && window_[1].micros <= now_micros - kWindowMicros) window_.pop_front();
  if (active_ && applied_seq_ >= peer_head_) {
    active_ = false;
    finished_unlogged_ = true;
  }
}

CatchUpProgress::Figures CatchUpProgress::Now() const {
  Figures f;
  if (!active_) return f;
  f.remaining = peer_head_ - applied_seq_;
  const Sample& first = window_.front();
  const Sample& last = window_.back();
  const double seconds = static_cast<double>(last.micros - first.micros) / 1e6;
  if (seconds <= 0) return f;
  f.records_per_second = static_cast<double>(last.records - first.records) / seconds;
  const double entries_per_second = static_cast<double>(last.seq - first.seq) / seconds;
  if (entries_per_second > 0) f.eta_seconds = std::llround(static_cast<double>(f.remaining) / entries_per_second);
  return f;
}

std::optional<std::string> CatchUpProgress::LogLineDue(int64_t now_micros, const std::string& peer) {
  char line[256];
  if (finished_unlogged_) {
    finished_unlogged_ = false;
    const double seconds = static_cast<double>(now_micros - started_micros_) / 1e6;
    std::snprintf(line, sizeof(line),
                  "catch-up from %s done: %" PRIu64 " records (%" PRIu64 " log entries) in %.1f s, %.0f records/s",
                  peer.c_str(), records_, start_remaining_, seconds,
                  seconds > 0 ? static_cast<double>(records_) / seconds : 0.0);
    return std::string(line);
  }
  if (!active_ || now_micros - last_logged_micros_ < kLogEveryMicros) return std::nullopt;
  last_logged_micros_ = now_micros;
  const Figures f = Now();
  if (f.eta_seconds < 0) {
    std::snprintf(line, sizeof(line), "catching up from %s: %" PRIu64 " log entries remaining", peer.c_str(),
                  f.remaining);
  } else {
    std::snprintf(line, sizeof(line),
                  "catching up from %s: %" PRIu64 " log entries remaining, %.0f records/s, about %" PRId64
                  " s left",
                  peer.c_str(), f.remaining, f.records_per_second, f.eta_seconds);
  }
  return std::string(line);
}

std::string DescribeCatchUp(const std::string& peer, uint64_t remaining, uint64_t records_per_second,
                            int64_t eta_seconds) {
  if (remaining == 0) return "";
  std::string line = "from " + peer + ": " + std::to_string(remaining) + " log entries left";
  if (eta_seconds >= 0) {
    line += ", " + std::to_string(records_per_second) + " records/s, about " + std::to_string(eta_seconds) +
            " s left";
  }
  return line;
}

}  // namespace steersync::node
