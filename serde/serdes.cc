#include "serde/serdes.h"

#include <bit>
#include <cmath>
#include <limits>

namespace eddy::serdes {

namespace internal {

void throw_null_has_no_bytes() {
    throw serde_error("nullable: a null value has no bytes (the sink writes a Kafka null)");
}

} // namespace internal

namespace {

// Java's Double.doubleToLongBits maps every NaN to this one pattern.
constexpr std::uint64_t canonical_nan_bits = 0x7ff8000000000000ULL;

template<typename U>
std::string to_big_endian(U v) {
    std::string out(sizeof(U), '\0');
    for (std::size_t i = 0; i < sizeof(U); ++i) {
        out[sizeof(U) - 1 - i] = static_cast<char>(static_cast<unsigned char>(v >> (8 * i)));
    }
    return out;
}

template<typename U>
U from_big_endian(std::string_view bytes, std::string_view serde_name) {
    if (bytes.size() != sizeof(U)) {
        throw serde_error(std::string(serde_name) + ": expected " + std::to_string(sizeof(U)) + " bytes, got "
                          + std::to_string(bytes.size()));
    }
    U v = 0;
    for (const char c : bytes) {
        v = static_cast<U>((v << 8) | static_cast<unsigned char>(c));
    }
    return v;
}

} // namespace

std::string string::serialize(const std::string& v) const { return v; }

std::string string::deserialize(std::string_view bytes) const { return std::string(bytes); }

std::string bytes::serialize(const std::vector<std::byte>& v) const {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

std::vector<std::byte> bytes::deserialize(std::string_view bytes) const {
    const auto* first = reinterpret_cast<const std::byte*>(bytes.data());
    return std::vector<std::byte>(first, first + bytes.size());
}

std::string int32::serialize(std::int32_t v) const { return to_big_endian(std::bit_cast<std::uint32_t>(v)); }

std::int32_t int32::deserialize(std::string_view bytes) const {
    return std::bit_cast<std::int32_t>(from_big_endian<std::uint32_t>(bytes, name));
}

std::string int64::serialize(std::int64_t v) const { return to_big_endian(std::bit_cast<std::uint64_t>(v)); }

std::int64_t int64::deserialize(std::string_view bytes) const {
    return std::bit_cast<std::int64_t>(from_big_endian<std::uint64_t>(bytes, name));
}

std::string float64::serialize(double v) const {
    static_assert(std::numeric_limits<double>::is_iec559, "float64 needs IEEE-754 doubles");
    if (std::isnan(v)) {
        return to_big_endian(canonical_nan_bits);
    }
    return to_big_endian(std::bit_cast<std::uint64_t>(v));
}

double float64::deserialize(std::string_view bytes) const {
    return std::bit_cast<double>(from_big_endian<std::uint64_t>(bytes, name));
}

std::string uuid::serialize(const eddy::uuid& v) const { return v.to_string(); }

eddy::uuid uuid::deserialize(std::string_view bytes) const { return eddy::uuid::parse(bytes); }

} // namespace eddy::serdes
