#pragma once

// Bytes shown on a terminal or in a log line as text that cannot steer it:
// UTF-8 text as it is, but control characters (C0, DEL, C1: ESC, NUL, BEL,
// newlines...) and bytes that are not UTF-8 as \xNN, and '\' as "\\". So a
// key of "\x1b[2J" prints as \x1b[2J rather than clearing the screen.

#include <cstddef>
#include <string>
#include <string_view>

namespace eddy::serdes::internal {

std::string printable_text(std::string_view bytes);

// The length of the valid UTF-8 prefix of `text` (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF).
std::size_t valid_utf8_prefix(std::string_view text);

// The value of a hexadecimal digit (either case), -1 for any other char.
int hex_value(char c) noexcept;

} // namespace eddy::serdes::internal
