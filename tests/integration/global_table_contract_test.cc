// Global tables on a broker (compiled for the embedded broker and, with
// EDDY_TEST_KAFKA, for a real Kafka): every instance holds every partition
// of the global topic, restored before its stream threads process and kept
// up to date while they run; a clean restart of a persistent global store
// restores only the tail.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/kafka_streams.h"
#include "serde/serdes.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/kafka_test_util.h"
#include "tests/temp_dir.h"
#include "topology/streams_builder.h"

namespace {

using eddy::test::consume_until;
using eddy::test::kafka_record;
using eddy::test::produce;
using eddy::test::unique;
using records = std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>;

class counting_listener final : public eddy::state_restore_listener {
public:
    void on_restore_end(const std::string&, std::int32_t, const std::string&, std::int64_t total) override {
        ++ends;
        restored += total;
    }
    std::atomic<int> ends = 0;
    std::atomic<std::int64_t> restored = 0;
};

using eddy::test::temp_dir;

// Each order (its value names a user) becomes "<order>/<user's name>", or
// "<order>/?" when the global store has no such user.
class enrich final : public eddy::processor<std::string, std::string, std::string, std::string> {
public:
    void init(eddy::processor_context<std::string, std::string>& context) override {
        processor::init(context);
        _users.emplace(context.get_key_value_store<std::string, std::string>("users-store"));
    }
    void process(const eddy::record<std::string, std::string>& r) override {
        context().forward(r.with_value(r.key + "/" + _users->get(r.value).value_or("?")));
    }

private:
    std::optional<eddy::key_value_store<std::string, std::string>> _users;
};

struct global_app {
    std::string users = unique("users");
    std::string orders = unique("orders");
    std::string out = unique("enriched");
    std::string app = unique("enricher");
};

eddy::topology enrich_topology(const global_app& a, bool persistent) {
    eddy::streams_builder builder;
    auto store = persistent ? eddy::stores::persistent_key_value_store("users-store")
                            : eddy::stores::in_memory_key_value_store("users-store");
    builder.global_table<std::string, std::string>(a.users, {}, eddy::materialized<std::string, std::string>::as(store));
    builder.stream<std::string, std::string>(a.orders)
        .process([] { return std::make_unique<enrich>(); }, eddy::named::as("enrich"))
        .to(a.out);
    return builder.build();
}

records users(int from, int to, const std::string& suffix = "") {
    records out;
    for (int i = from; i < to; ++i) {
        out.emplace_back("user-" + std::to_string(i), "name-" + std::to_string(i) + suffix);
    }
    return out;
}

// Orders "<prefix>-<i>" for users 0..n-1, keyed by order (spread over the
// orders' partitions).
records orders(const std::string& prefix, int n) {
    records out;
    for (int i = 0; i < n; ++i) {
        out.emplace_back(prefix + "-" + std::to_string(i), "user-" + std::to_string(i));
    }
    return out;
}

std::map<std::string, std::string> values_by_key(const std::vector<kafka_record>& rs) {
    std::map<std::string, std::string> out;
    for (const auto& r : rs) {
        out[r.key.value_or("")] = r.value.value_or("");
    }
    return out;
}

int task_count(const eddy::kafka_streams& app) {
    int n = 0;
    for (const auto& m : app.metrics()) {
        n += m.name == "task-records-processed-total" ? 1 : 0;
    }
    return n;
}

class GlobalTableContractTest : public testing::TestWithParam<bool> {};

TEST_P(GlobalTableContractTest, EveryInstanceHoldsTheWholeTableRestoredBeforeProcessingAndKeptUpToDate) {
    const bool persistent = GetParam();
    global_app a;
    broker().create_topic(a.users, 3);
    broker().create_topic(a.orders, 4);
    broker().create_topic(a.out, 4);
    produce(broker().bootstrap_servers(), a.users, users(0, 12));
    // Orders waiting before the start: processed only once the table is whole.
    // (At least once: the two instances' join may process some twice, so
    // the output is read until every key is there.)
    produce(broker().bootstrap_servers(), a.orders, orders("early", 12));

    temp_dir dir1;
    temp_dir dir2;
    auto config1 = config_for(a.app);
    config1.set("state.dir", dir1.path.string());
    auto config2 = config_for(a.app);
    config2.set("state.dir", dir2.path.string());
    eddy::kafka_streams first(enrich_topology(a, persistent), config1);
    eddy::kafka_streams second(enrich_topology(a, persistent), config2);
    first.start();
    second.start();
    // start() returns once the global store is restored: every key of every
    // partition, on both instances, before any partition of the stream.
    for (auto* app : {&first, &second}) {
        auto table = app->store<std::string, std::string>("users-store");
        EXPECT_EQ(table.all().size(), 12U);
        EXPECT_EQ(table.get("user-7"), "name-7");
    }
    // The two instances share the four order partitions.
    ASSERT_TRUE(wait_for([&] { return task_count(first) >= 1 && task_count(second) >= 1
                                   && task_count(first) + task_count(second) == 4; },
        60s))
        << "tasks: " << task_count(first) << " + " << task_count(second);

    auto early = values_by_key(consume_until(
        broker().bootstrap_servers(), a.out, [](const auto& rs) { return values_by_key(rs).size() >= 12; }, 60s));
    ASSERT_EQ(early.size(), 12U);
    for (int i = 0; i < 12; ++i) {
        EXPECT_EQ(early["early-" + std::to_string(i)], "early-" + std::to_string(i) + "/name-" + std::to_string(i));
    }

    // Updates while running reach both instances' stores, and then the
    // processors of every task.
    auto updates = users(0, 12, "-renamed");
    updates.emplace_back("user-12", "name-12");
    updates.emplace_back("user-3", std::nullopt); // a tombstone deletes
    produce(broker().bootstrap_servers(), a.users, updates);
    for (auto* app : {&first, &second}) {
        auto table = app->store<std::string, std::string>("users-store");
        // The updates span the topic's 3 partitions, which the global
        // thread fetches in no set order: wait for every one of them.
        auto all_updated = [&] {
            for (int i = 0; i < 12; ++i) {
                const auto key = "user-" + std::to_string(i);
                if (i != 3 && table.get(key) != "name-" + std::to_string(i) + "-renamed") {
                    return false;
                }
            }
            return table.get("user-12") == "name-12" && !table.get("user-3");
        };
        ASSERT_TRUE(wait_for(all_updated, 30s)) << "user-0: " << table.get("user-0").value_or("<none>");
        EXPECT_EQ(table.all().size(), 12U);
    }
    produce(broker().bootstrap_servers(), a.orders, orders("late", 13));
    auto late = values_by_key(consume_until(
        broker().bootstrap_servers(), a.out, [](const auto& rs) { return values_by_key(rs).size() >= 25; }, 60s));
    ASSERT_EQ(late.size(), 25U);
    for (int i = 0; i < 13; ++i) {
        const auto key = "late-" + std::to_string(i);
        const auto expected = i == 3 ? key + "/?" : i == 12 ? key + "/name-12" : key + "/name-" + std::to_string(i) + "-renamed";
        EXPECT_EQ(late[key], expected);
    }
    EXPECT_TRUE(first.close(30s));
    EXPECT_TRUE(second.close(30s));
}

TEST_P(GlobalTableContractTest, ACleanRestartRestoresOnlyTheTailOfAPersistentGlobalStore) {
    const bool persistent = GetParam();
    global_app a;
    broker().create_topic(a.users, 3);
    broker().create_topic(a.orders, 2);
    broker().create_topic(a.out, 2);
    produce(broker().bootstrap_servers(), a.users, users(0, 20));
    temp_dir dir;
    auto config = config_for(a.app);
    config.set("state.dir", dir.path.string());
    {
        auto listener = std::make_shared<counting_listener>();
        eddy::kafka_streams app(enrich_topology(a, persistent), config);
        app.set_global_state_restore_listener(listener);
        app.start();
        EXPECT_EQ(listener->restored.load(), 20);
        EXPECT_EQ(listener->ends.load(), 3); // one per partition of the topic
        // Records that arrive while it runs are processed, not restored.
        produce(broker().bootstrap_servers(), a.users, users(20, 25));
        auto table = app.store<std::string, std::string>("users-store");
        ASSERT_TRUE(wait_for([&] { return table.all().size() == 25U; }, 30s));
        // librdkafka 2.0.2's sticky assignor asserts when a consumer closes
        // before its first assignment: close only once the group has formed.
        ASSERT_TRUE(wait_for([&] { return task_count(app) >= 1; }, 60s));
        ASSERT_TRUE(app.close(30s));
    }
    produce(broker().bootstrap_servers(), a.users, users(25, 30));
    auto listener = std::make_shared<counting_listener>();
    eddy::kafka_streams app(enrich_topology(a, persistent), config);
    app.set_global_state_restore_listener(listener);
    app.start();
    // The checkpoint written on close: only what came after it; in memory,
    // everything again.
    EXPECT_EQ(listener->restored.load(), persistent ? 5 : 30);
    EXPECT_EQ((app.store<std::string, std::string>("users-store").all().size()), 30U);
    ASSERT_TRUE(wait_for([&] { return task_count(app) >= 1; }, 60s));
    ASSERT_TRUE(app.close(30s));
}

TEST(GlobalTableContract, AGlobalTableOnATopicTheClusterDoesNotHaveFailsStartNamingIt) {
    global_app a;
    broker().create_topic(a.orders, 1);
    temp_dir dir;
    auto config = config_for(a.app);
    config.set("state.dir", dir.path.string());
    eddy::kafka_streams app(enrich_topology(a, true), config);
    EXPECT_THAT([&] { app.start(); },
        testing::ThrowsMessage<eddy::config_error>(testing::HasSubstr("topic " + a.users)));
}

INSTANTIATE_TEST_SUITE_P(Stores, GlobalTableContractTest, testing::Values(true, false),
    [](const testing::TestParamInfo<bool>& info) { return info.param ? "Persistent" : "InMemory"; });

} // namespace
