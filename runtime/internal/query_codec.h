#pragma once

// What query_server needs of a served store, with its types erased: key
// parsing from URL text by the key type, and values rendered as JSON
// (strings, integers and doubles as JSON scalars, Protobuf messages through
// Protobuf's JSON mapping, Hana structs through serde/json.h, uuids as their
// text). Kept free of Beast, which only query_server.cc compiles.

#include <charconv>
#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#include "../../serde/internal/json_io.h"
#include "../../serde/json_text.h"
#include "../../serde/serde.h"
#include "../../serde/uuid.h"

namespace eddy::runtime::internal {

template<typename T>
inline constexpr bool always_false = false;

// A key of type K from the text of a URL path segment or parameter (already
// percent-decoded); serde_error naming the type when it does not parse.
template<typename K>
K parse_key_text(std::string_view text) {
    if constexpr (std::same_as<K, std::string>) {
        return std::string(text);
    } else if constexpr (std::same_as<K, uuid>) {
        return uuid::parse(text);
    } else if constexpr (std::integral<K> && !std::same_as<K, bool>) {
        K value{};
        auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || err != std::errc{} || end != text.data() + text.size()) {
            throw serde_error(fmt::format("'{}' is not a {}-bit {} integer", text, sizeof(K) * 8,
                std::is_signed_v<K> ? "signed" : "unsigned"));
        }
        return value;
    } else {
        static_assert(always_false<K>, "query_server parses keys of type std::string, integers and eddy::uuid");
    }
}

// Bytes as JSON text: a string when they are UTF-8, else
// {"base64":"..."} (binary keys and values are shown, not refused).
inline std::string bytes_json(std::string_view bytes) {
    std::string out;
    if (serdes::internal::is_valid_utf8(bytes)) {
        serdes::internal::write_string(out, bytes, serdes::internal::json_path{});
        return out;
    }
    return "{\"base64\":\"" + serdes::internal::base64_encode(bytes) + "\"}";
}

template<typename V>
inline constexpr bool is_optional_json = false;
template<typename V>
inline constexpr bool is_optional_json<std::optional<V>> = true;

// The value as JSON text: scalars, uuids and optionals here, other types
// through serdes::json_text (serde/json.h, serde/protobuf.h).
template<typename V>
std::string to_json_text(const V& value) {
    std::string out;
    if constexpr (std::same_as<V, std::string>) {
        return bytes_json(value);
    } else if constexpr (std::same_as<V, uuid>) {
        serdes::internal::write_string(out, value.to_string(), serdes::internal::json_path{});
    } else if constexpr (std::same_as<V, bool>) {
        serdes::internal::write_bool(out, value);
    } else if constexpr (std::signed_integral<V>) {
        serdes::internal::write_signed(out, value);
    } else if constexpr (std::unsigned_integral<V>) {
        serdes::internal::write_unsigned(out, value);
    } else if constexpr (std::same_as<V, double>) {
        serdes::internal::write_double(out, value, serdes::internal::json_path{});
    } else if constexpr (std::same_as<V, float>) {
        serdes::internal::write_float(out, value, serdes::internal::json_path{});
    } else if constexpr (is_optional_json<V>) {
        return value ? to_json_text(*value) : std::string("null");
    } else if constexpr (serdes::has_json_text<V>) {
        serdes::json_text<V>::write(out, value);
    } else {
        static_assert(always_false<V>,
            "query_server shows this value type through eddy::serdes::json_text: include <eddy/serde/json.h> "
            "(Hana structs, vectors, string maps) or <eddy/serde/protobuf.h> (Protobuf messages) where the "
            "store is served");
    }
    return out;
}

// One served store, its types erased. Every function reads the local
// partitions only; query_server decides where a key's query goes.
struct served_store {
    bool windowed = false;
    // The key text parsed and serialised with the store's key serde (what
    // query_metadata_for_key partitions); serde_error when it does not parse.
    std::function<std::string(std::string_view)> key_bytes;
    // The key text parsed, as JSON.
    std::function<std::string(std::string_view)> key_json;
    // The key's value as JSON; std::nullopt when the local stores lack it.
    std::function<std::optional<std::string>(std::string_view)> get;
    // [{"key":..,"value":..}, ...] for from <= key <= to (either open), in key order.
    std::function<std::string(const std::optional<std::string>&, const std::optional<std::string>&)> range;
    // [{"window":{"start":..,"end":..},"value":..}, ...] of the key's windows starting in [from, to].
    std::function<std::string(std::string_view, std::int64_t, std::int64_t)> windows;
    // [{"key":..,"window":..,"value":..}, ...] of every key's windows starting in [from, to].
    std::function<std::string(std::int64_t, std::int64_t)> all_windows;
};

inline std::string window_json(std::int64_t start, std::int64_t end) {
    return fmt::format("{{\"start\":{},\"end\":{}}}", start, end);
}

} // namespace eddy::runtime::internal
