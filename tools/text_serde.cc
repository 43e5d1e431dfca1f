#include "tools/text_serde.h"

#include <charconv>
#include <cstdint>
#include <system_error>

#include <fmt/format.h>

#include "serde/serde.h"
#include "serde/serdes.h"
#include "tools/kafka_client.h"

namespace eddy::tools {
namespace {

std::string_view trimmed(std::string_view s) {
    auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    auto last = s.find_last_not_of(" \t");
    return s.substr(first, last - first + 1);
}

// The number in all of `text` (blanks around it allowed, as is a leading
// '+'), or std::invalid_argument naming the serde.
template<typename T>
T parse_number(std::string_view text, std::string_view serde_name) {
    auto s = trimmed(text);
    if (s.starts_with('+') && s.size() > 1 && s[1] != '-') {
        s.remove_prefix(1);
    }
    T value{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc::result_out_of_range) {
        throw std::invalid_argument(fmt::format("\"{}\" is out of range for {}", text, serde_name));
    }
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
        throw std::invalid_argument(fmt::format("\"{}\" is not {} {}", text,
            serde_name.starts_with('i') ? "an" : "a", serde_name));
    }
    return value;
}

} // namespace

text_serde text_serde::named(std::string_view name) {
    if (name == "string") {
        return text_serde(kind::string);
    }
    if (name == "int32") {
        return text_serde(kind::int32);
    }
    if (name == "int64") {
        return text_serde(kind::int64);
    }
    if (name == "double") {
        return text_serde(kind::float64);
    }
    throw tool_error(fmt::format("unknown serde {}: one of string, int32, int64, double", name));
}

const std::vector<std::string>& text_serde::names() {
    static const std::vector<std::string> all = {"string", "int32", "int64", "double"};
    return all;
}

std::string_view text_serde::name() const noexcept {
    switch (_kind) {
    case kind::string:
        return serdes::string::name;
    case kind::int32:
        return serdes::int32::name;
    case kind::int64:
        return serdes::int64::name;
    case kind::float64:
        return serdes::float64::name;
    }
    return "?";
}

std::string text_serde::encode(std::string_view text) const {
    switch (_kind) {
    case kind::string:
        return serdes::string{}.serialize(std::string(text));
    case kind::int32:
        return serdes::int32{}.serialize(parse_number<std::int32_t>(text, name()));
    case kind::int64:
        return serdes::int64{}.serialize(parse_number<std::int64_t>(text, name()));
    case kind::float64:
        return serdes::float64{}.serialize(parse_number<double>(text, name()));
    }
    throw std::logic_error("text_serde: unknown kind");
}

std::string text_serde::decode(std::string_view bytes) const {
    try {
        switch (_kind) {
        case kind::string:
            return serdes::string{}.deserialize(bytes);
        case kind::int32:
            return fmt::format("{}", serdes::int32{}.deserialize(bytes));
        case kind::int64:
            return fmt::format("{}", serdes::int64{}.deserialize(bytes));
        case kind::float64:
            return fmt::format("{}", serdes::float64{}.deserialize(bytes));
        }
    } catch (const serde_error& e) {
        return fmt::format("!{}", e.what());
    }
    return "!unknown serde";
}

} // namespace eddy::tools
