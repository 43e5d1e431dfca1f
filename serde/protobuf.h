#pragma once

// Serdes for Protobuf messages: the binary wire format (protobuf<M>) and
// Protobuf's canonical JSON mapping (protobuf_json<M>, to_json, from_json).
//
//   eddy::serdes::protobuf<todo::TaskCreated> s;
//   std::string bytes = s.serialize(event);
//   todo::TaskCreated back = s.deserialize(bytes); // throws eddy::serde_error
//
//   std::string text = eddy::serdes::to_json(event); // {"taskId":"t1",...}
//   auto again = eddy::serdes::from_json<todo::TaskCreated>(text);
//
// Reading is as strict as the format allows: bytes protobuf cannot parse,
// proto3 strings that are not UTF-8 and proto2 messages missing a required
// field are errors. Unknown fields are kept (binary) or ignored (JSON), so an
// older reader accepts a newer writer's events. Note that the binary format
// cannot tell input cut at a field boundary from a message that has fewer
// fields; such input parses.

#include <concepts>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include "json_text.h"
#include "serde.h"

namespace eddy::serdes {

namespace internal {

std::string serialize_message(const google::protobuf::Message& message);
void parse_message(std::string_view bytes, google::protobuf::Message& message);
std::string print_json(const google::protobuf::Message& message, const google::protobuf::util::JsonPrintOptions& options);
void parse_json(std::string_view text, google::protobuf::Message& message,
                const google::protobuf::util::JsonParseOptions& options);

} // namespace internal

// Options for reading JSON into messages: Protobuf's defaults, except that
// unknown fields are ignored, as every eddy JSON reader does. (Protobuf then
// also reads an unknown enum name as the enum's zero value.)
google::protobuf::util::JsonParseOptions default_json_parse_options();

// The message in Protobuf's canonical JSON mapping (lowerCamelCase names,
// enums by name, 64-bit integers as strings, default values left out unless
// options say otherwise). Throws serde_error when protobuf cannot print it.
inline std::string to_json(const google::protobuf::Message& message,
                           const google::protobuf::util::JsonPrintOptions& options = {}) {
    return internal::print_json(message, options);
}

// Reads Protobuf's JSON mapping into an M. Throws serde_error on malformed
// JSON, a value of the wrong type, or (proto2) a missing required field.
template<typename M>
    requires std::derived_from<M, google::protobuf::Message>
M from_json(std::string_view text,
            const google::protobuf::util::JsonParseOptions& options = default_json_parse_options()) {
    M message;
    internal::parse_json(text, message, options);
    return message;
}

// The query server's JSON text for a message (serde/json_text.h):
// Protobuf's JSON mapping.
template<typename M>
    requires std::derived_from<M, google::protobuf::Message>
struct json_text<M> {
    static void write(std::string& out, const M& message) { out += to_json(message); }
};

// A Protobuf message in the binary wire format.
template<typename M>
    requires std::derived_from<M, google::protobuf::Message>
struct protobuf {
    using value_type = M;
    static constexpr std::string_view name = "protobuf";

    std::string serialize(const M& message) const { return internal::serialize_message(message); }

    M deserialize(std::string_view bytes) const {
        M message;
        internal::parse_message(bytes, message);
        return message;
    }
};

// A Protobuf message in Protobuf's canonical JSON mapping, for topics read
// by tools and services that speak JSON rather than Protobuf.
template<typename M>
    requires std::derived_from<M, google::protobuf::Message>
struct protobuf_json {
    using value_type = M;
    static constexpr std::string_view name = "protobuf-json";

    protobuf_json() = default;
    protobuf_json(google::protobuf::util::JsonPrintOptions print, google::protobuf::util::JsonParseOptions parse)
        : _print(print), _parse(parse) {}

    std::string serialize(const M& message) const { return internal::print_json(message, _print); }

    M deserialize(std::string_view bytes) const { return from_json<M>(bytes, _parse); }

private:
    google::protobuf::util::JsonPrintOptions _print;
    google::protobuf::util::JsonParseOptions _parse = default_json_parse_options();
};

} // namespace eddy::serdes
