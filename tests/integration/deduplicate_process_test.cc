// deduplicate across a SIGKILL on a real Apache Kafka (scripts/kafka-local
// start): a stream_app --topology dedup instance under exactly_once_v2 gets
// every event twice (a producer retrying), is killed mid-stream and started
// again on the same state directory (no checkpoint: its store is restored
// from the committed changelog); then every event is delivered once more.
// The read_committed output holds each event exactly once.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/admin.h"
#include "tests/integration/kafka_test_util.h"

namespace {

using namespace std::chrono_literals;
using eddy::test::child_process;
using eddy::test::consume;
using eddy::test::produce;
using eddy::test::unique;
using records = std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>;

std::string bootstrap() {
    const char* env = std::getenv("EDDY_KAFKA_BOOTSTRAP");
    return env != nullptr ? env : "127.0.0.1:9092";
}

std::string stream_app() {
    const char* env = std::getenv("EDDY_STREAM_APP");
    return env != nullptr ? env : "tests/stream_app";
}

void create_topic(const std::string& topic, int partitions) {
    eddy::admin_client admin({{"bootstrap.servers", bootstrap()}});
    admin.create_topics({{topic, partitions, 1, {}}});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!admin.describe_topic(topic) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Events "e<i>" for i in [from, to), each `copies` times in a row, at about
// `rate` records/s.
void produce_events(const std::string& topic, int from, int to, int copies, int rate) {
    const int batch = std::max(copies, rate / 20);
    const auto start = std::chrono::steady_clock::now();
    records rs;
    int sent = 0;
    for (int i = from; i < to; ++i) {
        for (int c = 0; c < copies; ++c) {
            rs.emplace_back("e" + std::to_string(i), "v" + std::to_string(i));
        }
        if (static_cast<int>(rs.size()) >= batch || i + 1 == to) {
            produce(bootstrap(), topic, rs);
            sent += static_cast<int>(rs.size());
            rs.clear();
            std::this_thread::sleep_until(start + std::chrono::milliseconds(1000LL * sent / rate));
        }
    }
}

TEST(DeduplicateProcessTest, ExactlyOnceDedupSurvivesSigkillAndDropsLaterRedeliveries) {
    const auto in = unique("dedup-in");
    const auto out = unique("dedup-out");
    const auto app = unique("dedup-eos");
    create_topic(in, 3);
    create_topic(out, 3);
    char state_pattern[] = "/tmp/eddy-dedup-eos-XXXXXX";
    ASSERT_NE(::mkdtemp(state_pattern), nullptr);
    const std::string state_dir = state_pattern;
    const std::vector<std::string> args{stream_app(), "--bootstrap", bootstrap(), "--app-id", app, "--in", in,
        "--out", out, "--guarantee", "exactly_once_v2", "--process-id", "p1", "--commit-interval-ms", "200",
        "--topology", "dedup", "--state-dir", state_dir};

    auto instance = std::make_unique<child_process>(args);
    ASSERT_TRUE(instance->wait_for_line("running", 60s));
    constexpr int events = 5'000;
    std::thread producer([&] { produce_events(in, 0, events, 2, 5'000); });
    std::this_thread::sleep_for(1000ms);
    instance->signal(SIGKILL);
    EXPECT_EQ(instance->wait(), 128 + SIGKILL);
    instance = std::make_unique<child_process>(args);
    ASSERT_TRUE(instance->wait_for_line("running", 60s));
    producer.join();
    // Every event delivered once more, after the restart.
    produce_events(in, 0, events, 1, 10'000);

    // Waits for one more than expected: a duplicate would show.
    auto got = consume(bootstrap(), out, events + 1, 30s, true);
    std::map<std::string, int> seen;
    for (const auto& r : got) {
        ++seen[r.key.value_or("")];
    }
    int lost = 0;
    int duplicated = 0;
    for (int i = 0; i < events; ++i) {
        auto it = seen.find("e" + std::to_string(i));
        lost += it == seen.end() ? 1 : 0;
        duplicated += it != seen.end() && it->second > 1 ? 1 : 0;
    }
    std::printf("dedup exactly-once after SIGKILL: in=%d out=%zu lost=%d duplicated=%d\n", 3 * events, got.size(),
        lost, duplicated);
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(duplicated, 0);
    EXPECT_EQ(got.size(), static_cast<std::size_t>(events));
    instance->signal(SIGTERM);
    EXPECT_EQ(instance->wait(), 0);
    std::filesystem::remove_all(state_dir);
}

} // namespace
