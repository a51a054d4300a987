#pragma once
// The process's own figures for /metrics, read from /proc at each scrape,
// under the names Prometheus' client libraries give them (Debian's
// prometheus-cpp has no process collector):
//
//   process_cpu_seconds_total       user + system CPU time
//   process_resident_memory_bytes   resident set size
//   process_virtual_memory_bytes    virtual memory size
//   process_open_fds                entries of /proc/self/fd
//   process_max_fds                 RLIMIT_NOFILE (soft)
//   process_threads                 threads of the process
//   process_start_time_seconds      start, Unix seconds (boot time + start ticks)
//
// A figure that cannot be read is left out of the scrape, never made up.
// No clock is read: the start time comes from the kernel's counters.
//
// Thread safety: thread-safe (no state).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace steersync::node {

// The fields of /proc/<pid>/stat that the metrics use (proc(5)).
struct ProcStat {
  uint64_t utime_ticks = 0;      // field 14
  uint64_t stime_ticks = 0;      // field 15
  int64_t num_threads = 0;       // field 20
  uint64_t starttime_ticks = 0;  // field 22: since boot
  uint64_t vsize_bytes = 0;      // field 23
  int64_t rss_pages = 0;         // field 24
};

// Parses the text of /proc/<pid>/stat; nullopt if it is not in that shape.
// The command name (field 2) may hold spaces and parentheses: fields are
// counted from the last ')'.
std::optional<ProcStat> ParseProcStat(std::string_view text);

// The boot time (Unix seconds) in the text of /proc/stat ("btime N").
std::optional<int64_t> ParseBootTime(std::string_view text);

class ProcessMetrics : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace steersync::node
