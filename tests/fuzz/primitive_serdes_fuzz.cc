// Fuzzes the built-in serdes of serde/serdes.h: the first byte picks the
// serde, the rest is the bytes to deserialize. Whatever deserializes must
// serialize back to the same bytes (uuids: in lowercase; doubles: NaNs as
// the canonical NaN).

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "serde/serdes.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

template<typename S>
void round_trip(std::string_view bytes) {
    const S s;
    try {
        const auto value = s.deserialize(bytes);
        EDDY_FUZZ_CHECK(s.serialize(value) == bytes);
    } catch (const eddy::serde_error&) {
    }
}

void float64(std::string_view bytes) {
    const eddy::serdes::float64 s;
    try {
        const double value = s.deserialize(bytes);
        const std::string again = s.serialize(value);
        EDDY_FUZZ_CHECK(std::isnan(value) ? again == s.serialize(std::nan("")) : again == bytes);
        EDDY_FUZZ_CHECK(std::isnan(value) ? std::isnan(s.deserialize(again)) : s.deserialize(again) == value);
    } catch (const eddy::serde_error&) {
    }
}

// serdes::uuid, or nullable<serdes::uuid>: uppercase reads, lowercase writes.
template<typename S>
void uuid(std::string_view bytes) {
    const S s;
    try {
        const eddy::uuid value = *std::optional<eddy::uuid>(s.deserialize(bytes));
        std::string lower(bytes);
        std::transform(lower.begin(), lower.end(), lower.begin(),
            [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        EDDY_FUZZ_CHECK(s.serialize(value) == lower);
        EDDY_FUZZ_CHECK(eddy::serdes::uuid{}.serialize(value) == lower);
        EDDY_FUZZ_CHECK(eddy::uuid::parse(value.to_string()) == value);
    } catch (const eddy::serde_error&) {
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 8) {
    case 0:
        round_trip<eddy::serdes::string>(bytes);
        break;
    case 1:
        round_trip<eddy::serdes::bytes>(bytes);
        break;
    case 2:
        round_trip<eddy::serdes::int32>(bytes);
        break;
    case 3:
        round_trip<eddy::serdes::int64>(bytes);
        break;
    case 4:
        float64(bytes);
        break;
    case 5:
        uuid<eddy::serdes::uuid>(bytes);
        break;
    case 6:
        round_trip<eddy::serdes::nullable<eddy::serdes::int32>>(bytes);
        break;
    default:
        uuid<eddy::serdes::nullable<eddy::serdes::uuid>>(bytes);
        break;
    }
    return 0;
}
