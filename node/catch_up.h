#pragma once
// Progress of one link's catch-up (issue 11 item 7): how much of the peer's
// log is still to apply, at what rate records arrive, and when it will be
// done. Fed by the link after each applied batch; read through PeerStats
// (status, peers, metrics) and logged while it lasts.
//
// "Remaining" counts entries of the peer's log after the last one applied
// (the peer's log head comes in its Hello, and any batch reaching past it
// moves it on). Entries not addressed to this node are skipped by the sender
// yet still counted, so remaining is an upper bound of the records to come;
// the ETA is taken from the rate at which the log is consumed, so it holds
// whatever share of the log is addressed here.
//
// Thread safety: none; the owning link serializes every call.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace steersync::node {

class CatchUpProgress {
 public:
  // A catch-up is reported once this many entries are left at the start of
  // a session (smaller ones finish before anyone could look).
  static constexpr uint64_t kReportedFromEntries = 1000;
  // Rates are taken over this trailing window.
  static constexpr int64_t kWindowMicros = 10'000'000;

  struct Figures {
    uint64_t remaining = 0;          // log entries still to apply
    double records_per_second = 0;   // over the trailing window; 0 if unknown
    int64_t eta_seconds = -1;        // -1: unknown (no rate yet)
  };

  // A session began: the peer's log head, and the last of its entries
  // already applied here.
  void Start(int64_t now_micros, uint64_t peer_head, uint64_t applied_seq);
  // A batch reaching `last_seq` with `records` records was applied.
  void OnApplied(int64_t now_micros, uint64_t last_seq, uint64_t records);

  // Whether a reported catch-up is under way.
  bool active() const { return active_; }
  Figures Now() const;
  // One line for the log every `interval` while active, and one when it
  // ends; nullopt when nothing is due. `peer` names the link.
  std::optional<std::string> LogLineDue(int64_t now_micros, const std::string& peer);

 private:
  struct Sample {
    int64_t micros;
    uint64_t seq;
    uint64_t records;  // cumulative since Start
  };
  static constexpr int64_t kLogEveryMicros = 10'000'000;

  bool active_ = false;
  bool finished_unlogged_ = false;
  uint64_t peer_head_ = 0;
  uint64_t applied_seq_ = 0;
  uint64_t records_ = 0;
  int64_t started_micros_ = 0;
  int64_t last_logged_micros_ = 0;
  uint64_t start_remaining_ = 0;
  std::deque<Sample> window_;
};

// "from P: N log entries left, R records/s, about S s left" for status; ""
// when no catch-up is under way (remaining 0).
std::string DescribeCatchUp(const std::string& peer, uint64_t remaining, uint64_t records_per_second,
                            int64_t eta_seconds);

}  // namespace steersync::node
