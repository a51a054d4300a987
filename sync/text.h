#pragma once
// Text a peer controls, made safe for a terminal or a log line.

#include <string>
#include <string_view>

namespace steersync::sync {

// `text` with every byte outside printable ASCII (and the backslash) written
// as \xNN, cut to `max_bytes` of input with "..." after: no control
// character, escape sequence or newline from a peer reaches a log raw.
std::string Printable(std::string_view text, size_t max_bytes = 200);

}  // namespace steersync::sync
