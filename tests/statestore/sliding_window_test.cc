// Sliding-window aggregations on the test driver, against Kafka Streams' own
// KStreamSlidingWindowAggregateTest: the same inputs and the same outputs
// (values and timestamps per window), on every update and on window close.

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eddy.h"

namespace {

using namespace std::chrono_literals;

using value_at = std::pair<std::string, std::int64_t>; // value, timestamp
using by_start = std::map<std::int64_t, std::set<value_at>>;

struct out_record {
    std::string key;
    std::int64_t start;
    std::int64_t end;
    std::string value;
    std::int64_t timestamp;
    friend bool operator==(const out_record&, const out_record&) = default;
    friend std::ostream& operator<<(std::ostream& os, const out_record& r) {
        return os << "[" << r.key << "@" << r.start << "/" << r.end << "]=" << r.value << "@" << r.timestamp;
    }
};

enum class shape { aggregate, reduce };

// topic -> group_by_key -> windowed_by(windows) -> aggregate("0", "+v") or
// reduce(a + "+" + b) -> the table's stream, written with the windowed serde.
eddy::topology sliding(const eddy::sliding_windows& windows, bool emit_final, shape s = shape::aggregate) {
    eddy::streams_builder builder;
    auto grouped = builder.stream<std::string, std::string>("topic").group_by_key().windowed_by(windows);
    if (emit_final) {
        grouped = grouped.emit_strategy(eddy::emit_strategy::on_window_close());
    }
    auto table = s == shape::aggregate
        ? grouped.aggregate([] { return std::string("0"); },
              [](const std::string&, const std::string& v, const std::string& agg) { return agg + "+" + v; },
              eddy::materialized<std::string, std::string>::as("store-name"))
        : grouped.reduce([](const std::string& agg, const std::string& v) { return agg + "+" + v; },
              eddy::materialized<std::string, std::string>::as("store-name"));
    table.to_stream().to("output", eddy::produced<eddy::windowed<std::string>, std::string>::with(
        eddy::serdes::time_windowed<std::string>{eddy::serdes::string{}, windows.time_difference_ms()},
        eddy::serdes::string{}));
    return builder.build();
}

std::vector<out_record> read_all(eddy::topology_test_driver& driver, std::int64_t difference) {
    auto topic = driver.create_output_topic<eddy::windowed<std::string>, std::string>("output",
        eddy::serdes::time_windowed<std::string>{eddy::serdes::string{}, difference}, eddy::serdes::string{});
    std::vector<out_record> out;
    for (const auto& r : topic.read_records_to_list()) {
        out.push_back({r.key.key, r.key.window.start_ms, r.key.window.end_ms, r.value, r.timestamp});
    }
    return out;
}

// Kafka Streams' gatherOutput: per window start, the set of (value, timestamp).
by_start gather(const std::vector<out_record>& records) {
    by_start out;
    for (const auto& r : records) {
        out[r.start].insert({r.value, r.timestamp});
    }
    return out;
}

// Sorted by key, then window start, keeping the order of each window's
// updates (Kafka Streams' testAggregateLargeInput sorts that way).
std::vector<out_record> sorted(std::vector<out_record> records) {
    std::stable_sort(records.begin(), records.end(),
        [](const out_record& a, const out_record& b) { return std::tie(a.key, a.start) < std::tie(b.key, b.start); });
    return records;
}

void pipe(eddy::topology_test_driver& driver, const std::vector<std::tuple<std::string, std::string, std::int64_t>>& in) {
    auto topic = driver.create_input_topic<std::string, std::string>("topic");
    for (const auto& [k, v, ts] : in) {
        topic.pipe_input(k, v, ts);
    }
}

const std::vector<std::tuple<std::string, std::string, std::int64_t>> small_input{{"A", "1", 10}, {"A", "2", 10},
    {"A", "3", 14}, {"A", "4", 15}, {"A", "5", 20}, {"A", "6", 22}, {"A", "7", 30}};

TEST(SlidingWindowTest, AggregatesEveryWindowAsKafkaStreamsTestAggregateSmallInput) {
    eddy::topology_test_driver driver(sliding(eddy::sliding_windows::of_time_difference_and_grace(10ms, 5ms), false));
    pipe(driver, small_input);
    const by_start expected{{0, {{"0+1", 10}, {"0+1+2", 10}}}, {4, {{"0+1+2+3", 14}}}, {5, {{"0+1+2+3+4", 15}}},
        {10, {{"0+1+2+3+4+5", 20}}}, {11, {{"0+3", 14}, {"0+3+4", 15}, {"0+3+4+5", 20}}}, {12, {{"0+3+4+5+6", 22}}},
        {15, {{"0+4", 15}, {"0+4+5", 20}, {"0+4+5+6", 22}}}, {16, {{"0+5", 20}, {"0+5+6", 22}}},
        {20, {{"0+5+6+7", 30}}}, {21, {{"0+6", 22}, {"0+6+7", 30}}}, {23, {{"0+7", 30}}}};
    EXPECT_EQ(gather(read_all(driver, 10)), expected);
    EXPECT_EQ(driver.dropped_records(), 0);
    // The store holds each window with the time of its latest record.
    auto store = driver.get_key_value_store<eddy::windowed<std::string>, eddy::timestamped<std::string>>("store-name");
    EXPECT_EQ(store.get({"A", {11, 21}}), (eddy::timestamped<std::string>{"0+3+4+5", 20}));
    EXPECT_EQ(store.get({"A", {20, 30}}), (eddy::timestamped<std::string>{"0+5+6+7", 30}));
}

TEST(SlidingWindowTest, EmitsOnlyClosedWindowsAsKafkaStreamsTestAggregateSmallInputEmitFinal) {
    eddy::topology_test_driver driver(sliding(eddy::sliding_windows::of_time_difference_and_grace(10ms, 5ms), true));
    pipe(driver, small_input);
    const by_start expected{{0, {{"0+1+2", 10}}}, {4, {{"0+1+2+3", 14}}}, {5, {{"0+1+2+3+4", 15}}},
        {10, {{"0+1+2+3+4+5", 20}}}, {11, {{"0+3+4+5", 20}}}, {12, {{"0+3+4+5+6", 22}}}};
    const auto out = read_all(driver, 10);
    EXPECT_EQ(gather(out), expected);
    EXPECT_EQ(out.size(), 6u); // once per window
}

const std::vector<std::tuple<std::string, std::string, std::int64_t>> reduce_input{
    {"A", "1", 10}, {"A", "2", 14}, {"A", "3", 15}, {"A", "4", 22}, {"A", "5", 26}, {"A", "6", 30}};

TEST(SlidingWindowTest, ReducesAsKafkaStreamsTestReduceSmallInput) {
    eddy::topology_test_driver driver(
        sliding(eddy::sliding_windows::of_time_difference_and_grace(10ms, 5ms), false, shape::reduce));
    pipe(driver, reduce_input);
    const by_start expected{{0, {{"1", 10}}}, {4, {{"1+2", 14}}}, {5, {{"1+2+3", 15}}}, {11, {{"2", 14}, {"2+3", 15}}},
        {12, {{"2+3+4", 22}}}, {15, {{"3", 15}, {"3+4", 22}}}, {16, {{"4", 22}, {"4+5", 26}}}, {20, {{"4+5+6", 30}}},
        {23, {{"5", 26}, {"5+6", 30}}}, {27, {{"6", 30}}}};
    EXPECT_EQ(gather(read_all(driver, 10)), expected);
}

TEST(SlidingWindowTest, ReducesOnWindowCloseAsKafkaStreamsTestReduceSmallInputEmitFinal) {
    eddy::topology_test_driver driver(
        sliding(eddy::sliding_windows::of_time_difference_and_grace(10ms, 5ms), true, shape::reduce));
    pipe(driver, reduce_input);
    const by_start expected{
        {0, {{"1", 10}}}, {4, {{"1+2", 14}}}, {5, {{"1+2+3", 15}}}, {11, {{"2+3", 15}}}, {12, {{"2+3+4", 22}}}};
    EXPECT_EQ(gather(read_all(driver, 10)), expected);
}

const std::vector<std::tuple<std::string, std::string, std::int64_t>> large_input{{"A", "1", 10}, {"A", "2", 20},
    {"A", "3", 22}, {"A", "4", 15}, {"B", "1", 12}, {"B", "2", 13}, {"B", "3", 18}, {"B", "4", 19}, {"B", "5", 25},
    {"B", "6", 14}, {"C", "1", 11}, {"C", "2", 15}, {"C", "3", 16}, {"C", "4", 21}, {"C", "5", 23}, {"D", "4", 11},
    {"D", "2", 12}, {"D", "3", 29}, {"D", "5", 16}};

TEST(SlidingWindowTest, OutOfOrderRecordsAsKafkaStreamsTestAggregateLargeInput) {
    eddy::topology_test_driver driver(sliding(eddy::sliding_windows::of_time_difference_and_grace(10ms, 50ms), false));
    pipe(driver, large_input);
    const std::vector<out_record> expected{{"A", 0, 10, "0+1", 10}, {"A", 5, 15, "0+1+4", 15},
        {"A", 10, 20, "0+1+2", 20}, {"A", 10, 20, "0+1+2+4", 20}, {"A", 11, 21, "0+2", 20},
        {"A", 11, 21, "0+2+4", 20}, {"A", 12, 22, "0+2+3", 22}, {"A", 12, 22, "0+2+3+4", 22},
        {"A", 16, 26, "0+2+3", 22}, {"A", 21, 31, "0+3", 22}, {"B", 2, 12, "0+1", 12}, {"B", 3, 13, "0+1+2", 13},
        {"B", 4, 14, "0+1+2+6", 14}, {"B", 8, 18, "0+1+2+3", 18}, {"B", 8, 18, "0+1+2+3+6", 18},
        {"B", 9, 19, "0+1+2+3+4", 19}, {"B", 9, 19, "0+1+2+3+4+6", 19}, {"B", 13, 23, "0+2", 13},
        {"B", 13, 23, "0+2+3", 18}, {"B", 13, 23, "0+2+3+4", 19}, {"B", 13, 23, "0+2+3+4+6", 19},
        {"B", 14, 24, "0+3", 18}, {"B", 14, 24, "0+3+4", 19}, {"B", 14, 24, "0+3+4+6", 19},
        {"B", 15, 25, "0+3+4+5", 25}, {"B", 19, 29, "0+4", 19}, {"B", 19, 29, "0+4+5", 25}, {"B", 20, 30, "0+5", 25},
        {"C", 1, 11, "0+1", 11}, {"C", 5, 15, "0+1+2", 15}, {"C", 6, 16, "0+1+2+3", 16},
        {"C", 11, 21, "0+1+2+3+4", 21}, {"C", 12, 22, "0+2", 15}, {"C", 12, 22, "0+2+3", 16},
        {"C", 12, 22, "0+2+3+4", 21}, {"C", 13, 23, "0+2+3+4+5", 23}, {"C", 16, 26, "0+3", 16},
        {"C", 16, 26, "0+3+4", 21}, {"C", 16, 26, "0+3+4+5", 23}, {"C", 17, 27, "0+4", 21},
        {"C", 17, 27, "0+4+5", 23}, {"C", 22, 32, "0+5", 23}, {"D", 1, 11, "0+4", 11}, {"D", 2, 12, "0+4+2", 12},
        {"D", 6, 16, "0+4+2+5", 16}, {"D", 12, 22, "0+2", 12}, {"D", 12, 22, "0+2+5", 16}, {"D", 13, 23, "0+5", 16},
        {"D", 19, 29, "0+3", 29}};
    EXPECT_EQ(sorted(read_all(driver, 10)), expected);
}

TEST(SlidingWindowTest, FinalResultsOfOutOfOrderRecordsAsKafkaStreamsTestAggregateLargeInputEmitFinal) {
    eddy::topology_test_driver driver(sliding(eddy::sliding_windows::of_time_difference_and_grace(10ms, 10ms), true));
    pipe(driver, large_input);
    const std::vector<out_record> expected{{"A", 0, 10, "0+1", 10}, {"A", 5, 15, "0+1+4", 15},
        {"B", 2, 12, "0+1", 12}, {"B", 3, 13, "0+1+2", 13}, {"B", 8, 18, "0+1+2+3+6", 18}, {"C", 5, 15, "0+2", 15},
        {"C", 6, 16, "0+2+3", 16}};
    EXPECT_EQ(sorted(read_all(driver, 10)), expected);
    EXPECT_EQ(driver.dropped_records(), 5); // B@14's left window, C@11, D@11, D@12, D@16's left windows
}

// Records before the first time difference share [0, difference].
TEST(SlidingWindowTest, EarlyRecordsShareTheFirstWindowAsKafkaStreamsTestEarlyRecordsSmallInput) {
    eddy::topology_test_driver driver(sliding(eddy::sliding_windows::of_time_difference_and_grace(50ms, 0ms), false));
    pipe(driver, {{"A", "1", 0}, {"A", "2", 5}, {"A", "3", 6}, {"A", "4", 3}, {"A", "5", 13}, {"A", "6", 10},
                     {"A", "7", 70}});
    const by_start expected{
        {0, {{"0+1", 0}, {"0+1+2", 5}, {"0+1+2+3", 6}, {"0+1+2+3+4", 6}, {"0+1+2+3+4+5", 13}, {"0+1+2+3+4+5+6", 13}}},
        {1, {{"0+2", 5}, {"0+2+3", 6}, {"0+2+3+4", 6}, {"0+2+3+4+5", 13}, {"0+2+3+4+5+6", 13}}},
        {4, {{"0+2+3", 6}, {"0+2+3+5", 13}, {"0+2+3+5+6", 13}}}, {6, {{"0+3", 6}, {"0+3+5", 13}, {"0+3+5+6", 13}}},
        {7, {{"0+5", 13}, {"0+5+6", 13}}}, {11, {{"0+5", 13}}}, {20, {{"0+7", 70}}}};
    EXPECT_EQ(gather(read_all(driver, 50)), expected);
}

TEST(SlidingWindowTest, EarlyRecordsOnWindowCloseAsKafkaStreamsTestEarlyRecordsSmallInputEmitFinal) {
    eddy::topology_test_driver driver(sliding(eddy::sliding_windows::of_time_difference_and_grace(50ms, 0ms), true));
    pipe(driver, {{"A", "1", 0}, {"A", "2", 5}, {"A", "3", 6}, {"A", "4", 3}, {"A", "5", 13}, {"A", "6", 10},
                     {"A", "7", 70}});
    const by_start expected{{0, {{"0+1+2+3+4+5+6", 13}}}, {1, {{"0+2+3+4+5+6", 13}}}, {4, {{"0+2+3+5+6", 13}}},
        {6, {{"0+3+5+6", 13}}}, {7, {{"0+5+6", 13}}}, {11, {{"0+5", 13}}}};
    EXPECT_EQ(gather(read_all(driver, 50)), expected);
}

// shouldLogAndMeterWhenSkippingExpiredWindowByGrace: 10 ms difference, 90 ms
// grace; after a record at 200 the windows ending before 110 are closed.
TEST(SlidingWindowTest, LateRecordsAreDroppedAndCountedAsKafkaStreamsExpiredWindowByGrace) {
    for (const bool emit_final : {false, true}) {
        SCOPED_TRACE(emit_final ? "on window close" : "on every update");
        eddy::topology_test_driver driver(
            sliding(eddy::sliding_windows::of_time_difference_and_grace(10ms, 90ms), emit_final));
        pipe(driver, {{"k", "100", 200}, {"k", "0", 100}, {"k", "1", 101}, {"k", "2", 102}, {"k", "3", 103},
                         {"k", "4", 104}, {"k", "5", 105}, {"k", "6", 15}, {"k", "101", 300}, {"k", "102", 400}});
        EXPECT_EQ(driver.dropped_records(), 7);
        std::vector<out_record> expected{{"k", 190, 200, "0+100", 200}, {"k", 290, 300, "0+101", 300}};
        if (!emit_final) {
            expected.push_back({"k", 390, 400, "0+102", 400});
        }
        EXPECT_EQ(read_all(driver, 10), expected);
    }
}

TEST(SlidingWindowTest, CountsIntoAStoreTheDriverReads) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("clicks")
        .group_by_key()
        .windowed_by(eddy::sliding_windows::of_time_difference_with_no_grace(10s))
        .count(eddy::materialized<std::string, std::int64_t>::as("clicks-in-10s"))
        .to_stream()
        .map([](const eddy::windowed<std::string>& k, std::int64_t n) {
            return eddy::key_value<std::string, std::int64_t>{eddy::to_string(k), n};
        })
        .to("counts");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("clicks");
    in.pipe_input("alice", "/a", 20'000);
    in.pipe_input("alice", "/b", 25'000);
    in.pipe_input("alice", "/c", 40'000);
    auto out = driver.create_output_topic<std::string, std::int64_t>("counts");
    using kvs = std::vector<eddy::key_value<std::string, std::int64_t>>;
    EXPECT_EQ(out.read_key_values_to_list(),
        (kvs{{"[alice@10000/20000]", 1}, {"[alice@20001/30001]", 1}, {"[alice@15000/25000]", 2},
            {"[alice@30000/40000]", 1}})); // 25 s and 40 s are too far apart to share a window
    auto store = driver.get_key_value_store<eddy::windowed<std::string>, eddy::timestamped<std::int64_t>>(
        "clicks-in-10s");
    EXPECT_EQ(store.get({"alice", {15'000, 25'000}}), (eddy::timestamped<std::int64_t>{2, 25'000}));
}

TEST(SlidingWindowTest, ATimeDifferenceMustBePositive) {
    EXPECT_THAT([] { (void)eddy::sliding_windows::of_time_difference_with_no_grace(0ms); },
        testing::ThrowsMessage<std::invalid_argument>(testing::HasSubstr("time difference must be positive")));
    EXPECT_THAT([] { (void)eddy::sliding_windows::of_time_difference_and_grace(5ms, -1ms); },
        testing::ThrowsMessage<std::invalid_argument>(testing::HasSubstr("grace period cannot be negative")));
}

} // namespace
