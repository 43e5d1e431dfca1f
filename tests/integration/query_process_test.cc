// Queries across processes on a real Kafka, with an instance killed by
// SIGKILL: two stream_app processes count clicks per user under
// exactly_once_v2 and serve the count store over HTTP; every user's count is
// exact from either (forwarded to the owner). Then one is killed: it leaves
// its entry in <application.id>-instances behind (no tombstone), but the
// survivor's newer claim of the partitions wins, so the survivor answers
// every key itself, exactly, and lists the dead instance with no partitions.

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/admin.h"
#include "tests/integration/http_get.h"
#include "tests/integration/kafka_test_util.h"

namespace {

using namespace std::chrono_literals;
using eddy::test::child_process;
using eddy::test::http_get;
using eddy::test::produce;
using eddy::test::unique;

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
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!admin.describe_topic(topic) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
}

bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(100ms);
    }
    return condition();
}

// host -> how many source partitions its tasks read, from /instances.
std::map<std::string, std::size_t> partitions_by_host(std::uint16_t port) {
    std::map<std::string, std::size_t> out;
    auto a = http_get(port, "/instances");
    if (a.status != 200) {
        return out;
    }
    const auto body = nlohmann::json::parse(a.body);
    for (const auto& i : body["instances"]) {
        out[i["host"].get<std::string>()] = i["partitions"].size();
    }
    return out;
}

TEST(QueryProcessTest, AKilledInstancesStaleEntryLosesToTheNewOwner) {
    const auto in = unique("query-kill-in");
    const auto out = unique("query-kill-out");
    const auto app = unique("query-kill");
    constexpr int partitions = 4;
    create_topic(in, partitions);
    create_topic(out, 1);
    char pattern_a[] = "/tmp/eddy-query-kill-a-XXXXXX";
    char pattern_b[] = "/tmp/eddy-query-kill-b-XXXXXX";
    const std::string dir_a = ::mkdtemp(pattern_a);
    const std::string dir_b = ::mkdtemp(pattern_b);
    const auto port_a = eddy::test::free_port();
    const auto port_b = eddy::test::free_port();
    const std::string host_a = "127.0.0.1:" + std::to_string(port_a);
    const std::string host_b = "127.0.0.1:" + std::to_string(port_b);
    auto args = [&](const std::string& id, const std::string& dir, std::uint16_t port) {
        return std::vector<std::string>{stream_app(), "--bootstrap", bootstrap(), "--app-id", app, "--in", in, "--out",
            out, "--guarantee", "exactly_once_v2", "--process-id", id, "--topology", "count", "--state-dir", dir,
            "--http-port", std::to_string(port)};
    };
    auto a = std::make_unique<child_process>(args("pa", dir_a, port_a));
    ASSERT_TRUE(a->wait_for_line("running", 60s));
    auto b = std::make_unique<child_process>(args("pb", dir_b, port_b));
    ASSERT_TRUE(b->wait_for_line("running", 60s));

    // k<i> belongs to user u<i mod 50>: 4 clicks each.
    std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> clicks;
    for (int i = 0; i < 200; ++i) {
        clicks.emplace_back("k" + std::to_string(i), "/p");
    }
    produce(bootstrap(), in, clicks);

    auto count_of = [](std::uint16_t port, const std::string& user) -> std::pair<std::int64_t, std::string> {
        auto r = http_get(port, "/stores/counts/keys/" + user);
        if (r.status != 200) {
            return {-r.status, r.body};
        }
        auto j = nlohmann::json::parse(r.body);
        return {j["value"].get<std::int64_t>(), j["host"].get<std::string>()};
    };
    auto all_exact = [&](std::uint16_t port, const std::string& only_host) {
        for (int u = 0; u < 50; ++u) {
            auto [n, host] = count_of(port, "u" + std::to_string(u));
            if (n != 4 || (!only_host.empty() && host != only_host)) {
                return false;
            }
        }
        return true;
    };
    ASSERT_TRUE(wait_for([&] {
        auto p = partitions_by_host(port_a);
        return p[host_a] > 0 && p[host_b] > 0;
    }, 60s)) << "the instances did not share the partitions: " << http_get(port_a, "/instances").body;
    ASSERT_TRUE(wait_for([&] { return all_exact(port_a, ""); }, 60s))
        << "A's /instances: " << http_get(port_a, "/instances").body << " u0: " << count_of(port_a, "u0").second
        << " u1: " << count_of(port_a, "u1").second;
    EXPECT_TRUE(all_exact(port_b, ""));

    a->signal(SIGKILL);
    a->wait();
    // B takes A's partitions over after the session timeout and claims them.
    ASSERT_TRUE(wait_for([&] { return partitions_by_host(port_b)[host_b] == 2 * partitions; }, 90s))
        << "instance B did not claim every partition";
    auto listed = partitions_by_host(port_b);
    // Its entry stays until it expires or (real Kafka, ADR 0019) until the
    // group drops its member; either way none of its claims wins.
    EXPECT_EQ(listed.contains(host_a) ? listed[host_a] : 0U, 0U) << "a claim of the dead instance won";
    EXPECT_TRUE(wait_for([&] { return all_exact(port_b, host_b); }, 60s)) << "every key from B itself";
    b->signal(SIGTERM);
    EXPECT_EQ(b->wait(), 0);
    std::filesystem::remove_all(dir_a);
    std::filesystem::remove_all(dir_b);
}

} // namespace
