#include "sync/text.h"

#include <cstdio>

namespace steersync::sync {
namespace {

// Length of the valid UTF-8 sequence at `s` encoding a printable code point
// (not a C1 control, U+0080..U+009F, nor an overlong form or a surrogate);
// 0 when there is none.
size_t PrintableUtf8(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  size_t n;
  uint32_t cp;
  if (b(0) >= 0xc2 && b(0) <= 0xdf) {
    n = 2;
    cp = b(0) & 0x1f;
  } else if (b(0) >= 0xe0 && b(0) <= 0xef) {
    n = 3;
    cp = b(0) & 0x0f;
  } else if (b(0) >= 0xf0 && b(0) <= 0xf4) {
    n = 4;
    cp = b(0) & 0x07;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3f);
  }
  const uint32_t min = n == 2 ? 0xa0 : n == 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

std::string Printable(std::string_view text, size_t max_bytes) {
  std::string out;
  const std::string_view shown = text.substr(0, max_bytes);
  out.reserve(shown.size() + 8);
  for (size_t i = 0; i < shown.size();) {
    const auto c = static_cast<unsigned char>(shown[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(shown[i++]);
      continue;
    }
    if (const size_t n = c >= 0x80 ? PrintableUtf8(shown.substr(i)) : 0; n > 0) {
      out.append(shown.substr(i, n));  // Vietnamese text stays readable
      i += n;
      continue;
    }
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\x%02x", c);
    out += buf;
    ++i;
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

}  // namespace steersync::sync
