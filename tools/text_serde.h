#pragma once

// The serdes the command line offers, between text and bytes: eddy produce
// parses each key and value as text and writes the bytes eddy::serdes
// makes of it; eddy consume turns bytes back into text.
//
//   auto s = text_serde::named("int32");
//   std::string bytes = s.encode("42");   // "\x00\x00\x00\x2a"
//   std::string text = s.decode(bytes);   // "42"
//   s.decode("abc");                      // "!int32: expected 4 bytes, got 3"

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::tools {

// One of the command line's serdes, chosen by name at run time.
class text_serde {
public:
    enum class kind { string, int32, int64, float64 };

    // "string", "int32", "int64" or "double"; throws tool_error otherwise.
    static text_serde named(std::string_view name);
    // Every name named() accepts.
    static const std::vector<std::string>& names();

    std::string_view name() const noexcept;

    // The bytes of `text`; throws std::invalid_argument with the reason
    // ("\"abc\" is not an int32") when the text is not a value of the serde.
    std::string encode(std::string_view text) const;

    // The text of `bytes`, or "!" and the serde's reason when they are not a
    // value of the serde.
    std::string decode(std::string_view bytes) const;

private:
    explicit text_serde(kind k) : _kind(k) {}
    kind _kind;
};

} // namespace eddy::tools
