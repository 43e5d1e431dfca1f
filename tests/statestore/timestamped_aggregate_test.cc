// Timestamped aggregates (Kafka Streams' TimestampedKeyValueStore): a
// non-windowed aggregation keeps each value with the timestamp of its latest
// update, stamps each update with the larger of the record's and the
// aggregate's timestamps (out-of-order records do not move it back), logs
// the ValueAndTimestamp layout, and still reads as plain values.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eddy.h"

namespace {

using eddy::key_value;
using eddy::record;
using eddy::timestamped;

using opt = std::optional<std::string>;

// KGroupedStreamImplTest.processData: out of order for key 1 (5, then 3),
// and a null value that changes nothing.
void process_data(eddy::topology_test_driver& driver) {
    auto in = driver.create_input_topic<std::string, opt>("topic");
    in.pipe_input("1", "A", 5);
    in.pipe_input("2", "B", 1);
    in.pipe_input("1", "C", 3);
    in.pipe_input("1", "D", 10);
    in.pipe_input("3", "E", 8);
    in.pipe_input("3", "F", 9);
    in.pipe_input("3", std::nullopt, 11);
}

eddy::topology_test_driver driver_for(eddy::streams_builder& builder) {
    eddy::streams_config config;
    config.set(eddy::streams_config::application_id, "app");
    return eddy::topology_test_driver(builder.build(), config);
}

// KGroupedStreamImplTest.shouldAggregateAndMaterializeResults and
// shouldAggregateWithDefaultSerdes.
TEST(TimestampedAggregateTest, AggregateStampsUpdatesAsKafkaStreamsKStreamAggregate) {
    eddy::streams_builder builder;
    builder.stream<std::string, opt>("topic")
        .group_by_key()
        .aggregate([] { return std::string("0"); },
            [](const std::string&, const opt& v, const std::string& agg) { return agg + "+" + *v; },
            eddy::materialized<std::string, std::string>::as("aggregate"))
        .to_stream()
        .to("out");
    auto driver = driver_for(builder);
    process_data(driver);
    auto out = driver.create_output_topic<std::string, std::string>("out");
    std::vector<record<std::string, std::string>> expected{{"1", "0+A", 5, {}}, {"2", "0+B", 1, {}},
        {"1", "0+A+C", 5, {}}, {"1", "0+A+C+D", 10, {}}, {"3", "0+E", 8, {}}, {"3", "0+E+F", 9, {}}};
    EXPECT_EQ(out.read_records_to_list(), expected);

    auto with_time = driver.get_key_value_store<std::string, timestamped<std::string>>("aggregate");
    EXPECT_EQ(with_time.get("1"), (timestamped<std::string>{"0+A+C+D", 10}));
    EXPECT_EQ(with_time.get("2"), (timestamped<std::string>{"0+B", 1}));
    EXPECT_EQ(with_time.get("3"), (timestamped<std::string>{"0+E+F", 9}));
    // The plain view: the values alone.
    auto plain = driver.get_key_value_store<std::string, std::string>("aggregate");
    EXPECT_EQ(plain.get("1"), "0+A+C+D");
    EXPECT_EQ(plain.all().to_vector(), (std::vector<key_value<std::string, std::string>>{{"1", "0+A+C+D"}, {"2", "0+B"}, {"3", "0+E+F"}}));

    // The changelog holds the ValueAndTimestamp layout.
    auto changelog = driver.create_output_topic<std::string, timestamped<std::string>>("app-aggregate-changelog",
        eddy::serdes::string{}, eddy::serdes::value_and_timestamp<std::string>{eddy::serdes::string{}});
    auto logged = changelog.read_key_values_to_list();
    ASSERT_EQ(logged.size(), 6U);
    EXPECT_EQ(logged[2], (key_value<std::string, timestamped<std::string>>{"1", {"0+A+C", 5}}));
    EXPECT_EQ(logged[5], (key_value<std::string, timestamped<std::string>>{"3", {"0+E+F", 9}}));
}

// KGroupedStreamImplTest.shouldReduceAndMaterializeResults.
TEST(TimestampedAggregateTest, ReduceStampsUpdatesAsKafkaStreamsKStreamReduce) {
    eddy::streams_builder builder;
    builder.stream<std::string, opt>("topic")
        .group_by_key()
        .reduce([](const opt& agg, const opt& v) { return opt(*agg + "+" + *v); },
            eddy::materialized<std::string, opt>::as("reduce"))
        .to_stream()
        .to("out");
    auto driver = driver_for(builder);
    process_data(driver);
    auto out = driver.create_output_topic<std::string, opt>("out");
    std::vector<record<std::string, opt>> expected{{"1", "A", 5, {}}, {"2", "B", 1, {}}, {"1", "A+C", 5, {}},
        {"1", "A+C+D", 10, {}}, {"3", "E", 8, {}}, {"3", "E+F", 9, {}}};
    EXPECT_EQ(out.read_records_to_list(), expected);
    auto with_time = driver.get_key_value_store<std::string, timestamped<opt>>("reduce");
    EXPECT_EQ(with_time.get("1"), (timestamped<opt>{"A+C+D", 10}));
    EXPECT_EQ(with_time.get("2"), (timestamped<opt>{"B", 1}));
    EXPECT_EQ(with_time.get("3"), (timestamped<opt>{"E+F", 9}));
}

// KGroupedStreamImplTest.shouldCountAndMaterializeResults.
TEST(TimestampedAggregateTest, CountKeepsTheLatestTimestampOfEachKey) {
    eddy::streams_builder builder;
    builder.stream<std::string, opt>("topic").group_by_key().count(
        eddy::materialized<std::string, std::int64_t>::as("count"));
    auto driver = driver_for(builder);
    process_data(driver);
    auto with_time = driver.get_key_value_store<std::string, timestamped<std::int64_t>>("count");
    EXPECT_EQ(with_time.get("1"), (timestamped<std::int64_t>{3, 10}));
    EXPECT_EQ(with_time.get("2"), (timestamped<std::int64_t>{1, 1}));
    EXPECT_EQ(with_time.get("3"), (timestamped<std::int64_t>{2, 9}));
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("count").get("1")), 3);
}

// KTableAggregateTest.testCount with its timestamps: a row moving to another
// group retracts it at the later of the two times.
TEST(TimestampedAggregateTest, ATableCountStampsUpdatesAsKafkaStreamsKTableAggregate) {
    eddy::streams_builder builder;
    builder.table<std::string, std::string>("count-test-input")
        .group_by([](const std::string&, const std::string& colour) {
            return key_value<std::string, std::string>{colour, colour};
        })
        .count(eddy::materialized<std::string, std::int64_t>::as("count"))
        .to_stream()
        .to("counts");
    auto driver = driver_for(builder);
    auto in = driver.create_input_topic<std::string, std::string>("count-test-input");
    in.pipe_input("A", "green", 10);
    in.pipe_input("B", "green", 9);
    in.pipe_input("A", "blue", 12);
    in.pipe_input("C", "yellow", 15);
    in.pipe_input("D", "green", 11);
    auto out = driver.create_output_topic<std::string, std::int64_t>("counts");
    std::vector<record<std::string, std::int64_t>> expected{{"green", 1, 10, {}}, {"green", 2, 10, {}},
        {"green", 1, 12, {}}, {"blue", 1, 12, {}}, {"yellow", 1, 15, {}}, {"green", 2, 12, {}}};
    EXPECT_EQ(out.read_records_to_list(), expected);
}

} // namespace
