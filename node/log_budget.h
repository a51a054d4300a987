#pragma once
// A token bucket for log lines about what a peer sends, so that a peer that
// provokes refusals cannot flood the log: at most `burst` lines at once and
// `per_second` sustained. The lines it drops are counted and reported by the
// next line it allows ("N more lines about this peer suppressed").
//
// Thread safety: none; the owner guards it.

#include <algorithm>
#include <cstdint>

namespace steersync::node {

class LogBudget {
 public:
  LogBudget(double per_second, double burst)
      : per_second_(per_second), burst_(burst), tokens_(burst) {}

  // True when a line may be logged at `now_micros`; then *suppressed is the
  // number of lines dropped since the last one allowed (and is reset).
  bool Allow(int64_t now_micros, uint64_t* suppressed) {
    if (at_micros_ != 0 && now_micros > at_micros_) {
      tokens_ = std::min(burst_, tokens_ + (now_micros - at_micros_) * 1e-6 * per_second_);
    }
    at_micros_ = std::max(at_micros_, now_micros);
    if (tokens_ < 1.0) {
      ++suppressed_;
      return false;
    }
    tokens_ -= 1.0;
    *suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  const double per_second_;
  const double burst_;
  double tokens_;
  int64_t at_micros_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace steersync::node
