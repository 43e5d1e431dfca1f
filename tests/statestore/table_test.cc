// Tables on the test driver: a table from a topic (tombstones delete), from
// a stream, filter and map_values over a table, and a table's group_by with
// aggregations that retract, against Kafka Streams' documented results.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eddy.h"

namespace {

using eddy::key_value;
using testing::HasSubstr;
using testing::ThrowsMessage;

using opt = std::optional<std::string>;
using opt_kvs = std::vector<key_value<std::string, opt>>;
using count_kvs = std::vector<key_value<std::string, std::int64_t>>;

TEST(TableTest, ATableFromATopicKeepsTheLatestValueAndTombstonesDelete) {
    eddy::streams_builder builder;
    builder.table<std::string, opt>("users", {}, eddy::materialized<std::string, opt>::as("users-store"))
        .to_stream()
        .to("user-changes");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, opt>("users");
    in.pipe_input("A", "1");
    in.pipe_input("B", "2");
    in.pipe_input("A", std::nullopt);
    in.pipe_input("C", "3");
    in.pipe_input("X", std::nullopt); // deleting a key never there: no update
    auto out = driver.create_output_topic<std::string, opt>("user-changes");
    EXPECT_EQ(out.read_key_values_to_list(), (opt_kvs{{"A", "1"}, {"B", "2"}, {"A", std::nullopt}, {"C", "3"}}));
    auto store = driver.get_key_value_store<std::string, opt>("users-store");
    EXPECT_EQ(store.all().to_vector(), (opt_kvs{{"B", "2"}, {"C", "3"}}));
}

TEST(TableTest, ATableFromATopicUsesTheTopicAsItsChangelog) {
    eddy::streams_builder builder;
    builder.table<std::string, std::string>("users", {}, eddy::materialized<std::string, std::string>::as("users-store"));
    auto topology = builder.build();
    EXPECT_TRUE(topology.changelog_topics("app").empty()); // no topic of its own
    eddy::streams_config config;
    config.set(eddy::streams_config::application_id, "app");
    eddy::topology_test_driver driver(topology, config);
    driver.create_input_topic<std::string, std::string>("users").pipe_input("A", "1");
    EXPECT_TRUE(driver.produced_topic_names().empty()); // nothing written twice
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("users-store").get("A")), "1");
}

TEST(TableTest, ATableWhoseRowsCanBeDeletedNeedsAnOptionalValueToBeStreamed) {
    eddy::streams_builder builder;
    builder.table<std::string, std::string>("users").to_stream(eddy::named::as("changes")).to("out");
    EXPECT_THAT([&] { (void)builder.build(); },
        ThrowsMessage<eddy::topology_error>(HasSubstr("processor changes: the table's rows can be deleted")));
}

TEST(TableTest, FilterTurnsARowThatStopsPassingIntoADelete) {
    eddy::streams_builder builder;
    builder.table<std::string, std::optional<std::int64_t>>("numbers")
        .filter([](const std::string&, const std::optional<std::int64_t>& v) { return *v % 2 == 0; })
        .to_stream()
        .to("even");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::optional<std::int64_t>>("numbers");
    in.pipe_input("A", 1); // not even: nothing (it was not in the filtered table either)
    in.pipe_input("B", 2);
    in.pipe_input("A", 4);
    in.pipe_input("B", 3); // B leaves the filtered table: a delete
    in.pipe_input("A", std::nullopt);
    auto out = driver.create_output_topic<std::string, std::optional<std::int64_t>>("even");
    EXPECT_EQ(out.read_key_values_to_list(), (std::vector<key_value<std::string, std::optional<std::int64_t>>>{
                                                 {"B", 2}, {"A", 4}, {"B", std::nullopt}, {"A", std::nullopt}}));
}

TEST(TableTest, MapValuesMapsEachRow) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("names")
        .to_table()
        .map_values([](const std::string& v) { return static_cast<std::int64_t>(v.size()); })
        .to_stream()
        .to("lengths");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("names");
    in.pipe_key_value_list({{"a", "ann"}, {"b", "bo"}, {"a", "anna"}});
    auto out = driver.create_output_topic<std::string, std::int64_t>("lengths");
    EXPECT_EQ(out.read_key_values_to_list(), (count_kvs{{"a", 3}, {"b", 2}, {"a", 4}}));
}

// Kafka Streams' KTableAggregateTest.testCount: a table of colours grouped
// by colour and counted; A moving from green to blue retracts it from green.
TEST(TableTest, GroupByCountRetractsAsKafkaStreamsTestCount) {
    eddy::streams_builder builder;
    builder.table<std::string, std::string>("colours")
        .group_by([](const std::string&, const std::string& colour) {
            return key_value<std::string, std::string>{colour, colour};
        })
        .count(eddy::materialized<std::string, std::int64_t>::as("count"))
        .to_stream()
        .to("counts");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("colours");
    in.pipe_key_value_list({{"A", "green"}, {"B", "green"}, {"A", "blue"}, {"C", "yellow"}, {"D", "green"}});
    auto out = driver.create_output_topic<std::string, std::int64_t>("counts");
    EXPECT_EQ(out.read_key_values_to_list(),
        (count_kvs{{"green", 1}, {"green", 2}, {"green", 1}, {"blue", 1}, {"yellow", 1}, {"green", 2}}));
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("count").all().to_vector()),
        (count_kvs{{"blue", 1}, {"green", 2}, {"yellow", 1}}));
}

TEST(TableTest, GroupByReduceSubtractsDeletedAndChangedRows) {
    eddy::streams_builder builder;
    // Account balances per region: a table of account -> "region:amount".
    builder.table<std::string, opt>("accounts")
        .group_by([](const std::string&, const opt& v) {
            auto colon = v->find(':');
            return key_value<std::string, std::int64_t>{v->substr(0, colon), std::stoll(v->substr(colon + 1))};
        })
        .reduce([](std::int64_t agg, std::int64_t v) { return agg + v; },
            [](std::int64_t agg, std::int64_t v) { return agg - v; },
            eddy::materialized<std::string, std::int64_t>::as("by-region"))
        .to_stream()
        .to("totals");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, opt>("accounts");
    in.pipe_input("acc1", "eu:100");
    in.pipe_input("acc2", "eu:50");
    in.pipe_input("acc3", "us:70");
    in.pipe_input("acc1", "us:30"); // moves region and amount
    in.pipe_input("acc2", std::nullopt); // closed
    auto out = driver.create_output_topic<std::string, std::int64_t>("totals");
    EXPECT_EQ(out.read_key_values_to_list(),
        (count_kvs{{"eu", 100}, {"eu", 150}, {"us", 70}, {"eu", 50}, {"us", 100}, {"eu", 0}}));
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("by-region").all().to_vector()),
        (count_kvs{{"eu", 0}, {"us", 100}}));
}

TEST(TableTest, GroupByAggregateWithInitializerAdderAndSubtractor) {
    eddy::streams_builder builder;
    builder.table<std::string, std::string>("members")
        .group_by([](const std::string& user, const std::string& team) {
            return key_value<std::string, std::string>{team, user};
        })
        .aggregate([] { return std::string(); },
            [](const std::string&, const std::string& user, const std::string& agg) { return agg + "+" + user; },
            [](const std::string&, const std::string& user, const std::string& agg) { return agg + "-" + user; },
            eddy::materialized<std::string, std::string>::as("teams"));
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("members");
    in.pipe_key_value_list({{"ann", "red"}, {"bob", "red"}, {"ann", "blue"}});
    auto teams = driver.get_key_value_store<std::string, std::string>("teams");
    EXPECT_EQ(teams.get("red"), "+ann+bob-ann");
    EXPECT_EQ(teams.get("blue"), "+ann");
}

TEST(TableTest, TableGroupByAlwaysRepartitions) {
    eddy::streams_builder builder;
    builder.table<std::string, std::string>("t")
        .group_by([](const std::string& k, const std::string& v) { return key_value<std::string, std::string>{v, k}; },
            eddy::grouped<std::string, std::string>::as("regroup"))
        .count();
    auto topology = builder.build();
    EXPECT_EQ(topology.subtopology_count(), 2U);
    EXPECT_EQ(topology.source_topics(1, "app"), (std::vector<std::string>{"app-regroup-repartition"}));
    // Only the count's store has a changelog topic: the table's store
    // restores from its source topic.
    ASSERT_EQ(topology.changelog_topics("app").size(), 1U);
    EXPECT_EQ(topology.changelog_topics("app")[0].subtopology, 1);
}

} // namespace
