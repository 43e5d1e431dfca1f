// The serdes of the layouts kept in stores and repartition topics
// (windowed keys, ValueAndTimestamp, table changes, join keys): what
// tests/fuzz/store_layouts_fuzz found, kept as regressions.

#include <cstdint>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/window.h"
#include "serde/serdes.h"

namespace {

std::string big_endian(std::int64_t v) {
    std::string out;
    eddy::serdes::internal::put_int64(out, v);
    return out;
}

TEST(TimeWindowedSerdeTest, AStartWithinAWindowOfTheLargestTimeEndsThere) {
    // start + size overflowed (undefined behaviour) before; Kafka Streams
    // caps the end at Long.MAX_VALUE.
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    const eddy::serdes::time_windowed<std::string> s{eddy::serdes::string{}, 10};
    const auto w = s.deserialize("k" + big_endian(max - 3));
    EXPECT_EQ(w.key, "k");
    EXPECT_EQ(w.window.start_ms, max - 3);
    EXPECT_EQ(w.window.end_ms, max);
    EXPECT_EQ(s.serialize(w), "k" + big_endian(max - 3));

    const eddy::serdes::time_windowed<std::string> huge{eddy::serdes::string{}, max};
    EXPECT_EQ(huge.deserialize("k" + big_endian(1)).window.end_ms, max);
    EXPECT_EQ(huge.deserialize("k" + big_endian(-5)).window.end_ms, max - 5);
}

TEST(TimeWindowedSerdeTest, TheEndIsTheStartPlusTheSize) {
    const eddy::serdes::time_windowed<std::string> s{eddy::serdes::string{}, 10};
    const auto w = s.deserialize("key" + big_endian(1'000));
    EXPECT_EQ(w.key, "key");
    EXPECT_EQ(w.window.start_ms, 1'000);
    EXPECT_EQ(w.window.end_ms, 1'010);
}

} // namespace
