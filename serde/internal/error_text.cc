#include "serde/internal/error_text.h"

#include <array>

namespace eddy::serdes::internal {

std::string quoted_excerpt(std::string_view text, std::size_t max_chars) {
    static constexpr std::array<char, 16> hex = {
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    const bool cut = text.size() > max_chars;
    if (cut) {
        text = text.substr(0, max_chars);
    }
    std::string out;
    out.reserve(text.size() + 8);
    out.push_back('"');
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (byte < 0x20 || byte >= 0x7f) {
            out += "\\x";
            out.push_back(hex[byte >> 4]);
            out.push_back(hex[byte & 0x0f]);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
    if (cut) {
        out += "...";
    }
    return out;
}

} // namespace eddy::serdes::internal
