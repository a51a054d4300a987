#pragma once
// Writes this node's status record (node/domain/unit_status.h) so that the
// units above see it (issue 12 item 7): at start, then whenever what it says
// changes (looked at no more often than every `interval`), and at least
// every `heartbeat` even when nothing changed (a fresh last-contact time).
// Only the newest version is kept in the change log (sync::AdmissionPolicy::
// KeepsNewestOnly), so the status costs the log nothing as it repeats.
//
// Thread safety: thread-safe. One thread of its own computes and writes;
// `compute` and `fingerprint` run on it.

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/local_acts.h"
#include "steersync/v1/record.pb.h"
#include "sync/clock.h"

namespace steersync::node {

class StatusReporter {
 public:
  struct Options {
    // Between two looks at the node's state (and so between two writes).
    absl::Duration interval = absl::Seconds(30);
    // Written at least this often on the node's clock, changed or not.
    absl::Duration heartbeat = absl::Minutes(10);
  };
  // Builds the node's status now (a pass over the store: not cheap).
  using Compute = std::function<absl::StatusOr<v1::UnitStatus>()>;
  // Cheap: changes whenever the status may have changed (the log's head,
  // the links' states and acknowledgements, the date).
  using Fingerprint = std::function<std::string()>;

  // `clock` and `local` must outlive the reporter. Starts its thread.
  StatusReporter(Options options, const sync::Clock& clock, LocalActs& local, Compute compute,
                 Fingerprint fingerprint);
  // Stops and joins the thread; a write in flight completes first.
  ~StatusReporter();

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // One look: computes the status if the fingerprint moved or a heartbeat is
  // due, and writes it if what it says changed or the heartbeat is due.
  void Look();
  // Takes last_material_ and last_written_micros_ from the status held in
  // the store (once, at the first look).
  void RecallStored();

  const Options options_;
  const sync::Clock& clock_;
  LocalActs& local_;
  const Compute compute_;
  const Fingerprint fingerprint_;

  // Used by the reporter's thread only.
  std::string last_fingerprint_;
  std::string last_material_;       // the last status written, timestamps cleared
  int64_t last_written_micros_ = 0;  // 0: not written since start
  bool warned_ = false;              // a failure was logged; quiet until one succeeds
  bool recalled_ = false;            // RecallStored() ran

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace steersync::node
