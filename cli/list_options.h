#pragma once
// The filters every list command takes (issue 12 item 8): --since DATE,
// --status S, --from UNIT, --limit N. The node applies them
// (node/listings.h PassesFilter) and returns items in natural id order
// (d/9 before d/10); --limit keeps the last N in that order.

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "steersync/v1/admin.pb.h"

namespace steersync::cli {

// What the list's columns mean, for the flags' help texts.
struct ListColumns {
  std::string date;                   // e.g. "assigned"
  std::string from;                   // e.g. "the assigning unit"
  std::vector<std::string> statuses;  // empty: the list has no --status
};

// Adds the four flags to `list`; they fill `*filter`.
void AddListFilterOptions(CLI::App& list, const std::shared_ptr<v1::ListFilter>& filter,
                          const ListColumns& columns);

// A CLI11 check that a value is a date written YYYY-MM-DD.
CLI::Validator IsoDate();

}  // namespace steersync::cli
