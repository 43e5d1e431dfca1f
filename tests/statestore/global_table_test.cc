// Global tables on the test driver: piping to the global topic updates the
// global store (tombstones delete), processors of every task read it, the
// topology describes it as Kafka Streams does, and build() rejects a global
// table on a topic another source reads.

#include <memory>
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
using string_kvs = std::vector<key_value<std::string, std::string>>;

// Looks each order's user up in the global store: "<order>/<user name>", or
// "<order>/?" for a user the store does not have.
class enrich final : public eddy::processor<std::string, std::string, std::string, std::string> {
public:
    void init(eddy::processor_context<std::string, std::string>& context) override {
        processor::init(context);
        _users.emplace(context.get_key_value_store<std::string, std::string>("users-store"));
    }
    void process(const eddy::record<std::string, std::string>& r) override {
        // The order's value names its user.
        auto user = _users->get(r.value);
        context().forward(r.with_value(r.key + "/" + user.value_or("?")));
    }

private:
    std::optional<eddy::key_value_store<std::string, std::string>> _users;
};

eddy::global_ktable<std::string, std::string> users_table(eddy::streams_builder& builder) {
    return builder.global_table<std::string, std::string>(
        "users", {}, eddy::materialized<std::string, std::string>::as("users-store"));
}

TEST(GlobalTableTest, PipingToTheGlobalTopicUpdatesTheStoreAndTombstonesDelete) {
    eddy::streams_builder builder;
    auto users = users_table(builder);
    EXPECT_EQ(users.queryable_store_name(), "users-store");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, opt>("users");
    in.pipe_input("u1", "alice");
    in.pipe_input("u2", "bob");
    in.pipe_input("u1", "alice b.");
    in.pipe_input("u2", std::nullopt);
    in.pipe_input("u3", "carol");
    auto store = driver.get_key_value_store<std::string, std::string>("users-store");
    EXPECT_EQ(store.all().to_vector(), (string_kvs{{"u1", "alice b."}, {"u3", "carol"}}));
    EXPECT_TRUE(driver.produced_topic_names().empty()); // no changelog: the topic is one
}

TEST(GlobalTableTest, ProcessorsOfEveryTaskReadTheGlobalStore) {
    eddy::streams_builder builder;
    users_table(builder);
    // Two sub-topologies (two kinds of tasks) read the one global store; the
    // second names it among its stores, the first does not need to.
    builder.stream<std::string, std::string>("orders")
        .process([] { return std::make_unique<enrich>(); }, eddy::named::as("enrich-orders"))
        .to("enriched-orders");
    builder.stream<std::string, std::string>("returns")
        .process([] { return std::make_unique<enrich>(); }, eddy::named::as("enrich-returns"), {"users-store"})
        .to("enriched-returns");
    auto topology = builder.build();
    ASSERT_EQ(topology.subtopology_count(), 3U);
    EXPECT_TRUE(topology.is_global(0));
    EXPECT_TRUE(topology.source_topics(0).empty()); // no task reads the global topic
    EXPECT_TRUE(topology.stores_of(2).empty());      // the tasks keep no copy of it
    EXPECT_TRUE(topology.changelog_topics("app").empty());

    eddy::topology_test_driver driver(topology);
    auto users = driver.create_input_topic<std::string, opt>("users");
    auto orders = driver.create_input_topic<std::string, std::string>("orders");
    auto returns = driver.create_input_topic<std::string, std::string>("returns");
    users.pipe_input("u1", "alice");
    orders.pipe_input("o1", "u1");
    orders.pipe_input("o2", "u2");
    users.pipe_input("u2", "bob");
    returns.pipe_input("r1", "u2");
    users.pipe_input("u1", std::nullopt);
    orders.pipe_input("o3", "u1");
    auto enriched = driver.create_output_topic<std::string, std::string>("enriched-orders");
    EXPECT_EQ(enriched.read_values_to_list(), (std::vector<std::string>{"o1/alice", "o2/?", "o3/?"}));
    auto enriched_returns = driver.create_output_topic<std::string, std::string>("enriched-returns");
    EXPECT_EQ(enriched_returns.read_values_to_list(), (std::vector<std::string>{"r1/bob"}));
}

TEST(GlobalTableTest, AGlobalTableOnATopicAnotherSourceReadsIsRejectedNamingTheNode) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("users", eddy::consumed<std::string, std::string>::as("user-stream"));
    builder.global_table<std::string, std::string>("users", eddy::consumed<std::string, std::string>::as("user-table"));
    EXPECT_THAT([&] { (void)builder.build(); },
        ThrowsMessage<eddy::topology_error>(HasSubstr("source user-table: topic users is already read by source "
                                                      "user-stream; a global table needs a topic no other source "
                                                      "reads")));

    eddy::streams_builder other_order;
    other_order.global_table<std::string, std::string>(
        "users", eddy::consumed<std::string, std::string>::as("user-table"));
    other_order.table<std::string, std::string>("users", eddy::consumed<std::string, std::string>::as("user-rows"));
    EXPECT_THAT([&] { (void)other_order.build(); },
        ThrowsMessage<eddy::topology_error>(HasSubstr("source user-rows: topic users is already read by source "
                                                      "user-table; a global table needs")));
}

TEST(GlobalTableTest, DescribeShowsTheGlobalStoreAsKafkaStreamsDoes) {
    eddy::streams_builder builder;
    builder.global_table<std::string, std::string>("users");
    builder.stream<std::string, std::string>("orders").to("out");
    const std::string expected =
        "Topologies:\n"
        "   Sub-topology: 0 for global store (will not generate tasks)\n"
        "    Source: KSTREAM-SOURCE-0000000001 (topics: [users])\n"
        "      --> KTABLE-SOURCE-0000000002\n"
        "    Processor: KTABLE-SOURCE-0000000002 (stores: [users-STATE-STORE-0000000000])\n"
        "      --> none\n"
        "      <-- KSTREAM-SOURCE-0000000001\n"
        "  Sub-topology: 1\n"
        "    Source: KSTREAM-SOURCE-0000000003 (topics: [orders])\n"
        "      --> KSTREAM-SINK-0000000004\n"
        "    Sink: KSTREAM-SINK-0000000004 (topic: out)\n"
        "      <-- KSTREAM-SOURCE-0000000003\n"
        "\n";
    EXPECT_EQ(builder.build().describe().to_string(), expected);
}

} // namespace
