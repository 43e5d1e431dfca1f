// Faults on a real Apache Kafka that this test starts itself
// (scripts/kafka-local on a free port of its own, with its own data
// directory: the shared broker on 9092 is left alone): the broker process
// stopped for 10 s and started again mid-stream under exactly-once, and a
// stream_app (--topology count) killed with SIGKILL 20 times in a row at
// random points under exactly-once. Skipped when there is no Java.
//
// EDDY_KAFKA_LOCAL: the kafka-local script (meson sets it);
// EDDY_CHAOS_KAFKA_LIB: a lib/ of Kafka jars to reuse (else the shared
// broker's EDDY_KAFKA_HOME/lib, else kafka-local fetches them with Maven);
// EDDY_STREAM_APP: the stream_app binary.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "runtime/admin.h"
#include "runtime/kafka_streams.h"
#include "serde/serdes.h"
#include "tests/chaos/chaos_util.h"
#include "tests/integration/kafka_test_util.h"
#include "topology/streams_builder.h"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using eddy::test::unique;
namespace fs = std::filesystem;

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : fallback;
}

bool port_free(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool taken = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return !taken;
}

bool have_java() {
    return std::system("command -v java >/dev/null 2>&1 || ls /usr/lib/jvm/*/bin/java >/dev/null 2>&1") == 0;
}

// The broker of this test binary: started once, stopped and wiped at the end.
class own_kafka {
public:
    static own_kafka& get() {
        static own_kafka k;
        return k;
    }
    bool usable() const { return _started; }
    const std::string& why_not() const { return _why_not; }
    std::string bootstrap() const { return "127.0.0.1:" + std::to_string(_port); }

    // Runs kafka-local `command` on this broker; true when it exits 0.
    bool run(const std::string& command) const {
        const std::string line = "EDDY_KAFKA_HOME='" + _home.string() + "' '" + _script + "' " + command
            + " >>'" + (_home / "kafka-local.out").string() + "' 2>&1";
        return std::system(line.c_str()) == 0;
    }
    bool stop() const { return run("stop"); }
    bool start() const { return run("start --port " + std::to_string(_port)); }

    void create_topic(const std::string& topic, int partitions) const {
        eddy::admin_client admin({{"bootstrap.servers", bootstrap()}});
        admin.create_topics({{topic, partitions, 1, {}}});
        const auto deadline = clock_type::now() + 10s;
        while (!admin.describe_topic(topic) && clock_type::now() < deadline) {
            std::this_thread::sleep_for(20ms);
        }
    }

    ~own_kafka() {
        if (_started) {
            run("stop --wipe");
        }
        std::error_code ec;
        fs::remove_all(_home, ec);
    }

private:
    own_kafka() {
        if (!have_java()) {
            _why_not = "no Java: a real Kafka cannot run here";
            return;
        }
        _script = env_or("EDDY_KAFKA_LOCAL", "scripts/kafka-local");
        if (!fs::exists(_script)) {
            _why_not = "no kafka-local script at " + _script;
            return;
        }
        char pattern[] = "/tmp/eddy-chaos-kafka-XXXXXX";
        _home = ::mkdtemp(pattern);
        // The jars of another broker of this machine, when there are some.
        for (const auto& lib : {env_or("EDDY_CHAOS_KAFKA_LIB", ""), env_or("EDDY_KAFKA_HOME", "") + "/lib",
                 fs::path(_script).parent_path().parent_path().string() + "/.cache/kafka/lib"}) {
            if (!lib.empty() && lib != "/lib" && fs::exists(fs::path(lib) / ".stamp")) {
                fs::create_directory_symlink(fs::absolute(lib), _home / "lib");
                break;
            }
        }
        for (_port = 19192; _port < 19992 && !(port_free(_port) && port_free(_port + 1)); _port += 10) {
        }
        const auto t0 = clock_type::now();
        _started = start();
        if (!_started) {
            _why_not = "kafka-local start failed; see " + (_home / "kafka-local.out").string();
        }
        std::printf("own kafka: home=%s port=%d started=%d took_ms=%lld\n", _home.c_str(), _port, _started ? 1 : 0,
            static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count()));
    }

    std::string _script;
    fs::path _home;
    int _port = 0;
    bool _started = false;
    std::string _why_not;
};

#define REQUIRE_KAFKA()                                                                                                \
    do {                                                                                                               \
        if (!have_java()) {                                                                                            \
            GTEST_SKIP() << "no Java: a real Kafka cannot run here";                                                   \
        }                                                                                                              \
        ASSERT_TRUE(own_kafka::get().usable()) << own_kafka::get().why_not();                                          \
    } while (false)

std::vector<eddy::chaos::to_send> inputs(int from, int to) {
    std::vector<eddy::chaos::to_send> rs;
    for (int i = from; i < to; ++i) {
        rs.push_back({"k" + std::to_string(i), "v" + std::to_string(i), -1});
    }
    return rs;
}

// Produces "k<i>" -> "v<i>" at about `rate` records/s on a thread of its own.
class paced_producer {
public:
    paced_producer(std::string bootstrap, std::string topic, int n, int rate)
        : _thread([=] {
              const int batch = std::max(1, rate / 20);
              eddy::chaos::producer client(bootstrap);
              const auto start = clock_type::now();
              for (int sent = 0; sent < n; sent += batch) {
                  client.send(topic, inputs(sent, std::min(n, sent + batch)));
                  std::this_thread::sleep_until(start + std::chrono::milliseconds(1000LL * (sent + batch) / rate));
              }
          }) {}
    ~paced_producer() { join(); }
    void join() {
        if (_thread.joinable()) {
            _thread.join();
        }
    }

private:
    std::thread _thread;
};

bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    while (clock_type::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return condition();
}

double metric(const eddy::kafka_streams& app, const std::string& name) {
    double sum = 0;
    for (const auto& m : app.metrics()) {
        if (m.name == name && m.tags.contains("thread") && !m.tags.contains("task") && !m.tags.contains("partition")) {
            sum += m.value;
        }
    }
    return sum;
}

TEST(ChaosKafkaTest, BrokerStoppedTenSecondsAndRestartedLeavesEveryRecordOnceUnderExactlyOnce) {
    REQUIRE_KAFKA();
    auto& kafka = own_kafka::get();
    const auto in = unique("chaos-k-in");
    const auto out = unique("chaos-k-out");
    kafka.create_topic(in, 3);
    kafka.create_topic(out, 3);
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(in).map_values([](const std::string& v) { return v + "!"; }).to(out);
    eddy::kafka_streams app(builder.build(),
        {{"application.id", unique("chaos-k-app")}, {"bootstrap.servers", kafka.bootstrap()},
            {"processing.guarantee", "exactly_once_v2"}, {"commit.interval.ms", "100"}, {"poll.ms", "20"},
            {"consumer.session.timeout.ms", "6000"}, {"consumer.heartbeat.interval.ms", "1000"},
            {"process.id", "p1"}});
    app.start();
    ASSERT_TRUE(wait_for([&] { return app.state() == eddy::streams_state::running; }, 60s));
    constexpr int total = 16'000;
    paced_producer producer(kafka.bootstrap(), in, total, 1'000);
    std::this_thread::sleep_for(3s);

    const auto down = clock_type::now();
    ASSERT_TRUE(kafka.stop());
    bool saw_unreachable = false;
    while (clock_type::now() - down < 10s) {
        saw_unreachable = saw_unreachable || app.broker_unreachable();
        EXPECT_NE(app.state(), eddy::streams_state::error);
        std::this_thread::sleep_for(100ms);
    }
    const double produced_before = metric(app, "records-produced-total");
    const auto restart = clock_type::now();
    // Started on a thread of its own: the app is watched until the broker
    // answers again.
    std::atomic<bool> restarted{false};
    std::atomic<bool> started_ok{false};
    std::thread starter([&] {
        started_ok = kafka.start();
        restarted = true;
    });
    while (!restarted) {
        saw_unreachable = saw_unreachable || app.broker_unreachable();
        EXPECT_NE(app.state(), eddy::streams_state::error);
        std::this_thread::sleep_for(100ms);
    }
    starter.join();
    ASSERT_TRUE(started_ok);
    const auto answering_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - restart).count();
    wait_for([&] { return metric(app, "records-produced-total") > produced_before; }, 120s);
    const auto recovery_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - restart).count();
    producer.join();

    std::set<std::string> expected;
    for (int i = 0; i < total; ++i) {
        expected.insert("v" + std::to_string(i) + "!");
    }
    auto got = eddy::chaos::read_expected(kafka.bootstrap(), out, expected, 120s, true);
    const auto t = eddy::chaos::count(expected, got);
    eddy::chaos::report("kafka-broker-stopped-10s", "exactly_once_v2", t, 0, recovery_ms,
        {{"broker_restart_ms", std::to_string(answering_ms)}, {"unreachable_seen", saw_unreachable ? "true" : "false"},
            {"aborted_transactions", std::to_string(static_cast<long long>(metric(app, "aborted-transactions-total")))},
            {"transaction_retries", std::to_string(static_cast<long long>(metric(app, "transaction-retries-total")))},
            {"state", std::string(eddy::to_string(app.state()))}});
    EXPECT_TRUE(saw_unreachable);
    EXPECT_EQ(t.lost, 0U);
    EXPECT_EQ(t.duplicates, 0U);
    EXPECT_EQ(t.unexpected, 0U);
    EXPECT_EQ(t.out, static_cast<std::size_t>(total));
    EXPECT_NE(app.state(), eddy::streams_state::error);
    EXPECT_TRUE(app.close(30s));
}

// stream_app --topology count under exactly_once_v2, killed with SIGKILL 20
// times at random points (seeded; the seed is printed) while records keep
// coming, started again each time with the same process id and state
// directory. Then: every user's committed counts rise strictly and end at
// exactly n (each input counted once): a record counted twice would repeat a
// count or end above n, one lost would end below. (The count forwards
// through its record cache, as Kafka Streams': a commit carries each user's
// latest count, so counts in between may be skipped.)
TEST(ChaosKafkaTest, TwentySigkillsInARowUnderExactlyOnceLeaveEveryCountExact) {
    REQUIRE_KAFKA();
    auto& kafka = own_kafka::get();
    const auto in = unique("chaos-kill-in");
    const auto out = unique("chaos-kill-out");
    const auto app_id = unique("chaos-kill");
    kafka.create_topic(in, 3);
    kafka.create_topic(out, 3);
    char state_pattern[] = "/tmp/eddy-chaos-kill-XXXXXX";
    ASSERT_NE(::mkdtemp(state_pattern), nullptr);
    const std::string state_dir = state_pattern;
    const std::vector<std::string> args = {env_or("EDDY_STREAM_APP", "tests/stream_app"), "--bootstrap",
        kafka.bootstrap(), "--app-id", app_id, "--in", in, "--out", out, "--guarantee", "exactly_once_v2",
        "--process-id", "p1", "--commit-interval-ms", "100", "--topology", "count", "--state-dir", state_dir};

    const unsigned seed = static_cast<unsigned>(std::random_device{}());
    std::printf("sigkill seed=%u\n", seed);
    std::fflush(stdout);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> after_running_ms(0, 2500);
    constexpr int kills = 20;
    constexpr int total = 25'000; // 500 per user
    paced_producer producer(kafka.bootstrap(), in, total, 250);
    const auto start = clock_type::now();
    std::vector<long long> restart_ms;
    for (int k = 0; k < kills; ++k) {
        const auto t0 = clock_type::now();
        eddy::test::child_process instance(args);
        ASSERT_TRUE(instance.wait_for_line("running", 90s)) << "start " << k;
        restart_ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0).count());
        std::this_thread::sleep_for(std::chrono::milliseconds(after_running_ms(rng)));
        instance.signal(SIGKILL);
        EXPECT_EQ(instance.wait(), 128 + SIGKILL);
    }
    eddy::test::child_process last(args);
    ASSERT_TRUE(last.wait_for_line("running", 90s));
    producer.join();

    // Each user's committed counts must rise strictly to exactly 500.
    constexpr std::int64_t per_user = total / 50;
    std::map<std::string, std::int64_t> last_seen;
    std::size_t scanned = 0;
    const auto all_counted = [&](const std::vector<eddy::chaos::record>& rs) {
        for (; scanned < rs.size(); ++scanned) {
            last_seen[rs[scanned].key.value_or("")] =
                eddy::serdes::int64{}.deserialize(rs[scanned].value.value_or(""));
        }
        return last_seen.size() == 50 && std::all_of(last_seen.begin(), last_seen.end(), [&](const auto& kv) {
            return kv.second >= per_user;
        });
    };
    auto got = eddy::chaos::read(kafka.bootstrap(), out, all_counted, 120s, true);
    const auto counted_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
    // Anything beyond the exact count would come now.
    std::this_thread::sleep_for(2s);
    const auto n = got.size();
    got = eddy::chaos::read(
        kafka.bootstrap(), out, [&](const auto& rs) { return rs.size() > n; }, 5s, true);
    std::map<std::string, std::vector<std::int64_t>> updates;
    for (const auto& r : got) {
        updates[r.key.value_or("")].push_back(eddy::serdes::int64{}.deserialize(r.value.value_or("")));
    }
    std::int64_t wrong_users = 0; // users whose counts do not rise strictly to exactly 500
    std::int64_t duplicated = 0;  // counts at or below the one before, or above 500
    std::int64_t missing = 0;     // records short of 500 in a user's last count
    for (const auto& [user, counts] : updates) {
        bool exact = !counts.empty() && counts.back() == per_user;
        for (std::size_t i = 0; i < counts.size(); ++i) {
            if ((i > 0 && counts[i] <= counts[i - 1]) || counts[i] > per_user) {
                ++duplicated;
                exact = false;
            }
        }
        missing += counts.empty() ? per_user : std::max<std::int64_t>(0, per_user - counts.back());
        wrong_users += exact ? 0 : 1;
    }
    missing += static_cast<std::int64_t>(50 - std::min<std::size_t>(50, updates.size())) * per_user;
    long long restart_sum = 0;
    long long restart_max = 0;
    for (auto ms : restart_ms) {
        restart_sum += ms;
        restart_max = std::max(restart_max, ms);
    }
    eddy::chaos::report("sigkill-x20",
        {{"guarantee", "exactly_once_v2"}, {"in", std::to_string(total)}, {"out", std::to_string(got.size())},
            {"duplicates", std::to_string(duplicated)}, {"dead_lettered", "0"},
            {"lost", std::to_string(missing)},
            {"recovery_ms", std::to_string(restart_ms.empty() ? 0 : restart_sum / static_cast<long long>(restart_ms.size()))},
            {"recovery_max_ms", std::to_string(restart_max)}, {"users", std::to_string(updates.size())},
            {"users_wrong", std::to_string(wrong_users)}, {"seed", std::to_string(seed)},
            {"counted_ms", std::to_string(counted_ms)}});
    EXPECT_EQ(updates.size(), 50U);
    EXPECT_EQ(wrong_users, 0);
    EXPECT_EQ(missing, 0);
    EXPECT_EQ(duplicated, 0);
    // At most one update per input (the cache collapses a user's updates
    // within a commit).
    EXPECT_LE(got.size(), static_cast<std::size_t>(total));
    last.signal(SIGTERM);
    EXPECT_EQ(last.wait(), 0);
    std::filesystem::remove_all(state_dir);
}

} // namespace
