#include "serde/uuid.h"

#include <ostream>
#include <random>

#include "serde/internal/error_text.h"
#include "serde/internal/printable.h"
#include "serde/serde.h"

namespace eddy {

namespace {

using serdes::internal::hex_value;

constexpr std::string_view hex_digits = "0123456789abcdef";

// Offsets of the hyphens in the canonical form.
constexpr bool is_hyphen_position(std::size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

[[noreturn]] void throw_bad_text(std::string_view text, std::string_view why) {
    throw serde_error(
        "uuid: expected 36-character canonical form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, got "
        + serdes::internal::quoted_excerpt(text) + " (" + std::string(why) + ")");
}

std::mt19937_64& thread_generator() {
    thread_local std::mt19937_64 generator = [] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
        return std::mt19937_64(seed);
    }();
    return generator;
}

} // namespace

std::string uuid::to_string() const {
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out.push_back('-');
        }
        out.push_back(hex_digits[bytes[i] >> 4]);
        out.push_back(hex_digits[bytes[i] & 0x0f]);
    }
    return out;
}

uuid uuid::parse(std::string_view text) {
    if (text.size() != 36) {
        throw_bad_text(text, std::to_string(text.size()) + " characters");
    }
    uuid id;
    std::size_t nibble = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (is_hyphen_position(i)) {
            if (text[i] != '-') {
                throw_bad_text(text, "no '-' at offset " + std::to_string(i));
            }
            continue;
        }
        const int value = hex_value(text[i]);
        if (value < 0) {
            throw_bad_text(text, "not a hex digit at offset " + std::to_string(i));
        }
        auto& byte = id.bytes[nibble / 2];
        byte = static_cast<std::uint8_t>(nibble % 2 == 0 ? value << 4 : byte | value);
        ++nibble;
    }
    return id;
}

uuid uuid::random() {
    auto& generator = thread_generator();
    uuid id;
    for (std::size_t i = 0; i < id.bytes.size(); i += 8) {
        const std::uint64_t word = generator();
        for (std::size_t j = 0; j < 8; ++j) {
            id.bytes[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
        }
    }
    // RFC 4122 section 4.4: version 4 in the high nibble of byte 6, variant
    // 10xx in the high bits of byte 8.
    id.bytes[6] = static_cast<std::uint8_t>((id.bytes[6] & 0x0f) | 0x40);
    id.bytes[8] = static_cast<std::uint8_t>((id.bytes[8] & 0x3f) | 0x80);
    return id;
}

std::ostream& operator<<(std::ostream& out, const uuid& id) { return out << id.to_string(); }

} // namespace eddy

std::size_t std::hash<eddy::uuid>::operator()(const eddy::uuid& id) const noexcept {
    // The bytes are already uniformly distributed for random uuids; FNV-1a
    // keeps sequential or hand-made ones apart too.
    std::uint64_t h = 14695981039346656037ULL;
    for (const std::uint8_t b : id.bytes) {
        h = (h ^ b) * 1099511628211ULL;
    }
    return static_cast<std::size_t>(h);
}
