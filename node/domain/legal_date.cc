#include "node/domain/legal_date.h"

#include <chrono>
#include <cstdio>

namespace steersync::domain {

std::string LegalDate(int64_t unix_micros) {
  using namespace std::chrono;
  const auto local = sys_seconds(seconds(unix_micros / 1'000'000)) + hours(7);
  const year_month_day ymd{floor<days>(local)};
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace steersync::domain
