#include "node/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>


namespace steersync::node {
namespace {

std::optional<std::string> ReadProcFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The whitespace-separated tokens of `text`.
std::vector<std::string_view> Tokens(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

prometheus::MetricFamily One(const char* name, const char* help, prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{name, help, type, {metric}};
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // Fields from 3 (state) on, one per token.
  const std::vector<std::string_view> f = Tokens(text.substr(close + 1));
  if (f.size() < 24 - 2) return std::nullopt;
  auto field = [&f](int number) { return f[static_cast<size_t>(number - 3)]; };
  ProcStat stat;
  if (!ParseNumber(field(14), &stat.utime_ticks) || !ParseNumber(field(15), &stat.stime_ticks) ||
      !ParseNumber(field(20), &stat.num_threads) || !ParseNumber(field(22), &stat.starttime_ticks) ||
      !ParseNumber(field(23), &stat.vsize_bytes) || !ParseNumber(field(24), &stat.rss_pages)) {
    return std::nullopt;
  }
  return stat;
}

std::optional<int64_t> ParseBootTime(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::vector<std::string_view> t = Tokens(text.substr(start, end - start));
    int64_t seconds = 0;
    if (t.size() == 2 && t[0] == "btime") {
      if (ParseNumber(t[1], &seconds)) return seconds;
      return std::nullopt;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const auto stat_text = ReadProcFile("/proc/self/stat");
  const std::optional<ProcStat> stat = stat_text ? ParseProcStat(*stat_text) : std::nullopt;
  if (stat.has_value() && ticks_per_second > 0) {
    out.push_back(One("process_cpu_seconds_total", "Total user and system CPU time spent in seconds",
                      MetricType::Counter,
                      static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks_per_second));
    out.push_back(One("process_resident_memory_bytes", "Resident memory size in bytes", MetricType::Gauge,
                      static_cast<double>(stat->rss_pages) * static_cast<double>(::sysconf(_SC_PAGESIZE))));
    out.push_back(One("process_virtual_memory_bytes", "Virtual memory size in bytes", MetricType::Gauge,
                      static_cast<double>(stat->vsize_bytes)));
    out.push_back(One("process_threads", "Threads of the process", MetricType::Gauge,
                      static_cast<double>(stat->num_threads)));
    const auto proc_stat = ReadProcFile("/proc/stat");
    if (const auto boot = proc_stat ? ParseBootTime(*proc_stat) : std::nullopt; boot.has_value()) {
      out.push_back(One("process_start_time_seconds", "Start time of the process since unix epoch in seconds",
                        MetricType::Gauge,
                        static_cast<double>(*boot) + static_cast<double>(stat->starttime_ticks) / ticks_per_second));
    }
  }
  std::error_code ec;
  size_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++fds;
  if (!ec) {
    out.push_back(One("process_open_fds", "Number of open file descriptors", MetricType::Gauge,
                      static_cast<double>(fds)));
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    out.push_back(One("process_max_fds", "Maximum number of open file descriptors", MetricType::Gauge,
                      static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

}  // namespace steersync::node
