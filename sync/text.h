#pragma once
// Text a peer controls, made safe for a terminal or a log line.

#include <string>
#include <string_view>

namespace steersync::sync {

// `text` with every byte that is neither printable ASCII nor part of valid
// UTF-8 for a printable code point (and the backslash) written as \xNN, cut
// to `max_bytes` of input with "..." after: no control character (C0, DEL,
// C1), escape sequence or newline from a peer reaches a log or a terminal
// raw, while Vietnamese text stays readable.
std::string Printable(std::string_view text, size_t max_bytes = 200);

}  // namespace steersync::sync
