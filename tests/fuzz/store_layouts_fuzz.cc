// Fuzzes the serdes of the layouts eddy keeps in stores and repartition
// topics (core/window.h, operators/table.h, operators/stream_stream_join.h): windowed
// keys, ValueAndTimestamp, table changes, join keys and values. The first
// byte picks the layout; the bytes after it are the input. Whatever
// deserializes must serialize back to the same bytes (join sides: any byte
// other than 1 reads as the right side, as Kafka Streams reads it).

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "operators/stream_stream_join.h"
#include "operators/table.h"
#include "core/window.h"
#include "serde/serdes.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using eddy::serde_ref;
namespace serdes = eddy::serdes;

template<typename S>
void round_trip(const S& s, std::string_view bytes) {
    try {
        const auto value = s.deserialize(bytes);
        EDDY_FUZZ_CHECK(s.serialize(value) == bytes);
    } catch (const eddy::serde_error&) {
    }
}

void time_windowed(std::string_view bytes, std::int64_t size_ms) {
    const serdes::time_windowed<std::string> s{serde_ref<std::string>(serdes::string{}), size_ms};
    try {
        const auto w = s.deserialize(bytes);
        EDDY_FUZZ_CHECK(w.window.end_ms >= w.window.start_ms);
        EDDY_FUZZ_CHECK(s.serialize(w) == bytes);
    } catch (const eddy::serde_error&) {
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    const serde_ref<std::string> text = serdes::string{};
    const serde_ref<std::int32_t> int32 = serdes::int32{};
    const serde_ref<std::int64_t> int64 = serdes::int64{};
    switch (data[0] % 12) {
    case 0:
        time_windowed(bytes, 10);
        break;
    case 1:
        time_windowed(bytes, std::numeric_limits<std::int64_t>::max());
        break;
    case 2:
        round_trip(serdes::session_windowed<std::string>{text}, bytes);
        break;
    case 3:
        round_trip(serdes::session_windowed<std::int32_t>{int32}, bytes);
        break;
    case 4:
        round_trip(serdes::value_and_timestamp<std::int64_t>{int64}, bytes);
        break;
    case 5:
        round_trip(serdes::value_and_timestamp<std::string>{text}, bytes);
        break;
    case 6:
        try {
            // Writes stamp 0, so only the value survives a round trip.
            const serdes::value_without_timestamp<std::int32_t> s{int32};
            const auto v = s.deserialize(bytes);
            EDDY_FUZZ_CHECK(s.serialize(v).substr(8) == bytes.substr(8));
        } catch (const eddy::serde_error&) {
        }
        break;
    case 7:
        round_trip(serdes::change_of<std::int64_t>{int64}, bytes);
        break;
    case 8:
        round_trip(serdes::nullable_of<std::string>{text}, bytes);
        break;
    case 9:
        round_trip(serdes::join_window_key_serde<std::string>{text}, bytes);
        break;
    case 10:
        if (bytes.size() < 9 || bytes[8] == 0 || bytes[8] == 1) {
            round_trip(serdes::timestamped_key_and_join_side_serde<std::int32_t>{int32}, bytes);
        } else {
            try {
                serdes::timestamped_key_and_join_side_serde<std::int32_t>{int32}.deserialize(bytes);
            } catch (const eddy::serde_error&) {
            }
        }
        break;
    default:
        if (bytes.empty() || bytes[0] == 0 || bytes[0] == 1) {
            round_trip(serdes::left_or_right_value_serde<std::string, std::int64_t>{text, int64}, bytes);
        } else {
            try {
                serdes::left_or_right_value_serde<std::string, std::int64_t>{text, int64}.deserialize(bytes);
            } catch (const eddy::serde_error&) {
            }
        }
        break;
    }
    return 0;
}
