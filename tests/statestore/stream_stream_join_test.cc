// Windowed stream-stream joins on the test driver, against Kafka Streams'
// own KStreamKStreamJoinTest, KStreamKStreamLeftJoinTest and
// KStreamKStreamOuterJoinTest (3.x semantics: grace periods, unmatched
// left/outer results only once their window has closed): the same inputs,
// the same outputs and timestamps. Each test names the Java test it ports.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

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

// ADR 0017: the window holds at both ends even when after + grace is 0. A
// zero-width window joins records of equal time (Kafka Streams' code cuts
// the record at t - before off there: its fetch starts one past the
// retention); a record 1 ms apart does not join, nor one that fell out of
// the other side's retention.
TEST_F(StreamStreamJoinTest, ZeroWidthWindowJoinsRecordsOfEqualTime) {
    start(join_type::inner, eddy::join_windows::of_time_difference_with_no_grace(0ms));
    right(0, "r0", 0);
    left(0, "L1", 0);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "L1+r0", 0}}));
    left(0, "L2", 1);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right(0, "r1", 1);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "L2+r1", 1}}));
    left(0, "L3", 0); // the right side's newest is at 1: r0 is gone
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
}

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

// KStreamKStreamJoinTest.testWindowing: 100 ms windows without grace, the
// bounds probed from both sides, out-of-order records included.
TEST_F(StreamStreamJoinTest, TestWindowing) {
    start(join_type::inner, eddy::join_windows::of_time_difference_with_no_grace(100ms));
    auto all = [&](bool left_side, const std::string& prefix, std::int64_t ts, std::int64_t step = 0) {
        for (int k = 0; k < 4; ++k) {
            const auto v = prefix + std::to_string(k);
            left_side ? left(k, v, ts + step * k) : right(k, v, ts + step * k);
        }
    };
    left(0, "A0", 0);
    left(1, "A1", 0);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right(0, "a0", 0);
    right(1, "a1", 0);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+a0", 0}, {1, "A1+a1", 0}}));

    // Right records around left records at 1000..1003.
    all(true, "B", 1000, 1);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    all(false, "b", 1100);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "B0+b0", 1100}, {1, "B1+b1", 1100}, {2, "B2+b2", 1100}, {3, "B3+b3", 1100}}));
    all(false, "c", 1101);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "B1+c1", 1101}, {2, "B2+c2", 1101}, {3, "B3+c3", 1101}}));
    all(false, "d", 1102);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "B2+d2", 1102}, {3, "B3+d3", 1102}}));
    all(false, "e", 1103);
    EXPECT_EQ(emitted(), (vector<kvt>{{3, "B3+e3", 1103}}));
    all(false, "f", 1104);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    all(false, "g", 899);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    all(false, "h", 900);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "B0+h0", 1000}}));
    all(false, "i", 901);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "B0+i0", 1000}, {1, "B1+i1", 1001}}));
    all(false, "j", 902);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "B0+j0", 1000}, {1, "B1+j1", 1001}, {2, "B2+j2", 1002}}));
    all(false, "k", 903);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "B0+k0", 1000}, {1, "B1+k1", 1001}, {2, "B2+k2", 1002}, {3, "B3+k3", 1003}}));

    // Left records around right records at 2000..2003.
    all(false, "l", 2000, 1);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    all(true, "C", 2100);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "C0+l0", 2100}, {1, "C1+l1", 2100}, {2, "C2+l2", 2100}, {3, "C3+l3", 2100}}));
    all(true, "D", 2101);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "D1+l1", 2101}, {2, "D2+l2", 2101}, {3, "D3+l3", 2101}}));
    all(true, "E", 2102);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "E2+l2", 2102}, {3, "E3+l3", 2102}}));
    all(true, "F", 2103);
    EXPECT_EQ(emitted(), (vector<kvt>{{3, "F3+l3", 2103}}));
    all(true, "G", 2104);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    all(true, "H", 1899);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    all(true, "I", 1900);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "I0+l0", 2000}}));
    all(true, "J", 1901);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "J0+l0", 2000}, {1, "J1+l1", 2001}}));
    all(true, "K", 1902);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "K0+l0", 2000}, {1, "K1+l1", 2001}, {2, "K2+l2", 2002}}));
    all(true, "L", 1903);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "L0+l0", 2000}, {1, "L1+l1", 2001}, {2, "L2+l2", 2002}, {3, "L3+l3", 2003}}));
}

// KStreamKStreamJoinTest.testAsymmetricWindowingAfter: before 0, after 100:
// a left record at t joins right records in [t, t + 100].
TEST_F(StreamStreamJoinTest, TestAsymmetricWindowingAfter) {
    start(join_type::inner, eddy::join_windows::of_time_difference_with_no_grace(0ms).after(100ms));
    for (int k = 0; k < 4; ++k) {
        left(k, "A" + std::to_string(k), 1000 + k);
    }
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    auto all_right = [&](const std::string& prefix, std::int64_t ts) {
        for (int k = 0; k < 4; ++k) {
            right(k, prefix + std::to_string(k), ts);
        }
    };
    all_right("a", 999);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    all_right("b", 1000);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+b0", 1000}}));
    all_right("c", 1001);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+c0", 1001}, {1, "A1+c1", 1001}}));
    all_right("d", 1002);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+d0", 1002}, {1, "A1+d1", 1002}, {2, "A2+d2", 1002}}));
    all_right("e", 1003);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+e0", 1003}, {1, "A1+e1", 1003}, {2, "A2+e2", 1003}, {3, "A3+e3", 1003}}));
    all_right("f", 1100);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+f0", 1100}, {1, "A1+f1", 1100}, {2, "A2+f2", 1100}, {3, "A3+f3", 1100}}));
    all_right("g", 1101);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1+g1", 1101}, {2, "A2+g2", 1101}, {3, "A3+g3", 1101}}));
    all_right("h", 1102);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "A2+h2", 1102}, {3, "A3+h3", 1102}}));
    all_right("i", 1103);
    EXPECT_EQ(emitted(), (vector<kvt>{{3, "A3+i3", 1103}}));
    all_right("j", 1104);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
}

// KStreamKStreamJoinTest.testAsymmetricWindowingBefore: before 100, after
// 0: a left record at t joins right records in [t - 100, t].
TEST_F(StreamStreamJoinTest, TestAsymmetricWindowingBefore) {
    start(join_type::inner, eddy::join_windows::of_time_difference_with_no_grace(0ms).before(100ms));
    for (int k = 0; k < 4; ++k) {
        left(k, "A" + std::to_string(k), 1000 + k);
    }
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    auto all_right = [&](const std::string& prefix, std::int64_t ts) {
        for (int k = 0; k < 4; ++k) {
            right(k, prefix + std::to_string(k), ts);
        }
    };
    all_right("a", 899);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    all_right("b", 900);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+b0", 1000}}));
    all_right("c", 901);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+c0", 1000}, {1, "A1+c1", 1001}}));
    all_right("d", 902);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+d0", 1000}, {1, "A1+d1", 1001}, {2, "A2+d2", 1002}}));
    all_right("e", 903);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+e0", 1000}, {1, "A1+e1", 1001}, {2, "A2+e2", 1002}, {3, "A3+e3", 1003}}));
    all_right("f", 1000);
    EXPECT_EQ(emitted(), (vector<kvt>{{0, "A0+f0", 1000}, {1, "A1+f1", 1001}, {2, "A2+f2", 1002}, {3, "A3+f3", 1003}}));
    all_right("g", 1001);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1+g1", 1001}, {2, "A2+g2", 1002}, {3, "A3+g3", 1003}}));
    all_right("h", 1002);
    EXPECT_EQ(emitted(), (vector<kvt>{{2, "A2+h2", 1002}, {3, "A3+h3", 1003}}));
    all_right("i", 1003);
    EXPECT_EQ(emitted(), (vector<kvt>{{3, "A3+i3", 1003}}));
    all_right("j", 1004);
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
}

// KStreamKStreamJoinTest.shouldLogAndMeterOnSkippedRecordsWithNullValue...:
// a null value never joins; it is dropped and counted.
TEST(StreamStreamJoinNullTest, ShouldLogAndMeterOnSkippedRecordsWithNullValue) {
    eddy::streams_builder builder;
    auto l = builder.stream<std::string, std::optional<std::int32_t>>("left");
    auto r = builder.stream<std::string, std::optional<std::int32_t>>("right");
    l.join(
         r, [](const std::optional<std::int32_t>& a, const std::optional<std::int32_t>& b) { return *a + *b; },
         eddy::join_windows::of_time_difference_with_no_grace(100ms))
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto left = driver.create_input_topic<std::string, std::optional<std::int32_t>>("left");
    auto right = driver.create_input_topic<std::string, std::optional<std::int32_t>>("right");
    auto out = driver.create_output_topic<std::string, std::int32_t>("out");
    left.pipe_input("A", std::nullopt, 0);
    EXPECT_EQ(driver.dropped_records(), 1);
    right.pipe_input("A", 2, 0);
    EXPECT_TRUE(out.read_records_to_list().empty());
    left.pipe_input("A", 3, 1);
    EXPECT_EQ(out.read_key_value(), (eddy::key_value<std::string, std::int32_t>{"A", 5}));
}

// The key-aware joiner, and a join of streams of different value types.
TEST(StreamStreamJoinApiTest, KeyAwareJoinerSeesTheKey) {
    eddy::streams_builder builder;
    auto orders = builder.stream<std::string, std::int64_t>("orders");
    auto payments = builder.stream<std::string, std::string>("payments");
    orders
        .left_join(payments,
            [](const std::string& k, std::int64_t amount, const std::optional<std::string>& p) {
                return k + ":" + std::to_string(amount) + ":" + p.value_or("unpaid");
            },
            eddy::join_windows::of_time_difference_and_grace(10ms, 5ms))
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto o = driver.create_input_topic<std::string, std::int64_t>("orders");
    auto p = driver.create_input_topic<std::string, std::string>("payments");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    o.pipe_input("o1", 40, 100);
    o.pipe_input("o2", 7, 101);
    p.pipe_input("o1", "card", 108);
    EXPECT_EQ(out.read_records_to_list(),
        (vector<eddy::record<std::string, std::string>>{{"o1", "o1:40:card", 108, {}}}));
    // o2's window ends at 111, closes at 116.
    p.pipe_input("zz", "cash", 116);
    EXPECT_TRUE(out.read_records_to_list().empty());
    p.pipe_input("zz", "cash", 117);
    EXPECT_EQ(out.read_records_to_list(),
        (vector<eddy::record<std::string, std::string>>{{"o2", "o2:7:unpaid", 101, {}}}));
}

// A record older than its side's retention (before + after + grace behind
// that side's newest record) is not kept: dropped, counted, and so never
// joined by a later record of the other side. One exactly at the bound is
// kept (ADR 0017; Kafka Streams' code drops it too).
TEST_F(StreamStreamJoinTest, ARecordOlderThanTheRetentionIsNotKeptAndIsCounted) {
    start(join_type::inner, eddy::join_windows::of_time_difference_and_grace(10ms, 5ms));
    left(0, "A0", 100);
    left(1, "A1", 74); // 100 - 25 (retention) - 1: expired
    EXPECT_EQ(driver().dropped_records(), 1);
    left(1, "A1-late", 75); // at the retention's bound: kept
    EXPECT_EQ(driver().dropped_records(), 1);
    right(1, "a1", 80);
    EXPECT_EQ(emitted(), (vector<kvt>{{1, "A1-late+a1", 80}}));
    auto store = driver().get_key_value_store<eddy::join_window_key<std::int32_t>, std::string>(
        "KSTREAM-JOINTHIS-0000000004-store");
    vector<std::int64_t> times;
    for (const auto& e : store.all()) {
        times.push_back(e.key.timestamp_ms);
    }
    EXPECT_EQ(times, (vector<std::int64_t>{100, 75}));
}

// The outer store holds an unmatched record until its window closes, then
// is empty again.
TEST_F(StreamStreamJoinTest, UnmatchedRecordsWaitInTheSharedStoreUntilTheirWindowCloses) {
    start(join_type::left, eddy::join_windows::of_time_difference_and_grace(100ms, 10ms),
        int_string_string().with_store_name("orders"));
    left(7, "A7", 50);
    auto shared = driver().get_key_value_store<eddy::timestamped_key_and_join_side<std::int32_t>,
        eddy::left_or_right_value<std::string, std::string>>("orders-left-shared-join-store");
    auto waiting = shared.all().to_vector();
    ASSERT_EQ(waiting.size(), 1U);
    EXPECT_EQ(waiting[0].key.key, 7);
    EXPECT_EQ(waiting[0].key.timestamp_ms, 50);
    EXPECT_EQ(waiting[0].key.side, eddy::join_side::left);
    EXPECT_EQ(waiting[0].value.left, std::optional<std::string>("A7"));
    right(8, "b", 160); // window end 150 + grace 10: not yet past
    EXPECT_THAT(emitted(), ::testing::IsEmpty());
    right(8, "b", 161);
    EXPECT_EQ(emitted(), (vector<kvt>{{7, "A7+null", 50}}));
    EXPECT_TRUE(shared.all().empty());
}

// Both window stores and the outer store have changelogs; the window
// stores' are created with the join's retention.
TEST(StreamStreamJoinTopologyTest, StoresAreChangeloggedWithTheWindowRetention) {
    auto t = join_topology(join_type::outer, eddy::join_windows::of_time_difference_and_grace(100ms, 50ms),
        int_string_string().with_store_name("s"));
    std::map<std::string, std::int64_t> logs;
    for (const auto& c : t.changelog_topics("app")) {
        logs[c.name] = c.window_retention_ms;
    }
    EXPECT_EQ(logs, (std::map<std::string, std::int64_t>{{"app-s-outer-this-join-store-changelog", 250},
                        {"app-s-outer-other-join-store-changelog", 250},
                        {"app-s-outer-shared-join-store-changelog", -1}}));
    auto quiet = join_topology(join_type::inner, eddy::join_windows::of_time_difference_with_no_grace(100ms),
        int_string_string().with_logging_disabled());
    EXPECT_TRUE(quiet.changelog_topics("app").empty());
}

// describe(): the five nodes in one sub-topology, as Kafka Streams prints a
// join (KStreamKStreamJoinTest's expected topologies; predecessors in
// describe()'s own order, by name).
TEST(StreamStreamJoinTopologyTest, DescribeShowsBothSourcesInOneSubTopology) {
    auto t = join_topology(join_type::inner, eddy::join_windows::of_time_difference_with_no_grace(100ms),
        int_string_string());
    EXPECT_EQ(t.describe().to_string(),
        "Topologies:\n"
        "   Sub-topology: 0\n"
        "    Source: KSTREAM-SOURCE-0000000000 (topics: [topic1])\n"
        "      --> KSTREAM-WINDOWED-0000000002\n"
        "    Source: KSTREAM-SOURCE-0000000001 (topics: [topic2])\n"
        "      --> KSTREAM-WINDOWED-0000000003\n"
        "    Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n"
        "      --> KSTREAM-JOINTHIS-0000000004\n"
        "      <-- KSTREAM-SOURCE-0000000000\n"
        "    Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-JOINOTHER-0000000005-store])\n"
        "      --> KSTREAM-JOINOTHER-0000000005\n"
        "      <-- KSTREAM-SOURCE-0000000001\n"
        "    Processor: KSTREAM-JOINOTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store])\n"
        "      --> KSTREAM-MERGE-0000000006\n"
        "      <-- KSTREAM-WINDOWED-0000000003\n"
        "    Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-JOINOTHER-0000000005-store])\n"
        "      --> KSTREAM-MERGE-0000000006\n"
        "      <-- KSTREAM-WINDOWED-0000000002\n"
        "    Processor: KSTREAM-MERGE-0000000006 (stores: [])\n"
        "      --> KSTREAM-SINK-0000000007\n"
        "      <-- KSTREAM-JOINOTHER-0000000005, KSTREAM-JOINTHIS-0000000004\n"
        "    Sink: KSTREAM-SINK-0000000007 (topic: output)\n"
        "      <-- KSTREAM-MERGE-0000000006\n"
        "\n");
}

// A side whose keys changed (map) is repartitioned before the join, through
// "<application.id>-<name>-left-repartition": the join runs in the
// sub-topology that reads it together with the other side.
TEST(StreamStreamJoinTopologyTest, AKeyChangingSideIsRepartitionedFirst) {
    eddy::streams_builder builder;
    auto l = builder.stream<std::int32_t, std::string>("topic1").select_key(
        [](const std::int32_t& k, const std::string&) { return k * 10; });
    auto r = builder.stream<std::int32_t, std::string>("topic2");
    l.join(r, [](const std::string& a, const std::string& b) { return a + "+" + b; },
         eddy::join_windows::of_time_difference_with_no_grace(100ms), int_string_string().with_name("first-join"))
        .to("output");
    auto t = builder.build();
    const auto text = t.describe().to_string();
    EXPECT_THAT(text, ::testing::HasSubstr("Sink: first-join-left-sink (topic: first-join-left-repartition)"));
    EXPECT_THAT(text, ::testing::HasSubstr(
        "    Source: first-join-left-source (topics: [first-join-left-repartition])\n"
        "      --> first-join-this-windowed\n"));
    EXPECT_THAT(text, ::testing::HasSubstr("Processor: first-join-merge (stores: [])"));
    EXPECT_THAT(t.source_topics(1, "app"),
        ::testing::UnorderedElementsAre("topic2", "app-first-join-left-repartition"));

    eddy::topology_test_driver driver(t);
    auto in1 = driver.create_input_topic<std::int32_t, std::string>("topic1");
    auto in2 = driver.create_input_topic<std::int32_t, std::string>("topic2");
    auto out = driver.create_output_topic<std::int32_t, std::string>("output");
    in1.pipe_input(1, "A", 5);
    in2.pipe_input(10, "b", 7);
    in2.pipe_input(1, "c", 7);
    EXPECT_EQ(out.read_records_to_list(), (vector<eddy::record<std::int32_t, std::string>>{{10, "A+b", 7, {}}}));
}

// A value type without a default serde and no stream_joined serde: build()
// names the join node and the type.
struct opaque {
    int n = 0;
};

TEST(StreamStreamJoinTopologyTest, BuildRejectsAJoinWithoutAValueSerde) {
    eddy::streams_builder builder;
    auto l = builder.stream<std::string, std::string>("left");
    auto r = builder.stream<std::string, std::string>("right").map_values([](const std::string& v) {
        return opaque{static_cast<int>(v.size())};
    });
    l.join(r, [](const std::string& a, const opaque& b) { return a + std::to_string(b.n); },
         eddy::join_windows::of_time_difference_with_no_grace(1s))
        .to("out");
    try {
        builder.build();
        FAIL() << "built";
    } catch (const eddy::topology_error& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("processor KSTREAM-WINDOWED-0000000004: no other value serde for type"));
        EXPECT_THAT(e.what(), ::testing::HasSubstr("opaque"));
    }
}

TEST(StreamStreamJoinTopologyTest, JoinOfTwoBuildersIsRejectedNamingBothStreams) {
    eddy::streams_builder b1;
    eddy::streams_builder b2;
    auto l = b1.stream<std::string, std::string>("left");
    auto r = b2.stream<std::string, std::string>("right");
    try {
        l.join(r, [](const std::string& a, const std::string& b) { return a + b; },
            eddy::join_windows::of_time_difference_with_no_grace(1s));
        FAIL() << "joined";
    } catch (const eddy::topology_error& e) {
        EXPECT_STREQ(e.what(), "join of KSTREAM-SOURCE-0000000000 and KSTREAM-SOURCE-0000000000: the two streams "
                               "come from different streams_builders");
    }
}

// JoinWindowsTest: before + after may not be negative, nor the grace.
TEST(JoinWindowsTest, ValidatesIntervalAndGrace) {
    const auto w = eddy::join_windows::of_time_difference_and_grace(100ms, 20ms).before(30ms);
    EXPECT_EQ(w.before_ms(), 30);
    EXPECT_EQ(w.after_ms(), 100);
    EXPECT_EQ(w.size_ms(), 130);
    EXPECT_EQ(w.grace_ms(), 20);
    EXPECT_EQ(eddy::join_windows::of_time_difference_with_no_grace(5ms).after(-5ms).size_ms(), 0);
    EXPECT_THROW(eddy::join_windows::of_time_difference_with_no_grace(5ms).after(-6ms), std::invalid_argument);
    EXPECT_THROW(eddy::join_windows::of_time_difference_with_no_grace(-1ms), std::invalid_argument);
    EXPECT_THROW(eddy::join_windows::of_time_difference_and_grace(1ms, -1ms), std::invalid_argument);
}

// After a restart the window stores hold what they held, and records waiting
// in the outer store are still emitted once their window closes (the
// earliest waiting time is not known then: the store is scanned).
TEST(StreamStreamJoinRestartTest, StoresAndWaitingRecordsSurviveARestart) {
    const auto dir = ::testing::TempDir() + "eddy-ssjoin-restart-" + std::to_string(::getpid());
    const eddy::streams_config config{{"state.dir", dir}, {"application.id", "ssjoin-restart"}};
    const auto windows = eddy::join_windows::of_time_difference_and_grace(100ms, 10ms);
    {
        eddy::topology_test_driver driver(join_topology(join_type::left, windows, int_string_string()), config);
        auto in1 = driver.create_input_topic<std::int32_t, std::string>("topic1");
        in1.pipe_input(7, "A7", 50);
        in1.pipe_input(8, "A8", 55);
    }
    eddy::topology_test_driver driver(join_topology(join_type::left, windows, int_string_string()), config);
    auto in2 = driver.create_input_topic<std::int32_t, std::string>("topic2");
    auto out = driver.create_output_topic<std::int32_t, std::string>("output");
    in2.pipe_input(7, "a7", 60);
    EXPECT_EQ(out.read_records_to_list(), (vector<eddy::record<std::int32_t, std::string>>{{7, "A7+a7", 60, {}}}));
    in2.pipe_input(9, "x", 200);
    EXPECT_EQ(out.read_records_to_list(), (vector<eddy::record<std::int32_t, std::string>>{{8, "A8+null", 55, {}}}));
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
}

// KStreamKStreamSelfJoinTest.shouldMatchInnerJoinWithSelfJoinWithSingleStream
// (the unoptimised self-join, which eddy runs): a stream joined with itself;
// each record meets itself and every record of its key within the window,
// once from each side.
TEST(StreamStreamSelfJoinTest, ShouldMatchInnerJoinWithSelfJoinWithSingleStream) {
    eddy::streams_builder builder;
    auto s = builder.stream<std::string, std::string>("topic1");
    s.join(s, [](const std::string& a, const std::string& b) { return a + b; },
         eddy::join_windows::of_time_difference_with_no_grace(100ms))
        .to("output");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("topic1");
    auto out = driver.create_output_topic<std::string, std::string>("output");
    in.pipe_input("A", "1", 1);
    in.pipe_input("B", "1", 2);
    in.pipe_input("A", "2", 3);
    in.pipe_input("B", "2", 4);
    in.pipe_input("B", "3", 5);
    using r = eddy::record<std::string, std::string>;
    EXPECT_EQ(out.read_records_to_list(),
        (vector<r>{{"A", "11", 1, {}}, {"B", "11", 2, {}}, {"A", "21", 3, {}}, {"A", "12", 3, {}}, {"A", "22", 3, {}},
            {"B", "21", 4, {}}, {"B", "12", 4, {}}, {"B", "22", 4, {}}, {"B", "31", 5, {}}, {"B", "32", 5, {}},
            {"B", "13", 5, {}}, {"B", "23", 5, {}}, {"B", "33", 5, {}}}));
}

} // namespace
