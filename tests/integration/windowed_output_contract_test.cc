// Windowed output under the Kafka runtime, on a broker (the embedded one, or
// with EDDY_TEST_KAFKA a real Kafka): a windowed key goes to the partition of
// its plain key, as Kafka Streams' WindowedStreamPartitioner writes it, so
// every window (or session) of a key is on one partition, in order, and on
// the partition its input key came from. Sessions are where this shows: a
// session's key changes as its end moves, and partitioned by the whole key
// successive counts of one key landed on different partitions.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/window.h"
#include "runtime/kafka_streams.h"
#include "serde/serdes.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/kafka_test_util.h"
#include "topology/streams_builder.h"

namespace {

using namespace std::chrono_literals;
using eddy::test::consume;
using eddy::test::consume_until;
using eddy::test::kafka_record;
using eddy::test::produce;
using eddy::test::unique;

using records = std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>;

constexpr int partitions = 6;
constexpr int keys = 24;
constexpr int rounds = 4;

eddy::topology windowed_counts(const std::string& in, const std::string& time_out, const std::string& session_out) {
    eddy::streams_builder builder;
    auto grouped = builder.stream<std::string, std::string>(in).group_by_key();
    grouped.windowed_by(eddy::time_windows::of_size_with_no_grace(100ms))
        .count(eddy::materialized<std::string, std::int64_t>::as("time-counts"))
        .to_stream()
        .to(time_out, eddy::produced<eddy::windowed<std::string>, std::int64_t>::with(
                          eddy::serdes::time_windowed<std::string>{eddy::serdes::string{}, 100},
                          eddy::serdes::int64{}));
    grouped.windowed_by(eddy::session_windows::of_inactivity_gap_with_no_grace(10s))
        .count(eddy::materialized<std::string, std::int64_t>::as("session-counts"))
        .map_values([](std::int64_t n) { return std::optional<std::int64_t>(n); })
        .to_stream()
        .to(session_out, eddy::produced<eddy::windowed<std::string>, std::optional<std::int64_t>>::with(
                             eddy::serdes::session_windowed<std::string>{eddy::serdes::string{}},
                             eddy::serdes::nullable<eddy::serdes::int64>{}));
    return builder.build();
}

std::int64_t count_of(const std::string& bytes) {
    return eddy::serdes::int64{}.deserialize(bytes);
}

// The partition each key's input records were on (the producer partitions
// by murmur2 as Java's).
std::map<std::string, std::int32_t> input_partitions(const std::vector<kafka_record>& in) {
    std::map<std::string, std::int32_t> out;
    for (const auto& r : in) {
        out[*r.key] = r.partition;
    }
    return out;
}

TEST(WindowedOutputContractTest, EveryWindowOfAKeyLandsOnThePartitionOfItsPlainKeyInOrder) {
    const auto in = unique("win-in");
    const auto time_out = unique("win-time-out");
    const auto session_out = unique("win-session-out");
    broker().create_topic(in, partitions);
    broker().create_topic(time_out, partitions);
    broker().create_topic(session_out, partitions);

    eddy::kafka_streams app(windowed_counts(in, time_out, session_out), config_for(unique("win-app")));
    app.start();
    // Rounds 150 ms apart (commits every 100 ms): each falls in new 100 ms
    // windows, and every round moves each key's one session's end. The
    // first round's sessions are committed before the next round comes, so
    // their deletes go downstream (a session made and merged away within
    // one commit sends nothing, through the record cache).
    auto round_of = [&](int round) {
        records batch;
        for (int k = 0; k < keys; ++k) {
            batch.emplace_back("user-" + std::to_string(k), "v" + std::to_string(round));
        }
        produce(broker().bootstrap_servers(), in, batch);
    };
    round_of(0);
    ASSERT_EQ(consume(broker().bootstrap_servers(), session_out, keys, 60s).size(), static_cast<std::size_t>(keys));
    for (int round = 1; round < rounds; ++round) {
        std::this_thread::sleep_for(150ms);
        round_of(round);
    }
    const auto where = input_partitions(consume(broker().bootstrap_servers(), in, keys * rounds, 30s));
    ASSERT_EQ(where.size(), static_cast<std::size_t>(keys));
    std::set<std::int32_t> used;
    for (const auto& [key, p] : where) {
        used.insert(p);
    }
    ASSERT_GT(used.size(), 2U) << "the keys should spread over the partitions";

    // Time windows: each key's windows sum to its rounds, every one on the
    // key's partition.
    const eddy::serdes::time_windowed<std::string> time_serde{eddy::serdes::string{}, 100};
    std::map<std::string, std::map<std::int64_t, std::int64_t>> latest;
    auto time_records = consume_until(
        broker().bootstrap_servers(), time_out,
        [&](const std::vector<kafka_record>& got) {
            std::map<std::string, std::map<std::int64_t, std::int64_t>> by_key;
            for (const auto& r : got) {
                auto w = time_serde.deserialize(*r.key);
                by_key[w.key][w.window.start_ms] = count_of(*r.value);
            }
            std::int64_t total = 0;
            for (const auto& [k, windows] : by_key) {
                for (const auto& [start, n] : windows) {
                    total += n;
                }
            }
            return total == keys * rounds;
        },
        60s);
    for (const auto& r : time_records) {
        auto w = time_serde.deserialize(*r.key);
        ASSERT_TRUE(where.contains(w.key)) << w.key;
        EXPECT_EQ(r.partition, where.at(w.key)) << eddy::to_string(w);
        latest[w.key][w.window.start_ms] = count_of(*r.value);
    }
    ASSERT_EQ(latest.size(), static_cast<std::size_t>(keys));
    for (const auto& [key, windows] : latest) {
        std::int64_t total = 0;
        for (const auto& [start, n] : windows) {
            total += n;
        }
        EXPECT_EQ(total, rounds) << key;
    }

    // Sessions: one per key, its count growing to `rounds`; read in offset
    // order on its one partition, a key's count never goes down, and the
    // deletes of merged-away sessions are there too.
    const eddy::serdes::session_windowed<std::string> session_serde{eddy::serdes::string{}};
    auto session_records = consume_until(
        broker().bootstrap_servers(), session_out,
        [&](const std::vector<kafka_record>& got) {
            std::map<std::string, std::int64_t> last;
            for (const auto& r : got) {
                if (r.value) {
                    last[session_serde.deserialize(*r.key).key] = count_of(*r.value);
                }
            }
            if (last.size() != static_cast<std::size_t>(keys)) {
                return false;
            }
            for (const auto& [k, n] : last) {
                if (n != rounds) {
                    return false;
                }
            }
            return true;
        },
        60s);
    std::map<std::string, std::int64_t> highest;
    std::size_t deletes = 0;
    for (const auto& r : session_records) {
        auto w = session_serde.deserialize(*r.key);
        ASSERT_TRUE(where.contains(w.key)) << w.key;
        EXPECT_EQ(r.partition, where.at(w.key)) << eddy::to_string(w);
        if (!r.value) {
            ++deletes;
            continue;
        }
        const auto n = count_of(*r.value);
        EXPECT_GE(n, highest[w.key]) << "a lower count after a higher one for " << eddy::to_string(w);
        highest[w.key] = std::max(highest[w.key], n);
    }
    EXPECT_EQ(highest.size(), static_cast<std::size_t>(keys));
    EXPECT_GT(deletes, 0U) << "a moving session's old key is deleted";
    EXPECT_TRUE(app.close(30s));
}

} // namespace
