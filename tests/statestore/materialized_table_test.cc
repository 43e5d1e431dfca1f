// ktable::filter, filter_not and map_values with a materialized on the test
// driver: the result kept in a store of its own (queryable, logged to its
// changelog), the old value of each change the one the store held, a delete
// sent only when the store held the key. Ports of Kafka Streams'
// KTableFilterTest and KTableMapValuesTest scenarios (inputs, outputs and
// store contents); eddy's tables always carry old values, so the scenarios
// are those with old values sent.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eddy.h"

namespace {

using eddy::change;
using eddy::key_value;
using testing::AllOf;
using testing::HasSubstr;
using testing::ThrowsMessage;

using num = std::optional<std::int64_t>;
using num_kvs = std::vector<key_value<std::string, num>>;
using opt = std::optional<std::string>;
using opt_kvs = std::vector<key_value<std::string, opt>>;
using int_kvs = std::vector<key_value<std::string, std::int64_t>>;

template<typename V>
using changes = std::vector<eddy::record<std::string, change<V>>>;

// Records every change a table node sends (Kafka Streams' MockApiProcessor
// on a table's node).
template<typename V>
class capture final : public eddy::processor<std::string, change<V>, std::string, change<V>> {
public:
    explicit capture(std::shared_ptr<changes<V>> seen) : _seen(std::move(seen)) {}
    void process(const eddy::record<std::string, change<V>>& r) override {
        _seen->push_back({r.key, r.value, r.timestamp, {}});
    }

private:
    std::shared_ptr<changes<V>> _seen;
};

// The changes `table` sends, as they are sent.
template<typename V>
std::shared_ptr<changes<V>> capture_changes(const eddy::ktable<std::string, V>& table) {
    auto seen = std::make_shared<changes<V>>();
    const auto& graph = eddy::dsl::internal::access::graph(table);
    eddy::kstream<std::string, change<V>>(graph, table.node_name()).process([seen] {
        return std::make_unique<capture<V>>(seen);
    });
    return seen;
}

// Takes what was captured so far.
template<typename V>
changes<V> take(const std::shared_ptr<changes<V>>& seen) {
    auto out = std::move(*seen);
    seen->clear();
    return out;
}

template<typename V>
eddy::record<std::string, change<V>> at(std::string key, std::optional<V> new_value, std::optional<V> old_value, std::int64_t ts) {
    return {std::move(key), change<V>{std::move(new_value), std::move(old_value)}, ts, {}};
}

bool is_even(const std::string&, const num& v) {
    return *v % 2 == 0;
}

// KTableFilterTest.shouldPassThroughOnMaterialization: the materialised
// filter's output, next to an unmaterialised filter_not of the same table.
TEST(MaterializedTableTest, AMaterialisedFilterSendsADeleteOnlyForARowItHeld) {
    eddy::streams_builder builder;
    auto table1 = builder.table<std::string, num>("topic1");
    auto table2 = table1.filter(is_even, eddy::materialized<std::string, num>::as("store2"));
    auto table3 = table1.filter_not(is_even);
    EXPECT_EQ(table2.queryable_store_name(), "store2");
    EXPECT_EQ(table3.queryable_store_name(), "");
    table2.to_stream().to("out2");
    table3.to_stream().to("out3");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, num>("topic1");
    in.pipe_input("A", 1, 10);
    in.pipe_input("B", 2, 5);
    in.pipe_input("C", 3, 8);
    in.pipe_input("D", 4, 14);
    in.pipe_input("A", std::nullopt, 18);
    in.pipe_input("B", std::nullopt, 15);
    // Kafka Streams without old values sends a tombstone for every rejected
    // record; with them (as here) only for a key the filtered table had.
    std::vector<eddy::record<std::string, num>> expected2{
        {"B", 2, 5, {}}, {"D", 4, 14, {}}, {"B", std::nullopt, 15, {}}};
    EXPECT_EQ((driver.create_output_topic<std::string, num>("out2").read_records_to_list()), expected2);
    std::vector<eddy::record<std::string, num>> expected3{
        {"A", 1, 10, {}}, {"C", 3, 8, {}}, {"A", std::nullopt, 18, {}}};
    EXPECT_EQ((driver.create_output_topic<std::string, num>("out3").read_records_to_list()), expected3);
    EXPECT_EQ((driver.get_key_value_store<std::string, num>("store2").all().to_vector()), (num_kvs{{"D", 4}}));
}

// KTableFilterTest.shouldGetValuesOnMaterialization: what the stores of a
// filter and a filter_not hold after each step.
TEST(MaterializedTableTest, TheStoresOfAFilterAndAFilterNotHoldTheRowsThatPass) {
    eddy::streams_builder builder;
    auto table1 = builder.table<std::string, num>("topic1");
    auto table2 = table1.filter(is_even, eddy::materialized<std::string, num>::as("store2"));
    auto table3 = table1.filter_not(is_even, eddy::materialized<std::string, num>::as("store3"));
    auto table4 = table1.filter_not(is_even);
    EXPECT_EQ(table2.queryable_store_name(), "store2");
    EXPECT_EQ(table3.queryable_store_name(), "store3");
    EXPECT_EQ(table4.queryable_store_name(), "");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, num>("topic1");
    auto store2 = driver.get_key_value_store<std::string, num>("store2");
    auto store3 = driver.get_key_value_store<std::string, num>("store3");

    in.pipe_input("A", 1, 5);
    in.pipe_input("B", 1, 10);
    in.pipe_input("C", 1, 15);
    EXPECT_EQ(store2.all().to_vector(), num_kvs{});
    EXPECT_EQ(store3.all().to_vector(), (num_kvs{{"A", 1}, {"B", 1}, {"C", 1}}));

    in.pipe_input("A", 2, 10);
    in.pipe_input("B", 2, 5);
    EXPECT_EQ(store2.all().to_vector(), (num_kvs{{"A", 2}, {"B", 2}}));
    EXPECT_EQ(store3.all().to_vector(), (num_kvs{{"C", 1}}));

    in.pipe_input("A", 3, 15);
    EXPECT_EQ(store2.all().to_vector(), (num_kvs{{"B", 2}}));
    EXPECT_EQ(store3.all().to_vector(), (num_kvs{{"A", 3}, {"C", 1}}));

    in.pipe_input("A", std::nullopt, 10);
    in.pipe_input("B", std::nullopt, 20);
    EXPECT_EQ(store2.all().to_vector(), num_kvs{});
    EXPECT_EQ(store3.all().to_vector(), (num_kvs{{"C", 1}}));
    EXPECT_EQ(store2.get("B"), std::nullopt);
    EXPECT_EQ(store3.get("C"), num(1));
}

// KTableFilterTest.shouldEnableSendOldValuesWhenMaterializedAlreadyAndForcedToMaterialize
// (doTestSendingOldValue): the changes of the table and of its
// materialised filter, old values included.
TEST(MaterializedTableTest, AMaterialisedFilterSendsTheOldValueItsStoreHeld) {
    eddy::streams_builder builder;
    auto table1 = builder.table<std::string, num>("topic1");
    auto table2 = table1.filter(is_even, eddy::materialized<std::string, num>::as("store2"));
    auto table1_changes = capture_changes(table1);
    auto table2_changes = capture_changes(table2);
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, num>("topic1");

    in.pipe_input("A", 1, 5);
    in.pipe_input("B", 1, 10);
    in.pipe_input("C", 1, 15);
    EXPECT_EQ(take(table1_changes), (changes<num>{at<num>("A", 1, {}, 5), at<num>("B", 1, {}, 10), at<num>("C", 1, {}, 15)}));
    EXPECT_EQ(take(table2_changes), changes<num>{});

    in.pipe_input("A", 2, 15);
    in.pipe_input("B", 2, 8);
    EXPECT_EQ(take(table1_changes), (changes<num>{at<num>("A", 2, 1, 15), at<num>("B", 2, 1, 8)}));
    EXPECT_EQ(take(table2_changes), (changes<num>{at<num>("A", 2, {}, 15), at<num>("B", 2, {}, 8)}));

    in.pipe_input("A", 3, 20);
    EXPECT_EQ(take(table1_changes), (changes<num>{at<num>("A", 3, 2, 20)}));
    EXPECT_EQ(take(table2_changes), (changes<num>{at<num>("A", {}, 2, 20)}));

    in.pipe_input("A", std::nullopt, 10);
    in.pipe_input("B", std::nullopt, 20);
    EXPECT_EQ(take(table1_changes), (changes<num>{at<num>("A", {}, 3, 10), at<num>("B", {}, 2, 20)}));
    EXPECT_EQ(take(table2_changes), (changes<num>{at<num>("B", {}, 2, 20)}));
}

// KTableFilterTest.shouldSkipNullToRepartitionOnMaterialization: rejected
// rows the filter never held send nothing, so nothing reaches the
// regrouping's repartition topic (and nothing the store changelogs).
TEST(MaterializedTableTest, RejectedRowsTheFilterNeverHeldSendNothingToARegrouping) {
    eddy::streams_builder builder;
    auto table1 = builder.table<std::string, std::string>("topic1");
    auto table2 = table1.filter([](const std::string&, const std::string& v) { return v == "accept"; },
        eddy::materialized<std::string, std::string>::as("store2"));
    table2.group_by([](const std::string& k, const std::string& v) { return key_value<std::string, std::string>{k, v}; })
        .reduce([](const std::string& agg, const std::string& v) { return agg + "+" + v; },
            [](const std::string& agg, const std::string& v) { return agg + "-" + v; },
            eddy::materialized<std::string, std::string>::as("mock-result"));
    auto table1_changes = capture_changes(table1);
    auto table2_changes = capture_changes(table2);
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("topic1");
    in.pipe_input("A", "reject", 5);
    in.pipe_input("B", "reject", 10);
    in.pipe_input("C", "reject", 20);
    EXPECT_EQ(take(table1_changes), (changes<std::string>{at<std::string>("A", "reject", {}, 5),
                                        at<std::string>("B", "reject", {}, 10), at<std::string>("C", "reject", {}, 20)}));
    EXPECT_EQ(take(table2_changes), changes<std::string>{});
    EXPECT_TRUE(driver.produced_topic_names().empty());
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("mock-result").all().to_vector()),
        (std::vector<key_value<std::string, std::string>>{}));

    // Ours: a row that passes and then stops passing is added, then retracted.
    in.pipe_input("A", "accept", 30);
    in.pipe_input("A", "reject", 40);
    EXPECT_EQ(take(table2_changes),
        (changes<std::string>{at<std::string>("A", "accept", {}, 30), at<std::string>("A", {}, "accept", 40)}));
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("mock-result").all().to_vector()),
        (std::vector<key_value<std::string, std::string>>{{"A", "accept-accept"}}));
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("store2").all().to_vector()),
        (std::vector<key_value<std::string, std::string>>{}));
}

// KTableMapValuesTest.testQueryableKTable: the mapped table's output and
// its store.
TEST(MaterializedTableTest, AMaterialisedMapValuesIsQueryable) {
    eddy::streams_builder builder;
    auto table2 = builder.table<std::string, opt>("topic1").map_values(
        [](const opt& v) { return num((*v)[0] - '0'); }, eddy::materialized<std::string, num>::as("anyName"));
    EXPECT_EQ(table2.queryable_store_name(), "anyName");
    table2.to_stream().to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, opt>("topic1");
    in.pipe_input("A", "1", 5);
    in.pipe_input("B", "2", 25);
    in.pipe_input("C", "3", 20);
    in.pipe_input("D", "4", 10);
    std::vector<eddy::record<std::string, num>> expected{
        {"A", 1, 5, {}}, {"B", 2, 25, {}}, {"C", 3, 20, {}}, {"D", 4, 10, {}}};
    EXPECT_EQ((driver.create_output_topic<std::string, num>("out").read_records_to_list()), expected);
    EXPECT_EQ((driver.get_key_value_store<std::string, num>("anyName").all().to_vector()),
        (num_kvs{{"A", 1}, {"B", 2}, {"C", 3}, {"D", 4}}));
}

// KTableMapValuesTest.testQueryableValueGetter: the stores of two
// materialised map_values after each step (a delete removes the row).
TEST(MaterializedTableTest, TheStoresOfMaterialisedMapValuesFollowTheirTable) {
    eddy::streams_builder builder;
    auto table1 = builder.table<std::string, std::string>("topic1");
    auto table2 = table1.map_values([](const std::string& s) { return static_cast<std::int64_t>(std::stoll(s)); },
        eddy::materialized<std::string, std::int64_t>::as("store2"));
    auto table3 = table1.map_values([](const std::string& s) { return -static_cast<std::int64_t>(std::stoll(s)); },
        eddy::materialized<std::string, std::int64_t>::as("store3"));
    auto table4 = table1.map_values([](const std::string& s) { return static_cast<std::int64_t>(std::stoll(s)); });
    EXPECT_EQ(table2.queryable_store_name(), "store2");
    EXPECT_EQ(table3.queryable_store_name(), "store3");
    EXPECT_EQ(table4.queryable_store_name(), "");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, opt>("topic1");
    auto store2 = driver.get_key_value_store<std::string, std::int64_t>("store2");
    auto store3 = driver.get_key_value_store<std::string, std::int64_t>("store3");

    in.pipe_input("A", "01", 50);
    in.pipe_input("B", "01", 10);
    in.pipe_input("C", "01", 30);
    EXPECT_EQ(store2.all().to_vector(), (int_kvs{{"A", 1}, {"B", 1}, {"C", 1}}));
    EXPECT_EQ(store3.all().to_vector(), (int_kvs{{"A", -1}, {"B", -1}, {"C", -1}}));

    in.pipe_input("A", "02", 25);
    in.pipe_input("B", "02", 20);
    EXPECT_EQ(store2.all().to_vector(), (int_kvs{{"A", 2}, {"B", 2}, {"C", 1}}));
    EXPECT_EQ(store3.all().to_vector(), (int_kvs{{"A", -2}, {"B", -2}, {"C", -1}}));

    in.pipe_input("A", "03", 35);
    EXPECT_EQ(store2.all().to_vector(), (int_kvs{{"A", 3}, {"B", 2}, {"C", 1}}));
    EXPECT_EQ(store3.all().to_vector(), (int_kvs{{"A", -3}, {"B", -2}, {"C", -1}}));

    in.pipe_input("A", std::nullopt, 1);
    EXPECT_EQ(store2.all().to_vector(), (int_kvs{{"B", 2}, {"C", 1}}));
    EXPECT_EQ(store3.all().to_vector(), (int_kvs{{"B", -2}, {"C", -1}}));
}

// KTableMapValuesTest.shouldNotEnableSendingOldValuesOnParentIfMapValuesMaterialized
// (testSendingOldValues): the old values come from the store, so the mapper
// runs once per change (a mapper of both sides would run 10 times here).
TEST(MaterializedTableTest, AMaterialisedMapValuesSendsTheStoredOldValueAndMapsEachChangeOnce) {
    eddy::streams_builder builder;
    auto calls = std::make_shared<int>(0);
    auto table2 = builder.table<std::string, std::string>("topic1").map_values(
        [calls](const std::string&, const std::string& s) {
            ++*calls;
            return static_cast<std::int64_t>(std::stoll(s));
        },
        eddy::materialized<std::string, std::int64_t>::as("bob"));
    auto seen = capture_changes(table2);
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, opt>("topic1");
    using c = changes<std::int64_t>;

    in.pipe_input("A", "01", 5);
    in.pipe_input("B", "01", 10);
    in.pipe_input("C", "01", 15);
    EXPECT_EQ(take(seen), (c{at<std::int64_t>("A", 1, {}, 5), at<std::int64_t>("B", 1, {}, 10),
                              at<std::int64_t>("C", 1, {}, 15)}));

    in.pipe_input("A", "02", 10);
    in.pipe_input("B", "02", 8);
    EXPECT_EQ(take(seen), (c{at<std::int64_t>("A", 2, 1, 10), at<std::int64_t>("B", 2, 1, 8)}));

    in.pipe_input("A", "03", 20);
    EXPECT_EQ(take(seen), (c{at<std::int64_t>("A", 3, 2, 20)}));

    in.pipe_input("A", std::nullopt, 30);
    EXPECT_EQ(take(seen), (c{at<std::int64_t>("A", {}, 3, 30)}));
    EXPECT_EQ(*calls, 6);
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("bob").all().to_vector()), (int_kvs{{"B", 2}, {"C", 1}}));
}

TEST(MaterializedTableTest, TheStoreIsLoggedToItsChangelogWithADeleteAsATombstone) {
    eddy::streams_builder builder;
    builder.table<std::string, num>("topic1").filter(is_even, eddy::materialized<std::string, num>::as("evens"));
    auto topology = builder.build();
    ASSERT_EQ(topology.changelog_topics("app").size(), 1U);
    EXPECT_EQ(topology.changelog_topics("app")[0].name, "app-evens-changelog");
    eddy::streams_config config;
    config.set(eddy::streams_config::application_id, "app");
    eddy::topology_test_driver driver(topology, config);
    auto in = driver.create_input_topic<std::string, num>("topic1");
    in.pipe_input("A", 2);
    in.pipe_input("B", 3); // never held: nothing logged
    in.pipe_input("A", 5);
    in.pipe_input("B", 4);
    auto changelog = driver.create_output_topic<std::string, num>("app-evens-changelog");
    EXPECT_EQ(changelog.read_key_values_to_list(), (num_kvs{{"A", 2}, {"A", std::nullopt}, {"B", 4}}));
}

TEST(MaterializedTableTest, LoggingDisabledWritesNoChangelog) {
    eddy::streams_builder builder;
    builder.table<std::string, std::string>("topic1").map_values(
        [](const std::string& s) { return s + "!"; },
        eddy::materialized<std::string, std::string>::as(eddy::stores::in_memory_key_value_store("loud"))
            .with_logging_disabled());
    auto topology = builder.build();
    EXPECT_TRUE(topology.changelog_topics("app").empty());
    eddy::topology_test_driver driver(topology);
    driver.create_input_topic<std::string, std::string>("topic1").pipe_input("A", "a");
    EXPECT_TRUE(driver.produced_topic_names().empty());
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("loud").get("A")), "a!");
}

TEST(MaterializedTableTest, AnUnnamedStoreIsGeneratedAndShownOnItsNodeByDescribe) {
    eddy::streams_builder builder;
    auto table = builder.table<std::string, std::string>("topic1", {},
        eddy::materialized<std::string, std::string>::as("users"));
    auto filtered = table.filter([](const std::string&, const std::string& v) { return !v.empty(); },
        eddy::materialized<std::string, std::string>());
    auto mapped = filtered.map_values([](const std::string& v) { return static_cast<std::int64_t>(v.size()); },
        eddy::materialized<std::string, std::int64_t>::as("lengths"), eddy::named::as("length"));
    EXPECT_EQ(filtered.queryable_store_name(), "KTABLE-FILTER-STATE-STORE-0000000002");
    EXPECT_EQ(filtered.node_name(), "KTABLE-FILTER-0000000003");
    EXPECT_EQ(mapped.queryable_store_name(), "lengths");
    const std::string expected =
        "Topologies:\n"
        "   Sub-topology: 0\n"
        "    Source: KSTREAM-SOURCE-0000000000 (topics: [topic1])\n"
        "      --> KTABLE-SOURCE-0000000001\n"
        "    Processor: KTABLE-SOURCE-0000000001 (stores: [users])\n"
        "      --> KTABLE-FILTER-0000000003\n"
        "      <-- KSTREAM-SOURCE-0000000000\n"
        "    Processor: KTABLE-FILTER-0000000003 (stores: [KTABLE-FILTER-STATE-STORE-0000000002])\n"
        "      --> length\n"
        "      <-- KTABLE-SOURCE-0000000001\n"
        "    Processor: length (stores: [lengths])\n"
        "      --> none\n"
        "      <-- KTABLE-FILTER-0000000003\n"
        "\n";
    auto topology = builder.build();
    EXPECT_EQ(topology.describe().to_string(), expected);
    eddy::topology_test_driver driver(topology);
    auto in = driver.create_input_topic<std::string, std::string>("topic1");
    in.pipe_input("A", "abc");
    in.pipe_input("B", "");
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("KTABLE-FILTER-STATE-STORE-0000000002").all().to_vector()),
        (std::vector<key_value<std::string, std::string>>{{"A", "abc"}}));
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("lengths").all().to_vector()), (int_kvs{{"A", 3}}));
}

TEST(MaterializedTableTest, AStoreNameUsedByAnotherStoreFailsTheBuildNamingTheNode) {
    eddy::streams_builder builder;
    auto table = builder.table<std::string, std::string>("topic1", {},
        eddy::materialized<std::string, std::string>::as("users"));
    table.filter([](const std::string&, const std::string& v) { return !v.empty(); },
        eddy::materialized<std::string, std::string>::as("users"), eddy::named::as("non-empty"));
    EXPECT_THAT([&] { (void)builder.build(); },
        ThrowsMessage<eddy::topology_error>(AllOf(HasSubstr("store users: declared twice"),
            HasSubstr("processor KTABLE-SOURCE-0000000001"), HasSubstr("processor non-empty"))));
}

TEST(MaterializedTableTest, AStoreOfTheWrongTypesIsAStoreErrorNamingIt) {
    eddy::streams_builder builder;
    builder.table<std::string, std::string>("topic1").map_values(
        [](const std::string& v) { return static_cast<std::int64_t>(v.size()); },
        eddy::materialized<std::string, std::int64_t>::as("lengths"));
    eddy::topology_test_driver driver(builder.build());
    EXPECT_THAT(([&] { (void)driver.get_key_value_store<std::string, std::string>("lengths"); }),
        ThrowsMessage<eddy::store_error>(HasSubstr("store lengths was asked for as a key-value store of")));
}

} // namespace
