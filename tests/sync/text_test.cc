// Issue 10 item 4: text a peer controls reaches logs and terminals without
// control characters, while Vietnamese stays readable.
#include "sync/text.h"

#include <gtest/gtest.h>

namespace steersync::sync {
namespace {

TEST(PrintableTest, KeepsVietnameseAndEscapesControls) {
  EXPECT_EQ(Printable("01/CT-BCĐ Quảng Ngãi"), "01/CT-BCĐ Quảng Ngãi");
  EXPECT_EQ(Printable("a\nb"), "a\\x0ab");
  EXPECT_EQ(Printable("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(Printable("\xc2\x9b" "31m"), "\\xc2\\x9b31m") << "C1 CSI in UTF-8";
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf") << "overlong '/'";
  EXPECT_EQ(Printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(Printable("back\\slash"), "back\\x5cslash");
  EXPECT_EQ(Printable(std::string(300, 'x'), 10), std::string(10, 'x') + "...");
}

}  // namespace
}  // namespace steersync::sync
