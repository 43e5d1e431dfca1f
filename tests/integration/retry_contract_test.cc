// Retry steps on a broker: compiled once against the embedded broker and
// once, with EDDY_TEST_KAFKA, against a real Kafka. A step that fails for
// one key holds that partition's task (its partition pauses once its buffer
// fills) while the other partition goes on; every offset of both partitions
// comes out exactly once, in order per key, no offset is committed past the
// held record while it waits, and at the end the committed offsets are the
// end offsets. A record that always fails is dead-lettered after exactly 5
// attempts and its partition moves on.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include "operators/retry_policy.h"
#include "runtime/kafka_streams.h"
#include "serde/serdes.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/kafka_test_util.h"
#include "topology/streams_builder.h"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using eddy::test::consume_until;
using eddy::test::produce;
using eddy::test::unique;

using records = std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>;

// The group's committed offset of each partition (-1: none), read by a
// consumer that never joins the group.
std::vector<std::int64_t> committed(const std::string& group, const std::string& topic, int partitions) {
    std::array<char, 512> err{};
    auto* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", broker().bootstrap_servers().c_str(), err.data(), err.size());
    rd_kafka_conf_set(conf, "group.id", group.c_str(), err.data(), err.size());
    auto* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err.data(), err.size());
    if (rk == nullptr) {
        throw std::runtime_error(err.data());
    }
    auto* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
    }
    std::vector<std::int64_t> out(static_cast<std::size_t>(partitions), -1);
    if (rd_kafka_committed(rk, list, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < list->cnt; ++i) {
            out[static_cast<std::size_t>(list->elems[i].partition)] = list->elems[i].offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return out;
}

// Partition p gets n records "p:i" (offset i of a fresh topic), keyed
// "k<p>-<i % 7>", but for the record at `special_offset` of partition 0,
// keyed `special_key`.
void produce_partitions(const std::string& topic, int n, int special_offset, const std::string& special_key) {
    for (int p = 0; p < 2; ++p) {
        records in;
        for (int i = 0; i < n; ++i) {
            const bool special = p == 0 && i == special_offset;
            in.emplace_back(special ? special_key : "k" + std::to_string(p) + "-" + std::to_string(i % 7),
                std::to_string(p) + ":" + std::to_string(i));
        }
        produce(broker().bootstrap_servers(), topic, in, p);
    }
}

// Every "p:i" of the output once, each key's in increasing order.
void expect_every_offset_once_in_key_order(
    const std::vector<eddy::test::kafka_record>& out, int n, const std::set<std::string>& missing = {}) {
    std::map<std::string, int> seen;
    std::map<std::string, std::pair<int, int>> last_of_key;
    for (const auto& r : out) {
        ASSERT_TRUE(r.key && r.value);
        ++seen[*r.value];
        const auto colon = r.value->find(':');
        const int p = std::stoi(r.value->substr(0, colon));
        const int i = std::stoi(r.value->substr(colon + 1));
        if (auto it = last_of_key.find(*r.key); it != last_of_key.end()) {
            EXPECT_EQ(it->second.first, p) << "key " << *r.key;
            EXPECT_LT(it->second.second, i) << "key " << *r.key << " out of order";
        }
        last_of_key[*r.key] = {p, i};
    }
    for (int p = 0; p < 2; ++p) {
        for (int i = 0; i < n; ++i) {
            const auto v = std::to_string(p) + ":" + std::to_string(i);
            EXPECT_EQ(seen[v], missing.contains(v) ? 0 : 1) << "offset " << i << " of partition " << p;
        }
    }
    EXPECT_EQ(out.size(), static_cast<std::size_t>(2 * n) - missing.size());
}

double pauses(const eddy::kafka_streams& app) {
    double n = 0;
    for (const auto& m : app.metrics()) {
        n += m.name == "partition-pauses-total" ? m.value : 0;
    }
    return n;
}

TEST(RetryContractTest, AStepFailingThreeTimesForOneKeyHoldsOnlyItsPartitionAndSkipsNoOffset) {
    const auto in = unique("retry-in");
    const auto out = unique("retry-out");
    const auto app_id = unique("retry-app");
    broker().create_topic(in, 2);
    broker().create_topic(out, 2);
    constexpr int n = 300;
    constexpr int poison_offset = 20;
    produce_partitions(in, n, poison_offset, "poison");

    std::atomic<int> poison_calls{0};
    std::atomic<int> calls{0};
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(in)
        .map_values_with_retry(
            [&](const std::string& k, const std::string& v) {
                ++calls;
                if (k == "poison" && ++poison_calls <= 3) {
                    throw std::runtime_error("downstream timeout");
                }
                return v;
            },
            eddy::retry_policy().with_initial_backoff(300ms).with_jitter(0), eddy::named::as("call"))
        .to(out);
    auto config = config_for(app_id);
    // A small buffer: the held partition pauses (and resumes) while it waits.
    config.set("buffered.records.per.partition", "10");
    eddy::kafka_streams app(builder.build(), config);
    app.start();

    // Mid-hold (after the second failure, 600 ms before the third): the
    // other partition is done and committed, the held one committed up to
    // the held record and not past it.
    ASSERT_TRUE(wait_for([&] { return poison_calls.load() >= 2; }, 30s));
    ASSERT_TRUE(wait_for([&] { return committed(app_id, in, 2)[1] == n; }, 30s))
        << "partition 1 was held with partition 0";
    std::this_thread::sleep_for(250ms);
    ASSERT_EQ(poison_calls.load(), 2);
    EXPECT_EQ(committed(app_id, in, 2)[0], poison_offset);

    auto got = consume_until(
        broker().bootstrap_servers(), out, [&](const auto& rs) { return rs.size() >= 2 * n; }, 60s);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(2 * n));
    // Read again, long enough to see a duplicate if there were one.
    got = consume_until(
        broker().bootstrap_servers(), out, [&](const auto& rs) { return rs.size() > 2 * n; }, 5s);
    expect_every_offset_once_in_key_order(got, n);
    EXPECT_EQ(poison_calls.load(), 4);
    EXPECT_EQ(calls.load(), 2 * n + 3);
    EXPECT_GT(pauses(app), 0.0) << "the held partition never paused: the test did not cross pause/resume";
    ASSERT_TRUE(wait_for([&] { return committed(app_id, in, 2) == std::vector<std::int64_t>{n, n}; }, 30s));
    EXPECT_TRUE(app.close(30s));
    EXPECT_EQ(committed(app_id, in, 2), eddy::test::end_offsets(broker().bootstrap_servers(), in, 2));
}

TEST(RetryContractTest, AnAppClosedWhileARecordIsHeldLeavesItForTheNextOneToProcess) {
    const auto in = unique("retry-close-in");
    const auto out = unique("retry-close-out");
    const auto app_id = unique("retry-close-app");
    broker().create_topic(in, 2);
    broker().create_topic(out, 2);
    constexpr int n = 50;
    constexpr int poison_offset = 10;
    produce_partitions(in, n, poison_offset, "poison");

    std::atomic<bool> service_up{false};
    std::atomic<int> poison_calls{0};
    auto topology = [&] {
        eddy::streams_builder builder;
        builder.stream<std::string, std::string>(in)
            .map_values_with_retry(
                [&](const std::string& k, const std::string& v) {
                    if (k == "poison") {
                        ++poison_calls;
                        if (!service_up) {
                            throw std::runtime_error("service down");
                        }
                    }
                    return v;
                },
                eddy::retry_policy().with_initial_backoff(10s), eddy::named::as("call"))
            .to(out);
        return builder.build();
    };
    {
        eddy::kafka_streams app(topology(), config_for(app_id));
        app.start();
        ASSERT_TRUE(wait_for([&] { return poison_calls.load() == 1; }, 30s));
        ASSERT_TRUE(wait_for([&] { return committed(app_id, in, 2)[1] == n; }, 30s));
        EXPECT_TRUE(app.close(30s));
    }
    // The clean close committed the held record's offset, not past it.
    EXPECT_EQ(committed(app_id, in, 2), (std::vector<std::int64_t>{poison_offset, n}));
    service_up = true;
    eddy::kafka_streams again(topology(), config_for(app_id));
    again.start();
    auto got = consume_until(
        broker().bootstrap_servers(), out, [&](const auto& rs) { return rs.size() >= 2 * n; }, 60s);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(2 * n));
    got = consume_until(broker().bootstrap_servers(), out, [&](const auto& rs) { return rs.size() > 2 * n; }, 5s);
    expect_every_offset_once_in_key_order(got, n);
    EXPECT_EQ(poison_calls.load(), 2);
    ASSERT_TRUE(wait_for([&] { return committed(app_id, in, 2) == std::vector<std::int64_t>{n, n}; }, 30s));
    EXPECT_TRUE(again.close(30s));
}

TEST(RetryContractTest, UnderExactlyOnceTheTransactionCommitsNoOffsetPastTheHeldRecord) {
    const auto in = unique("retry-eos-in");
    const auto out = unique("retry-eos-out");
    const auto audit = unique("retry-eos-audit");
    const auto app_id = unique("retry-eos-app");
    broker().create_topic(in, 2);
    broker().create_topic(out, 2);
    broker().create_topic(audit, 2);
    constexpr int n = 100;
    constexpr int poison_offset = 30;
    produce_partitions(in, n, poison_offset, "poison");

    std::atomic<int> poison_calls{0};
    eddy::streams_builder builder;
    auto source = builder.stream<std::string, std::string>(in);
    // A branch that writes before the retry step sees the record: its
    // output is in the transaction while the record is held.
    source.to(audit);
    source
        .map_values_with_retry(
            [&](const std::string& k, const std::string& v) {
                if (k == "poison" && ++poison_calls <= 3) {
                    throw std::runtime_error("downstream timeout");
                }
                return v;
            },
            eddy::retry_policy().with_initial_backoff(300ms).with_jitter(0), eddy::named::as("call"))
        .to(out);
    auto config = config_for(app_id);
    config.set("processing.guarantee", "exactly_once_v2");
    config.set("buffered.records.per.partition", "10");
    eddy::kafka_streams app(builder.build(), config);
    app.start();

    ASSERT_TRUE(wait_for([&] { return poison_calls.load() >= 2; }, 30s));
    std::this_thread::sleep_for(250ms);
    ASSERT_EQ(poison_calls.load(), 2);
    const auto mid = committed(app_id, in, 2);
    EXPECT_LE(mid[0], poison_offset) << "a transaction committed past the held record";

    const auto bootstrap = broker().bootstrap_servers();
    auto got = consume_until(bootstrap, out, [&](const auto& rs) { return rs.size() >= 2 * n; }, 60s, true);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(2 * n));
    got = consume_until(bootstrap, out, [&](const auto& rs) { return rs.size() > 2 * n; }, 5s, true);
    expect_every_offset_once_in_key_order(got, n);
    auto audited = consume_until(bootstrap, audit, [&](const auto& rs) { return rs.size() > 2 * n; }, 5s, true);
    expect_every_offset_once_in_key_order(audited, n);
    EXPECT_EQ(poison_calls.load(), 4);
    ASSERT_TRUE(wait_for([&] { return committed(app_id, in, 2) == std::vector<std::int64_t>{n, n}; }, 30s));
    EXPECT_TRUE(app.close(30s));
}

TEST(RetryContractTest, ARecordThatAlwaysFailsIsDeadLetteredAfterFiveAttemptsAndItsPartitionMovesOn) {
    const auto in = unique("retry-dlq-in");
    const auto out = unique("retry-dlq-out");
    const auto dlq = unique("retry-dlq");
    const auto app_id = unique("retry-dlq-app");
    broker().create_topic(in, 2);
    broker().create_topic(out, 2);
    constexpr int n = 100;
    constexpr int bad_offset = 7;
    produce_partitions(in, n, bad_offset, "bad");

    std::atomic<int> bad_calls{0};
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(in)
        .map_values_with_retry(
            [&](const std::string& k, const std::string& v) {
                if (k == "bad") {
                    ++bad_calls;
                    throw std::runtime_error("rejected by the service");
                }
                return v;
            },
            eddy::retry_policy().with_initial_backoff(50ms), eddy::named::as("call"))
        .to(out);
    auto config = config_for(app_id);
    config.set(eddy::streams_config::dead_letter_topic, dlq);
    config.set("buffered.records.per.partition", "10");
    eddy::kafka_streams app(builder.build(), config);
    app.start();

    auto got = consume_until(
        broker().bootstrap_servers(), out, [&](const auto& rs) { return rs.size() >= 2 * n - 1; }, 60s);
    expect_every_offset_once_in_key_order(got, n, {"0:" + std::to_string(bad_offset)});
    EXPECT_EQ(bad_calls.load(), 5);
    auto dead = consume_until(broker().bootstrap_servers(), dlq, [](const auto& rs) { return !rs.empty(); }, 30s);
    ASSERT_EQ(dead.size(), 1U);
    EXPECT_EQ(dead[0].key, std::optional<std::string>("bad"));
    EXPECT_EQ(dead[0].value, std::optional<std::string>("0:" + std::to_string(bad_offset)));
    const auto headers = eddy::test::run("kcat -b " + broker().bootstrap_servers() + " -C -t " + dlq
        + " -o beginning -c 1 -e -q -f '%h\\n' 2>&1");
    EXPECT_THAT(headers, HasSubstr("eddy.attempts=5"));
    EXPECT_THAT(headers, HasSubstr("eddy.source.topic=" + in));
    EXPECT_THAT(headers, HasSubstr("eddy.source.partition=0"));
    EXPECT_THAT(headers, HasSubstr("eddy.source.offset=" + std::to_string(bad_offset)));
    EXPECT_THAT(headers, HasSubstr("eddy.processor.node=call"));
    EXPECT_THAT(headers, HasSubstr("eddy.error.message=rejected by the service"));
    ASSERT_TRUE(wait_for([&] { return committed(app_id, in, 2) == std::vector<std::int64_t>{n, n}; }, 30s));
    EXPECT_TRUE(app.close(30s));
}

} // namespace
