// Process-level guarantees on a real Apache Kafka (scripts/kafka-local
// start): three instances of one app share a 6-partition input and one is
// killed mid-stream without losing a record; under exactly_once_v2 an
// instance killed with SIGKILL and started again leaves every input exactly
// once in the read_committed output.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/admin.h"
#include "serde/serdes.h"
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

// Creates the topic and waits until the cluster's metadata shows it.
void create_topic(const std::string& topic, int partitions) {
    eddy::admin_client admin({{"bootstrap.servers", bootstrap()}});
    admin.create_topics({{topic, partitions, 1, {}}});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!admin.describe_topic(topic) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Produces `n` records, values "v<i>x", at about `rate` records/s.
void produce_paced(const std::string& topic, int n, int rate) {
    const int batch = std::max(1, rate / 20);
    const auto start = std::chrono::steady_clock::now();
    for (int sent = 0; sent < n; sent += batch) {
        records rs;
        for (int i = sent; i < std::min(n, sent + batch); ++i) {
            rs.emplace_back("k" + std::to_string(i), "v" + std::to_string(i) + "x");
        }
        produce(bootstrap(), topic, rs);
        std::this_thread::sleep_until(start + std::chrono::milliseconds(1000LL * (sent + batch) / rate));
    }
}

std::vector<std::string> app_args(const std::string& app_id, const std::string& in, const std::string& out,
    const std::string& guarantee, const std::string& process_id) {
    return {stream_app(), "--bootstrap", bootstrap(), "--app-id", app_id, "--in", in, "--out", out, "--guarantee",
        guarantee, "--process-id", process_id, "--commit-interval-ms", "200"};
}

TEST(KafkaProcessTest, ThreeInstancesShareTheWorkAndLoseNothingWhenOneIsKilled) {
    const auto in = unique("scale-in");
    const auto out = unique("scale-out");
    const auto app = unique("scale");
    create_topic(in, 6);
    create_topic(out, 6);
    std::vector<std::unique_ptr<child_process>> instances;
    for (int i = 0; i < 3; ++i) {
        instances.push_back(std::make_unique<child_process>(
            app_args(app, in, out, "at_least_once", "p" + std::to_string(i))));
    }
    for (auto& p : instances) {
        ASSERT_TRUE(p->wait_for_line("running", 60s));
    }
    constexpr int total = 30'000;
    constexpr int rate = 6'000;
    std::thread producer([&] { produce_paced(in, total, rate); });
    std::this_thread::sleep_for(2s);
    instances[1]->signal(SIGKILL);
    EXPECT_EQ(instances[1]->wait(), 128 + SIGKILL);
    // What the dead instance may have processed without committing: every
    // record past the group's committed offsets right after the kill (its
    // partitions' offsets stay where it left them until they move).
    const auto allowed = eddy::test::uncommitted(bootstrap(), app, in, 6);
    producer.join();

    std::set<std::string> distinct;
    std::size_t counted = 0;
    auto got = eddy::test::consume_until(
        bootstrap(), out,
        [&](const std::vector<eddy::test::kafka_record>& rs) {
            for (; counted < rs.size(); ++counted) {
                distinct.insert(*rs[counted].value);
            }
            return distinct.size() >= static_cast<std::size_t>(total);
        },
        90s);
    // Duplicates may still be on their way: read a little longer.
    std::this_thread::sleep_for(2s);
    got = consume(bootstrap(), out, got.size() + 1, 5s);
    std::map<std::string, int> seen;
    for (const auto& r : got) {
        ++seen[*r.value];
    }
    int lost = 0;
    std::map<std::int32_t, int> duplicates_by_partition;
    {
        std::map<std::string, int> count;
        for (const auto& r : got) {
            if (++count[*r.value] == 2) {
                ++duplicates_by_partition[r.partition];
            }
        }
    }
    for (const auto& [p, n] : duplicates_by_partition) {
        std::printf("duplicates in output partition %d: %d\n", p, n);
    }
    for (int i = 0; i < total; ++i) {
        lost += seen.contains("v" + std::to_string(i) + "x!") ? 0 : 1;
    }
    const auto duplicates = static_cast<long>(got.size()) - static_cast<long>(seen.size());
    std::printf("scale-out: in=%d out=%zu distinct=%zu duplicates=%ld allowed=%lld lost=%d\n", total, got.size(),
        seen.size(), duplicates, static_cast<long long>(allowed), lost);
    EXPECT_EQ(lost, 0);
    EXPECT_LE(duplicates, allowed);
    for (auto& p : instances) {
        if (p->alive()) {
            p->signal(SIGTERM);
            EXPECT_EQ(p->wait(), 0);
        }
    }
}

TEST(KafkaProcessTest, ExactlyOnceSurvivesSigkillWithEveryInputOnceInTheCommittedOutput) {
    const auto in = unique("eos-in");
    const auto out = unique("eos-out");
    const auto app = unique("eos");
    create_topic(in, 3);
    create_topic(out, 3);
    auto instance = std::make_unique<child_process>(app_args(app, in, out, "exactly_once_v2", "p1"));
    ASSERT_TRUE(instance->wait_for_line("running", 60s));
    constexpr int total = 20'000;
    std::thread producer([&] { produce_paced(in, total, 5'000); });
    std::this_thread::sleep_for(1500ms);
    instance->signal(SIGKILL);
    EXPECT_EQ(instance->wait(), 128 + SIGKILL);
    // The same process id: its transactional id fences the dead one's.
    instance = std::make_unique<child_process>(app_args(app, in, out, "exactly_once_v2", "p1"));
    ASSERT_TRUE(instance->wait_for_line("running", 60s));
    producer.join();

    auto got = consume(bootstrap(), out, total, 90s, true);
    std::map<std::string, int> seen;
    for (const auto& r : got) {
        ++seen[*r.value];
    }
    int lost = 0;
    int duplicated = 0;
    for (int i = 0; i < total; ++i) {
        auto it = seen.find("v" + std::to_string(i) + "x!");
        lost += it == seen.end() ? 1 : 0;
        duplicated += it != seen.end() && it->second > 1 ? 1 : 0;
    }
    std::printf("exactly-once after SIGKILL: in=%d out=%zu lost=%d duplicated=%d\n", total, got.size(), lost,
        duplicated);
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(duplicated, 0);
    EXPECT_EQ(got.size(), static_cast<std::size_t>(total));
    instance->signal(SIGTERM);
    EXPECT_EQ(instance->wait(), 0);
}

// A count store under exactly-once: the instance is killed with SIGKILL
// mid-stream and started again on the same machine; its stores are rebuilt
// from the committed changelog, so every user's final count is exact and the
// committed output holds exactly one update per input record.
TEST(KafkaProcessTest, ExactlyOnceCountsStayExactAcrossSigkill) {
    const auto in = unique("eos-count-in");
    const auto out = unique("eos-count-out");
    const auto app = unique("eos-count");
    create_topic(in, 3);
    create_topic(out, 3);
    char state_pattern[] = "/tmp/eddy-eos-count-XXXXXX";
    ASSERT_NE(::mkdtemp(state_pattern), nullptr);
    const std::string state_dir = state_pattern;
    auto args = app_args(app, in, out, "exactly_once_v2", "p1");
    args.insert(args.end(), {"--topology", "count", "--state-dir", state_dir});

    auto instance = std::make_unique<child_process>(args);
    ASSERT_TRUE(instance->wait_for_line("running", 60s));
    constexpr int total = 20'000;
    std::thread producer([&] { produce_paced(in, total, 5'000); });
    std::this_thread::sleep_for(2000ms);
    instance->signal(SIGKILL);
    EXPECT_EQ(instance->wait(), 128 + SIGKILL);
    instance = std::make_unique<child_process>(args);
    ASSERT_TRUE(instance->wait_for_line("running", 60s));
    producer.join();

    // Until every user's committed count reached 400 (the count forwards
    // through its record cache: a commit carries each user's latest count).
    constexpr std::int64_t per_user = total / 50;
    auto got = eddy::test::consume_until(
        bootstrap(), out,
        [&](const std::vector<eddy::test::kafka_record>& rs) {
            std::map<std::string, std::int64_t> last;
            for (const auto& r : rs) {
                last[r.key.value_or("")] = eddy::serdes::int64{}.deserialize(r.value.value_or(""));
            }
            return last.size() == 50
                && std::all_of(last.begin(), last.end(), [&](const auto& kv) { return kv.second >= per_user; });
        },
        120s, true);
    std::map<std::string, std::vector<std::int64_t>> updates;
    for (const auto& r : got) {
        updates[r.key.value_or("")].push_back(eddy::serdes::int64{}.deserialize(r.value.value_or("")));
    }
    int wrong = 0;
    for (const auto& [user, counts] : updates) {
        // Each user's committed counts rise strictly to exactly 400: a record
        // counted twice would repeat a count or end above, one lost below.
        bool exact = !counts.empty() && counts.back() == per_user;
        for (std::size_t i = 1; exact && i < counts.size(); ++i) {
            exact = counts[i] > counts[i - 1];
        }
        wrong += exact ? 0 : 1;
    }
    std::printf("exactly-once counts after SIGKILL: in=%d updates=%zu users=%zu wrong=%d\n", total, got.size(),
        updates.size(), wrong);
    EXPECT_EQ(updates.size(), 50U);
    EXPECT_EQ(wrong, 0);
    EXPECT_LE(got.size(), static_cast<std::size_t>(total));
    instance->signal(SIGTERM);
    EXPECT_EQ(instance->wait(), 0);
    std::filesystem::remove_all(state_dir);
}

} // namespace
