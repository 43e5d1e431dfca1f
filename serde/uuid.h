#pragma once

// eddy::uuid, the value type of serdes::uuid (see serde/serdes.h).
//
//   eddy::uuid id = eddy::uuid::parse("123e4567-e89b-12d3-a456-426614174000");
//   std::string text = id.to_string();    // lowercase, 8-4-4-4-12
//   eddy::uuid fresh = eddy::uuid::random(); // version 4

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace eddy {

// A 128-bit universally unique identifier, held as its 16 bytes in network
// order (the order of the canonical text). A plain value: compare, hash and
// copy it freely.
struct uuid {
    std::array<std::uint8_t, 16> bytes{};

    // The 36-character canonical form, lowercase hex as Java's
    // UUID.toString() writes it: "123e4567-e89b-12d3-a456-426614174000".
    std::string to_string() const;

    // Reads the canonical 8-4-4-4-12 form, hex digits in either case.
    // Throws eddy::serde_error on anything else (Java's UUID.fromString is
    // laxer; eddy accepts only what UUID.toString() can produce, plus
    // uppercase).
    static uuid parse(std::string_view text);

    // A random (version 4, RFC 4122 variant) uuid from a per-thread
    // generator seeded by std::random_device.
    static uuid random();

    friend bool operator==(const uuid&, const uuid&) = default;
    friend std::strong_ordering operator<=>(const uuid&, const uuid&) = default;
};

// Writes to_string(), so uuids read well in logs and test failures.
std::ostream& operator<<(std::ostream& out, const uuid& id);

} // namespace eddy

template<>
struct std::hash<eddy::uuid> {
    std::size_t operator()(const eddy::uuid& id) const noexcept;
};
