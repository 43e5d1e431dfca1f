// Windowed aggregations on the test driver, against Kafka Streams' own
// KStreamWindowAggregateTest: hopping windows with grace, out-of-order
// records folding into open windows, late records dropped and counted.

#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eddy.h"

namespace {

using namespace std::chrono_literals;
using eddy::record;

struct out_record {
    std::string key; // "[A@0/10]"
    std::string value;
    std::int64_t timestamp;
    friend bool operator==(const out_record&, const out_record&) = default;
    friend std::ostream& operator<<(std::ostream& os, const out_record& r) {
        return os << r.key << "=" << r.value << "@" << r.timestamp;
    }
};

// The windowed table's changes, keyed "[key@start/end]" as Kafka Streams'
// Windowed.toString() prints them.
// `emit_final`: only each window's final result (on_window_close).
eddy::topology windowed_strings(const eddy::time_windows& windows, const std::string& store, bool emit_final = false) {
    eddy::streams_builder builder;
    auto windowed = builder.stream<std::string, std::string>("topic1").group_by_key().windowed_by(windows);
    if (emit_final) {
        windowed = windowed.emit_strategy(eddy::emit_strategy::on_window_close());
    }
    windowed
        .aggregate([] { return std::string("0"); },
            [](const std::string&, const std::string& v, const std::string& agg) { return agg + "+" + v; },
            eddy::materialized<std::string, std::string>::as(store))
        .to_stream()
        .map([](const eddy::windowed<std::string>& k, const std::string& v) {
            return eddy::key_value<std::string, std::string>{eddy::to_string(k), v};
        })
        .to("output");
    return builder.build();
}

std::vector<out_record> read_all(eddy::topology_test_driver& driver) {
    std::vector<out_record> out;
    auto topic = driver.create_output_topic<std::string, std::string>("output");
    for (const auto& r : topic.read_records_to_list()) {
        out.push_back({r.key, r.value, r.timestamp});
    }
    return out;
}

// KStreamWindowAggregateTest.testAggBasic: 10 ms windows advancing by 5,
// 100 ms grace; the last three records arrive out of order.
TEST(WindowTest, HoppingWindowsAsKafkaStreamsTestAggBasic) {
    eddy::topology_test_driver driver(
        windowed_strings(eddy::time_windows::of_size_and_grace(10ms, 100ms).advance_by(5ms), "topic1-Canonized"));
    auto in = driver.create_input_topic<std::string, std::string>("topic1");
    const std::vector<std::tuple<std::string, std::string, std::int64_t>> inputs{{"A", "1", 0}, {"B", "2", 1},
        {"C", "3", 2}, {"D", "4", 3}, {"A", "1", 4}, {"A", "1", 5}, {"B", "2", 6}, {"D", "4", 7}, {"B", "2", 8},
        {"C", "3", 9}, {"A", "1", 10}, {"B", "2", 11}, {"D", "4", 12}, {"B", "2", 13}, {"C", "3", 14}, {"B", "1", 3},
        {"B", "2", 2}, {"B", "3", 9}};
    for (const auto& [k, v, ts] : inputs) {
        in.pipe_input(k, v, ts);
    }
    const std::vector<out_record> expected{{"[A@0/10]", "0+1", 0}, {"[B@0/10]", "0+2", 1}, {"[C@0/10]", "0+3", 2},
        {"[D@0/10]", "0+4", 3}, {"[A@0/10]", "0+1+1", 4}, {"[A@0/10]", "0+1+1+1", 5}, {"[A@5/15]", "0+1", 5},
        {"[B@0/10]", "0+2+2", 6}, {"[B@5/15]", "0+2", 6}, {"[D@0/10]", "0+4+4", 7}, {"[D@5/15]", "0+4", 7},
        {"[B@0/10]", "0+2+2+2", 8}, {"[B@5/15]", "0+2+2", 8}, {"[C@0/10]", "0+3+3", 9}, {"[C@5/15]", "0+3", 9},
        {"[A@5/15]", "0+1+1", 10}, {"[A@10/20]", "0+1", 10}, {"[B@5/15]", "0+2+2+2", 11}, {"[B@10/20]", "0+2", 11},
        {"[D@5/15]", "0+4+4", 12}, {"[D@10/20]", "0+4", 12}, {"[B@5/15]", "0+2+2+2+2", 13}, {"[B@10/20]", "0+2+2", 13},
        {"[C@5/15]", "0+3+3", 14}, {"[C@10/20]", "0+3", 14}, {"[B@0/10]", "0+2+2+2+1", 8},
        {"[B@0/10]", "0+2+2+2+1+2", 8}, {"[B@0/10]", "0+2+2+2+1+2+3", 9}, {"[B@5/15]", "0+2+2+2+2+3", 13}};
    EXPECT_EQ(read_all(driver), expected);
    EXPECT_EQ(driver.dropped_records(), 0);
}

// KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindow:
// 10 ms windows advancing by 5, 90 ms grace; after a record at 100, the
// window [0, 10) is closed: seven (record, window) pairs are dropped.
TEST(WindowTest, LateRecordsAreDroppedAndCountedAsKafkaStreamsExpiredWindow) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("topic1")
        .group_by_key()
        .windowed_by(eddy::time_windows::of_size_and_grace(10ms, 90ms).advance_by(5ms))
        .aggregate([] { return std::string(); },
            [](const std::string&, const std::string& v, const std::string& agg) { return agg + "+" + v; },
            eddy::materialized<std::string, std::string>::as("topic1-Canonicalized").with_logging_disabled())
        .to_stream()
        .map([](const eddy::windowed<std::string>& k, const std::string& v) {
            return eddy::key_value<std::string, std::string>{eddy::to_string(k), v};
        })
        .to("output");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("topic1");
    in.pipe_input("k", "100", 100);
    for (int ts = 0; ts <= 6; ++ts) {
        in.pipe_input("k", std::to_string(ts), ts);
    }
    EXPECT_EQ(driver.dropped_records(), 7);
    const std::vector<out_record> expected{
        {"[k@95/105]", "+100", 100}, {"[k@100/110]", "+100", 100}, {"[k@5/15]", "+5", 5}, {"[k@5/15]", "+5+6", 6}};
    EXPECT_EQ(read_all(driver), expected);
}

// ...ByGrace: tumbling 10 ms windows, 90 ms grace; after 200, everything
// before 110 is closed.
TEST(WindowTest, TumblingWindowsCloseAfterTheirGraceAsKafkaStreamsExpiredByGrace) {
    eddy::topology_test_driver driver(windowed_strings(eddy::time_windows::of_size_and_grace(10ms, 90ms), "w"));
    auto in = driver.create_input_topic<std::string, std::string>("topic1");
    in.pipe_input("k", "100", 200);
    for (int i = 0; i <= 5; ++i) {
        in.pipe_input("k", std::to_string(i), 100 + i);
    }
    in.pipe_input("k", "6", 6);
    EXPECT_EQ(driver.dropped_records(), 7);
    EXPECT_EQ(read_all(driver), (std::vector<out_record>{{"[k@200/210]", "0+100", 200}}));
}

TEST(WindowTest, CountsPerWindowIntoAWindowStore) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("clicks")
        .group_by_key()
        .windowed_by(eddy::time_windows::of_size_with_no_grace(1min))
        .count(eddy::materialized<std::string, std::int64_t>::as("clicks-per-minute"))
        .to_stream()
        .to("counts", eddy::produced<eddy::windowed<std::string>, std::int64_t>::with(
                          eddy::serdes::time_windowed<std::string>{eddy::serdes::string{}, 60'000}, eddy::serdes::int64{}));
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("clicks");
    in.pipe_input("alice", "/a", 1'000);
    in.pipe_input("alice", "/b", 59'999);
    in.pipe_input("alice", "/c", 60'000);
    in.pipe_input("bob", "/a", 30'000); // stream time 60 s: bob's [0, 60 s) window has closed
    auto out = driver.create_output_topic<eddy::windowed<std::string>, std::int64_t>(
        "counts", eddy::serdes::time_windowed<std::string>{eddy::serdes::string{}, 60'000}, eddy::serdes::int64{});
    using kv = eddy::key_value<eddy::windowed<std::string>, std::int64_t>;
    EXPECT_EQ(out.read_key_values_to_list(), (std::vector<kv>{{{"alice", {0, 60'000}}, 1}, {{"alice", {0, 60'000}}, 2},
                                                 {{"alice", {60'000, 120'000}}, 1}}));
    EXPECT_EQ(driver.dropped_records(), 1);
    auto store = driver.get_key_value_store<eddy::windowed<std::string>, eddy::timestamped<std::int64_t>>(
        "clicks-per-minute");
    EXPECT_EQ(store.get({"alice", {0, 60'000}}), (eddy::timestamped<std::int64_t>{2, 59'999}));
}

TEST(WindowTest, TimeWindowsComputeTheWindowsOfARecord) {
    auto hopping = eddy::time_windows::of_size_with_no_grace(10ms).advance_by(5ms);
    EXPECT_EQ(hopping.windows_for(12), (std::vector<eddy::window>{{5, 15}, {10, 20}}));
    EXPECT_EQ(hopping.windows_for(3), (std::vector<eddy::window>{{0, 10}}));
    EXPECT_THAT([] { (void)eddy::time_windows::of_size_with_no_grace(10ms).advance_by(11ms); },
        testing::ThrowsMessage<std::invalid_argument>(testing::HasSubstr("advance_by must be more than 0")));
}

// suppress(until_window_closes): one final result per window, when stream
// time passes the window's end plus grace (Kafka Streams' SuppressScenarioTest
// shape: 2 ms grace, tumbling windows).
TEST(WindowTest, SuppressEmitsOnlyEachWindowsFinalResult) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .group_by_key()
        .windowed_by(eddy::time_windows::of_size_and_grace(10ms, 2ms))
        .count(eddy::materialized<std::string, std::int64_t>::as("counts"))
        .suppress(eddy::suppressed::until_window_closes(), eddy::named::as("final"))
        .to_stream()
        .map([](const eddy::windowed<std::string>& k, std::int64_t v) {
            return eddy::key_value<std::string, std::int64_t>{eddy::to_string(k), v};
        })
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::int64_t>("out");
    using kvs = std::vector<eddy::key_value<std::string, std::int64_t>>;
    in.pipe_input("k1", "v", 0);
    in.pipe_input("k1", "v", 1);
    in.pipe_input("k2", "v", 9);
    in.pipe_input("k1", "v", 11); // stream time 11: [0, 10) is not closed until 12
    EXPECT_TRUE(out.is_empty());
    in.pipe_input("k1", "v", 5); // late but within grace: counted
    in.pipe_input("k3", "v", 12); // stream time 12: [0, 10) closes
    EXPECT_EQ(out.read_key_values_to_list(), (kvs{{"[k1@0/10]", 3}, {"[k2@0/10]", 1}}));
    in.pipe_input("k1", "v", 3); // after the close: dropped by the aggregation
    in.pipe_input("k9", "v", 30); // closes [10, 20)
    EXPECT_EQ(out.read_key_values_to_list(), (kvs{{"[k1@10/20]", 1}, {"[k3@10/20]", 1}}));
    EXPECT_EQ(driver.dropped_records(), 1);
}

TEST(WindowTest, EmitOnWindowCloseGivesOnlyFinalResults) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .group_by_key()
        .windowed_by(eddy::time_windows::of_size_with_no_grace(10ms))
        .emit_strategy(eddy::emit_strategy::on_window_close())
        .count()
        .to_stream()
        .map([](const eddy::windowed<std::string>& k, std::int64_t v) {
            return eddy::key_value<std::string, std::int64_t>{eddy::to_string(k), v};
        })
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    for (std::int64_t ts : {1, 2, 3, 12}) {
        in.pipe_input("k", "v", ts);
    }
    auto out = driver.create_output_topic<std::string, std::int64_t>("out");
    using kvs = std::vector<eddy::key_value<std::string, std::int64_t>>;
    EXPECT_EQ(out.read_key_values_to_list(), (kvs{{"[k@0/10]", 3}})); // [10, 20) is still open
}

// KStreamWindowAggregateTest.testJoin's first table with emit-final: the
// same two batches on topic1 (hopping 10 ms windows advancing by 5), then a
// record at 20 closes [0,10) and [5,15). Windows closed together come out by
// window, then key (Kafka Streams' time-ordered emit-final store): [5,15)
// gives A, B, C, D, although it was first updated by A, B, D, C.
TEST(WindowTest, EmitFinalOrdersWindowsClosedTogetherByWindowThenKeyAsKafkaStreamsTestJoin) {
    eddy::topology_test_driver driver(
        windowed_strings(eddy::time_windows::of_size_with_no_grace(10ms).advance_by(5ms), "topic1-Canonized", true));
    auto in = driver.create_input_topic<std::string, std::string>("topic1");
    const std::vector<std::tuple<std::string, std::string, std::int64_t>> inputs{{"A", "1", 0}, {"B", "2", 1},
        {"C", "3", 2}, {"D", "4", 3}, {"A", "1", 9}, {"A", "1", 5}, {"B", "2", 6}, {"D", "4", 7}, {"B", "2", 8},
        {"C", "3", 9}};
    for (const auto& [k, v, ts] : inputs) {
        in.pipe_input(k, v, ts);
    }
    auto out = driver.create_output_topic<std::string, std::string>("output");
    EXPECT_TRUE(out.read_key_values_to_list().empty());
    in.pipe_input("Z", "9", 20);
    using kvs = std::vector<eddy::key_value<std::string, std::string>>;
    EXPECT_EQ(out.read_key_values_to_list(),
        (kvs{{"[A@0/10]", "0+1+1+1"}, {"[B@0/10]", "0+2+2+2"}, {"[C@0/10]", "0+3+3"}, {"[D@0/10]", "0+4+4"},
            {"[A@5/15]", "0+1+1"}, {"[B@5/15]", "0+2+2"}, {"[C@5/15]", "0+3"}, {"[D@5/15]", "0+4"}}));
}

// Event time from the value: the windows follow the extracted time, not the
// record's; a negative time drops the record.
TEST(WindowTest, ATimestampExtractorDecidesTheWindowsAndStreamTime) {
    eddy::streams_builder builder;
    builder
        .stream<std::string, std::int64_t>("readings",
            eddy::consumed<std::string, std::int64_t>().with_timestamp_extractor(
                [](const std::string&, const std::int64_t& at, std::int64_t) { return at; }))
        .group_by_key()
        .windowed_by(eddy::time_windows::of_size_with_no_grace(10ms))
        .count(eddy::materialized<std::string, std::int64_t>::as("per-window"))
        .to_stream()
        .map([](const eddy::windowed<std::string>& k, std::int64_t v) {
            return eddy::key_value<std::string, std::int64_t>{eddy::to_string(k), v};
        })
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::int64_t>("readings");
    in.pipe_input("s", 25, 1'000'000); // the record's own time is ignored
    in.pipe_input("s", 21, 0);
    in.pipe_input("s", -1, 5); // no event time: dropped
    in.pipe_input("s", 5, 2'000'000); // stream time is 25: [0, 10) is closed
    auto out = driver.create_output_topic<std::string, std::int64_t>("out");
    using kvs = std::vector<eddy::key_value<std::string, std::int64_t>>;
    EXPECT_EQ(out.read_key_values_to_list(), (kvs{{"[s@20/30]", 1}, {"[s@20/30]", 2}}));
    EXPECT_EQ(driver.dropped_records(), 2);
}

TEST(WindowTest, WallClockTimeUsesTheTasksClock) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in", eddy::consumed<std::string, std::string>().with_wall_clock_time())
        .to("out");
    eddy::topology_test_driver driver(builder.build(), {}, 5'000);
    driver.create_input_topic<std::string, std::string>("in").pipe_input("k", "v", 42);
    EXPECT_EQ((driver.create_output_topic<std::string, std::string>("out").read_record().timestamp), 5'000);
}

} // namespace

