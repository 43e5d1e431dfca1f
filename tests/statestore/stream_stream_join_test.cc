// Windowed stream-stream joins on the test driver, against Kafka Streams'
// own KStreamKStreamJoinTest, KStreamKStreamLeftJoinTest and
// KStreamKStreamOuterJoinTest (3.x semantics: grace periods, unmatched
// left/outer results only once their window has closed): the same inputs,
// the same outputs and timestamps. Each test names the Java test it ports.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eddy.h"

namespace {

using namespace std::chrono_literals;

struct kvt {
    std::int32_t key;
    std::string value;
    std::int64_t timestamp;
    friend bool operator==(const kvt&, const kvt&) = default;
    friend std::ostream& operator<<(std::ostream& os, const kvt& r) {
        return os << r.key << ":" << r.value << "@" << r.timestamp;
    }
};

enum class join_type { inner, left, outer };

// MockValueJoiner.TOSTRING_JOINER: "left+right", a missing side "null".
std::string str(const std::optional<std::string>& v) { return v ? *v : "null"; }

using joined_t = eddy::stream_joined<std::int32_t, std::string, std::string>;

joined_t int_string_string() {
    return joined_t::with(eddy::serdes::int32{}, eddy::serdes::string{}, eddy::serdes::string{});
}

// topic1 joined with topic2 (both Integer keys, String values), written to
// "output".
eddy::topology join_topology(join_type type, const eddy::join_windows& windows, const joined_t& joined = int_string_string()) {
    eddy::streams_builder builder;
    auto s1 = builder.stream<std::int32_t, std::string>("topic1");
    auto s2 = builder.stream<std::int32_t, std::string>("topic2");
    switch (type) {
    case join_type::inner:
        s1.join(s2, [](const std::string& a, const std::string& b) { return a + "+" + b; }, windows, joined)
            .to("output");
        break;
    case join_type::left:
        s1.left_join(
              s2, [](const std::string& a, const std::optional<std::string>& b) { return a + "+" + str(b); }, windows,
              joined)
            .to("output");
        break;
    case join_type::outer:
        s1.outer_join(
              s2,
              [](const std::optional<std::string>& a, const std::optional<std::string>& b) {
                  return str(a) + "+" + str(b);
              },
              windows, joined)
            .to("output");
        break;
    }
    return builder.build();
}

class StreamStreamJoinTest : public ::testing::Test {
protected:
    void start(join_type type, const eddy::join_windows& windows, const joined_t& joined = int_string_string()) {
        _driver = std::make_unique<eddy::topology_test_driver>(join_topology(type, windows, joined));
    }
    void left(std::int32_t key, const std::string& value, std::int64_t ts) {
        _driver->create_input_topic<std::int32_t, std::string>("topic1").pipe_input(key, value, ts);
    }
    void right(std::int32_t key, const std::string& value, std::int64_t ts) {
        _driver->create_input_topic<std::int32_t, std::string>("topic2").pipe_input(key, value, ts);
    }
    // What the join emitted since the last call (checkAndClearProcessResult).
    std::vector<kvt> emitted() {
        std::vector<kvt> out;
        auto topic = _driver->create_output_topic<std::int32_t, std::string>("output");
        for (const auto& r : topic.read_records_to_list()) {
            out.push_back({r.key, r.value, r.timestamp});
        }
        return out;
    }
    eddy::topology_test_driver& driver() { return *_driver; }

    std::unique_ptr<eddy::topology_test_driver> _driver;
};

using std::vector;

// KStreamKStreamJoinTest.testJoin: 100 ms windows, no grace, every record
// at time 0.
TEST_F(StreamStreamJoinTest, TestJoin) {
    start(join_type::inner, eddy::join_windows::of_time_difference_with_no_grace(100ms));
    left(0, "A0", 0);
    left(1, "A1", 0);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right(0, "a0", 0);
    right(1, "a1", 0);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+a0", 0}, {1, "A1+a1", 0}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "B" + std::to_string(k), 0);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "B0+a0", 0}, {1, "B1+a1", 0}}));
    for (int k = 0; k < 4; ++k) {
        right(k, "b" + std::to_string(k), 0);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+b0", 0}, {0, "B0+b0", 0}, {1, "A1+b1", 0}, {1, "B1+b1", 0},
                             {2, "B2+b2", 0}, {3, "B3+b3", 0}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "C" + std::to_string(k), 0);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "C0+a0", 0}, {0, "C0+b0", 0}, {1, "C1+a1", 0}, {1, "C1+b1", 0},
                             {2, "C2+b2", 0}, {3, "C3+b3", 0}}));
    right(0, "c0", 0);
    right(1, "c1", 0);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+c0", 0}, {0, "B0+c0", 0}, {0, "C0+c0", 0}, {1, "A1+c1", 0},
                             {1, "B1+c1", 0}, {1, "C1+c1", 0}}));
}

// KStreamKStreamLeftJoinTest.testLeftJoinDuplicates: unmatched duplicates
// are both emitted once the window closes; matched duplicates each join.
TEST_F(StreamStreamJoinTest, TestLeftJoinDuplicates) {
    start(join_type::left, eddy::join_windows::of_time_difference_and_grace(100ms, 10ms));
    left(0, "A0", 0);
    left(0, "A0-0", 0);
    right(1, "a0", 111);
    right(2, "dummy", 500);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+null", 0}, {0, "A0-0+null", 0}}));
    left(2, "A2", 1000);
    left(2, "A2-0", 1000);
    right(2, "a2", 1001);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "A2+a2", 1001}, {2, "A2-0+a2", 1001}}));
    // Would expire A2 and A2-0, but they were matched.
    right(3, "a3", 315);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
}

// KStreamKStreamLeftJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor
TEST_F(StreamStreamJoinTest, TestLeftExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor) {
    start(join_type::left, eddy::join_windows::of_time_difference_and_grace(100ms, 0ms));
    left(0, "A0", 1);
    left(1, "A1", 2);
    left(0, "A0-0", 3);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right(1, "a1", 3);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1+a1", 3}}));
    left(2, "dummy", 401);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+null", 1}, {0, "A0-0+null", 3}}));
    right(2, "dummy", 401);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "dummy+dummy", 401}}));
}

// KStreamKStreamLeftJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheRightProcessor
TEST_F(StreamStreamJoinTest, TestLeftExpiredNonJoinedRecordsAreEmittedByTheRightProcessor) {
    start(join_type::left, eddy::join_windows::of_time_difference_and_grace(100ms, 0ms));
    left(0, "A0", 1);
    left(1, "A1", 2);
    left(0, "A0-0", 3);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right(1, "a1", 3);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1+a1", 3}}));
    right(2, "dummy", 401);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+null", 1}, {0, "A0-0+null", 3}}));
    left(2, "dummy", 402);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "dummy+dummy", 402}}));
}

// KStreamKStreamLeftJoinTest.testRightNonJoinedRecordsAreNeverEmittedByTheLeftProcessor
TEST_F(StreamStreamJoinTest, TestRightNonJoinedRecordsAreNeverEmittedByTheLeftProcessor) {
    start(join_type::left, eddy::join_windows::of_time_difference_and_grace(100ms, 0ms));
    right(0, "A0", 1);
    right(1, "A1", 2);
    right(0, "A0-0", 3);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    left(1, "a1", 3);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "a1+A1", 3}}));
    left(2, "dummy", 401);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right(2, "dummy", 402);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "dummy+dummy", 402}}));
}

// KStreamKStreamLeftJoinTest.testRightNonJoinedRecordsAreNeverEmittedByTheRightProcessor
TEST_F(StreamStreamJoinTest, TestRightNonJoinedRecordsAreNeverEmittedByTheRightProcessor) {
    start(join_type::left, eddy::join_windows::of_time_difference_with_no_grace(100ms));
    right(0, "A0", 1);
    right(1, "A1", 2);
    right(0, "A0-0", 3);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    left(1, "a1", 3);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "a1+A1", 3}}));
    right(2, "dummy", 401);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    left(2, "dummy", 402);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "dummy+dummy", 402}}));
}

} // namespace
