// The filters every list command takes (issue 12 item 8): what steerctl
// accepts before it asks the node.
#include "cli/list_options.h"

#include <gtest/gtest.h>

namespace steersync::cli {
namespace {

// Parses `args` as `list ARGS...`; returns "" or the parse error, and the filter.
std::string Parse(std::vector<std::string> args, v1::ListFilter& out) {
  CLI::App app("test");
  auto filter = std::make_shared<v1::ListFilter>();
  AddListFilterOptions(app, filter, {"assigned", "the assigning unit", {"OPEN", "DONE"}});
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  out = *filter;
  return "";
}

TEST(ListOptionsTest, FillsTheFilter) {
  v1::ListFilter f;
  ASSERT_EQ(Parse({"--since", "2026-12-01", "--status", "DONE", "--from", "vn/quang-ngai", "--limit", "5"}, f), "");
  EXPECT_EQ(f.since(), "2026-12-01");
  EXPECT_EQ(f.status(), "DONE");
  EXPECT_EQ(f.from(), "vn/quang-ngai");
  EXPECT_EQ(f.limit(), 5u);
}

TEST(ListOptionsTest, RefusesWhatNoListMeans) {
  v1::ListFilter f;
  EXPECT_NE(Parse({"--since", "2026-1-1"}, f), "") << "not YYYY-MM-DD";
  EXPECT_NE(Parse({"--since", "yesterday"}, f), "");
  EXPECT_NE(Parse({"--status", "LATE"}, f), "") << "not a status of this list";
  EXPECT_NE(Parse({"--limit", "0"}, f), "");
}

}  // namespace
}  // namespace steersync::cli
