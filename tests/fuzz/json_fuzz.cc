// Fuzzes serdes::json<T> over a struct with every field type json.h
// supports. Whatever deserializes and serializes again must be a fixed
// point: its bytes deserialize to a value that serializes to the same bytes
// (the first pass may drop unknown members, nanoseconds and spacing).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include "serde/json.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

struct leaf {
    BOOST_HANA_DEFINE_STRUCT(leaf,
        (std::optional<std::chrono::system_clock::time_point>, at),
        (std::optional<std::string>, note));
};

struct numbers {
    BOOST_HANA_DEFINE_STRUCT(numbers,
        (std::optional<std::int8_t>, i8),
        (std::optional<std::uint8_t>, u8),
        (std::optional<std::int16_t>, i16),
        (std::optional<std::uint16_t>, u16),
        (std::optional<std::int32_t>, i32),
        (std::optional<std::uint32_t>, u32),
        (std::optional<std::int64_t>, i64),
        (std::optional<std::uint64_t>, u64),
        (std::optional<float>, f),
        (std::optional<double>, d));
};

// Every member optional but `id`, so that most inputs get past the first
// field and into the leaves.
struct document {
    BOOST_HANA_DEFINE_STRUCT(document,
        (std::string, id),
        (std::optional<bool>, done),
        (std::optional<numbers>, n),
        (std::optional<std::vector<std::string>>, tags),
        (std::optional<std::vector<bool>>, flags),
        (std::optional<std::vector<leaf>>, leaves),
        (std::optional<std::map<std::string, std::int64_t>>, counts),
        (std::optional<std::map<std::string, std::vector<double>>>, series),
        (std::optional<std::chrono::system_clock::time_point>, due));
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const eddy::serdes::json<document> s;
    std::string once;
    try {
        once = s.serialize(s.deserialize(bytes));
    } catch (const eddy::serde_error&) {
        return 0;
    }
    // The writer's own output must always read back, and to the same bytes.
    const std::string twice = s.serialize(s.deserialize(once));
    EDDY_FUZZ_CHECK(twice == once);
    return 0;
}
