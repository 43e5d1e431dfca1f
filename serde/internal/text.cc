// Text checks and encodings that several modules use: UTF-8 validation,
// bytes made printable (printable.h), base64 (declared in json_io.h, whose
// JSON writer checks strings with the same UTF-8 validation).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "serde/internal/json_io.h"
#include "serde/internal/printable.h"

namespace eddy::serdes::internal {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// The length of the valid UTF-8 prefix of `text` (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF).
std::size_t valid_utf8_prefix(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b0 = static_cast<unsigned char>(text[i]);
        if (b0 < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = 0;
        unsigned char lo = 0x80;
        unsigned char hi = 0xbf;
        if (b0 >= 0xc2 && b0 <= 0xdf) {
            length = 2;
        } else if (b0 >= 0xe0 && b0 <= 0xef) {
            length = 3;
            if (b0 == 0xe0) {
                lo = 0xa0;
            } else if (b0 == 0xed) {
                hi = 0x9f;
            }
        } else if (b0 >= 0xf0 && b0 <= 0xf4) {
            length = 4;
            if (b0 == 0xf0) {
                lo = 0x90;
            } else if (b0 == 0xf4) {
                hi = 0x8f;
            }
        } else {
            return i;
        }
        if (i + length > text.size()) {
            return i;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto b = static_cast<unsigned char>(text[i + k]);
            const unsigned char min = k == 1 ? lo : 0x80;
            const unsigned char max = k == 1 ? hi : 0xbf;
            if (b < min || b > max) {
                return i;
            }
        }
        i += length;
    }
    return i;
}

std::string printable_text(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size());
    auto escape = [&](unsigned char b) {
        out += "\\x";
        out += digits[b >> 4];
        out += digits[b & 15];
    };
    std::size_t i = 0;
    while (i < bytes.size()) {
        // The longest valid UTF-8 run from here, shown as it is but for its
        // control characters.
        const auto valid = valid_utf8_prefix(bytes.substr(i));
        const auto run = bytes.substr(i, valid);
        for (std::size_t j = 0; j < run.size(); ++j) {
            const auto b = static_cast<unsigned char>(run[j]);
            if (b < 0x20 || b == 0x7f) {
                escape(b);
            } else if (b == '\\') {
                out += "\\\\";
            } else if (b == 0xc2 && j + 1 < run.size() && static_cast<unsigned char>(run[j + 1]) <= 0x9f) {
                // U+0080..U+009F, the C1 controls (0x9b is a CSI).
                escape(b);
                escape(static_cast<unsigned char>(run[++j]));
            } else {
                out += run[j];
            }
        }
        i += valid;
        if (i < bytes.size()) {
            escape(static_cast<unsigned char>(bytes[i]));
            ++i;
        }
    }
    return out;
}

bool is_valid_utf8(std::string_view text) {
    return valid_utf8_prefix(text) == text.size();
}

std::string base64_encode(std::string_view bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t n = (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16)
            | (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8)
            | static_cast<unsigned char>(bytes[i + 2]);
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2) {
            n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        }
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += rest == 2 ? alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') {
            return c - 'A';
        }
        if (c >= 'a' && c <= 'z') {
            return c - 'a' + 26;
        }
        if (c >= '0' && c <= '9') {
            return c - '0' + 52;
        }
        if (c == '+' || c == '-') {
            return 62;
        }
        if (c == '/' || c == '_') {
            return 63;
        }
        return -1;
    };
    // Padding is optional; what follows it is not.
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const int v = value(c);
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

} // namespace eddy::serdes::internal
