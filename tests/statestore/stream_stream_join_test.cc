// Windowed stream-stream joins on the test driver, against Kafka Streams'
// own KStreamKStreamJoinTest, KStreamKStreamLeftJoinTest and
// KStreamKStreamOuterJoinTest (3.x semantics: grace periods, unmatched
// left/outer results only once their window has closed): the same inputs,
// the same outputs and timestamps. Each test names the Java test it ports.

#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
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
std::string show(const std::string& v) { return v; }
std::string show(std::int64_t v) { return std::to_string(v); }
template<typename T>
std::string show(const std::optional<T>& v) {
    return v ? show(*v) : "null";
}

template<typename V2>
using joined_of = eddy::stream_joined<std::int32_t, std::string, V2>;
using joined_t = joined_of<std::string>;

joined_t int_string_string() {
    return joined_t::with(eddy::serdes::int32{}, eddy::serdes::string{}, eddy::serdes::string{});
}
joined_of<std::int64_t> int_string_long() {
    return joined_of<std::int64_t>::with(eddy::serdes::int32{}, eddy::serdes::string{}, eddy::serdes::int64{});
}

// topic1 (Integer keys, String values) joined with topic2 (Integer keys, V2
// values), written to "output".
template<typename V2>
eddy::topology join_topology(join_type type, const eddy::join_windows& windows, const joined_of<V2>& joined) {
    eddy::streams_builder builder;
    auto s1 = builder.stream<std::int32_t, std::string>("topic1");
    auto s2 = builder.stream<std::int32_t, V2>("topic2");
    switch (type) {
    case join_type::inner:
        s1.join(s2, [](const std::string& a, const V2& b) { return a + "+" + show(b); }, windows, joined)
            .to("output");
        break;
    case join_type::left:
        s1.left_join(
              s2, [](const std::string& a, const std::optional<V2>& b) { return a + "+" + show(b); }, windows, joined)
            .to("output");
        break;
    case join_type::outer:
        s1.outer_join(
              s2,
              [](const std::optional<std::string>& a, const std::optional<V2>& b) { return show(a) + "+" + show(b); },
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
    // topic2 with Long values, as KStreamKStreamOuterJoinTest's.
    void start_long(join_type type, const eddy::join_windows& windows,
        const joined_of<std::int64_t>& joined = int_string_long()) {
        _driver = std::make_unique<eddy::topology_test_driver>(join_topology(type, windows, joined));
    }
    void right_long(std::int32_t key, std::int64_t value, std::int64_t ts, eddy::headers hs = {}) {
        _driver->create_input_topic<std::int32_t, std::int64_t>("topic2").pipe_input(key, value, ts, std::move(hs));
    }
    void left(std::int32_t key, const std::string& value, std::int64_t ts, eddy::headers hs = {}) {
        _driver->create_input_topic<std::int32_t, std::string>("topic1").pipe_input(key, value, ts, std::move(hs));
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
    void run_left_join();

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

// KStreamKStreamLeftJoinTest.testLeftJoinedRecordsWithZeroAfterAreEmitted:
// after(0): a left record's window ends at its own time, so each newer
// record closes the previous ones.
TEST_F(StreamStreamJoinTest, TestLeftJoinedRecordsWithZeroAfterAreEmitted) {
    start(join_type::left, eddy::join_windows::of_time_difference_with_no_grace(100ms).after(0ms));
    for (int k = 0; k < 4; ++k) {
        left(k, "A" + std::to_string(k), 1000 + k);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+null", 1000}, {1, "A1+null", 1001}, {2, "A2+null", 1002}}));
    for (int k = 0; k < 4; ++k) {
        right(k, "a" + std::to_string(k), 999);
    }
    EXPECT_EQ(emitted(),
        (vector<kvt>{{0, "A0+a0", 1000}, {1, "A1+a1", 1001}, {2, "A2+a2", 1002}, {3, "A3+a3", 1003}}));
    for (int k = 0; k < 4; ++k) {
        right(k, "b" + std::to_string(k), 1000);
    }
    EXPECT_EQ(emitted(),
        (vector<kvt>{{0, "A0+b0", 1000}, {1, "A1+b1", 1001}, {2, "A2+b2", 1002}, {3, "A3+b3", 1003}}));
    for (int k = 0; k < 4; ++k) {
        right(k, "c" + std::to_string(k), 1001);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1+c1", 1001}, {2, "A2+c2", 1002}, {3, "A3+c3", 1003}}));
    for (int k = 0; k < 4; ++k) {
        right(k, "d" + std::to_string(k), 1002);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "A2+d2", 1002}, {3, "A3+d3", 1003}}));
    for (int k = 0; k < 4; ++k) {
        right(k, "e" + std::to_string(k), 1003);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{3, "A3+e3", 1003}}));
    for (int k = 0; k < 4; ++k) {
        right(k, "f" + std::to_string(k), 1100);
    }
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
}

// KStreamKStreamLeftJoinTest.runLeftJoin, shared by testLeftJoinWithDefaultSuppliers
// and testLeftJoinWithInMemoryCustomSuppliers: every record at time 0, all
// matched, so the record that closes the windows emits nothing unmatched.
void StreamStreamJoinTest::run_left_join() {
    // Two window stores and the shared outer store.
    EXPECT_EQ(driver().store_names().size(), 3U);
    left(0, "A0", 0);
    left(1, "A1", 0);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right(0, "a0", 0);
    right(1, "a1", 0);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+a0", 0}, {1, "A1+a1", 0}}));
    for (int k = 0; k < 3; ++k) {
        left(k, "B" + std::to_string(k), 0);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "B0+a0", 0}, {1, "B1+a1", 0}}));
    for (int k = 0; k < 4; ++k) {
        right(k, "b" + std::to_string(k), 0);
    }
    EXPECT_EQ(emitted(),
        (vector<kvt>{{0, "A0+b0", 0}, {0, "B0+b0", 0}, {1, "A1+b1", 0}, {1, "B1+b1", 0}, {2, "B2+b2", 0}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "C" + std::to_string(k), 0);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "C0+a0", 0}, {0, "C0+b0", 0}, {1, "C1+a1", 0}, {1, "C1+b1", 0},
                             {2, "C2+b2", 0}, {3, "C3+b3", 0}}));
    left(0, "dummy", 1000);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
}

TEST_F(StreamStreamJoinTest, TestLeftJoinWithDefaultSuppliers) {
    start(join_type::left, eddy::join_windows::of_time_difference_with_no_grace(100ms));
    run_left_join();
    EXPECT_EQ(driver().store_names(),
        (std::set<std::string>{"KSTREAM-JOINTHIS-0000000004-store", "KSTREAM-OUTEROTHER-0000000005-store",
            "KSTREAM-OUTERSHARED-0000000004-store"}));
}

TEST_F(StreamStreamJoinTest, TestLeftJoinWithInMemoryCustomSuppliers) {
    start(join_type::left, eddy::join_windows::of_time_difference_and_grace(100ms, 0ms),
        int_string_string().with_store_name("in-memory-join-store").with_in_memory_stores());
    run_left_join();
    EXPECT_EQ(driver().store_names(),
        (std::set<std::string>{"in-memory-join-store-this-join-store", "in-memory-join-store-outer-other-join-store",
            "in-memory-join-store-left-shared-join-store"}));
}

// KStreamKStreamLeftJoinTest.testOrdering: the unmatched record whose window
// closed comes out before the match that closes it.
TEST_F(StreamStreamJoinTest, TestOrdering) {
    start(join_type::left, eddy::join_windows::of_time_difference_with_no_grace(100ms));
    left(0, "A0", 0);
    left(1, "A1", 100);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right(1, "a1", 110);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+null", 0}, {1, "A1+a1", 110}}));
}

// KStreamKStreamLeftJoinTest.testGracePeriod: a right record after the
// window ended (but within grace) does not join; the unmatched left records
// come out once stream time passes window end + grace.
TEST_F(StreamStreamJoinTest, TestGracePeriod) {
    start(join_type::left, eddy::join_windows::of_time_difference_and_grace(100ms, 10ms));
    left(0, "A0", 0);
    left(1, "A1", 0);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    for (int k = 0; k < 4; ++k) {
        right(k, "a" + std::to_string(k), 101);
    }
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right(0, "dummy", 1201);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+null", 0}, {1, "A1+null", 0}}));
}

// KStreamKStreamLeftJoinTest.testWindowing, with its testUpperWindowBound and
// testLowerWindowBound: records at the edges of the 100 ms windows; the
// late left records of the lower bound are emitted unmatched at once.
TEST_F(StreamStreamJoinTest, TestLeftJoinWindowing) {
    start(join_type::left, eddy::join_windows::of_time_difference_with_no_grace(100ms));
    left(0, "A0", 0);
    left(1, "A1", 0);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    for (int k = 0; k < 4; ++k) {
        right(k, "a" + std::to_string(k), 0);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+a0", 0}, {1, "A1+a1", 0}}));

    // testUpperWindowBound
    for (int k = 0; k < 4; ++k) {
        right(k, "b" + std::to_string(k), 1000 + k);
    }
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    for (int k = 0; k < 4; ++k) {
        left(k, "B" + std::to_string(k), 1100);
    }
    EXPECT_EQ(emitted(),
        (vector<kvt>{{0, "B0+b0", 1100}, {1, "B1+b1", 1100}, {2, "B2+b2", 1100}, {3, "B3+b3", 1100}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "C" + std::to_string(k), 1101);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "C1+b1", 1101}, {2, "C2+b2", 1101}, {3, "C3+b3", 1101}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "D" + std::to_string(k), 1102);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "D2+b2", 1102}, {3, "D3+b3", 1102}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "E" + std::to_string(k), 1103);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{3, "E3+b3", 1103}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "F" + std::to_string(k), 1104);
    }
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    left(0, "dummy", 1405);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "C0+null", 1101}, {0, "D0+null", 1102}, {1, "D1+null", 1102},
                             {0, "E0+null", 1103}, {1, "E1+null", 1103}, {2, "E2+null", 1103}, {0, "F0+null", 1104},
                             {1, "F1+null", 1104}, {2, "F2+null", 1104}, {3, "F3+null", 1104}}));

    // testLowerWindowBound
    for (int k = 0; k < 4; ++k) {
        left(k, "G" + std::to_string(k), 899);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "G0+null", 899}, {1, "G1+null", 899}, {2, "G2+null", 899}, {3, "G3+null", 899}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "H" + std::to_string(k), 900);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "H0+b0", 1000}, {1, "H1+null", 900}, {2, "H2+null", 900}, {3, "H3+null", 900}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "I" + std::to_string(k), 901);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "I0+b0", 1000}, {1, "I1+b1", 1001}, {2, "I2+null", 901}, {3, "I3+null", 901}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "J" + std::to_string(k), 902);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "J0+b0", 1000}, {1, "J1+b1", 1001}, {2, "J2+b2", 1002}, {3, "J3+null", 902}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "K" + std::to_string(k), 903);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "K0+b0", 1000}, {1, "K1+b1", 1001}, {2, "K2+b2", 1002}, {3, "K3+b3", 1003}}));
    left(0, "dummy", 1203);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "dummy+null", 1203}}));
}

// KStreamKStreamLeftJoinTest.shouldNotEmitLeftJoinResultForAsymmetricWindow:
// before(0): a left record joins only right records at or after it.
TEST_F(StreamStreamJoinTest, ShouldNotEmitLeftJoinResultForAsymmetricWindow) {
    start(join_type::left, eddy::join_windows::of_time_difference_with_no_grace(100ms).before(0ms));
    left(0, "A0", 0);
    left(1, "A1", 1);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right(0, "a0", 100);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+a0", 100}}));
    right(1, "a1", 102);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1+null", 1}}));
}

// KStreamKStreamJoinTest.testOuterJoin: 100 ms windows with 24 h of grace,
// every record at time 0: all matched at once, nothing unmatched yet.
TEST_F(StreamStreamJoinTest, TestOuterJoin) {
    start(join_type::outer, eddy::join_windows::of_time_difference_and_grace(100ms, 24h));
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

// KStreamKStreamOuterJoinTest.testOuterJoinDuplicates: unmatched records of
// both sides at one time come out right side first (the outer store's
// order), each duplicate once.
TEST_F(StreamStreamJoinTest, TestOuterJoinDuplicates) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_and_grace(100ms, 10ms));
    left(0, "A0", 0);
    left(0, "A0-0", 0);
    right_long(1, 11, 0);
    right_long(1, 12, 0);
    right_long(1, 10, 111);
    right_long(3, 100, 211);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "null+11", 0}, {1, "null+12", 0}, {0, "A0+null", 0}, {0, "A0-0+null", 0}}));
    left(2, "A2", 200);
    left(2, "A2-0", 200);
    right_long(2, 13, 201);
    right_long(2, 14, 201);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "A2+13", 201}, {2, "A2-0+13", 201}, {2, "A2+14", 201}, {2, "A2-0+14", 201}}));
    right_long(3, 100, 1500);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "null+10", 111}, {3, "null+100", 211}}));
}

// KStreamKStreamOuterJoinTest.testRightExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor
TEST_F(StreamStreamJoinTest, TestRightExpiredNonJoinedRecordsAreEmittedByTheLeftProcessor) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_with_no_grace(100ms));
    right_long(0, 10, 1);
    right_long(1, 11, 2);
    right_long(0, 12, 3);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    left(1, "A1", 3);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1+11", 3}}));
    left(2, "dummy", 401);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "null+10", 1}, {0, "null+12", 3}}));
    right_long(2, 100, 402);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "dummy+100", 402}}));
}

// KStreamKStreamOuterJoinTest.testRightExpiredNonJoinedRecordsAreEmittedByTheRightProcessor
TEST_F(StreamStreamJoinTest, TestRightExpiredNonJoinedRecordsAreEmittedByTheRightProcessor) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_and_grace(100ms, 0ms));
    right_long(0, 10, 1);
    right_long(1, 11, 2);
    right_long(0, 12, 3);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    left(1, "A1", 3);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1+11", 3}}));
    right_long(2, 100, 401);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "null+10", 1}, {0, "null+12", 3}}));
    left(2, "dummy", 402);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "dummy+100", 402}}));
}

// KStreamKStreamOuterJoinTest.testLeftExpiredNonJoinedRecordsAreEmittedByTheRightProcessor
TEST_F(StreamStreamJoinTest, TestOuterLeftExpiredNonJoinedRecordsAreEmittedByTheRightProcessor) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_and_grace(100ms, 0ms));
    left(0, "A0", 1);
    left(1, "A1", 2);
    left(0, "A0-0", 3);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right_long(1, 11, 3);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1+11", 3}}));
    right_long(2, 100, 401);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+null", 1}, {0, "A0-0+null", 3}}));
    left(2, "dummy", 402);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "dummy+100", 402}}));
}

// KStreamKStreamOuterJoinTest.testOrdering
TEST_F(StreamStreamJoinTest, TestOuterOrdering) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_with_no_grace(100ms));
    left(0, "A0", 0);
    left(1, "A1", 100);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right_long(1, 11, 110);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+null", 0}, {1, "A1+11", 110}}));
}

// KStreamKStreamOuterJoinTest.testGracePeriod: records of both sides after
// the window ended but within grace do not join; stream time past end +
// grace emits both unmatched records.
TEST_F(StreamStreamJoinTest, TestOuterGracePeriod) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_and_grace(100ms, 10ms));
    left(0, "A0", 0);
    right_long(1, 11, 0);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    left(1, "A1", 101);
    right_long(0, 10, 101);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right_long(0, 100, 112);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "null+11", 0}, {0, "A0+null", 0}}));
}

// KStreamKStreamOuterJoinTest.testEmitAllNonJoinedResultsForAsymmetricWindow:
// before 5, after 20: a right record stays open 5 ms, a left one 20 ms.
TEST_F(StreamStreamJoinTest, TestEmitAllNonJoinedResultsForAsymmetricWindow) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_with_no_grace(5ms).after(20ms));
    left(0, "A0", 29);
    left(1, "A1", 30);
    right_long(2, 12, 31);
    right_long(3, 13, 36);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right_long(4, 14, 37);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "null+12", 31}}));
    right_long(5, 15, 50);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+null", 29}, {3, "null+13", 36}, {4, "null+14", 37}}));
}

// KStreamKStreamOuterJoinTest.testOuterJoinWithDefaultSuppliers (runOuterJoin)
TEST_F(StreamStreamJoinTest, TestOuterJoinWithDefaultSuppliers) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_with_no_grace(100ms));
    EXPECT_EQ(driver().store_names(),
        (std::set<std::string>{"KSTREAM-OUTERTHIS-0000000004-store", "KSTREAM-OUTEROTHER-0000000005-store",
            "KSTREAM-OUTERSHARED-0000000004-store"}));
    left(0, "A0", 0);
    left(1, "A1", 0);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right_long(0, 10, 0);
    right_long(1, 11, 0);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+10", 0}, {1, "A1+11", 0}}));
    for (int k = 0; k < 3; ++k) {
        left(k, "B" + std::to_string(k), 0);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "B0+10", 0}, {1, "B1+11", 0}}));
    for (int k = 0; k < 4; ++k) {
        right_long(k, k + 20, 0);
    }
    EXPECT_EQ(emitted(),
        (vector<kvt>{{0, "A0+20", 0}, {0, "B0+20", 0}, {1, "A1+21", 0}, {1, "B1+21", 0}, {2, "B2+22", 0}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "C" + std::to_string(k), 0);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "C0+10", 0}, {0, "C0+20", 0}, {1, "C1+11", 0}, {1, "C1+21", 0},
                             {2, "C2+22", 0}, {3, "C3+23", 0}}));
    left(0, "dummy", 400);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
}

// KStreamKStreamOuterJoinTest.testWindowing, with its testUpperWindowBound and
// testLowerWindowBound.
TEST_F(StreamStreamJoinTest, TestOuterJoinWindowing) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_with_no_grace(100ms));
    left(0, "A0", 0);
    left(1, "A1", 0);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    for (int k = 0; k < 4; ++k) {
        right_long(k, k + 10, 0);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+10", 0}, {1, "A1+11", 0}}));

    // testUpperWindowBound
    for (int k = 0; k < 4; ++k) {
        right_long(k, k + 20, 1000 + k);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "null+12", 0}, {3, "null+13", 0}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "B" + std::to_string(k), 1100);
    }
    EXPECT_EQ(emitted(),
        (vector<kvt>{{0, "B0+20", 1100}, {1, "B1+21", 1100}, {2, "B2+22", 1100}, {3, "B3+23", 1100}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "C" + std::to_string(k), 1101);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "C1+21", 1101}, {2, "C2+22", 1101}, {3, "C3+23", 1101}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "D" + std::to_string(k), 1102);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "D2+22", 1102}, {3, "D3+23", 1102}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "E" + std::to_string(k), 1103);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{3, "E3+23", 1103}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "F" + std::to_string(k), 1104);
    }
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    left(0, "dummy", 1405);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "C0+null", 1101}, {0, "D0+null", 1102}, {1, "D1+null", 1102},
                             {0, "E0+null", 1103}, {1, "E1+null", 1103}, {2, "E2+null", 1103}, {0, "F0+null", 1104},
                             {1, "F1+null", 1104}, {2, "F2+null", 1104}, {3, "F3+null", 1104}}));

    // testLowerWindowBound
    for (int k = 0; k < 4; ++k) {
        left(k, "G" + std::to_string(k), 899);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "G0+null", 899}, {1, "G1+null", 899}, {2, "G2+null", 899}, {3, "G3+null", 899}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "H" + std::to_string(k), 900);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "H0+20", 1000}, {1, "H1+null", 900}, {2, "H2+null", 900}, {3, "H3+null", 900}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "I" + std::to_string(k), 901);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "I0+20", 1000}, {1, "I1+21", 1001}, {2, "I2+null", 901}, {3, "I3+null", 901}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "J" + std::to_string(k), 902);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "J0+20", 1000}, {1, "J1+21", 1001}, {2, "J2+22", 1002}, {3, "J3+null", 902}}));
    for (int k = 0; k < 4; ++k) {
        left(k, "K" + std::to_string(k), 903);
    }
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "K0+20", 1000}, {1, "K1+21", 1001}, {2, "K2+22", 1002}, {3, "K3+23", 1003}}));
    left(0, "dummy", 1103);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "dummy+null", 1103}}));
}

// KStreamKStreamOuterJoinTest.testShouldNotEmitLeftJoinResultForAsymmetricBeforeWindow
TEST_F(StreamStreamJoinTest, TestShouldNotEmitLeftJoinResultForAsymmetricBeforeWindow) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_with_no_grace(100ms).before(0ms));
    left(0, "A0", 0);
    left(1, "A1", 1);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right_long(0, 10, 100);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+10", 100}}));
    right_long(1, 11, 102);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1+null", 1}}));
    right_long(2, 12, 103);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "null+11", 102}}));
    left(2, "A2", 103);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "A2+12", 103}}));
}

// KStreamKStreamOuterJoinTest.testShouldNotEmitLeftJoinResultForAsymmetricAfterWindow
TEST_F(StreamStreamJoinTest, TestShouldNotEmitLeftJoinResultForAsymmetricAfterWindow) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_with_no_grace(100ms).after(0ms));
    left(0, "A0", 0);
    left(1, "A1", 1);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+null", 0}}));
    right_long(1, 11, 1);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1+11", 1}}));
    right_long(2, 12, 101);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right_long(3, 13, 101);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    left(2, "A2", 201);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "A2+12", 201}}));
}

// KStreamKStreamOuterJoinTest.testShouldForwardCurrentHeaders: results carry
// the headers of the record being processed, also the unmatched ones it
// releases.
TEST_F(StreamStreamJoinTest, TestShouldForwardCurrentHeaders) {
    start_long(join_type::outer, eddy::join_windows::of_time_difference_and_grace(100ms, 10ms));
    auto h = [](char c) { return eddy::headers{{"h", std::string(1, c)}}; };
    left(0, "A0", 0, h(1));
    right_long(1, 10, 0, h(2));
    right_long(3, 100, 211, h(3));
    auto out = driver().create_output_topic<std::int32_t, std::string>("output");
    auto records = out.read_records_to_list();
    ASSERT_EQ(records.size(), 2U);
    EXPECT_EQ(records[0], (eddy::record<std::int32_t, std::string>{1, "null+10", 0, h(3)}));
    EXPECT_EQ(records[1], (eddy::record<std::int32_t, std::string>{0, "A0+null", 0, h(3)}));
    left(2, "A2", 200, h(4));
    right_long(2, 12, 200, h(5));
    records = out.read_records_to_list();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0], (eddy::record<std::int32_t, std::string>{2, "A2+12", 200, h(5)}));
}

} // namespace
