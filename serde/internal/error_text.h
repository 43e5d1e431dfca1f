#pragma once

// Helpers that put untrusted input into serde_error messages.

#include <cstddef>
#include <string>
#include <string_view>

namespace eddy::serdes::internal {

// `text` in double quotes, cut after `max_chars` characters (with "..."),
// with quotes, backslashes and non-printable bytes escaped, so a message
// quoting bad input stays one readable line whatever the input holds.
std::string quoted_excerpt(std::string_view text, std::size_t max_chars = 48);

} // namespace eddy::serdes::internal
