// steerctl's printers (cli/output.h): text from peers never reaches the
// terminal raw (issue 10 round two, item 3).
#include "cli/output.h"

#include <algorithm>
#include <iostream>
#include <sstream>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace steersync::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(TableTest, PeerTextIsEscapedAndAligned) {
  Table table({"ID", "FROM", "TITLE"});
  table.AddRow({"vn/quang-ngai/r/1\x1b[2J", "vn/quang-ngai/tinh-phong",
                "Báo cáo\r\n\x1b]0;owned\x07 \x9b" "31m"});
  table.AddRow({"vn/quang-ngai/r/2", "xã Tịnh Phong", "Kế hoạch"});
  std::ostringstream out;
  table.Print(out);
  const std::string text = out.str();
  // No control byte but the line ends, no C1 control (0x9b, a lone byte).
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    EXPECT_TRUE(b == '\n' || (b >= 0x20 && b != 0x7f)) << "byte " << static_cast<int>(b);
  }
  EXPECT_THAT(text, Not(HasSubstr("\x9b")));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_THAT(text, HasSubstr("vn/quang-ngai/r/1\\x1b[2J"));
  EXPECT_THAT(text, HasSubstr("Báo cáo\\x0d\\x0a\\x1b]0;owned\\x07 \\x9b31m"));
  EXPECT_THAT(text, HasSubstr("Kế hoạch"));  // Vietnamese stays readable
  // Columns line up on the escaped text: the second column starts at the
  // same place on every line (the first column is ASCII on each).
  std::istringstream lines(text);
  std::vector<size_t> from_at;
  for (std::string line; std::getline(lines, line);) {
    from_at.push_back(line.find_first_not_of(' ', line.find("  ")));
  }
  ASSERT_EQ(from_at.size(), 3u);
  EXPECT_EQ(from_at[0], from_at[1]);
  EXPECT_EQ(from_at[1], from_at[2]);
}

TEST(KeyValuesTest, ValuesAreEscaped) {
  std::ostringstream captured;
  std::streambuf* before = std::cout.rdbuf(captured.rdbuf());
  PrintKeyValues({{"refused peers", "1 (last: 'vn/x\x1b[31m' is not a peer)"}});
  std::cout.rdbuf(before);
  EXPECT_EQ(captured.str(), "refused peers: 1 (last: 'vn/x\\x1b[31m' is not a peer)\n");
}

}  // namespace
}  // namespace steersync::cli
