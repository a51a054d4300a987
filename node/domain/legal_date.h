#pragma once
// The legal date of acts: the day in Asia/Ho_Chi_Minh (UTC+7, no daylight
// saving), written YYYY-MM-DD (D30 Art. 8: place and date of issue).

#include <cstdint>
#include <string>

namespace steersync::domain {

// The date in Asia/Ho_Chi_Minh at `unix_micros`, "YYYY-MM-DD".
std::string LegalDate(int64_t unix_micros);

}  // namespace steersync::domain
