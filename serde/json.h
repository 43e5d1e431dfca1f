#pragma once

// json<T>: the serde of plain C++ structs declared with
// BOOST_HANA_DEFINE_STRUCT, as JSON objects whose member names are the
// field names. One generic walker over hana::accessors, the shape of Hana's
// example/introspection.json.cpp.
//
//   struct due_date {
//       BOOST_HANA_DEFINE_STRUCT(due_date,
//           (std::chrono::system_clock::time_point, at),
//           (std::optional<std::string>, note));
//   };
//   struct task {
//       BOOST_HANA_DEFINE_STRUCT(task,
//           (std::string, id),
//           (std::vector<std::string>, tags),
//           (due_date, due));
//   };
//   eddy::serdes::json<task> s;
//   s.serialize(t); // {"id":"t1","tags":["home"],"due":{"at":"2026-11-27T20:48:09.123Z","note":null}}
//
// Field types: nested hana structs, std::vector<X>, std::optional<X>,
// std::map<std::string, X>, std::string (UTF-8), bool, every integer type,
// float, double, and std::chrono::system_clock::time_point (an ISO-8601 UTC
// string with milliseconds; reading also takes other offsets and up to
// nanoseconds). Any other type is a compile error naming it.
//
// Writing: compact JSON, fields in declaration order, std::nullopt as null.
// Reading: unknown members are ignored; an absent or null optional is
// std::nullopt; a missing field, a value of the wrong JSON type, an integer
// out of its type's range or malformed JSON is a serde_error naming the
// field, e.g. `json: field "due.at": expected string, got number`.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/core/to.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>

#include "internal/json_io.h"
#include "json_text.h"
#include "serde.h"

namespace eddy::serdes {

// A struct Hana can introspect: declared with BOOST_HANA_DEFINE_STRUCT (or
// adapted with BOOST_HANA_ADAPT_STRUCT).
template<typename T>
concept hana_struct = boost::hana::Struct<T>::value;

namespace internal {

template<typename T>
inline constexpr bool dependent_false = false;

template<typename T>
struct is_vector : std::false_type {};
template<typename X, typename A>
struct is_vector<std::vector<X, A>> : std::true_type {};

template<typename T>
struct is_string_map : std::false_type {};
template<typename X, typename C, typename A>
struct is_string_map<std::map<std::string, X, C, A>> : std::true_type {};

template<typename T>
concept json_integer = std::integral<T> && !std::same_as<T, bool>;

template<json_integer T>
constexpr std::string_view integer_name() {
    constexpr bool s = std::is_signed_v<T>;
    switch (sizeof(T)) {
    case 1:
        return s ? "int8" : "uint8";
    case 2:
        return s ? "int16" : "uint16";
    case 4:
        return s ? "int32" : "uint32";
    default:
        return s ? "int64" : "uint64";
    }
}

template<typename X>
void write_json(std::string& out, const X& value, const json_path& path) {
    if constexpr (hana_struct<X>) {
        out.push_back('{');
        bool first = true;
        boost::hana::for_each(boost::hana::accessors<X>(), [&](const auto& pair) {
            const char* key = boost::hana::to<const char*>(boost::hana::first(pair));
            if (!first) {
                out.push_back(',');
            }
            first = false;
            write_string(out, key, path);
            out.push_back(':');
            write_json(out, boost::hana::second(pair)(value), path.field(key));
        });
        out.push_back('}');
    } else if constexpr (is_optional_v<X>) {
        if (value.has_value()) {
            write_json(out, *value, path);
        } else {
            out += "null";
        }
    } else if constexpr (is_vector<X>::value) {
        out.push_back('[');
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (i != 0) {
                out.push_back(',');
            }
            // Bound to a const& so that std::vector<bool>'s proxy works too.
            const typename X::value_type& item = value[i];
            write_json(out, item, path.index(i));
        }
        out.push_back(']');
    } else if constexpr (is_string_map<X>::value) {
        out.push_back('{');
        bool first = true;
        for (const auto& [key, item] : value) {
            if (!first) {
                out.push_back(',');
            }
            first = false;
            const json_path item_path = path.field(key);
            write_string(out, key, item_path);
            out.push_back(':');
            write_json(out, item, item_path);
        }
        out.push_back('}');
    } else if constexpr (std::same_as<X, std::string>) {
        write_string(out, value, path);
    } else if constexpr (std::same_as<X, bool>) {
        write_bool(out, value);
    } else if constexpr (json_integer<X>) {
        if constexpr (std::is_signed_v<X>) {
            write_signed(out, value);
        } else {
            write_unsigned(out, value);
        }
    } else if constexpr (std::same_as<X, double>) {
        write_double(out, value, path);
    } else if constexpr (std::same_as<X, float>) {
        write_float(out, value, path);
    } else if constexpr (std::same_as<X, std::chrono::system_clock::time_point>) {
        write_time_point(out, value);
    } else {
        static_assert(dependent_false<X>, "eddy::serdes::json: unsupported field type (see serde/json.h for the list)");
    }
}

template<typename X>
void read_json(json_value in, const json_path& path, X& out) {
    if constexpr (hana_struct<X>) {
        expect_kind(in, json_kind::object, path);
        boost::hana::for_each(boost::hana::accessors<X>(), [&](const auto& pair) {
            const char* key = boost::hana::to<const char*>(boost::hana::first(pair));
            auto& member = boost::hana::second(pair)(out);
            const json_path member_path = path.field(key);
            if (const auto found = in.find(key)) {
                read_json(*found, member_path, member);
            } else if constexpr (is_optional_v<std::remove_cvref_t<decltype(member)>>) {
                member.reset();
            } else {
                throw_missing_field(member_path);
            }
        });
    } else if constexpr (is_optional_v<X>) {
        if (in.kind() == json_kind::null) {
            out.reset();
        } else {
            read_json(in, path, out.emplace());
        }
    } else if constexpr (is_vector<X>::value) {
        expect_kind(in, json_kind::array, path);
        const std::size_t n = in.size();
        out.clear();
        out.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            typename X::value_type item{};
            read_json(in.at(i), path.index(i), item);
            out.push_back(std::move(item));
        }
    } else if constexpr (is_string_map<X>::value) {
        expect_kind(in, json_kind::object, path);
        out.clear();
        for (const auto& [key, value] : in.members()) {
            typename X::mapped_type item{};
            read_json(value, path.field(key), item);
            out.insert_or_assign(std::string(key), std::move(item));
        }
    } else if constexpr (std::same_as<X, std::string>) {
        out = read_string(in, path);
    } else if constexpr (std::same_as<X, bool>) {
        out = read_bool(in, path);
    } else if constexpr (json_integer<X>) {
        if constexpr (std::is_signed_v<X>) {
            out = static_cast<X>(read_signed(in, path, std::numeric_limits<X>::min(), std::numeric_limits<X>::max(),
                                             integer_name<X>()));
        } else {
            out = static_cast<X>(read_unsigned(in, path, std::numeric_limits<X>::max(), integer_name<X>()));
        }
    } else if constexpr (std::same_as<X, double>) {
        out = read_double(in, path);
    } else if constexpr (std::same_as<X, float>) {
        out = read_float(in, path);
    } else if constexpr (std::same_as<X, std::chrono::system_clock::time_point>) {
        out = read_time_point(in, path);
    } else {
        static_assert(dependent_false<X>, "eddy::serdes::json: unsupported field type (see serde/json.h for the list)");
    }
}

} // namespace internal

// The query server's JSON text for the types above (serde/json_text.h).
template<typename T>
    requires hana_struct<T> || internal::is_vector<T>::value || internal::is_string_map<T>::value
    || std::same_as<T, std::chrono::system_clock::time_point>
struct json_text<T> {
    static void write(std::string& out, const T& value) { internal::write_json(out, value, internal::json_path{}); }
};

// A hana struct as a JSON object (see the top of this file).
template<typename T>
    requires hana_struct<T> && std::default_initializable<T>
struct json {
    using value_type = T;
    static constexpr std::string_view name = "json";

    std::string serialize(const T& value) const {
        std::string out;
        internal::write_json(out, value, internal::json_path{});
        return out;
    }

    T deserialize(std::string_view bytes) const {
        const internal::json_document document(bytes);
        T value{};
        internal::read_json(document.root(), internal::json_path{}, value);
        return value;
    }
};

} // namespace eddy::serdes
