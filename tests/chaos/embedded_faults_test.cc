// Faults on the embedded broker (librdkafka's mock cluster and its fault
// API), each on a workload with a known input whose output is checked
// exactly: the broker down mid-stream (10 s, and 40 s with the producer's
// queue bounded), retriable request errors on produce, fetch, commit and
// the transaction calls, fatal and abortable transaction errors, and the
// coordinators moved mid-stream. Each test prints a "chaos:" line
// (docs/faults.md).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "operators/retry_policy.h"
#include "runtime/embedded_broker.h"
#include "runtime/kafka_streams.h"
#include "tests/chaos/chaos_util.h"
#include "tests/integration/kafka_test_util.h"
#include "topology/streams_builder.h"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using eddy::test::unique;

// Kafka's API keys (librdkafka does not install its protocol header).
constexpr std::int16_t api_produce = 0;
constexpr std::int16_t api_fetch = 1;
constexpr std::int16_t api_offset_commit = 8;
constexpr std::int16_t api_init_producer_id = 22;
constexpr std::int16_t api_add_partitions_to_txn = 24;
constexpr std::int16_t api_add_offsets_to_txn = 25;
constexpr std::int16_t api_end_txn = 26;
constexpr std::int16_t api_txn_offset_commit = 28;

std::int64_t ms_since(clock_type::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
}

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

// The sum over the stream threads of a metric.
double metric(const eddy::kafka_streams& app, const std::string& name) {
    double sum = 0;
    for (const auto& m : app.metrics()) {
        if (m.name == name && m.tags.contains("thread") && !m.tags.contains("task") && !m.tags.contains("partition")) {
            sum += m.value;
        }
    }
    return sum;
}

// The workload: "k<i>" -> "v<i>" in, "v<i>!" out, one record per input.
struct workload {
    std::string in = unique("chaos-in");
    std::string out = unique("chaos-out");
    std::string app = unique("chaos-app");
    int partitions = 3;

    eddy::topology topology() const {
        eddy::streams_builder builder;
        builder.stream<std::string, std::string>(in)
            .map_values([](const std::string& v) { return v + "!"; })
            .to(out);
        return builder.build();
    }

    void create(eddy::embedded_broker& broker) const {
        broker.create_topic(in, partitions);
        broker.create_topic(out, partitions);
    }

    eddy::streams_config config(const eddy::embedded_broker& broker, const std::string& guarantee) const {
        return {{"application.id", app}, {"bootstrap.servers", broker.bootstrap_servers()},
            {"processing.guarantee", guarantee}, {"commit.interval.ms", "100"}, {"poll.ms", "20"},
            {"consumer.fetch.wait.max.ms", "10"}, {"consumer.session.timeout.ms", "6000"},
            {"consumer.heartbeat.interval.ms", "500"}, {"process.id", "p1"}};
    }

    static std::vector<eddy::chaos::to_send> inputs(int from, int to) {
        std::vector<eddy::chaos::to_send> rs;
        for (int i = from; i < to; ++i) {
            rs.push_back({"k" + std::to_string(i), "v" + std::to_string(i), -1});
        }
        return rs;
    }

    static std::set<std::string> expected(int n) {
        std::set<std::string> out;
        for (int i = 0; i < n; ++i) {
            out.insert("v" + std::to_string(i) + "!");
        }
        return out;
    }
};

// Produces "k<i>" -> "v<i>" for i in [0, n) at about `rate` records/s, on
// a thread of its own; a batch waits while the broker is down.
class paced_producer {
public:
    paced_producer(std::string bootstrap, std::string topic, int n, int rate)
        : _thread([=, this] {
              const int batch = std::max(1, rate / 20);
              eddy::chaos::producer client(bootstrap);
              const auto start = clock_type::now();
              for (int sent = 0; sent < n; sent += batch) {
                  client.send(topic, workload::inputs(sent, std::min(n, sent + batch)));
                  _sent.store(std::min(n, sent + batch));
                  std::this_thread::sleep_until(start + std::chrono::milliseconds(1000LL * (sent + batch) / rate));
              }
          }) {}
    ~paced_producer() { join(); }
    void join() {
        if (_thread.joinable()) {
            _thread.join();
        }
    }
    int sent() const { return _sent.load(); }

private:
    std::atomic<int> _sent{0};
    std::thread _thread;
};

struct outage_result {
    bool saw_unreachable = false;
    // health() said degraded, naming the broker, while it was down.
    bool saw_degraded = false;
    double max_buffered_records = 0;
    double max_buffered_bytes = 0;
    std::int64_t recovery_ms = -1;
    std::int64_t unreachable_cleared_ms = -1;
    std::int64_t unreachable_seen_after_ms = -1; // from the outage's start
};

// Takes every broker down for `outage`, watching the app meanwhile; then
// up again, and waits until the app produces again.
outage_result outage(eddy::embedded_broker& broker, const eddy::kafka_streams& app, std::chrono::milliseconds outage) {
    outage_result r;
    for (int b = 1; b <= broker.broker_count(); ++b) {
        broker.set_broker_down(b);
    }
    const auto down = clock_type::now();
    while (clock_type::now() - down < outage) {
        if (!r.saw_unreachable && app.broker_unreachable()) {
            r.saw_unreachable = true;
            r.unreachable_seen_after_ms = ms_since(down);
        }
        if (const auto h = app.health(); h.status == eddy::health_status::degraded) {
            r.saw_degraded = r.saw_degraded
                || std::any_of(h.reasons.begin(), h.reasons.end(),
                    [](const std::string& why) { return why.find("broker unreachable") != std::string::npos; });
        }
        r.max_buffered_records = std::max(r.max_buffered_records, metric(app, "producer-buffered-records"));
        r.max_buffered_bytes = std::max(r.max_buffered_bytes, metric(app, "producer-buffered-bytes"));
        EXPECT_NE(app.state(), eddy::streams_state::error) << "the app failed during the outage";
        std::this_thread::sleep_for(100ms);
    }
    const double produced_before = metric(app, "records-produced-total");
    for (int b = 1; b <= broker.broker_count(); ++b) {
        broker.set_broker_up(b);
    }
    const auto up = clock_type::now();
    wait_for([&] { return metric(app, "records-produced-total") > produced_before; }, 60s);
    r.recovery_ms = ms_since(up);
    wait_for([&] { return !app.broker_unreachable(); }, 30s);
    r.unreachable_cleared_ms = ms_since(up);
    return r;
}

// The broker down for `down_for` while records keep coming: under
// at-least-once none is lost (duplicates are counted and reported), under
// exactly-once each is in the read_committed output once.
void broker_down_mid_stream(const std::string& guarantee, std::chrono::seconds down_for,
    const std::map<std::string, std::string>& extra, const std::string& fault) {
    eddy::embedded_broker broker(1);
    workload w;
    w.create(broker);
    auto config = w.config(broker, guarantee);
    for (const auto& [k, v] : extra) {
        config.set(k, v);
    }
    eddy::kafka_streams app(w.topology(), config);
    app.start();
    ASSERT_TRUE(wait_for([&] { return app.state() == eddy::streams_state::running; }, 30s));
    constexpr int total = 16'000;
    paced_producer producer(broker.bootstrap_servers(), w.in, total, 2'000);
    std::this_thread::sleep_for(3s);
    const auto r = outage(broker, app, down_for);
    producer.join();
    const bool exactly_once = guarantee == "exactly_once_v2";
    auto got = eddy::chaos::read_expected(broker.bootstrap_servers(), w.out, workload::expected(total), 90s, exactly_once);
    const auto t = eddy::chaos::count(workload::expected(total), got);
    eddy::chaos::report(fault, guarantee, t, 0, r.recovery_ms,
        {{"unreachable_seen", r.saw_unreachable ? "true" : "false"},
            {"unreachable_seen_after_ms", std::to_string(r.unreachable_seen_after_ms)},
            {"unreachable_cleared_ms", std::to_string(r.unreachable_cleared_ms)},
            {"max_buffered_records", std::to_string(static_cast<long long>(r.max_buffered_records))},
            {"aborted_transactions", std::to_string(static_cast<long long>(metric(app, "aborted-transactions-total")))},
            {"rebalances", std::to_string(static_cast<long long>(metric(app, "rebalance-total")))},
            {"commits_postponed", std::to_string(static_cast<long long>(metric(app, "commits-postponed-total")))},
            {"transaction_retries", std::to_string(static_cast<long long>(metric(app, "transaction-retries-total")))}});
    EXPECT_TRUE(r.saw_unreachable) << "broker_unreachable() never said so during the outage";
    EXPECT_FALSE(app.broker_unreachable());
    EXPECT_TRUE(r.saw_degraded) << "health() never said degraded, broker unreachable, during the outage";
    EXPECT_EQ(app.health().status, eddy::health_status::healthy);
    EXPECT_EQ(t.lost, 0U);
    EXPECT_EQ(t.unexpected, 0U);
    if (exactly_once) {
        EXPECT_EQ(t.duplicates, 0U);
        EXPECT_EQ(t.out, static_cast<std::size_t>(total));
    }
    EXPECT_NE(app.state(), eddy::streams_state::error);
    EXPECT_TRUE(app.close(30s));
}

TEST(ChaosEmbeddedTest, BrokerDownTenSecondsAtLeastOnceLosesNothing) {
    broker_down_mid_stream("at_least_once", 10s, {}, "broker-down-10s");
}

// Shorter than the session and transaction timeouts (set to 30 s), the
// outage aborts nothing: the commit waits for the broker and goes through.
TEST(ChaosEmbeddedTest, BrokerDownTenSecondsExactlyOnceKeepsEveryRecordOnce) {
    broker_down_mid_stream("exactly_once_v2", 10s,
        {{"transaction.timeout.ms", "30000"}, {"consumer.session.timeout.ms", "30000"}}, "broker-down-10s");
}

// Longer than every default timeout, with a backlog and a producer queue
// bounded to 2000 records: the queue fills, processing waits, nothing
// crashes, and nothing is lost once the broker is back.
TEST(ChaosEmbeddedTest, BrokerDownFortySecondsBuffersUpToTheBoundAndLosesNothing) {
    eddy::embedded_broker broker(1);
    workload w;
    w.create(broker);
    constexpr int total = 30'000;
    eddy::chaos::produce(broker.bootstrap_servers(), w.in, workload::inputs(0, total));
    auto config = w.config(broker, "at_least_once");
    config.set("producer.queue.buffering.max.messages", "2000");
    // Slow the first records down so that the outage finds a backlog.
    config.set("producer.linger.ms", "50");
    eddy::kafka_streams app(w.topology(), config);
    app.start();
    ASSERT_TRUE(wait_for([&] { return metric(app, "records-processed-total") >= 1000; }, 30s));
    const auto r = outage(broker, app, 40s);
    auto got = eddy::chaos::read_expected(broker.bootstrap_servers(), w.out, workload::expected(total), 90s, false);
    const auto t = eddy::chaos::count(workload::expected(total), got);
    eddy::chaos::report("broker-down-40s-queue-2000", "at_least_once", t, 0, r.recovery_ms,
        {{"unreachable_seen", r.saw_unreachable ? "true" : "false"},
            {"max_buffered_records", std::to_string(static_cast<long long>(r.max_buffered_records))},
            {"max_buffered_bytes", std::to_string(static_cast<long long>(r.max_buffered_bytes))},
            {"rebalances", std::to_string(static_cast<long long>(metric(app, "rebalance-total")))},
            {"commits_postponed", std::to_string(static_cast<long long>(metric(app, "commits-postponed-total")))}});
    EXPECT_TRUE(r.saw_unreachable);
    EXPECT_GT(r.max_buffered_records, 0);
    EXPECT_LE(r.max_buffered_records, 2000);
    EXPECT_EQ(t.lost, 0U);
    EXPECT_EQ(t.unexpected, 0U);
    EXPECT_NE(app.state(), eddy::streams_state::error);
    EXPECT_TRUE(app.close(30s));
}

// Runs the workload with `inject` called once mid-stream (after 1.5 s).
struct injected_run {
    eddy::chaos::tally tally;
    double aborted = 0;
    double retries = 0;
    int replaced = 0;
    eddy::streams_state state = eddy::streams_state::created;
};

injected_run run_with_faults(const std::string& guarantee, int brokers,
    const std::function<void(eddy::embedded_broker&, const workload&)>& before_start,
    const std::function<void(eddy::embedded_broker&, const workload&)>& inject, bool replace_threads = false) {
    eddy::embedded_broker broker(brokers);
    workload w;
    w.create(broker);
    eddy::kafka_streams app(w.topology(), w.config(broker, guarantee));
    std::atomic<int> replaced{0};
    if (replace_threads) {
        app.set_uncaught_exception_handler([&](const std::exception&) {
            ++replaced;
            return eddy::uncaught_response::replace_thread;
        });
    }
    if (before_start) {
        before_start(broker, w);
    }
    app.start();
    EXPECT_TRUE(wait_for([&] { return app.state() == eddy::streams_state::running; }, 30s));
    constexpr int total = 8'000;
    paced_producer producer(broker.bootstrap_servers(), w.in, total, 2'000);
    std::this_thread::sleep_for(1500ms);
    inject(broker, w);
    producer.join();
    const bool exactly_once = guarantee == "exactly_once_v2";
    auto got = eddy::chaos::read_expected(broker.bootstrap_servers(), w.out, workload::expected(total), 60s, exactly_once);
    injected_run r;
    r.tally = eddy::chaos::count(workload::expected(total), got);
    r.aborted = metric(app, "aborted-transactions-total");
    r.retries = metric(app, "transaction-retries-total");
    r.replaced = replaced.load();
    r.state = app.state();
    EXPECT_TRUE(app.close(30s));
    return r;
}

void report(const std::string& fault, const std::string& guarantee, const injected_run& r) {
    eddy::chaos::report(fault, guarantee, r.tally, 0, -1,
        {{"aborted_transactions", std::to_string(static_cast<long long>(r.aborted))},
            {"transaction_retries", std::to_string(static_cast<long long>(r.retries))},
            {"threads_replaced", std::to_string(r.replaced)}, {"state", std::string(eddy::to_string(r.state))}});
}

auto* mock(eddy::embedded_broker& b) {
    return static_cast<rd_kafka_mock_cluster_t*>(b.mock_cluster());
}

TEST(ChaosEmbeddedTest, RetriableProduceFetchAndCommitErrorsAreRecoveredTransparently) {
    auto r = run_with_faults("at_least_once", 1, nullptr, [](eddy::embedded_broker& b, const workload&) {
        rd_kafka_mock_push_request_errors(mock(b), api_produce, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
        rd_kafka_mock_push_request_errors(mock(b), api_fetch, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
        rd_kafka_mock_push_request_errors(mock(b), api_offset_commit, 3, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
    });
    report("request-errors-produce-fetch-commit", "at_least_once", r);
    EXPECT_EQ(r.tally.lost, 0U);
    EXPECT_EQ(r.tally.unexpected, 0U);
    EXPECT_EQ(r.replaced, 0);
    EXPECT_NE(r.state, eddy::streams_state::error);
}

TEST(ChaosEmbeddedTest, RetriableTransactionErrorsAreRecoveredTransparentlyUnderExactlyOnce) {
    auto r = run_with_faults(
        "exactly_once_v2", 1,
        [](eddy::embedded_broker& b, const workload&) {
            rd_kafka_mock_push_request_errors(mock(b), api_init_producer_id, 3,
                RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
        },
        [](eddy::embedded_broker& b, const workload&) {
            rd_kafka_mock_push_request_errors(mock(b), api_add_partitions_to_txn, 3,
                RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
            rd_kafka_mock_push_request_errors(mock(b), api_add_offsets_to_txn, 2,
                RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS);
            rd_kafka_mock_push_request_errors(mock(b), api_txn_offset_commit, 2,
                RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
            rd_kafka_mock_push_request_errors(mock(b), api_end_txn, 3, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS);
            rd_kafka_mock_push_request_errors(mock(b), api_produce, 2, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
        });
    report("request-errors-transactions", "exactly_once_v2", r);
    EXPECT_EQ(r.tally.lost, 0U);
    EXPECT_EQ(r.tally.unexpected, 0U);
    EXPECT_EQ(r.tally.duplicates, 0U);
    EXPECT_EQ(r.aborted, 0);
    EXPECT_EQ(r.replaced, 0);
    EXPECT_NE(r.state, eddy::streams_state::error);
}

// An abortable EndTxn error (UNKNOWN_PRODUCER_ID): the thread aborts, rewinds
// to the committed offsets and processes the records again. Nothing is lost;
// the mock shows aborted records to read_committed readers, so the
// duplicates it reports are the aborted ones (a real Kafka hides them).
TEST(ChaosEmbeddedTest, AbortableEndTxnErrorAbortsAndProcessesAgainWithoutLoss) {
    auto r = run_with_faults("exactly_once_v2", 1, nullptr, [](eddy::embedded_broker& b, const workload&) {
        rd_kafka_mock_push_request_errors(mock(b), api_end_txn, 1, RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID);
    });
    report("end-txn-abortable", "exactly_once_v2", r);
    EXPECT_EQ(r.tally.lost, 0U);
    EXPECT_EQ(r.tally.unexpected, 0U);
    EXPECT_GE(r.aborted, 1);
    EXPECT_NE(r.state, eddy::streams_state::error);
}

// A fatal EndTxn error (PRODUCER_FENCED): the thread dies and the uncaught
// exception handler decides; replace_thread starts a new one whose
// transactional producer fences the old and goes on from the committed
// offsets. Nothing is lost.
TEST(ChaosEmbeddedTest, FatalEndTxnErrorKillsTheThreadAndItsReplacementLosesNothing) {
    auto r = run_with_faults(
        "exactly_once_v2", 1, nullptr,
        [](eddy::embedded_broker& b, const workload&) {
            rd_kafka_mock_push_request_errors(mock(b), api_end_txn, 1, RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
        },
        true);
    report("end-txn-fatal", "exactly_once_v2", r);
    EXPECT_EQ(r.tally.lost, 0U);
    EXPECT_EQ(r.tally.unexpected, 0U);
    EXPECT_EQ(r.replaced, 1);
    EXPECT_NE(r.state, eddy::streams_state::error);
}

// The group's and the transaction's coordinators move to other brokers,
// twice, mid-stream: the clients follow them, and every record is in the
// read_committed output once.
TEST(ChaosEmbeddedTest, CoordinatorsMovedMidStreamKeepEveryRecordOnce) {
    auto r = run_with_faults("exactly_once_v2", 3, nullptr, [](eddy::embedded_broker& b, const workload& w) {
        const std::string txn = w.app + "-p1-1";
        rd_kafka_mock_coordinator_set(mock(b), "group", w.app.c_str(), 2);
        rd_kafka_mock_coordinator_set(mock(b), "transaction", txn.c_str(), 3);
        std::this_thread::sleep_for(1500ms);
        rd_kafka_mock_coordinator_set(mock(b), "group", w.app.c_str(), 3);
        rd_kafka_mock_coordinator_set(mock(b), "transaction", txn.c_str(), 1);
    });
    report("coordinator-moved", "exactly_once_v2", r);
    EXPECT_EQ(r.tally.lost, 0U);
    EXPECT_EQ(r.tally.unexpected, 0U);
    EXPECT_EQ(r.tally.duplicates, 0U);
    EXPECT_NE(r.state, eddy::streams_state::error);
}

// A transaction aborted while a retry step holds a record (exactly-once):
// the thread rewinds to the committed offsets, so the held record comes
// again from the topic, and the retry queue must forget its copy, or the
// record would be processed (and its call succeed) twice. Partition 0's
// record at offset 20 fails until the service comes back; the forced
// commit of the held transaction (at half of transaction.timeout.ms) hits
// an abortable EndTxn error. Every record from the held one on is in the
// read_committed output exactly once, and the call succeeded once for it.
// (Records before it may show twice: the mock shows aborted records.)
TEST(ChaosEmbeddedTest, AnAbortWhileARecordIsHeldForgetsTheRetryQueueAndRunsTheRecordOnce) {
    eddy::embedded_broker broker(1);
    const auto in = unique("chaos-held-in");
    const auto out = unique("chaos-held-out");
    const auto app_id = unique("chaos-held-app");
    broker.create_topic(in, 2);
    broker.create_topic(out, 2);
    constexpr int n = 60;
    constexpr int held_offset = 20;
    std::vector<eddy::chaos::to_send> first;
    for (int i = 0; i < n; ++i) {
        first.push_back({i == held_offset ? "held" : "k" + std::to_string(i % 5), "v" + std::to_string(i), 0});
    }
    eddy::chaos::produce(broker.bootstrap_servers(), in, first);

    std::atomic<bool> service_up{false};
    std::atomic<int> held_calls{0};
    std::atomic<int> held_successes{0};
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(in)
        .map_values_with_retry(
            [&](const std::string& k, const std::string& v) {
                if (k == "held") {
                    ++held_calls;
                    if (!service_up) {
                        throw std::runtime_error("service down");
                    }
                    ++held_successes;
                }
                return v + "!";
            },
            eddy::retry_policy()
                .with_initial_backoff(200ms)
                .with_max_backoff(200ms)
                .with_jitter(0)
                .with_max_attempts(1000),
            eddy::named::as("call"))
        .to(out);
    eddy::streams_config config{{"application.id", app_id}, {"bootstrap.servers", broker.bootstrap_servers()},
        {"processing.guarantee", "exactly_once_v2"}, {"commit.interval.ms", "100"}, {"poll.ms", "20"},
        {"consumer.fetch.wait.max.ms", "10"}, {"transaction.timeout.ms", "4000"},
        {"buffered.records.per.partition", "10"}, {"process.id", "p1"}};
    eddy::kafka_streams app(builder.build(), config);
    app.start();

    ASSERT_TRUE(wait_for([&] { return held_calls.load() >= 1; }, 30s));
    // The next EndTxn is the held transaction's forced commit: a record of
    // the other partition makes sure a transaction is open.
    rd_kafka_mock_push_request_errors(mock(broker), api_end_txn, 1, RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID);
    eddy::chaos::produce(broker.bootstrap_servers(), in, {{"late", "late", 1}});
    ASSERT_TRUE(wait_for([&] { return metric(app, "aborted-transactions-total") >= 1; }, 30s))
        << "no transaction was aborted while the record was held";
    const int calls_at_abort = held_calls.load();
    service_up = true;

    std::set<std::string> expected{"late!"};
    for (int i = 0; i < n; ++i) {
        expected.insert("v" + std::to_string(i) + "!");
    }
    const auto got = eddy::chaos::read_expected(broker.bootstrap_servers(), out, expected, 60s, true);
    const auto t = eddy::chaos::count(expected, got);
    std::map<std::string, int> seen;
    for (const auto& r : got) {
        ++seen[r.value.value_or("")];
    }
    for (int i = held_offset; i < n; ++i) {
        EXPECT_EQ(seen["v" + std::to_string(i) + "!"], 1) << "offset " << i;
    }
    EXPECT_EQ(held_successes.load(), 1) << "the held record's call succeeded more than once";
    EXPECT_GT(held_calls.load(), calls_at_abort);
    EXPECT_EQ(t.lost, 0U);
    EXPECT_EQ(t.unexpected, 0U);
    eddy::chaos::report("abort-while-held", "exactly_once_v2", t, 0, -1,
        {{"aborted_transactions", std::to_string(static_cast<long long>(metric(app, "aborted-transactions-total")))},
            {"held_record_calls", std::to_string(held_calls.load())},
            {"held_record_successes", std::to_string(held_successes.load())}});
    EXPECT_NE(app.state(), eddy::streams_state::error);
    EXPECT_TRUE(app.close(30s));
}

} // namespace
