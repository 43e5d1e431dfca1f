// Aggregations on the test driver: count, reduce and aggregate of a grouped
// stream, the table's changes as a stream, the store and its changelog, the
// repartition a key change needs, and stores in the processor API.

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
using testing::HasSubstr;
using testing::ThrowsMessage;

using string_kvs = std::vector<key_value<std::string, std::string>>;
using count_kvs = std::vector<key_value<std::string, std::int64_t>>;

// Kafka Streams' KStreamAggregateTest.testAggBasic: MockInitializer's "0"
// and MockAggregator's agg + "+" + value, the same input, the same
// output (one update per input record, with its timestamp).
TEST(AggregationTest, AggregatesPerKeyAsKafkaStreamsAggBasic) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("topic1")
        .group_by_key()
        .aggregate([] { return std::string("0"); },
            [](const std::string&, const std::string& v, const std::string& agg) { return agg + "+" + v; },
            eddy::materialized<std::string, std::string>::as("topic1-Canonized"))
        .to_stream()
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("topic1");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("A", "1", 10);
    in.pipe_input("B", "2", 15);
    in.pipe_input("A", "3", 20);
    in.pipe_input("B", "4", 25);
    in.pipe_input("C", "5", 30);
    in.pipe_input("D", "6", 35);
    in.pipe_input("B", "7", 40);
    in.pipe_input("C", "8", 45);
    std::vector<record<std::string, std::string>> expected{{"A", "0+1", 10, {}}, {"B", "0+2", 15, {}},
        {"A", "0+1+3", 20, {}}, {"B", "0+2+4", 25, {}}, {"C", "0+5", 30, {}}, {"D", "0+6", 35, {}},
        {"B", "0+2+4+7", 40, {}}, {"C", "0+5+8", 45, {}}};
    EXPECT_EQ(out.read_records_to_list(), expected);

    auto store = driver.get_key_value_store<std::string, std::string>("topic1-Canonized");
    EXPECT_EQ(store.all().to_vector(), (string_kvs{{"A", "0+1+3"}, {"B", "0+2+4+7"}, {"C", "0+5+8"}, {"D", "0+6"}}));
}

TEST(AggregationTest, CountsPerKeyIntoAStoreBackedByAChangelog) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("clicks")
        .group_by_key()
        .count(eddy::materialized<std::string, std::int64_t>::as("clicks-per-user"))
        .to_stream()
        .to("click-counts");
    eddy::streams_config config;
    config.set(eddy::streams_config::application_id, "clicker");
    eddy::topology_test_driver driver(builder.build(), config);
    auto in = driver.create_input_topic<std::string, std::string>("clicks");
    in.pipe_key_value_list({{"alice", "/a"}, {"bob", "/b"}, {"alice", "/c"}, {"alice", "/d"}});

    auto out = driver.create_output_topic<std::string, std::int64_t>("click-counts");
    EXPECT_EQ(out.read_key_values_to_list(), (count_kvs{{"alice", 1}, {"bob", 1}, {"alice", 2}, {"alice", 3}}));
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("clicks-per-user").get("alice")), 3);

    // Every update is logged, keyed and serialised as in the store (the
    // value with its timestamp, Kafka Streams' ValueAndTimestamp layout).
    auto changelog = driver.create_output_topic<std::string, eddy::timestamped<std::int64_t>>(
        "clicker-clicks-per-user-changelog", eddy::serdes::string{},
        eddy::serdes::value_and_timestamp<std::int64_t>{eddy::serdes::int64{}});
    EXPECT_EQ(changelog.read_key_values_to_list(),
        (std::vector<key_value<std::string, eddy::timestamped<std::int64_t>>>{
            {"alice", {1, 0}}, {"bob", {1, 0}}, {"alice", {2, 0}}, {"alice", {3, 0}}}));
}

TEST(AggregationTest, LoggingDisabledWritesNoChangelog) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .group_by_key()
        .count(eddy::materialized<std::string, std::int64_t>::as(eddy::stores::in_memory_key_value_store("counts"))
                .with_logging_disabled())
        .to_stream()
        .to("out");
    eddy::streams_config config;
    config.set(eddy::streams_config::application_id, "app");
    eddy::topology_test_driver driver(builder.build(), config);
    driver.create_input_topic<std::string, std::string>("in").pipe_input("k", "v");
    EXPECT_EQ(driver.produced_topic_names(), (std::set<std::string>{"out"}));
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("counts").get("k")), 1);
}

TEST(AggregationTest, ReducesTheFirstValueThenEachNext) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::int64_t>("amounts")
        .group_by_key()
        .reduce([](std::int64_t total, std::int64_t v) { return total + v; })
        .to_stream()
        .to("totals");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::int64_t>("amounts");
    in.pipe_key_value_list({{"x", 5}, {"y", 1}, {"x", 10}, {"x", -3}});
    auto out = driver.create_output_topic<std::string, std::int64_t>("totals");
    EXPECT_EQ(out.read_key_values_to_list(), (count_kvs{{"x", 5}, {"y", 1}, {"x", 15}, {"x", 12}}));
    // The store's name is generated as Kafka Streams would.
    EXPECT_EQ(driver.store_names(), (std::set<std::string>{"KSTREAM-REDUCE-STATE-STORE-0000000001"}));
}

TEST(AggregationTest, GeneratedNamesAndStoresShowInTheDescription) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in").group_by_key().count().to_stream().to("out");
    EXPECT_EQ(builder.build().describe().to_string(),
        "Topologies:\n"
        "   Sub-topology: 0\n"
        "    Source: KSTREAM-SOURCE-0000000000 (topics: [in])\n"
        "      --> KSTREAM-AGGREGATE-0000000002\n"
        "    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])\n"
        "      --> KTABLE-TOSTREAM-0000000003\n"
        "      <-- KSTREAM-SOURCE-0000000000\n"
        "    Processor: KTABLE-TOSTREAM-0000000003 (stores: [])\n"
        "      --> KSTREAM-SINK-0000000004\n"
        "      <-- KSTREAM-AGGREGATE-0000000002\n"
        "    Sink: KSTREAM-SINK-0000000004 (topic: out)\n"
        "      <-- KTABLE-TOSTREAM-0000000003\n\n");
}

TEST(AggregationTest, GroupByANewKeyRepartitionsFirst) {
    eddy::streams_builder builder;
    // Count words: the key becomes the word, so the counts need a
    // repartition (a second sub-topology reads it).
    builder.stream<std::string, std::string>("lines")
        .flat_map_values([](const std::string& line) {
            std::vector<std::string> words;
            std::string word;
            for (char c : line + " ") {
                if (c == ' ') {
                    if (!word.empty()) {
                        words.push_back(word);
                    }
                    word.clear();
                } else {
                    word += c;
                }
            }
            return words;
        })
        .group_by([](const std::string&, const std::string& word) { return word; },
            eddy::grouped<std::string, std::string>::as("words"))
        .count(eddy::materialized<std::string, std::int64_t>::as("word-counts"))
        .to_stream()
        .to("counts");
    auto topology = builder.build();
    ASSERT_EQ(topology.subtopology_count(), 2U);
    EXPECT_EQ(topology.source_topics(1, "wc"), (std::vector<std::string>{"wc-words-repartition"}));
    ASSERT_EQ(topology.changelog_topics("wc").size(), 1U);
    EXPECT_EQ(topology.changelog_topics("wc")[0].name, "wc-word-counts-changelog");
    EXPECT_EQ(topology.changelog_topics("wc")[0].subtopology, 1);

    eddy::topology_test_driver driver(topology);
    auto in = driver.create_input_topic<std::string, std::string>("lines");
    in.pipe_input("l1", "the cat and the hat");
    in.pipe_input("l2", "the end");
    auto store = driver.get_key_value_store<std::string, std::int64_t>("word-counts");
    EXPECT_EQ(store.all().to_vector(), (count_kvs{{"and", 1}, {"cat", 1}, {"end", 1}, {"hat", 1}, {"the", 3}}));
}

TEST(AggregationTest, GroupByKeyWithoutAKeyChangeStaysInOneSubTopology) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .filter([](const std::string&, const std::string& v) { return !v.empty(); })
        .map_values([](const std::string& v) { return v + "!"; })
        .group_by_key()
        .count()
        .to_stream()
        .to("out");
    EXPECT_EQ(builder.build().subtopology_count(), 1U);

    eddy::streams_builder changed;
    changed.stream<std::string, std::string>("in")
        .map([](const std::string& k, const std::string& v) { return key_value<std::string, std::string>{v, k}; })
        .filter([](const std::string&, const std::string&) { return true; })
        .group_by_key()
        .count();
    EXPECT_EQ(changed.build().subtopology_count(), 2U);
}

TEST(AggregationTest, NullKeysAndValuesDoNotChangeTheAggregate) {
    eddy::streams_builder builder;
    builder.stream<std::optional<std::string>, std::optional<std::string>>("in")
        .group_by_key()
        .count(eddy::materialized<std::optional<std::string>, std::int64_t>::as("counts"))
        .to_stream()
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::optional<std::string>, std::optional<std::string>>("in");
    in.pipe_input(std::nullopt, "v");
    in.pipe_input("k", std::nullopt);
    in.pipe_input("k", "v");
    auto out = driver.create_output_topic<std::optional<std::string>, std::int64_t>("out");
    EXPECT_EQ(out.read_key_values_to_list(), (std::vector<key_value<std::optional<std::string>, std::int64_t>>{{"k", 1}}));
}

// cogroup: two streams fold into one aggregate per key, each with its own
// aggregator, in one store and one task.
TEST(AggregationTest, CogroupFoldsSeveralStreamsIntoOneAggregate) {
    eddy::streams_builder builder;
    auto clicks = builder.stream<std::string, std::string>("clicks").group_by_key();
    auto purchases = builder.stream<std::string, std::int64_t>("purchases").group_by_key();
    clicks
        .cogroup<std::string>([](const std::string&, const std::string& page, const std::string& agg) {
            return agg + " c:" + page;
        })
        .cogroup(purchases, [](const std::string&, std::int64_t amount, const std::string& agg) {
            return agg + " p:" + std::to_string(amount);
        })
        .aggregate([] { return std::string("|"); }, eddy::materialized<std::string, std::string>::as("activity"))
        .to_stream()
        .to("activity");
    auto topology = builder.build();
    EXPECT_EQ(topology.subtopology_count(), 1U); // the shared store keeps both inputs in one task

    eddy::topology_test_driver driver(topology);
    auto in_clicks = driver.create_input_topic<std::string, std::string>("clicks");
    auto in_purchases = driver.create_input_topic<std::string, std::int64_t>("purchases");
    in_clicks.pipe_input("alice", "/home");
    in_purchases.pipe_input("alice", 30);
    in_purchases.pipe_input("bob", 5);
    in_clicks.pipe_input("alice", "/cart");
    auto out = driver.create_output_topic<std::string, std::string>("activity");
    EXPECT_EQ(out.read_key_values_to_list(), (string_kvs{{"alice", "| c:/home"}, {"alice", "| c:/home p:30"},
                                                 {"bob", "| p:5"}, {"alice", "| c:/home p:30 c:/cart"}}));
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("activity").get("bob")), "| p:5");
}

// The processor API: a store declared on the builder and named where the
// processor is added.
class dedup final : public eddy::processor<std::string, std::string, std::string, std::string> {
public:
    void init(eddy::processor_context<std::string, std::string>& context) override {
        processor::init(context);
        _seen.emplace(context.get_key_value_store<std::string, std::int64_t>("seen"));
    }
    void process(const record<std::string, std::string>& r) override {
        if (_seen->put_if_absent(r.value, r.timestamp)) {
            return; // a duplicate
        }
        context().forward(r);
    }

private:
    std::optional<eddy::key_value_store<std::string, std::int64_t>> _seen;
};

TEST(AggregationTest, AProcessorUsesADeclaredStore) {
    eddy::streams_builder builder;
    builder.add_state_store(eddy::stores::key_value_store_builder(
        eddy::stores::persistent_key_value_store("seen"), eddy::serde_ref<std::string>(eddy::serdes::string{}),
        eddy::serde_ref<std::int64_t>(eddy::serdes::int64{})));
    builder.stream<std::string, std::string>("events")
        .process([] { return std::make_unique<dedup>(); }, eddy::named::as("dedup"), {"seen"})
        .to("unique");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("events");
    in.pipe_key_value_list({{"a", "e1"}, {"b", "e2"}, {"a", "e1"}, {"c", "e3"}, {"d", "e2"}});
    auto out = driver.create_output_topic<std::string, std::string>("unique");
    EXPECT_EQ(out.read_key_values_to_list(), (string_kvs{{"a", "e1"}, {"b", "e2"}, {"c", "e3"}}));
    EXPECT_GT((driver.get_key_value_store<std::string, std::int64_t>("seen").approximate_num_entries()), 0U);
}

TEST(AggregationTest, BuildRejectsAnUndeclaredStoreNamingTheNode) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("events")
        .process([] { return std::make_unique<dedup>(); }, eddy::named::as("dedup"), {"seen"})
        .to("unique");
    EXPECT_THAT([&] { (void)builder.build(); },
        ThrowsMessage<eddy::topology_error>(HasSubstr("processor dedup: uses store seen, which is not declared")));
}

TEST(AggregationTest, BuildRejectsTwoStoresOfOneName) {
    eddy::streams_builder builder;
    auto s = builder.stream<std::string, std::string>("in").group_by_key();
    s.count(eddy::materialized<std::string, std::int64_t>::as("counts"));
    s.count(eddy::materialized<std::string, std::int64_t>::as("counts"));
    EXPECT_THAT([&] { (void)builder.build(); },
        ThrowsMessage<eddy::topology_error>(HasSubstr("store counts: declared twice")));
}

TEST(AggregationTest, AStoreAskedForWithOtherTypesFailsNamingIt) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in").group_by_key().count(
        eddy::materialized<std::string, std::int64_t>::as("counts"));
    eddy::topology_test_driver driver(builder.build());
    EXPECT_THAT(([&] { (void)driver.get_key_value_store<std::string, std::string>("counts"); }),
        ThrowsMessage<eddy::store_error>(HasSubstr("store counts was asked for as a key-value store of")));
    EXPECT_THAT(([&] { (void)driver.get_key_value_store<std::string, std::int64_t>("nope"); }),
        ThrowsMessage<eddy::store_error>(HasSubstr("the topology has no store nope")));
}

} // namespace
