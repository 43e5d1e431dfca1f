// Fuzzes the Protobuf serdes: the first byte picks the binary serde of a
// proto3 message, of a proto2 message with a required field, or the JSON
// mapping of the proto3 one. Whatever deserializes must serialize and read
// back to an equal message.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/util/message_differencer.h>

#include "serde/protobuf.h"
#include "tests/fuzz/fuzz_check.h"
#include "test_messages.pb.h"
#include "test_required.pb.h"

namespace {

template<typename S>
void round_trip(std::string_view bytes) {
    const S s;
    typename S::value_type message;
    try {
        message = s.deserialize(bytes);
    } catch (const eddy::serde_error&) {
        return;
    }
    std::string again;
    try {
        again = s.serialize(message);
    } catch (const eddy::serde_error&) {
        // JSON cannot print every message protobuf reads (an enum value
        // the schema lacks prints as a number, strings must be UTF-8).
        return;
    }
    EDDY_FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(s.deserialize(again), message));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
    case 0:
        round_trip<eddy::serdes::protobuf<eddy::test::Task>>(bytes);
        break;
    case 1:
        round_trip<eddy::serdes::protobuf<eddy::test::Legacy>>(bytes);
        break;
    case 2:
        round_trip<eddy::serdes::protobuf_json<eddy::test::Task>>(bytes);
        break;
    default:
        round_trip<eddy::serdes::protobuf_json<eddy::test::Legacy>>(bytes);
        break;
    }
    return 0;
}
