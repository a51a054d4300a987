#include "cli/list_options.h"

#include <cctype>

namespace steersync::cli {

CLI::Validator IsoDate() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        const bool form = value.size() == 10 && value[4] == '-' && value[7] == '-';
        for (size_t i = 0; form && i < value.size(); ++i) {
          if (i != 4 && i != 7 && !std::isdigit(static_cast<unsigned char>(value[i]))) return "not YYYY-MM-DD: " + value;
        }
        return form ? "" : "not YYYY-MM-DD: " + value;
      },
      "YYYY-MM-DD");
}

void AddListFilterOptions(CLI::App& list, const std::shared_ptr<v1::ListFilter>& filter,
                          const ListColumns& columns) {
  list.add_option_function<std::string>(
          "--since", [filter](const std::string& d) { filter->set_since(d); },
          "Only items " + columns.date + " on or after YYYY-MM-DD")
      ->check(IsoDate());
  if (!columns.statuses.empty()) {
    list.add_option_function<std::string>(
            "--status", [filter](const std::string& s) { filter->set_status(s); }, "Only items in this status")
        ->check(CLI::IsMember(columns.statuses));
  }
  list.add_option_function<std::string>(
      "--from", [filter](const std::string& u) { filter->set_from(u); }, "Only items from " + columns.from);
  list.add_option_function<uint32_t>(
          "--limit", [filter](const uint32_t& n) { filter->set_limit(n); },
          "At most N: the last in id order (for one unit's records, its newest)")
      ->check(CLI::Range(1, 1000000));
}

}  // namespace steersync::cli
