#pragma once

// The built-in serdes: Kafka's primitive encodings, uuids, and nullable<S>.
//
//   eddy::serdes::int32 s;
//   std::string bytes = s.serialize(42); // "\x00\x00\x00\x2a", as Kafka's
//                                        // IntegerSerializer writes it
//   std::int32_t back = s.deserialize(bytes);
//
//   // A topic whose values may be tombstones:
//   eddy::serde_ref<std::optional<std::string>> v =
//       eddy::default_serde_ref<std::optional<std::string>>();
//
// Each serde's bytes match the Kafka Java client's serializer of the same
// name, so eddy reads and writes topics shared with Java applications.
// Protobuf and JSON serdes live in serde/protobuf.h and serde/json.h.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "serde.h"
#include "uuid.h"

namespace eddy::serdes {

namespace internal {

// The concatenation of string_views known at compile time, with static
// storage, so a composed serde (nullable<int32>) has a name of its own.
template<const std::string_view&... Parts>
struct joined_name {
    static constexpr auto storage = [] {
        std::array<char, (Parts.size() + ... + 0)> chars{};
        std::size_t at = 0;
        ((std::copy(Parts.begin(), Parts.end(), chars.begin() + at), at += Parts.size()), ...);
        return chars;
    }();
    static constexpr std::string_view value{storage.data(), storage.size()};
};

inline constexpr std::string_view nullable_open = "nullable<";
inline constexpr std::string_view nullable_close = ">";

[[noreturn]] void throw_null_has_no_bytes();

} // namespace internal

// Bytes as they are: Kafka's StringSerializer with UTF-8. No validation, so
// any bytes round-trip unchanged.
struct string {
    using value_type = std::string;
    static constexpr std::string_view name = "string";

    std::string serialize(const std::string& v) const;
    void serialize_into(const std::string& v, std::string& out) const { out.assign(v); }
    std::string deserialize(std::string_view bytes) const;
};

// Opaque bytes: Kafka's ByteArraySerializer.
struct bytes {
    using value_type = std::vector<std::byte>;
    static constexpr std::string_view name = "bytes";

    std::string serialize(const std::vector<std::byte>& v) const;
    std::vector<std::byte> deserialize(std::string_view bytes) const;
};

// A 32-bit two's-complement integer in 4 bytes, big-endian: Kafka's
// IntegerSerializer. Any other length is a serde_error.
struct int32 {
    using value_type = std::int32_t;
    static constexpr std::string_view name = "int32";

    std::string serialize(std::int32_t v) const;
    std::int32_t deserialize(std::string_view bytes) const;
};

// A 64-bit two's-complement integer in 8 bytes, big-endian: Kafka's
// LongSerializer. Any other length is a serde_error.
struct int64 {
    using value_type = std::int64_t;
    static constexpr std::string_view name = "int64";

    std::string serialize(std::int64_t v) const;
    std::int64_t deserialize(std::string_view bytes) const;
};

// An IEEE-754 binary64 in 8 bytes, big-endian: Kafka's DoubleSerializer,
// which also writes every NaN as the canonical 0x7ff8000000000000 (Java's
// Double.doubleToLongBits). Any other length is a serde_error.
struct float64 {
    using value_type = double;
    static constexpr std::string_view name = "double";

    std::string serialize(double v) const;
    double deserialize(std::string_view bytes) const;
};

// An eddy::uuid as its 36-character canonical text: Kafka's UUIDSerializer.
struct uuid {
    using value_type = eddy::uuid;
    static constexpr std::string_view name = "uuid";

    std::string serialize(const eddy::uuid& v) const;
    eddy::uuid deserialize(std::string_view bytes) const;
};

// The serde of a value that may be null (a tombstone): S for the engaged
// value. A null is not bytes, the sink writes a Kafka null and the source
// reads one as std::nullopt without calling this serde; so serialize throws
// on std::nullopt and deserialize always returns an engaged value (empty
// bytes are the empty value of S, or S's error, never a null).
template<eddy::serde S>
struct nullable {
    using value_type = std::optional<typename S::value_type>;
    static constexpr std::string_view name =
        internal::joined_name<internal::nullable_open, S::name, internal::nullable_close>::value;

    nullable() = default;
    explicit nullable(S inner) : _inner(std::move(inner)) {}

    std::string serialize(const value_type& v) const {
        if (!v.has_value()) {
            internal::throw_null_has_no_bytes();
        }
        return _inner.serialize(*v);
    }

    value_type deserialize(std::string_view bytes) const {
        return value_type(std::in_place, _inner.deserialize(bytes));
    }

private:
    [[no_unique_address]] S _inner{};
};

static_assert(serde_for<string, std::string>);
static_assert(serde_for<bytes, std::vector<std::byte>>);
static_assert(serde_for<int32, std::int32_t>);
static_assert(serde_for<int64, std::int64_t>);
static_assert(serde_for<float64, double>);
static_assert(serde_for<uuid, eddy::uuid>);
static_assert(serde_for<nullable<int32>, std::optional<std::int32_t>>);

} // namespace eddy::serdes

namespace eddy {

template<>
struct default_serde<std::string> {
    using type = serdes::string;
};

template<>
struct default_serde<std::vector<std::byte>> {
    using type = serdes::bytes;
};

template<>
struct default_serde<std::int32_t> {
    using type = serdes::int32;
};

template<>
struct default_serde<std::int64_t> {
    using type = serdes::int64;
};

template<>
struct default_serde<double> {
    using type = serdes::float64;
};

template<>
struct default_serde<uuid> {
    using type = serdes::uuid;
};

template<typename T>
    requires has_default_serde<T>
struct default_serde<std::optional<T>> {
    using type = serdes::nullable<typename default_serde<T>::type>;
};

} // namespace eddy
