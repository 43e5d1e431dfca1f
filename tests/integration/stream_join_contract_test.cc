// Stream-stream joins under the Kafka runtime, on a broker (the embedded one,
// or with EDDY_TEST_KAFKA a real Kafka): the join's inputs are checked for
// co-partitioning at start, the results over three partitions equal the test
// driver's, and the join stores get their changelog topics. A foreign-key
// join of tables of different partition counts runs through its subscription
// topics.

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/admin.h"
#include "runtime/embedded_broker.h"
#include "runtime/kafka_error.h"
#include "runtime/kafka_streams.h"
#include "runtime/topology_test_driver.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/kafka_test_util.h"
#include "topology/streams_builder.h"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using eddy::test::consume;
using eddy::test::produce;
using eddy::test::unique;

using records = std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>;

eddy::topology pairs(const std::string& left, const std::string& right, const std::string& out) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(left)
        .join(builder.stream<std::string, std::string>(right),
            [](const std::string& l, const std::string& r) { return l + "+" + r; },
            eddy::join_windows::of_time_difference_with_no_grace(1h),
            eddy::stream_joined<std::string, std::string, std::string>().with_store_name("pairs"))
        .to(out);
    return builder.build();
}

TEST(StreamJoinContractTest, JoinInputsThatAreNotCoPartitionedFailStartNamingBothTopics) {
    auto a = unique("join-two");
    auto b = unique("join-three");
    broker().create_topic(a, 2);
    broker().create_topic(b, 3);
    eddy::kafka_streams app(pairs(a, b, unique("join-out")), config_for(unique("join-copart")));
    try {
        app.start();
        FAIL() << "expected a config_error";
    } catch (const eddy::config_error& e) {
        EXPECT_THAT(e.what(), HasSubstr("not co-partitioned"));
        EXPECT_THAT(e.what(), HasSubstr(a + " (2 partitions), " + b + " (3 partitions)"));
    }
}

TEST(StreamJoinContractTest, ResultsOverThreePartitionsEqualTheDriversAndStoresHaveChangelogs) {
    const auto left = unique("join-left");
    const auto right = unique("join-right");
    const auto out = unique("join-out");
    broker().create_topic(left, 3);
    broker().create_topic(right, 3);
    records lefts;
    records rights;
    for (int k = 0; k < 30; ++k) {
        for (int i = 0; i < 3 && k < 20; ++i) {
            lefts.emplace_back("k" + std::to_string(k), "L" + std::to_string(k) + "." + std::to_string(i));
        }
        for (int i = 0; i < 2; ++i) {
            rights.emplace_back("k" + std::to_string(k), "R" + std::to_string(k) + "." + std::to_string(i));
        }
    }

    std::multiset<std::pair<std::string, std::string>> expected;
    {
        eddy::topology_test_driver driver(pairs(left, right, out));
        auto l = driver.create_input_topic<std::string, std::string>(left);
        auto r = driver.create_input_topic<std::string, std::string>(right);
        for (const auto& [k, v] : lefts) {
            l.pipe_input(*k, *v);
        }
        for (const auto& [k, v] : rights) {
            r.pipe_input(*k, *v);
        }
        for (auto& kv : driver.create_output_topic<std::string, std::string>(out).read_key_values_to_list()) {
            expected.emplace(kv.key, kv.value);
        }
    }
    ASSERT_EQ(expected.size(), 20U * 3 * 2);

    const auto app_id = unique("join-app");
    eddy::kafka_streams app(pairs(left, right, out), config_for(app_id));
    app.start();
    produce(broker().bootstrap_servers(), left, lefts);
    produce(broker().bootstrap_servers(), right, rights);
    std::multiset<std::pair<std::string, std::string>> got;
    for (const auto& r : consume(broker().bootstrap_servers(), out, expected.size(), 60s)) {
        got.emplace(r.key.value_or("<null>"), r.value.value_or("<null>"));
    }
    EXPECT_EQ(got, expected);
    EXPECT_TRUE(app.close(30s));

    eddy::admin_client admin(config_for(app_id));
    auto topics = admin.list_topics();
    for (const auto* store : {"pairs-this-join-store", "pairs-other-join-store"}) {
        const auto log = app_id + "-" + store + "-changelog";
        ASSERT_TRUE(topics.contains(log)) << log;
        EXPECT_EQ(topics.at(log).partitions, 3);
    }
}

// A foreign-key join of tables on topics of 3 (orders) and 2 (products)
// partitions: the subscription topics are created co-partitioned with the
// side that reads each, every order meets its product, and a product's
// update and an order's foreign-key change reach the result.
TEST(ForeignKeyJoinContractTest, TablesWithDifferentPartitionCountsJoinThroughSubscriptionTopics) {
    const auto orders = unique("fk-orders");
    const auto products = unique("fk-products");
    const auto out = unique("fk-out");
    broker().create_topic(orders, 3);
    broker().create_topic(products, 2);
    eddy::streams_builder builder;
    auto order_table = builder.table<std::string, std::string>(orders);
    auto product_table = builder.table<std::string, std::string>(products);
    order_table
        .join(
            product_table, [](const std::string& v) { return v.substr(v.find('|') + 1); },
            [](const std::string& o, const std::string& p) { return std::optional<std::string>(o + "/" + p); },
            eddy::named::as("lines"))
        .to_stream()
        .to(out);
    const auto app_id = unique("fk-app");
    eddy::kafka_streams app(builder.build(), config_for(app_id));
    app.start();
    records product_rows;
    for (int i = 0; i < 4; ++i) {
        product_rows.emplace_back("p" + std::to_string(i), "product-" + std::to_string(i));
    }
    produce(broker().bootstrap_servers(), products, product_rows);
    records order_rows;
    std::multiset<std::pair<std::string, std::string>> expected;
    for (int i = 0; i < 10; ++i) {
        const auto product = "p" + std::to_string(i % 4);
        order_rows.emplace_back("o" + std::to_string(i), "order-" + std::to_string(i) + "|" + product);
        expected.emplace("o" + std::to_string(i),
            "order-" + std::to_string(i) + "|" + product + "/product-" + std::to_string(i % 4));
    }
    produce(broker().bootstrap_servers(), orders, order_rows);
    std::multiset<std::pair<std::string, std::string>> got;
    // consume() reads the topic from its start: everything so far.
    auto read = [&](std::size_t n) {
        got.clear();
        for (const auto& r : consume(broker().bootstrap_servers(), out, n, 60s)) {
            got.emplace(r.key.value_or("<null>"), r.value.value_or("<null>"));
        }
    };
    read(expected.size());
    EXPECT_EQ(got, expected);

    // p1 changes: o1, o5 and o9 name it. o2 moves from p2 to p3.
    produce(broker().bootstrap_servers(), products, {{"p1", "product-1b"}});
    for (const auto* o : {"o1", "o5", "o9"}) {
        const std::string id(o + 1);
        expected.emplace(o, "order-" + id + "|p1/product-1b");
    }
    read(expected.size());
    EXPECT_EQ(got, expected);
    produce(broker().bootstrap_servers(), orders, {{"o2", "order-2|p3"}});
    expected.emplace("o2", "order-2|p3/product-3");
    read(expected.size());
    EXPECT_EQ(got, expected);
    EXPECT_TRUE(app.close(30s));

    eddy::admin_client admin(config_for(app_id));
    auto topics = admin.list_topics();
    const std::pair<std::string, int> internal[] = {{app_id + "-lines-subscription-registration-topic", 2},
        {app_id + "-lines-subscription-response-topic", 3}, {app_id + "-lines-subscription-store-changelog", 2}};
    for (const auto& [topic, partitions] : internal) {
        ASSERT_TRUE(topics.contains(topic)) << topic;
        EXPECT_EQ(topics.at(topic).partitions, partitions) << topic;
    }
}

} // namespace
