// The options that take their types where they are used: consumed<>,
// produced<>, materialized<>, grouped<>, branched<>, joined<>,
// stream_joined<> (the types from the serdes given, or from the stream,
// table or aggregation they are given to), driven through the topology test
// driver.

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/topology_test_driver.h"
#include "serde/serdes.h"
#include "topology/streams_builder.h"

namespace {

using eddy::key_value;
using kv_si = key_value<std::string, std::int64_t>;
using kv_ss = key_value<std::string, std::string>;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Lengths of values, written to "out".
std::int64_t size_of(const std::string& v) {
    return static_cast<std::int64_t>(v.size());
}

TEST(UntypedOptionsTest, ConsumedWithTakesTheStreamsTypesFromItsSerdes) {
    eddy::streams_builder builder;
    auto sizes = builder.stream("in", eddy::consumed<>::with(eddy::serdes::string{}, eddy::serdes::int64{}));
    static_assert(std::is_same_v<decltype(sizes), eddy::kstream<std::string, std::int64_t>>);
    sizes.map_values([](std::int64_t n) { return n * 2; }).to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::int64_t>("in");
    auto out = driver.create_output_topic<std::string, std::int64_t>("out");
    in.pipe_input("a", 21);
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_si{"a", 42}));
}

TEST(UntypedOptionsTest, ConsumedAndProducedAsNameTheSourceAndTheSink) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in", eddy::consumed<>::as("tasks-source"))
        .to("out", eddy::produced<>::as("tasks-sink"));
    const auto text = builder.build().describe().to_string();
    EXPECT_THAT(text, HasSubstr("Source: tasks-source (topics: [in])"));
    EXPECT_THAT(text, HasSubstr("Sink: tasks-sink (topic: out)"));
}

TEST(UntypedOptionsTest, ProducedWithTakesTheSinksTypesFromItsSerdes) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .map_values(size_of)
        .to("out", eddy::produced<>::with(eddy::serdes::string{}, eddy::serdes::int64{}));
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::int64_t>("out");
    in.pipe_input("a", "four");
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_si{"a", 4}));
}

TEST(UntypedOptionsTest, MaterializedAsNamesTheStoreOfACountAndAnAggregate) {
    eddy::streams_builder builder;
    auto grouped = builder.stream<std::string, std::string>("in").group_by_key();
    grouped.count(eddy::materialized<>::as("counts"));
    grouped.aggregate([] { return std::int64_t{0}; },
        [](const std::string&, const std::string& v, std::int64_t total) { return total + size_of(v); },
        eddy::materialized<>::as("total-sizes"));
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    in.pipe_input("a", "xy");
    in.pipe_input("a", "xyz");
    in.pipe_input("b", "x");
    auto counts = driver.get_key_value_store<std::string, std::int64_t>("counts");
    auto totals = driver.get_key_value_store<std::string, std::int64_t>("total-sizes");
    EXPECT_EQ(counts.get("a"), 2);
    EXPECT_EQ(counts.get("b"), 1);
    EXPECT_EQ(totals.get("a"), 5);
    EXPECT_EQ(totals.get("b"), 1);
}

TEST(UntypedOptionsTest, MaterializedCarriesLoggingDisabledToTheTypedStore) {
    eddy::streams_builder builder;
    auto grouped = builder.stream<std::string, std::string>("in").group_by_key();
    grouped.count(eddy::materialized<>::as("logged"));
    grouped.count(eddy::materialized<>::as("unlogged").with_logging_disabled());
    const auto topology = builder.build();
    const auto logs = topology.changelog_topics("app");
    ASSERT_EQ(logs.size(), 1U);
    EXPECT_EQ(logs[0].name, "app-logged-changelog");
}

TEST(UntypedOptionsTest, MaterializedWithTakesATablesTypesFromItsSerdes) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in").to_table(
        eddy::materialized<>::as("latest").with_caching_disabled());
    builder.table("titles", eddy::consumed<>::with(eddy::serdes::string{}, eddy::serdes::string{}),
        eddy::materialized<>::as("titles-store"));
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto titles = driver.create_input_topic<std::string, std::string>("titles");
    in.pipe_input("a", "first");
    in.pipe_input("a", "second");
    titles.pipe_input("t-1", "Buy milk");
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("latest").get("a")), "second");
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("titles-store").get("t-1")), "Buy milk");
}

// A table operation whose result only the lambda types: materialized<>
// names the store, which holds what the mapper, transformer or joiner
// returns.
TEST(UntypedOptionsTest, MaterializedAsNamesTheStoresOfTableMapsTransformsAndJoins) {
    eddy::streams_builder builder;
    auto titles = builder.table<std::string, std::string>("titles");
    auto owners = builder.table<std::string, std::string>("owners");
    titles.map_values(size_of, eddy::materialized<>::as("title-sizes"));
    titles.join(owners, [](const std::string& t, const std::string& o) { return o + ": " + t; },
        eddy::materialized<>::as("owned-titles"));
    titles.left_join(
        owners, [](const std::string& t, const std::optional<std::string>& o) { return o ? t : t + " (nobody)"; },
        eddy::materialized<>::as("maybe-owned"));
    titles.outer_join(
        owners,
        [](const std::optional<std::string>& t, const std::optional<std::string>& o) {
            return static_cast<std::int64_t>(t.has_value()) + static_cast<std::int64_t>(o.has_value());
        },
        eddy::materialized<>::as("sides"));
    eddy::topology_test_driver driver(builder.build());
    auto in_titles = driver.create_input_topic<std::string, std::string>("titles");
    auto in_owners = driver.create_input_topic<std::string, std::string>("owners");
    in_titles.pipe_input("t-1", "Buy milk");
    in_titles.pipe_input("t-2", "Call Bo");
    in_owners.pipe_input("t-1", "ana");
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("title-sizes").get("t-1")), 8);
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("owned-titles").get("t-1")), "ana: Buy milk");
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("owned-titles").get("t-2")), std::nullopt);
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("maybe-owned").get("t-2")), "Call Bo (nobody)");
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("sides").get("t-1")), 2);
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("sides").get("t-2")), 1);
}

TEST(UntypedOptionsTest, MaterializedAsNamesTheStoreOfAForeignKeyJoin) {
    eddy::streams_builder builder;
    auto tasks = builder.table<std::string, std::string>("tasks"); // task -> owner id
    auto users = builder.table<std::string, std::string>("users"); // owner id -> name
    tasks.join(
        users, [](const std::string& owner) { return owner; },
        [](const std::string&, const std::string& name) { return "for " + name; },
        eddy::materialized<>::as("task-owners"));
    tasks.left_join(
        users, [](const std::string& owner) { return owner; },
        [](const std::string&, const std::optional<std::string>& name) { return name ? *name : std::string("?"); },
        eddy::materialized<>::as("task-owners-or-not"));
    eddy::topology_test_driver driver(builder.build());
    auto in_users = driver.create_input_topic<std::string, std::string>("users");
    auto in_tasks = driver.create_input_topic<std::string, std::string>("tasks");
    in_users.pipe_input("u-1", "ana");
    in_tasks.pipe_input("t-1", "u-1");
    in_tasks.pipe_input("t-2", "u-9");
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("task-owners").get("t-1")), "for ana");
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("task-owners-or-not").get("t-2")), "?");
}

TEST(UntypedOptionsTest, GroupedAsNamesTheRepartitionTopic) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .select_key([](const std::string&, const std::string& v) { return v.substr(0, 1); })
        .group_by_key(eddy::grouped<>::as("by-initial"))
        .count(eddy::materialized<>::as("initials"));
    const auto topology = builder.build();
    EXPECT_THAT(topology.describe().to_string(), HasSubstr("by-initial-repartition"));
    eddy::topology_test_driver driver(topology);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    in.pipe_input("1", "apple");
    in.pipe_input("2", "avocado");
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("initials").get("a")), 2);
}

TEST(UntypedOptionsTest, GroupedAsRegroupsATableThroughANamedTopic) {
    eddy::streams_builder builder;
    builder.table<std::string, std::string>("users")
        .group_by([](const std::string& user, const std::string& city) { return key_value<std::string, std::string>{city, user}; },
            eddy::grouped<>::as("by-city"))
        .count(eddy::materialized<>::as("users-per-city"));
    const auto topology = builder.build();
    EXPECT_THAT(topology.describe().to_string(), HasSubstr("by-city-repartition"));
    eddy::topology_test_driver driver(topology);
    auto users = driver.create_input_topic<std::string, std::string>("users");
    users.pipe_input("ada", "london");
    users.pipe_input("bob", "london");
    users.pipe_input("ada", "paris");
    auto per_city = driver.get_key_value_store<std::string, std::int64_t>("users-per-city");
    EXPECT_EQ(per_city.get("london"), 1);
    EXPECT_EQ(per_city.get("paris"), 1);
}

TEST(UntypedOptionsTest, BranchedAsNamesTheBranches) {
    eddy::streams_builder builder;
    auto branches = builder.stream<std::string, std::string>("in")
                        .split(eddy::named::as("by-size-"))
                        .branch([](const std::string&, const std::string& v) { return v.size() > 3; },
                            eddy::branched<>::as("long"))
                        .default_branch(eddy::branched<>::as("short"));
    ASSERT_TRUE(branches.contains("by-size-long"));
    ASSERT_TRUE(branches.contains("by-size-short"));
    branches.at("by-size-long").to("long");
    branches.at("by-size-short").to("short");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto long_out = driver.create_output_topic<std::string, std::string>("long");
    auto short_out = driver.create_output_topic<std::string, std::string>("short");
    in.pipe_input("a", "lengthy");
    in.pipe_input("b", "ab");
    EXPECT_THAT(long_out.read_key_values_to_list(), ElementsAre(kv_ss{"a", "lengthy"}));
    EXPECT_THAT(short_out.read_key_values_to_list(), ElementsAre(kv_ss{"b", "ab"}));
}

TEST(UntypedOptionsTest, JoinedAndStreamJoinedNameTheJoins) {
    eddy::streams_builder builder;
    auto orders = builder.stream<std::string, std::string>("orders");
    auto customers = builder.table<std::string, std::string>("customers");
    orders
        .join(customers, [](const std::string& order, const std::string& customer) { return order + "@" + customer; },
            eddy::joined<>::as("orders-with-customers"))
        .to("enriched");
    auto payments = builder.stream<std::string, std::string>("payments");
    orders
        .join(payments, [](const std::string& o, const std::string& p) { return o + "+" + p; },
            eddy::join_windows::of_time_difference_with_no_grace(std::chrono::seconds(10)),
            eddy::stream_joined<>::as("order-payments"))
        .to("paid");
    const auto topology = builder.build();
    const auto text = topology.describe().to_string();
    EXPECT_THAT(text, HasSubstr("orders-with-customers"));
    EXPECT_THAT(text, HasSubstr("order-payments-this-join-store"));
    eddy::topology_test_driver driver(topology);
    auto customers_in = driver.create_input_topic<std::string, std::string>("customers");
    auto orders_in = driver.create_input_topic<std::string, std::string>("orders");
    auto enriched = driver.create_output_topic<std::string, std::string>("enriched");
    customers_in.pipe_input("c-1", "ada", 0);
    orders_in.pipe_input("c-1", "o-1", 1);
    EXPECT_THAT(enriched.read_key_values_to_list(), ElementsAre(kv_ss{"c-1", "o-1@ada"}));
}

} // namespace
