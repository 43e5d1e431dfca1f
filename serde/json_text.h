#pragma once

// json_text<T>: how a value of T reads as JSON text where eddy shows one
// (the query server's answers). Strings, integers, doubles, booleans, uuids
// and optionals of them need nothing; the optional serde headers add the
// rest: serde/json.h for Hana structs (and vectors, string maps and time
// points), serde/protobuf.h for Protobuf messages (Protobuf's JSON
// mapping). A type with no json_text has no `write`.

#include <string>

namespace eddy::serdes {

template<typename T>
struct json_text {};

// Whether json_text<T> writes T.
template<typename T>
concept has_json_text = requires(std::string& out, const T& value) { json_text<T>::write(out, value); };

} // namespace eddy::serdes
