// Stores on a broker (compiled for the embedded broker and, with
// EDDY_TEST_KAFKA, for a real Kafka): changelog topics are created, a new
// instance restores a store from its changelog before it processes, a clean
// restart with a persistent store restores only the changelog's tail, and the
// counts stay exact across instances.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/admin.h"
#include "runtime/kafka_streams.h"
#include "serde/serdes.h"
#include "statestore/store_error.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/kafka_test_util.h"
#include "tests/temp_dir.h"
#include "topology/streams_builder.h"

namespace {

using eddy::test::consume;
using eddy::test::consume_until;
using eddy::test::produce;
using eddy::test::unique;

// Counts what restores tell it.
class counting_listener final : public eddy::state_restore_listener {
public:
    void on_restore_start(const std::string&, std::int32_t, const std::string&, std::int64_t, std::int64_t) override {
        ++starts;
    }
    void on_restore_end(const std::string&, std::int32_t, const std::string&, std::int64_t total) override {
        ++ends;
        restored += total;
    }
    std::atomic<int> starts = 0;
    std::atomic<int> ends = 0;
    std::atomic<std::int64_t> restored = 0;
};

using eddy::test::temp_dir;

struct count_app {
    std::string in = unique("clicks");
    std::string out = unique("click-counts");
    std::string app = unique("counter");
};

eddy::topology count_topology(const count_app& a, bool persistent) {
    eddy::streams_builder builder;
    auto store = persistent ? eddy::stores::persistent_key_value_store("counts")
                            : eddy::stores::in_memory_key_value_store("counts");
    builder.stream<std::string, std::string>(a.in)
        .group_by_key()
        .count(eddy::materialized<std::string, std::int64_t>::as(store))
        .to_stream()
        .to(a.out, eddy::produced<std::string, std::int64_t>::with(eddy::serdes::string{}, eddy::serdes::int64{}));
    return builder.build();
}

// The last count output for each key.
std::map<std::string, std::int64_t> latest_counts(const std::vector<eddy::test::kafka_record>& rs) {
    std::map<std::string, std::int64_t> out;
    for (const auto& r : rs) {
        out[r.key.value_or("")] = eddy::serdes::int64{}.deserialize(r.value.value_or(std::string(8, '\0')));
    }
    return out;
}

// Reads `topic` until each of `users` keys' latest count is `n`.
std::vector<eddy::test::kafka_record> consume_counts(const std::string& topic, std::size_t users, std::int64_t n) {
    return eddy::test::consume_until(
        broker().bootstrap_servers(), topic,
        [&](const auto& rs) {
            auto latest = latest_counts(rs);
            return latest.size() == users
                && std::all_of(latest.begin(), latest.end(), [&](const auto& kv) { return kv.second >= n; });
        },
        30s);
}

std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> clicks(int keys, int each) {
    std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> out;
    for (int round = 0; round < each; ++round) {
        for (int k = 0; k < keys; ++k) {
            out.emplace_back("user-" + std::to_string(k), "/page/" + std::to_string(round));
        }
    }
    return out;
}

// Runs one instance until the output holds `expected` records.
void run_until(const count_app& a, bool persistent, const std::filesystem::path& state_dir, std::size_t expected,
    const std::shared_ptr<counting_listener>& listener, const char* guarantee = "at_least_once",
    const std::map<std::string, std::string>& extra = {}) {
    auto config = config_for(a.app);
    config.set("state.dir", state_dir.string());
    config.set("processing.guarantee", guarantee);
    for (const auto& [k, v] : extra) {
        config.set(k, v);
    }
    eddy::kafka_streams app(count_topology(a, persistent), config);
    app.set_global_state_restore_listener(listener);
    app.start();
    // Until the counts (as the store answers, its cache included) add up to
    // `expected` inputs: the output may wait for a commit, the close's.
    auto counts = app.store<std::string, std::int64_t>("counts");
    ASSERT_TRUE(wait_for(
        [&] {
            std::int64_t sum = 0;
            for (const auto& kv : counts.all()) {
                sum += kv.value;
            }
            return sum >= static_cast<std::int64_t>(expected);
        },
        60s))
        << "the app did not count its inputs in time";
    ASSERT_TRUE(app.close(30s));
}

// The records a (non-transactional) changelog topic holds.
std::int64_t changelog_records(const std::string& topic, int partitions) {
    return eddy::test::uncommitted(broker().bootstrap_servers(), unique("nobody"), topic, partitions);
}

// Per key, every count it was given, in order.
std::map<std::string, std::vector<std::int64_t>> count_history(const std::vector<eddy::test::kafka_record>& rs) {
    std::map<std::string, std::vector<std::int64_t>> out;
    for (const auto& r : rs) {
        out[r.key.value_or("")].push_back(eddy::serdes::int64{}.deserialize(r.value.value_or(std::string(8, '\0'))));
    }
    return out;
}

class StateContractTest : public testing::TestWithParam<bool> {};

TEST_P(StateContractTest, ANewInstanceRestoresTheStoreFromItsChangelog) {
    const bool persistent = GetParam();
    count_app a;
    broker().create_topic(a.in, 2);
    broker().create_topic(a.out, 2);
    produce(broker().bootstrap_servers(), a.in, clicks(10, 5));

    temp_dir first;
    auto listener = std::make_shared<counting_listener>();
    run_until(a, persistent, first.path, 50, listener);
    EXPECT_EQ(listener->restored.load(), 0); // nothing to restore the first time
    EXPECT_EQ(listener->ends.load(), 2);     // one changelog partition per task

    // The changelog exists, with the input's partition count.
    eddy::admin_client admin({{"bootstrap.servers", broker().bootstrap_servers()}});
    auto changelog = admin.describe_topic(a.app + "-counts-changelog");
    ASSERT_TRUE(changelog.has_value());
    EXPECT_EQ(changelog->partitions, 2);

    // Another machine (an empty state directory): the counts carry on from
    // the changelog, not from zero.
    produce(broker().bootstrap_servers(), a.in, clicks(10, 1));
    temp_dir second;
    auto listener2 = std::make_shared<counting_listener>();
    std::vector<eddy::test::kafka_record> out;
    run_until(a, persistent, second.path, 60, listener2);
    EXPECT_GE(listener2->restored.load(), 10); // at least the latest count of each key
    out = consume_counts(a.out, 10, 6);
    auto counts = latest_counts(out);
    ASSERT_EQ(counts.size(), 10U);
    for (const auto& [user, n] : counts) {
        EXPECT_EQ(n, 6) << user;
    }
}

TEST_P(StateContractTest, ACleanRestartOfAPersistentStoreRestoresOnlyTheTail) {
    const bool persistent = GetParam();
    count_app a;
    broker().create_topic(a.in, 2);
    broker().create_topic(a.out, 2);
    produce(broker().bootstrap_servers(), a.in, clicks(10, 3));
    temp_dir dir;
    run_until(a, persistent, dir.path, 30, std::make_shared<counting_listener>());
    const auto logged = changelog_records(a.app + "-counts-changelog", 2);

    produce(broker().bootstrap_servers(), a.in, clicks(10, 1));
    auto listener = std::make_shared<counting_listener>();
    run_until(a, persistent, dir.path, 40, listener);
    if (persistent) {
        // The checkpoint written on close says the store holds everything.
        EXPECT_EQ(listener->restored.load(), 0);
    } else {
        // In memory: every changelog record again (the record cache logged
        // each key once per commit: 10 to 30 of them for the 30 updates).
        EXPECT_EQ(listener->restored.load(), logged);
        EXPECT_GE(logged, 10);
        EXPECT_LE(logged, 30);
    }
    auto counts = latest_counts(consume_counts(a.out, 10, 4));
    for (const auto& [user, n] : counts) {
        EXPECT_EQ(n, 4) << user;
    }
}

TEST_P(StateContractTest, QueriesReadTheStoresOfEveryLocalTask) {
    const bool persistent = GetParam();
    count_app a;
    broker().create_topic(a.in, 3);
    broker().create_topic(a.out, 3);
    produce(broker().bootstrap_servers(), a.in, clicks(12, 4));
    temp_dir dir;
    auto config = config_for(a.app);
    config.set("state.dir", dir.path.string());
    eddy::kafka_streams app(count_topology(a, persistent), config);
    EXPECT_THAT(([&] { (void)app.store<std::string, std::int64_t>("nope"); }),
        testing::ThrowsMessage<eddy::store_error>(testing::HasSubstr("the topology has no store nope")));
    app.start();
    auto counts = app.store<std::string, std::int64_t>("counts");
    ASSERT_TRUE(wait_for([&] { return counts.all().size() == 12 && counts.get("user-11") == 4; }, 60s));
    auto all = counts.all();
    EXPECT_EQ(all.front().key, "user-0"); // in key order across the 3 partitions' stores
    EXPECT_EQ(all.back().key, "user-9");
    EXPECT_EQ(counts.get("user-3"), 4);
    EXPECT_EQ(counts.get("nobody"), std::nullopt);
    EXPECT_EQ(counts.range("user-10", "user-11").size(), 2U);
    EXPECT_THAT(([&] { (void)app.store<std::string, std::string>("counts").get("user-3"); }),
        testing::ThrowsMessage<eddy::store_error>(testing::HasSubstr("store counts was asked for")));
    ASSERT_TRUE(app.close(30s));
}

// Window fetches over the stores of every local task.
TEST(WindowQueryTest, FetchesAKeysWindowsAndEveryKeysWindows) {
    const auto in = unique("views");
    broker().create_topic(in, 2);
    std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> views;
    for (int i = 0; i < 30; ++i) {
        views.emplace_back(i % 3 == 0 ? "alice" : "bob", "/p");
    }
    // Record timestamps: the producer stamps them now; windows of 1 h hold them all.
    produce(broker().bootstrap_servers(), in, views);
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(in)
        .group_by_key()
        .windowed_by(eddy::time_windows::of_size_with_no_grace(std::chrono::hours(1)))
        .count(eddy::materialized<std::string, std::int64_t>::as("views-per-hour"));
    temp_dir dir;
    auto config = config_for(unique("window-query"));
    config.set("state.dir", dir.path.string());
    eddy::kafka_streams app(builder.build(), config);
    app.start();
    auto per_hour = app.window_store<std::string, std::int64_t>("views-per-hour");
    ASSERT_TRUE(wait_for(
        [&] {
            auto all = per_hour.fetch_all(0, std::numeric_limits<std::int64_t>::max());
            std::int64_t n = 0;
            for (const auto& [w, count] : all) {
                n += count;
            }
            return n == 30;
        },
        60s));
    auto alice = per_hour.fetch("alice", 0, std::numeric_limits<std::int64_t>::max());
    std::int64_t alice_views = 0;
    for (const auto& [w, n] : alice) {
        EXPECT_EQ(w.end_ms - w.start_ms, 3'600'000);
        alice_views += n;
    }
    EXPECT_EQ(alice_views, 10);
    EXPECT_TRUE(per_hour.fetch("alice", 0, 1000).empty()); // no window starts in 1970
    EXPECT_TRUE(per_hour.fetch("carol", 0, std::numeric_limits<std::int64_t>::max()).empty());
    ASSERT_TRUE(app.close(30s));
}

// Session fetches over the stores of every local task; the event time comes
// from the value, so the sessions do not depend on when the test runs.
TEST(SessionQueryTest, FetchesAKeysSessionsAndFindsThoseInARange) {
    const auto in = unique("visits");
    broker().create_topic(in, 2);
    produce(broker().bootstrap_servers(), in,
        {{"alice", "1000"}, {"alice", "2000"}, {"alice", "10000"}, {"bob", "1000"}, {"alice", "6000"}});
    eddy::streams_builder builder;
    builder
        .stream<std::string, std::string>(in, eddy::consumed<std::string, std::string>().with_timestamp_extractor(
                                                  [](const std::string&, const std::string& v, std::int64_t) {
                                                      return std::stoll(v);
                                                  }))
        .group_by_key()
        .windowed_by(eddy::session_windows::of_inactivity_gap_and_grace(5s, 1h))
        .count(eddy::materialized<std::string, std::int64_t>::as("visits"));
    temp_dir dir;
    auto config = config_for(unique("session-query"));
    config.set("state.dir", dir.path.string());
    eddy::kafka_streams app(builder.build(), config);
    app.start();
    auto visits = app.session_store<std::string, std::int64_t>("visits");
    using sessions = std::vector<eddy::key_value<eddy::windowed<std::string>, std::int64_t>>;
    // 6000 joins [1000, 2000] and [10000, 10000] into one session of four.
    // (alice and bob may be in different partitions: wait for both.)
    ASSERT_TRUE(wait_for(
        [&] {
            return visits.fetch("alice") == sessions{{{"alice", {1000, 10000}}, 4}}
                && visits.fetch("bob") == sessions{{{"bob", {1000, 1000}}, 1}};
        },
        60s));
    EXPECT_EQ(visits.find_sessions("alice", 0, 999), sessions{}); // starts after 999
    EXPECT_EQ(visits.find_sessions("alice", 10001, 20000), sessions{}); // ends before 10001
    EXPECT_EQ(visits.find_sessions("alice", 5000, 5000), (sessions{{{"alice", {1000, 10000}}, 4}}));
    EXPECT_TRUE(visits.fetch("carol").empty());
    auto wrong_type = [&] { return app.session_store<std::string, std::string>("visits").fetch("alice"); };
    EXPECT_THROW(wrong_type(), eddy::store_error);
    auto no_such_store = [&] { return app.session_store<std::string, std::int64_t>("nope"); };
    EXPECT_THROW(no_such_store(), eddy::store_error);
    ASSERT_TRUE(app.close(30s));
}

#ifdef EDDY_TEST_KAFKA
// Window-store changelogs are compact,delete with the store's retention plus
// windowstore.changelog.additional.retention.ms; a key-value store's stays
// compacted (the embedded broker does not keep topic configs: real Kafka only).
TEST(WindowChangelogTest, WindowStoreChangelogsAreCompactAndDeleteWithTheirRetention) {
    const auto in = unique("events");
    broker().create_topic(in, 1);
    eddy::streams_builder builder;
    auto grouped = builder.stream<std::string, std::string>(in).group_by_key();
    grouped.windowed_by(eddy::time_windows::of_size_and_grace(1h, 10min))
        .count(eddy::materialized<std::string, std::int64_t>::as("hourly"));
    grouped.windowed_by(eddy::sliding_windows::of_time_difference_and_grace(10s, 5s))
        .count(eddy::materialized<std::string, std::int64_t>::as("sliding"));
    grouped.windowed_by(eddy::session_windows::of_inactivity_gap_and_grace(5s, 1s))
        .count(eddy::materialized<std::string, std::int64_t>::as("sessions"));
    grouped.count(eddy::materialized<std::string, std::int64_t>::as("totals"));
    const auto app_id = unique("window-changelogs");
    temp_dir dir;
    auto config = config_for(app_id);
    config.set("state.dir", dir.path.string());
    config.set("windowstore.changelog.additional.retention.ms", "60000");
    eddy::kafka_streams app(builder.build(), config);
    app.start();
    eddy::admin_client admin({{"bootstrap.servers", broker().bootstrap_servers()}});
    auto configs = [&](const std::string& store) { return admin.topic_configs(app_id + "-" + store + "-changelog"); };
    auto hourly = configs("hourly");
    EXPECT_EQ(hourly.at("cleanup.policy"), "compact,delete");
    EXPECT_EQ(hourly.at("retention.ms"), std::to_string(3'600'000 + 600'000 + 60'000)); // size + grace + additional
    auto sliding = configs("sliding");
    EXPECT_EQ(sliding.at("cleanup.policy"), "compact,delete");
    EXPECT_EQ(sliding.at("retention.ms"), std::to_string(3 * 10'000 + 5'000 + 60'000));
    auto session = configs("sessions");
    EXPECT_EQ(session.at("cleanup.policy"), "compact,delete");
    // 3 gaps + grace + 60 s (how long the store keeps a session, ADR 0006) + additional
    EXPECT_EQ(session.at("retention.ms"), std::to_string(3 * 5'000 + 1'000 + 60'000 + 60'000));
    EXPECT_EQ(configs("totals").at("cleanup.policy"), "compact");
    ASSERT_TRUE(app.close(30s));
}
#endif

// A table read from a topic restores from that topic (no changelog of its
// own), up to the committed offset; what follows is processed.
TEST_P(StateContractTest, ATableRestoresFromItsSourceTopic) {
    const bool persistent = GetParam();
    const auto topic = unique("users");
    const auto app_id = unique("directory");
    broker().create_topic(topic, 2);
    std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> users;
    for (int i = 0; i < 20; ++i) {
        users.emplace_back("u" + std::to_string(i), "name-" + std::to_string(i));
    }
    produce(broker().bootstrap_servers(), topic, users);
    auto make = [&] {
        eddy::streams_builder builder;
        auto store = persistent ? eddy::stores::persistent_key_value_store("users")
                                : eddy::stores::in_memory_key_value_store("users");
        builder.table<std::string, std::string>(topic, {}, eddy::materialized<std::string, std::string>::as(store));
        return builder.build();
    };
    auto config = config_for(app_id);
    temp_dir first;
    config.set("state.dir", first.path.string());
    {
        eddy::kafka_streams app(make(), config);
        app.start();
        auto table = app.store<std::string, std::string>("users");
        ASSERT_TRUE(wait_for([&] { return table.all().size() == 20; }, 60s));
        ASSERT_TRUE(app.close(30s));
    }
    // No changelog topic was made for the table.
    eddy::admin_client admin({{"bootstrap.servers", broker().bootstrap_servers()}});
    EXPECT_FALSE(admin.describe_topic(app_id + "-users-changelog").has_value());

    produce(broker().bootstrap_servers(), topic, {{"u0", "renamed"}, {"u1", std::nullopt}});
    temp_dir second;
    config.set("state.dir", second.path.string());
    auto listener = std::make_shared<counting_listener>();
    eddy::kafka_streams app(make(), config);
    app.set_global_state_restore_listener(listener);
    app.start();
    auto table = app.store<std::string, std::string>("users");
    ASSERT_TRUE(wait_for([&] { return table.get("u0") == "renamed" && !table.get("u1"); }, 60s));
    EXPECT_EQ(table.all().size(), 19U);
    EXPECT_EQ(listener->restored.load(), 20); // the committed part, from the topic; the 2 new ones processed
    // Restored rows keep their records' timestamps (the ValueAndTimestamp
    // layout), as processed ones do.
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count();
    auto stamped = app.store<std::string, eddy::timestamped<std::string>>("users");
    ASSERT_TRUE(stamped.get("u2").has_value());
    EXPECT_EQ(stamped.get("u2")->value, "name-2");
    EXPECT_GT(stamped.get("u2")->timestamp_ms, before - 600'000);
    EXPECT_LE(stamped.get("u2")->timestamp_ms, before);
    ASSERT_TRUE(app.close(30s));
}

// The record cache: 1000 updates of 10 keys within one commit reach the
// changelog as 10 records, and a new instance restores the right counts.
TEST_P(StateContractTest, RepeatedUpdatesWithinACommitLogOneChangelogRecordPerKey) {
    const bool persistent = GetParam();
    count_app a;
    broker().create_topic(a.in, 1);
    broker().create_topic(a.out, 1);
    produce(broker().bootstrap_servers(), a.in, clicks(10, 100));
    // One commit: the last one, on close.
    const std::map<std::string, std::string> one_commit{{"commit.interval.ms", "600000"}};
    temp_dir first;
    run_until(a, persistent, first.path, 1000, std::make_shared<counting_listener>(), "at_least_once", one_commit);
    const auto changelog = a.app + "-counts-changelog";
    EXPECT_EQ(changelog_records(changelog, 1), 10);
    // The table's changes go downstream through the cache too (as Kafka
    // Streams'): one per key per commit, the latest.
    auto history = count_history(consume(broker().bootstrap_servers(), a.out, 10, 30s));
    ASSERT_EQ(history.size(), 10U);
    EXPECT_EQ(history["user-7"], std::vector<std::int64_t>{100});
    EXPECT_EQ(eddy::test::end_offsets(broker().bootstrap_servers(), a.out, 1), std::vector<std::int64_t>{10});

    // Another machine restores the 10 records to the right counts, then
    // counts on; its commit logs each key once more.
    temp_dir second;
    auto listener = std::make_shared<counting_listener>();
    auto config = config_for(a.app);
    config.set("state.dir", second.path.string());
    config.set("commit.interval.ms", "600000");
    {
        eddy::kafka_streams app(count_topology(a, persistent), config);
        app.set_global_state_restore_listener(listener);
        app.start();
        auto counts = app.store<std::string, std::int64_t>("counts");
        ASSERT_TRUE(wait_for([&] { return counts.all().size() == 10; }, 60s));
        EXPECT_EQ(listener->restored.load(), 10);
        for (const auto& [user, n] : counts.all()) {
            EXPECT_EQ(n, 100) << user;
        }
        produce(broker().bootstrap_servers(), a.in, clicks(10, 50));
        ASSERT_TRUE(wait_for(
            [&] {
                auto all = counts.all();
                return all.size() == 10 && std::all_of(all.begin(), all.end(), [](const auto& kv) { return kv.value == 150; });
            },
            60s))
            << "the queries did not see the cached counts reach 150";
        ASSERT_TRUE(app.close(30s));
    }
    EXPECT_EQ(changelog_records(changelog, 1), 20);
}

// statestore.cache.max.bytes=0: every update is logged, as before.
TEST_P(StateContractTest, WithTheCacheOffEveryUpdateIsLogged) {
    const bool persistent = GetParam();
    count_app a;
    broker().create_topic(a.in, 1);
    broker().create_topic(a.out, 1);
    produce(broker().bootstrap_servers(), a.in, clicks(10, 100));
    temp_dir dir;
    run_until(a, persistent, dir.path, 1000, std::make_shared<counting_listener>(), "at_least_once",
        {{"commit.interval.ms", "600000"}, {"statestore.cache.max.bytes", "0"}});
    EXPECT_EQ(changelog_records(a.app + "-counts-changelog", 1), 1000);
    // ... and every update goes downstream: each key's counts 1..100.
    auto history = count_history(consume(broker().bootstrap_servers(), a.out, 1000, 30s));
    ASSERT_EQ(history.size(), 10U);
    std::vector<std::int64_t> one_to_hundred(100);
    std::iota(one_to_hundred.begin(), one_to_hundred.end(), 1);
    EXPECT_EQ(history["user-7"], one_to_hundred);
}

TEST(RecordCacheConfigTest, ANegativeCacheSizeIsRefusedAtConstruction) {
    auto config = config_for(unique("cache-config"));
    config.set("statestore.cache.max.bytes", "-5");
    count_app a;
    EXPECT_THAT([&] { eddy::kafka_streams app(count_topology(a, false), config); },
        testing::ThrowsMessage<eddy::config_error>(testing::HasSubstr("statestore.cache.max.bytes=-5 must be at least 0")));
}

// Exactly-once with the cache: every key's committed counts rise strictly to
// exactly 100 (each commit carries a key's latest count), the changelog holds
// fewer records than updates, and a new instance restores exact counts.
TEST_P(StateContractTest, ExactlyOnceCountsStayExactWithTheCache) {
    const bool persistent = GetParam();
    count_app a;
    broker().create_topic(a.in, 2);
    broker().create_topic(a.out, 2);
    produce(broker().bootstrap_servers(), a.in, clicks(10, 100));
    temp_dir first;
    run_until(a, persistent, first.path, 1000, std::make_shared<counting_listener>(), "exactly_once_v2");
    auto history = count_history(consume_until(
        broker().bootstrap_servers(), a.out,
        [](const auto& rs) {
            auto h = count_history(rs);
            return h.size() == 10 && std::all_of(h.begin(), h.end(), [](const auto& kv) { return kv.second.back() >= 100; });
        },
        30s, true));
    ASSERT_EQ(history.size(), 10U);
    for (const auto& [user, counts] : history) {
        EXPECT_EQ(std::adjacent_find(counts.begin(), counts.end(), std::greater_equal<>()), counts.end())
            << user << ": counts must rise strictly";
        EXPECT_EQ(counts.back(), 100) << user;
    }

    temp_dir second;
    auto listener = std::make_shared<counting_listener>();
    auto config = config_for(a.app);
    config.set("state.dir", second.path.string());
    config.set("processing.guarantee", "exactly_once_v2");
    eddy::kafka_streams app(count_topology(a, persistent), config);
    app.set_global_state_restore_listener(listener);
    app.start();
    auto counts = app.store<std::string, std::int64_t>("counts");
    ASSERT_TRUE(wait_for([&] { return counts.all().size() == 10 && listener->ends.load() == 2; }, 60s));
    for (const auto& [user, n] : counts.all()) {
        EXPECT_EQ(n, 100) << user;
    }
    EXPECT_GE(listener->restored.load(), 10);
    EXPECT_LT(listener->restored.load(), 1000); // collapsed within each transaction
    ASSERT_TRUE(app.close(30s));
}

INSTANTIATE_TEST_SUITE_P(Stores, StateContractTest, testing::Values(true, false),
    [](const testing::TestParamInfo<bool>& info) { return info.param ? "RocksDB" : "InMemory"; });

} // namespace
