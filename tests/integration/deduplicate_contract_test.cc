// kstream::deduplicate on a broker (the embedded one; with EDDY_TEST_KAFKA a
// real Kafka): events and their duplicates (a producer's retries, a
// redelivery) go in, each event comes out once. The ids survive a clean
// restart on the same state directory (the checkpoint: nothing restored), a
// crash-like restart that left no checkpoint (the store wiped and restored
// from its changelog), and a new machine (an empty state directory, restored
// from the changelog): duplicates of events seen by an earlier instance are
// dropped, counted in deduplicated-records-total, and the output holds every
// event exactly once. RocksDB and in-memory stores, at-least-once and
// exactly-once.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/admin.h"
#include "runtime/kafka_streams.h"
#include "serde/serdes.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/kafka_test_util.h"
#include "tests/temp_dir.h"
#include "topology/streams_builder.h"

namespace {

using eddy::test::consume;
using eddy::test::produce;
using eddy::test::unique;

class counting_listener final : public eddy::state_restore_listener {
public:
    void on_restore_end(const std::string&, std::int32_t, const std::string&, std::int64_t total) override {
        restored += total;
    }
    std::atomic<std::int64_t> restored = 0;
};

using eddy::test::temp_dir;

using records = std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>;

// Events "evt-<i>" (the key is the event id) for i in [from, to).
records events(int from, int to) {
    records out;
    for (int i = from; i < to; ++i) {
        out.emplace_back("evt-" + std::to_string(i), "payload-" + std::to_string(i));
    }
    return out;
}

records operator+(records a, const records& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

double metric_sum(const eddy::kafka_streams& app, const std::string& name) {
    double n = 0;
    for (const auto& m : app.metrics()) {
        n += m.name == name ? m.value : 0;
    }
    return n;
}

struct dedup_app {
    std::string in = unique("payments");
    std::string out = unique("unique-payments");
    std::string app = unique("dedup");
    bool persistent = true;
    std::string guarantee = "at_least_once";
};

eddy::topology dedup_topology(const dedup_app& a) {
    eddy::streams_builder builder;
    auto store = a.persistent ? eddy::stores::persistent_key_value_store("seen-events")
                              : eddy::stores::in_memory_key_value_store("seen-events");
    builder.stream<std::string, std::string>(a.in)
        .deduplicate([](const std::string& id, const std::string&) { return id; }, std::chrono::hours(1),
            eddy::materialized<std::string, std::int64_t>::as(store))
        .to(a.out);
    return builder.build();
}

struct phase_result {
    std::int64_t restored = 0;
    double deduplicated = 0;
    std::size_t stored_ids = 0;
};

// Runs one instance on `state_dir`: produces `input`, waits until the
// output holds `total_out` records and the instance dropped `duplicates`,
// reads its store, closes it cleanly.
phase_result run_instance(const dedup_app& a, const std::filesystem::path& state_dir, const records& input,
    std::size_t total_out, double duplicates) {
    auto config = config_for(a.app);
    config.set("state.dir", state_dir.string());
    config.set("processing.guarantee", a.guarantee);
    eddy::kafka_streams app(dedup_topology(a), config);
    auto listener = std::make_shared<counting_listener>();
    app.set_global_state_restore_listener(listener);
    app.start();
    produce(broker().bootstrap_servers(), a.in, input);
    const bool eos = a.guarantee == "exactly_once_v2";
    EXPECT_GE(consume(broker().bootstrap_servers(), a.out, total_out, 60s, eos).size(), total_out);
    EXPECT_TRUE(wait_for([&] { return metric_sum(app, "deduplicated-records-total") >= duplicates; }, 30s));
    phase_result r;
    r.deduplicated = metric_sum(app, "deduplicated-records-total");
    // The store, queried by name while the app runs: one id per event seen.
    auto seen = app.store<std::string, std::int64_t>("seen-events");
    r.stored_ids = seen.all().size();
    EXPECT_TRUE(seen.get("evt-0").has_value());
    EXPECT_GT(seen.get("evt-0").value_or(0), 0); // the event time of the record that passed
    EXPECT_TRUE(app.close(30s));
    r.restored = listener->restored.load();
    return r;
}

// Every event of [0, n) exactly once in the output, and nothing else.
void expect_each_event_once(const dedup_app& a, int n) {
    const bool eos = a.guarantee == "exactly_once_v2";
    // Reads on for 2 s after the n-th record, so a duplicate would show.
    std::optional<std::chrono::steady_clock::time_point> complete;
    auto out = eddy::test::consume_until(
        broker().bootstrap_servers(), a.out,
        [&](const std::vector<eddy::test::kafka_record>& rs) {
            if (rs.size() < static_cast<std::size_t>(n)) {
                return false;
            }
            if (!complete) {
                complete = std::chrono::steady_clock::now();
            }
            return rs.size() > static_cast<std::size_t>(n) || std::chrono::steady_clock::now() - *complete > 2s;
        },
        60s, eos);
    std::map<std::string, int> seen;
    for (const auto& r : out) {
        ++seen[r.key.value_or("")];
        EXPECT_EQ(r.value.value_or(""), "payload-" + r.key.value_or("").substr(4));
    }
    EXPECT_EQ(out.size(), static_cast<std::size_t>(n));
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(seen["evt-" + std::to_string(i)], 1) << "evt-" << i;
    }
}

// Removes the tasks' checkpoint files; returns how many there were.
int remove_checkpoints(const std::filesystem::path& dir) {
    int removed = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        if (entry.path().filename() == ".checkpoint") {
            std::filesystem::remove(entry.path());
            ++removed;
        }
    }
    return removed;
}

class DeduplicateContractTest : public testing::TestWithParam<std::tuple<bool, std::string>> {};

TEST_P(DeduplicateContractTest, DuplicatesOfEarlierEventsAreDroppedAcrossRestartsAndRestores) {
    dedup_app a;
    a.persistent = std::get<0>(GetParam());
    a.guarantee = std::get<1>(GetParam());
    broker().create_topic(a.in, 2);
    broker().create_topic(a.out, 2);

    // 1. 20 events, then 10 of them again (a producer retrying a batch).
    temp_dir dir;
    auto first = run_instance(a, dir.path, events(0, 20) + events(0, 10), 20, 10);
    EXPECT_EQ(first.deduplicated, 10);
    EXPECT_EQ(first.stored_ids, 20U);
    EXPECT_EQ(first.restored, 0);
    expect_each_event_once(a, 20);
    eddy::admin_client admin({{"bootstrap.servers", broker().bootstrap_servers()}});
    auto changelog = admin.describe_topic(a.app + "-seen-events-changelog");
    ASSERT_TRUE(changelog.has_value());
    EXPECT_EQ(changelog->partitions, 2);
#ifdef EDDY_TEST_KAFKA
    // Created as a window store's changelog: forgotten ids leave it too.
    const auto configs = admin.topic_configs(a.app + "-seen-events-changelog");
    EXPECT_EQ(configs.at("cleanup.policy"), "compact,delete");
    EXPECT_EQ(configs.at("retention.ms"), std::to_string(3'600'000 + 86'400'000));
#endif

    // 2. A clean restart on the same state directory: all 20 delivered
    // again, and 5 new ones.
    auto second = run_instance(a, dir.path, events(0, 20) + events(20, 25), 25, 20);
    EXPECT_EQ(second.deduplicated, 20);
    EXPECT_EQ(second.stored_ids, 25U);
    // RocksDB: the checkpoint says the store holds the changelog; in memory:
    // the 20 ids again.
    EXPECT_EQ(second.restored, a.persistent ? 0 : 20);
    expect_each_event_once(a, 25);

    // 3. As after a crash: no checkpoint, so the store is wiped and
    // restored from its changelog.
    const int checkpoints = remove_checkpoints(dir.path);
    if (a.persistent) {
        EXPECT_EQ(checkpoints, 2); // one per task
    }
    auto third = run_instance(a, dir.path, events(0, 25) + events(25, 30), 30, 25);
    EXPECT_EQ(third.deduplicated, 25);
    EXPECT_EQ(third.restored, 25);
    EXPECT_EQ(third.stored_ids, 30U);
    expect_each_event_once(a, 30);

    // 4. Another machine: an empty state directory.
    temp_dir other;
    auto fourth = run_instance(a, other.path, events(0, 30) + events(30, 35), 35, 30);
    EXPECT_EQ(fourth.deduplicated, 30);
    EXPECT_EQ(fourth.restored, 30);
    EXPECT_EQ(fourth.stored_ids, 35U);
    expect_each_event_once(a, 35);
    std::printf("dedup %s %s: in=%d out=35 dropped=%g\n", a.persistent ? "rocksdb" : "in-memory",
        a.guarantee.c_str(), 30 + 25 + 30 + 35,
        first.deduplicated + second.deduplicated + third.deduplicated + fourth.deduplicated);
}

INSTANTIATE_TEST_SUITE_P(Stores, DeduplicateContractTest,
    testing::Values(std::make_tuple(true, std::string("at_least_once")),
        std::make_tuple(false, std::string("at_least_once")), std::make_tuple(true, std::string("exactly_once_v2"))),
    [](const auto& info) {
        return std::string(std::get<0>(info.param) ? "RocksDB" : "InMemory")
            + (std::get<1>(info.param) == "exactly_once_v2" ? "ExactlyOnce" : "AtLeastOnce");
    });

} // namespace
