// kstream::deduplicate on the test driver: duplicates within the retention
// are dropped and counted, an id whose first occurrence the retention has
// passed goes through again, out-of-order duplicates are dropped while their
// id is remembered, the punctuator keeps the store (and its changelog)
// bounded, records with no id pass, the store survives a restart on the same
// state directory, and a key change repartitions first.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eddy.h"
#include "tests/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using eddy::key_value;

// Values are "<event id>|<payload>"; the id is what comes before the bar.
std::string event_id(const std::string&, const std::string& value) {
    return value.substr(0, value.find('|'));
}

struct kvt {
    std::string key;
    std::string value;
    std::int64_t timestamp;
    friend bool operator==(const kvt&, const kvt&) = default;
    friend std::ostream& operator<<(std::ostream& os, const kvt& r) {
        return os << r.key << ":" << r.value << "@" << r.timestamp;
    }
};

std::vector<kvt> read_all(eddy::test_output_topic<std::string, std::string>& out) {
    std::vector<kvt> got;
    for (const auto& r : out.read_records_to_list()) {
        got.push_back({r.key, r.value, r.timestamp});
    }
    return got;
}

eddy::streams_config app_config(const std::string& state_dir = {}) {
    eddy::streams_config config;
    config.set(eddy::streams_config::application_id, "payments");
    if (!state_dir.empty()) {
        config.set("state.dir", state_dir);
    }
    return config;
}

eddy::topology dedup_topology(std::chrono::milliseconds retention,
    const eddy::materialized<std::string, std::int64_t>& m = eddy::materialized<std::string, std::int64_t>::as("seen")) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("payments").deduplicate(event_id, retention, m).to("unique-payments");
    return builder.build();
}

std::vector<key_value<std::string, std::int64_t>> contents(eddy::topology_test_driver& driver,
    const std::string& store = "seen") {
    return driver.get_key_value_store<std::string, std::int64_t>(store).all().to_vector();
}

TEST(DeduplicateTest, DuplicatesWithinTheRetentionAreDroppedAndCounted) {
    eddy::topology_test_driver driver(dedup_topology(10s), app_config());
    auto in = driver.create_input_topic<std::string, std::string>("payments");
    auto out = driver.create_output_topic<std::string, std::string>("unique-payments");
    in.pipe_input("alice", "p1|10 EUR", 1'000);
    in.pipe_input("alice", "p1|10 EUR", 1'000);  // a producer retry: same record
    in.pipe_input("alice", "p1|10 EUR", 4'000);  // redelivered later, same id
    in.pipe_input("alice", "p2|5 EUR", 5'000);
    in.pipe_input("alice", "p1|10 EUR", 11'000); // stream time 11000 = 1000 + retention: still remembered
    in.pipe_input("alice", "p2|5 EUR", 6'000);

    EXPECT_EQ(read_all(out), (std::vector<kvt>{{"alice", "p1|10 EUR", 1'000}, {"alice", "p2|5 EUR", 5'000}}));
    EXPECT_EQ(driver.deduplicated_records(), 4);
    EXPECT_EQ(driver.dropped_records(), 4);
    // Each id with the time of the record that passed.
    EXPECT_EQ(contents(driver), (std::vector<key_value<std::string, std::int64_t>>{{"p1", 1'000}, {"p2", 5'000}}));
}

TEST(DeduplicateTest, AnIdWhoseFirstOccurrenceIsOlderThanTheRetentionPassesAgain) {
    eddy::topology_test_driver driver(dedup_topology(10s), app_config());
    auto in = driver.create_input_topic<std::string, std::string>("payments");
    auto out = driver.create_output_topic<std::string, std::string>("unique-payments");
    in.pipe_input("alice", "p1|a", 1'000);
    in.pipe_input("alice", "p1|b", 11'001); // 1 ms past the retention
    in.pipe_input("alice", "p1|c", 15'000); // a duplicate of the second one
    in.pipe_input("alice", "p1|d", 21'001); // stream time = 11001 + retention: still a duplicate
    in.pipe_input("alice", "p1|e", 21'002); // past the second one's retention

    EXPECT_EQ(read_all(out),
        (std::vector<kvt>{{"alice", "p1|a", 1'000}, {"alice", "p1|b", 11'001}, {"alice", "p1|e", 21'002}}));
    EXPECT_EQ(driver.deduplicated_records(), 2);
    EXPECT_EQ(contents(driver), (std::vector<key_value<std::string, std::int64_t>>{{"p1", 21'002}}));
}

TEST(DeduplicateTest, OutOfOrderDuplicatesAreDroppedWhileTheirIdIsRemembered) {
    eddy::topology_test_driver driver(dedup_topology(10s), app_config());
    auto in = driver.create_input_topic<std::string, std::string>("payments");
    auto out = driver.create_output_topic<std::string, std::string>("unique-payments");
    in.pipe_input("alice", "p1|a", 10'000);
    in.pipe_input("alice", "p2|a", 18'000); // stream time 18000
    in.pipe_input("alice", "p1|b", 9'000);  // out of order, 1 s before p1: dropped
    in.pipe_input("alice", "p2|b", 8'000);  // out of order, exactly the retention before p2: dropped
    in.pipe_input("alice", "p3|a", 9'500);  // out of order, never seen: passes
    in.pipe_input("alice", "p3|b", 9'600);  // and is remembered
    in.pipe_input("alice", "p2|c", 7'999);  // more than the retention before p2: passes, p2 keeps 18000
    in.pipe_input("alice", "p2|d", 18'000); // still p2's duplicate
    in.pipe_input("alice", "p1|c", 20'001); // stream time 20001 > 10000 + 10000: p1 forgotten, passes

    EXPECT_EQ(read_all(out),
        (std::vector<kvt>{{"alice", "p1|a", 10'000}, {"alice", "p2|a", 18'000}, {"alice", "p3|a", 9'500},
            {"alice", "p2|c", 7'999}, {"alice", "p1|c", 20'001}}));
    EXPECT_EQ(driver.deduplicated_records(), 4);
    // The purge at stream time 20001 forgot p3 (9500 + 10000 is before it).
    EXPECT_EQ(contents(driver), (std::vector<key_value<std::string, std::int64_t>>{{"p1", 20'001}, {"p2", 18'000}}));
}

TEST(DeduplicateTest, AnIdForgottenByStreamTimeIsNotADuplicateEvenBeforeThePurge) {
    // Retention 30 s: the purge runs at stream times 0, 30000, 60000, ...
    // From stream time 30002 on p1 is forgotten, though the next purge that
    // removes it is at 60000: what passes does not depend on when it runs.
    eddy::topology_test_driver driver(dedup_topology(30s), app_config());
    auto in = driver.create_input_topic<std::string, std::string>("payments");
    auto out = driver.create_output_topic<std::string, std::string>("unique-payments");
    in.pipe_input("alice", "p1|a", 1);
    in.pipe_input("alice", "p9|a", 30'001); // the purge at 30001 keeps p1 (1 + 30000 is not before it)
    in.pipe_input("alice", "p8|a", 30'500);
    ASSERT_EQ(contents(driver).size(), 3U);
    in.pipe_input("alice", "p1|b", 29'000); // late, and p1's retention has passed: passes
    EXPECT_EQ(read_all(out),
        (std::vector<kvt>{
            {"alice", "p1|a", 1}, {"alice", "p9|a", 30'001}, {"alice", "p8|a", 30'500}, {"alice", "p1|b", 29'000}}));
    EXPECT_EQ(driver.deduplicated_records(), 0);
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("seen").get("p1")), 29'000);
}

TEST(DeduplicateTest, ThePurgeKeepsTheStoreAndItsChangelogBounded) {
    // 100 ids, one every 100 ms, retention 1 s: the purge runs at stream
    // times 0, 1000, 2000, ... and forgets the ids whose time + 1000 is
    // before it. After the last (at 9000), the ids of 8000..9900 are left.
    eddy::topology_test_driver driver(dedup_topology(1s), app_config());
    auto in = driver.create_input_topic<std::string, std::string>("payments");
    auto out = driver.create_output_topic<std::string, std::string>("unique-payments");
    std::size_t largest = 0;
    for (int i = 0; i < 100; ++i) {
        char id[8];
        std::snprintf(id, sizeof id, "p%03d", i);
        in.pipe_input("alice", std::string(id) + "|x", i * 100);
        largest = std::max(largest, contents(driver).size());
    }
    EXPECT_EQ(out.read_records_to_list().size(), 100U);
    // Never more than two retention periods of ids (plus the one just put).
    EXPECT_LE(largest, 21U);
    std::vector<key_value<std::string, std::int64_t>> expected;
    for (int i = 80; i < 100; ++i) {
        char id[8];
        std::snprintf(id, sizeof id, "p%03d", i);
        expected.push_back({id, i * 100});
    }
    EXPECT_EQ(contents(driver), expected);

    // The changelog (compact,delete with the retention) saw every id and a
    // tombstone for each forgotten one.
    auto topology = dedup_topology(1s);
    ASSERT_EQ(topology.changelog_topics("payments").size(), 1U);
    EXPECT_EQ(topology.changelog_topics("payments")[0].name, "payments-seen-changelog");
    EXPECT_EQ(topology.changelog_topics("payments")[0].window_retention_ms, 1'000);
    std::set<std::string> live;
    int puts = 0;
    int tombstones = 0;
    while (driver.queue_size("payments-seen-changelog") > 0) {
        auto r = driver.read_raw("payments-seen-changelog");
        if (r.value) {
            ++puts;
            live.insert(*r.key);
        } else {
            ++tombstones;
            live.erase(*r.key);
        }
    }
    EXPECT_EQ(puts, 100);
    EXPECT_EQ(tombstones, 80);
    EXPECT_EQ(live.size(), 20U);
}

TEST(DeduplicateTest, RecordsWithNoIdPassAndAreNotRemembered) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("payments")
        .deduplicate(
            [](const std::string&, const std::string& v) -> std::optional<std::string> {
                if (v.find('|') == std::string::npos) {
                    return std::nullopt;
                }
                return v.substr(0, v.find('|'));
            },
            1min, eddy::materialized<std::string, std::int64_t>::as("seen"))
        .to("unique-payments");
    eddy::topology_test_driver driver(builder.build(), app_config());
    auto in = driver.create_input_topic<std::string, std::string>("payments");
    auto out = driver.create_output_topic<std::string, std::string>("unique-payments");
    in.pipe_input("alice", "no id", 1);
    in.pipe_input("alice", "no id", 2);
    in.pipe_input("alice", "p1|x", 3);
    in.pipe_input("alice", "p1|x", 4);
    EXPECT_EQ(read_all(out), (std::vector<kvt>{{"alice", "no id", 1}, {"alice", "no id", 2}, {"alice", "p1|x", 3}}));
    EXPECT_EQ(driver.deduplicated_records(), 1);
    EXPECT_EQ(contents(driver), (std::vector<key_value<std::string, std::int64_t>>{{"p1", 3}}));
}

TEST(DeduplicateTest, AnInMemoryStoreAndIntegerIdsWork) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::int64_t>("amounts")
        .deduplicate([](const std::string&, std::int64_t v) { return v / 100; }, 1min,
            eddy::materialized<std::int64_t, std::int64_t>::as(eddy::stores::in_memory_key_value_store("ids")))
        .to("unique-amounts");
    eddy::topology_test_driver driver(builder.build(), app_config());
    auto in = driver.create_input_topic<std::string, std::int64_t>("amounts");
    auto out = driver.create_output_topic<std::string, std::int64_t>("unique-amounts");
    in.pipe_input("k", 101, 1);
    in.pipe_input("k", 150, 2); // id 1 again
    in.pipe_input("k", 201, 3);
    EXPECT_EQ(out.read_values_to_list(), (std::vector<std::int64_t>{101, 201}));
    EXPECT_EQ((driver.get_key_value_store<std::int64_t, std::int64_t>("ids").all().to_vector()),
        (std::vector<key_value<std::int64_t, std::int64_t>>{{1, 1}, {2, 3}}));
}

TEST(DeduplicateTest, WithoutAMaterializedTheStoreNameIsGenerated) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("payments").deduplicate(event_id, 1min).to("unique-payments");
    auto topology = builder.build();
    eddy::topology_test_driver driver(topology, app_config());
    EXPECT_EQ(driver.store_names(), (std::set<std::string>{"KSTREAM-DEDUPLICATE-STATE-STORE-0000000001"}));
    EXPECT_THAT(topology.describe().to_string(), testing::HasSubstr("KSTREAM-DEDUPLICATE-0000000002"));
    driver.create_input_topic<std::string, std::string>("payments").pipe_input("a", "p1|x", 1);
    driver.create_input_topic<std::string, std::string>("payments").pipe_input("a", "p1|x", 2);
    EXPECT_EQ((driver.create_output_topic<std::string, std::string>("unique-payments").queue_size()), 1U);
}

using eddy::test::temp_dir;

TEST(DeduplicateTest, APersistentStoreRemembersIdsAcrossARestart) {
    temp_dir dir;
    {
        eddy::topology_test_driver driver(dedup_topology(1h), app_config(dir.path));
        driver.create_input_topic<std::string, std::string>("payments").pipe_input("alice", "p1|x", 1'000);
    }
    eddy::topology_test_driver driver(dedup_topology(1h), app_config(dir.path));
    auto in = driver.create_input_topic<std::string, std::string>("payments");
    auto out = driver.create_output_topic<std::string, std::string>("unique-payments");
    in.pipe_input("alice", "p1|x", 1'000); // delivered again after the restart
    in.pipe_input("alice", "p2|x", 2'000);
    EXPECT_EQ(read_all(out), (std::vector<kvt>{{"alice", "p2|x", 2'000}}));
    EXPECT_EQ(driver.deduplicated_records(), 1);
}

TEST(DeduplicateTest, AKeyChangeRepartitionsBeforeDeduplicating) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("payments")
        .select_key(event_id)
        .deduplicate([](const std::string& id, const std::string&) { return id; }, 1min,
            eddy::materialized<std::string, std::int64_t>::as("seen"), eddy::named::as("once"))
        .to("unique-payments");
    auto topology = builder.build();
    EXPECT_THAT(topology.describe().to_string(), testing::HasSubstr("once-repartition"));
    eddy::topology_test_driver driver(topology, app_config());
    auto in = driver.create_input_topic<std::string, std::string>("payments");
    auto out = driver.create_output_topic<std::string, std::string>("unique-payments");
    in.pipe_input("alice", "p1|x", 1);
    in.pipe_input("bob", "p1|x", 2);
    in.pipe_input("bob", "p2|x", 3);
    EXPECT_EQ(read_all(out), (std::vector<kvt>{{"p1", "p1|x", 1}, {"p2", "p2|x", 3}}));
    EXPECT_TRUE(driver.produced_topic_names().contains("payments-once-repartition"));
    EXPECT_EQ(driver.deduplicated_records(), 1);
}

TEST(DeduplicateTest, ARetentionThatIsNotPositiveIsRefused) {
    eddy::streams_builder builder;
    auto s = builder.stream<std::string, std::string>("payments");
    EXPECT_THAT([&] { s.deduplicate(event_id, 0ms); },
        testing::ThrowsMessage<std::invalid_argument>(testing::HasSubstr("retention must be positive, got 0 ms")));
}

} // namespace
