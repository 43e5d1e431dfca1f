#pragma once

// The non-template half of serdes::json<T>: a read-only view of a parsed
// document, the path of the value being walked, and the leaf readers and
// writers. serde/json.h walks the struct; this does the text. The parser
// (nlohmann-json) stays behind json_document, out of every public header.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::serdes::internal {

// Where the walker is in a document ("due.at", "tags[2]"), for error
// messages. A chain of frames that lives on the walker's stack: a child
// points at its parent, so nothing is built unless an error needs the text.
class json_path {
public:
    json_path() = default;

    json_path field(std::string_view name) const noexcept { return json_path(this, name, 0, false); }
    json_path index(std::size_t i) const noexcept { return json_path(this, {}, i, true); }

    bool is_root() const noexcept { return _parent == nullptr; }

    // The dotted path, "" for the document's root.
    std::string to_string() const;

private:
    json_path(const json_path* parent, std::string_view name, std::size_t index, bool is_index) noexcept
        : _parent(parent), _name(name), _index(index), _is_index(is_index) {}

    const json_path* _parent = nullptr;
    std::string_view _name;
    std::size_t _index = 0;
    bool _is_index = false;
};

enum class json_kind { null, boolean, number, string, array, object };

// A non-owning view of one value in a json_document.
class json_value {
public:
    explicit json_value(const void* node) noexcept : _node(node) {}

    json_kind kind() const noexcept;

    // Arrays: the number of elements and the i-th one (i < size()).
    std::size_t size() const noexcept;
    json_value at(std::size_t i) const;

    // Objects: the member called `key`, if there is one, and all members.
    std::optional<json_value> find(std::string_view key) const;
    std::vector<std::pair<std::string_view, json_value>> members() const;

    const void* node() const noexcept { return _node; }

private:
    const void* _node;
};

// A parsed JSON document, owning its values.
class json_document {
public:
    // Throws serde_error ("json: malformed JSON: ...") on text that is not
    // exactly one JSON value (trailing bytes included) or not UTF-8.
    explicit json_document(std::string_view text);
    ~json_document();
    json_document(json_document&&) noexcept;
    json_document& operator=(json_document&&) noexcept;

    json_value root() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> _impl;
};

// Reading leaves. Each throws serde_error naming `path` when `value` has the
// wrong JSON type or is out of the target's range.
[[noreturn]] void throw_type_error(const json_path& path, std::string_view expected, json_value got);
[[noreturn]] void throw_missing_field(const json_path& path);
void expect_kind(json_value value, json_kind kind, const json_path& path);
bool read_bool(json_value value, const json_path& path);
std::string read_string(json_value value, const json_path& path);
std::int64_t read_signed(json_value value, const json_path& path, std::int64_t min, std::int64_t max,
                         std::string_view type_name);
std::uint64_t read_unsigned(json_value value, const json_path& path, std::uint64_t max, std::string_view type_name);
double read_double(json_value value, const json_path& path);
float read_float(json_value value, const json_path& path);
std::chrono::system_clock::time_point read_time_point(json_value value, const json_path& path);

// Whether `text` is valid UTF-8 (RFC 3629).
bool is_valid_utf8(std::string_view text);
// Standard base64 with padding; decoding also takes the URL-safe alphabet
// and missing padding, and gives std::nullopt for anything else.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// Writing leaves. Strings must be UTF-8 and numbers finite, else
// serde_error naming `path`.
void write_string(std::string& out, std::string_view text, const json_path& path);
void write_bool(std::string& out, bool value);
void write_signed(std::string& out, std::int64_t value);
void write_unsigned(std::string& out, std::uint64_t value);
void write_double(std::string& out, double value, const json_path& path);
void write_float(std::string& out, float value, const json_path& path);
void write_time_point(std::string& out, std::chrono::system_clock::time_point value);

// "2026-11-27T20:48:09.123Z": UTC, milliseconds, truncated toward the past.
std::string format_time_point(std::chrono::system_clock::time_point value);

// RFC 3339 / ISO-8601 date-time: "YYYY-MM-DDTHH:MM:SS", optional fraction
// (digits after the ninth are dropped), then "Z" or an offset "+HH:MM".
// std::nullopt for anything else, including dates that do not exist and
// instants system_clock cannot hold.
std::optional<std::chrono::system_clock::time_point> parse_time_point(std::string_view text);

} // namespace eddy::serdes::internal
