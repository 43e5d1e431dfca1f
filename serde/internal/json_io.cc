#include "serde/internal/json_io.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <system_error>

#include <nlohmann/json.hpp>

#include "serde/internal/error_text.h"
#include "serde/internal/printable.h"
#include "serde/serde.h"

namespace eddy::serdes::internal {

namespace {

using nlohmann::json;
using std::chrono::system_clock;

const json& node_of(json_value value) noexcept { return *static_cast<const json*>(value.node()); }

std::string_view kind_name(json_kind kind) noexcept {
    switch (kind) {
    case json_kind::null:
        return "null";
    case json_kind::boolean:
        return "boolean";
    case json_kind::number:
        return "number";
    case json_kind::string:
        return "string";
    case json_kind::array:
        return "array";
    case json_kind::object:
        return "object";
    }
    return "unknown";
}

// "json: field "a.b": " or, at the root, "json: ".
std::string error_prefix(const json_path& path) {
    if (path.is_root()) {
        return "json: ";
    }
    return "json: field \"" + path.to_string() + "\": ";
}

[[noreturn]] void throw_out_of_range(const json_path& path, json_value value, std::string_view type_name) {
    throw serde_error(error_prefix(path) + node_of(value).dump() + " is out of range for " + std::string(type_name));
}

// nlohmann's what() starts with "[json.exception.parse_error.101] "; the
// category is no help to whoever reads a serde_error.
std::string_view without_exception_tag(std::string_view what) {
    if (!what.empty() && what.front() == '[') {
        if (const auto end = what.find("] "); end != std::string_view::npos) {
            what.remove_prefix(end + 2);
        }
    }
    return what;
}

template<typename N>
void append_number(std::string& out, N value) {
    std::array<char, 64> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    if (ec != std::errc{}) {
        throw serde_error("json: cannot format a number: " + std::make_error_code(ec).message());
    }
    out.append(buffer.data(), end);
}

// A finite double or float, shortest round-tripping. Negative zero is
// "-0.0": to_chars writes "-0", which JSON parsers (nlohmann's too) read as
// the integer 0, so the sign would be lost on the way back.
template<typename F>
void append_decimal(std::string& out, F value) {
    if (value == 0 && std::signbit(value)) {
        out += "-0.0";
        return;
    }
    append_number(out, value);
}

// Reads exactly `count` decimal digits at text[at...], advancing `at`.
std::optional<int> take_digits(std::string_view text, std::size_t& at, std::size_t count) {
    if (at + count > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = text[at + i];
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    at += count;
    return value;
}

bool take_char(std::string_view text, std::size_t& at, std::string_view accepted) {
    if (at < text.size() && accepted.find(text[at]) != std::string_view::npos) {
        ++at;
        return true;
    }
    return false;
}

} // namespace


std::string json_path::to_string() const {
    std::vector<const json_path*> frames;
    for (const json_path* p = this; p->_parent != nullptr; p = p->_parent) {
        frames.push_back(p);
    }
    std::string out;
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
        const json_path& frame = **it;
        if (frame._is_index) {
            out += "[" + std::to_string(frame._index) + "]";
        } else {
            if (!out.empty()) {
                out.push_back('.');
            }
            out.append(frame._name);
        }
    }
    return out;
}

json_kind json_value::kind() const noexcept {
    const json& j = node_of(*this);
    if (j.is_boolean()) {
        return json_kind::boolean;
    }
    if (j.is_number()) {
        return json_kind::number;
    }
    if (j.is_string()) {
        return json_kind::string;
    }
    if (j.is_array()) {
        return json_kind::array;
    }
    if (j.is_object()) {
        return json_kind::object;
    }
    return json_kind::null;
}

std::size_t json_value::size() const noexcept {
    const json& j = node_of(*this);
    return j.is_array() ? j.size() : 0;
}

json_value json_value::at(std::size_t i) const { return json_value(&node_of(*this).at(i)); }

std::optional<json_value> json_value::find(std::string_view key) const {
    const json& j = node_of(*this);
    const auto& object = j.get_ref<const json::object_t&>();
    if (const auto it = object.find(std::string(key)); it != object.end()) {
        return json_value(&it->second);
    }
    return std::nullopt;
}

std::vector<std::pair<std::string_view, json_value>> json_value::members() const {
    const auto& object = node_of(*this).get_ref<const json::object_t&>();
    std::vector<std::pair<std::string_view, json_value>> out;
    out.reserve(object.size());
    for (const auto& [key, value] : object) {
        out.emplace_back(key, json_value(&value));
    }
    return out;
}

struct json_document::impl {
    json root;
};

json_document::json_document(std::string_view text) : _impl(std::make_unique<impl>()) {
    try {
        _impl->root = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
        throw serde_error("json: malformed JSON: " + std::string(without_exception_tag(e.what())));
    }
}

json_document::~json_document() = default;
json_document::json_document(json_document&&) noexcept = default;
json_document& json_document::operator=(json_document&&) noexcept = default;

json_value json_document::root() const noexcept { return json_value(&_impl->root); }

void throw_type_error(const json_path& path, std::string_view expected, json_value got) {
    throw serde_error(error_prefix(path) + "expected " + std::string(expected) + ", got "
                      + std::string(kind_name(got.kind())));
}

void throw_missing_field(const json_path& path) { throw serde_error(error_prefix(path) + "required field is missing"); }

void expect_kind(json_value value, json_kind kind, const json_path& path) {
    if (value.kind() != kind) {
        throw_type_error(path, kind_name(kind), value);
    }
}

bool read_bool(json_value value, const json_path& path) {
    expect_kind(value, json_kind::boolean, path);
    return node_of(value).get<bool>();
}

std::string read_string(json_value value, const json_path& path) {
    expect_kind(value, json_kind::string, path);
    return node_of(value).get<std::string>();
}

std::int64_t read_signed(json_value value, const json_path& path, std::int64_t min, std::int64_t max,
                         std::string_view type_name) {
    const json& j = node_of(value);
    if (!j.is_number()) {
        throw_type_error(path, "integer", value);
    }
    if (j.is_number_unsigned()) {
        const auto v = j.get<std::uint64_t>();
        if (max < 0 || v > static_cast<std::uint64_t>(max)) {
            throw_out_of_range(path, value, type_name);
        }
        return static_cast<std::int64_t>(v);
    }
    if (j.is_number_integer()) {
        // Only negatives get here (nlohmann keeps the rest as unsigned).
        const auto v = j.get<std::int64_t>();
        if (v < min || v > max) {
            throw_out_of_range(path, value, type_name);
        }
        return v;
    }
    // A float such as 3.0 or 1e3 names an integer exactly; 1.5 does not.
    const auto d = j.get<double>();
    if (std::trunc(d) != d) {
        throw serde_error(error_prefix(path) + "expected integer, got number " + j.dump());
    }
    // Compare in double: min and max + 1 are powers of two, exact in a
    // double (INT64_MAX already rounds up to 2^63), so the edges are exact.
    if (d < static_cast<double>(min) || d >= static_cast<double>(max) + 1.0) {
        throw_out_of_range(path, value, type_name);
    }
    return static_cast<std::int64_t>(d);
}

std::uint64_t read_unsigned(json_value value, const json_path& path, std::uint64_t max, std::string_view type_name) {
    const json& j = node_of(value);
    if (!j.is_number()) {
        throw_type_error(path, "integer", value);
    }
    if (j.is_number_unsigned()) {
        const auto v = j.get<std::uint64_t>();
        if (v > max) {
            throw_out_of_range(path, value, type_name);
        }
        return v;
    }
    if (j.is_number_integer()) {
        // nlohmann keeps non-negative integers as unsigned: this one is < 0.
        throw_out_of_range(path, value, type_name);
    }
    const auto d = j.get<double>();
    if (std::trunc(d) != d) {
        throw serde_error(error_prefix(path) + "expected integer, got number " + j.dump());
    }
    if (d < 0.0 || d >= static_cast<double>(max) + 1.0) {
        throw_out_of_range(path, value, type_name);
    }
    return static_cast<std::uint64_t>(d);
}

double read_double(json_value value, const json_path& path) {
    expect_kind(value, json_kind::number, path);
    // The parser rejects numbers beyond double's range, so this is finite.
    return node_of(value).get<double>();
}

float read_float(json_value value, const json_path& path) {
    const double d = read_double(value, path);
    // Doubles from here on round to infinity as floats (FLT_MAX plus half
    // an ulp); converting them would be undefined.
    constexpr double overflow = 0x1.ffffffp+127;
    if (std::fabs(d) >= overflow) {
        throw_out_of_range(path, value, "float");
    }
    return static_cast<float>(d);
}

system_clock::time_point read_time_point(json_value value, const json_path& path) {
    const std::string text = read_string(value, path);
    if (const auto parsed = parse_time_point(text)) {
        return *parsed;
    }
    throw serde_error(error_prefix(path) + "expected ISO-8601 UTC timestamp like \"2026-11-27T20:48:09.123Z\", got "
                      + quoted_excerpt(text));
}

void write_string(std::string& out, std::string_view text, const json_path& path) {
    if (const auto valid = valid_utf8_prefix(text); valid != text.size()) {
        throw serde_error(error_prefix(path) + "string is not valid UTF-8 (bad byte at offset " + std::to_string(valid)
                          + ")");
    }
    static constexpr std::string_view hex = "0123456789abcdef";
    out.push_back('"');
    for (const char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += "\\u00";
                out.push_back(hex[static_cast<unsigned char>(c) >> 4]);
                out.push_back(hex[static_cast<unsigned char>(c) & 0x0f]);
            } else {
                out.push_back(c);
            }
        }
    }
    out.push_back('"');
}

void write_bool(std::string& out, bool value) { out += value ? "true" : "false"; }

void write_signed(std::string& out, std::int64_t value) { append_number(out, value); }

void write_unsigned(std::string& out, std::uint64_t value) { append_number(out, value); }

void write_double(std::string& out, double value, const json_path& path) {
    if (!std::isfinite(value)) {
        throw serde_error(error_prefix(path) + (std::isnan(value) ? "NaN" : "infinity")
                          + " has no JSON representation");
    }
    append_decimal(out, value);
}

void write_float(std::string& out, float value, const json_path& path) {
    if (!std::isfinite(value)) {
        throw serde_error(error_prefix(path) + (std::isnan(value) ? "NaN" : "infinity")
                          + " has no JSON representation");
    }
    append_decimal(out, value);
}

void write_time_point(std::string& out, system_clock::time_point value) {
    out.push_back('"');
    out += format_time_point(value);
    out.push_back('"');
}

std::string format_time_point(system_clock::time_point value) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(value);
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss hms{ms - day};
    const int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) {
        throw serde_error("json: timestamp year " + std::to_string(year) + " is outside ISO-8601's 0000-9999");
    }
    std::array<char, 32> buffer{};
    const int n = std::snprintf(buffer.data(), buffer.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year,
                                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
    return std::string(buffer.data(), static_cast<std::size_t>(n));
}

std::optional<system_clock::time_point> parse_time_point(std::string_view text) {
    using namespace std::chrono;
    std::size_t at = 0;
    const auto y = take_digits(text, at, 4);
    if (!y || !take_char(text, at, "-")) {
        return std::nullopt;
    }
    const auto mo = take_digits(text, at, 2);
    if (!mo || !take_char(text, at, "-")) {
        return std::nullopt;
    }
    const auto d = take_digits(text, at, 2);
    if (!d || !take_char(text, at, "Tt")) {
        return std::nullopt;
    }
    const auto h = take_digits(text, at, 2);
    if (!h || !take_char(text, at, ":")) {
        return std::nullopt;
    }
    const auto mi = take_digits(text, at, 2);
    if (!mi || !take_char(text, at, ":")) {
        return std::nullopt;
    }
    const auto s = take_digits(text, at, 2);
    if (!s) {
        return std::nullopt;
    }
    std::int64_t nanos = 0;
    if (take_char(text, at, ".")) {
        std::size_t digits = 0;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
            if (digits < 9) {
                nanos = nanos * 10 + (text[at] - '0');
            }
            ++digits;
            ++at;
        }
        if (digits == 0) {
            return std::nullopt;
        }
        for (std::size_t k = digits; k < 9; ++k) {
            nanos *= 10;
        }
    }
    int offset_minutes = 0;
    if (!take_char(text, at, "Zz")) {
        if (at >= text.size() || (text[at] != '+' && text[at] != '-')) {
            return std::nullopt;
        }
        const int sign = text[at] == '-' ? -1 : 1;
        ++at;
        const auto oh = take_digits(text, at, 2);
        if (!oh || !take_char(text, at, ":")) {
            return std::nullopt;
        }
        const auto om = take_digits(text, at, 2);
        if (!om || *oh > 23 || *om > 59) {
            return std::nullopt;
        }
        offset_minutes = sign * (*oh * 60 + *om);
    }
    if (at != text.size()) {
        return std::nullopt;
    }
    const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
    if (!date.ok() || *h > 23 || *mi > 59 || *s > 59) {
        return std::nullopt;
    }
    // Whole seconds first, in a type that cannot overflow for 4-digit
    // years, then check that system_clock can hold the instant.
    const sys_seconds whole = sys_days{date} + hours{*h} + minutes{*mi} + seconds{*s} - minutes{offset_minutes};
    const auto earliest = ceil<seconds>(system_clock::time_point::min()) + seconds{1};
    const auto latest = floor<seconds>(system_clock::time_point::max()) - seconds{1};
    if (whole < earliest || whole > latest) {
        return std::nullopt;
    }
    return time_point_cast<system_clock::duration>(whole)
           + duration_cast<system_clock::duration>(nanoseconds{nanos});
}

} // namespace eddy::serdes::internal
