// Dead letters on a broker: compiled once against the embedded broker and
// once, with EDDY_TEST_KAFKA, against a real Kafka. A processing failure and
// a production failure (a 2 MB value, above the producer's
// message.max.bytes) are dead-lettered with their headers while the good
// records flow, the offsets are committed past them, the metrics count them
// and the health (kafka_streams::health, GET /health) turns degraded.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "operators/error_handlers.h"
#include "runtime/internal/rdkafka_clients.h"
#include "runtime/kafka_streams.h"
#include "runtime/query_server.h"
#include "serde/serdes.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/http_get.h"
#include "tests/integration/kafka_test_util.h"
#include "topology/streams_builder.h"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using eddy::test::unique;
namespace h = eddy::dead_letter_headers;

// A record read back with its headers (kafka_test_util's reader drops them).
struct read_record {
    std::int64_t offset = 0;
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::map<std::string, std::string> headers; // the last of each key
};

std::vector<read_record> read_with_headers(const std::string& topic, std::size_t expected,
    std::chrono::milliseconds timeout, bool read_committed = false) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", broker().bootstrap_servers().c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", unique("dlq-reader").c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_conf_set(conf, "isolation.level", read_committed ? "read_committed" : "read_uncommitted", err, sizeof err);
    rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (consumer == nullptr) {
        throw std::runtime_error(err);
    }
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(consumer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    std::vector<read_record> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            eddy::raw_record raw;
            eddy::runtime::internal::read_message(m, raw);
            read_record r;
            r.offset = raw.offset;
            r.key = std::move(raw.key);
            r.value = std::move(raw.value);
            for (const auto& h : raw.headers) {
                r.headers[h.key] = h.value.value_or("<null>");
            }
            out.push_back(std::move(r));
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    return out;
}

double metric_value(const eddy::kafka_streams& app, const std::string& name,
    const std::map<std::string, std::string>& tags_subset) {
    double sum = 0;
    for (const auto& m : app.metrics()) {
        if (m.name != name) {
            continue;
        }
        bool match = tags_subset.empty() ? m.tags.empty() : true;
        for (const auto& [k, v] : tags_subset) {
            auto it = m.tags.find(k);
            match = match && it != m.tags.end() && it->second == v;
        }
        if (match) {
            sum += m.value;
        }
    }
    return sum;
}

TEST(DeadLetterContractTest, ProcessingAndProductionFailuresAreDeadLetteredWhileGoodRecordsFlow) {
    const auto in = unique("dl-in");
    const auto out = unique("dl-out");
    const auto dlq = unique("dl-dlq");
    const auto app_id = unique("dl-app");
    broker().create_topic(in, 1);

    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(in)
        .map_values([](const std::string& v) -> std::string {
            if (v == "boom") {
                throw std::domain_error("no booms here");
            }
            // "big": 2 MB, above the producer's message.max.bytes.
            return v == "big" ? std::string(2 << 20, 'x') : "ok-" + v;
        }, eddy::named::as("explode"))
        .to(out, eddy::produced<std::string, std::string>::as("to-out"));

    auto config = config_for(app_id);
    config.set(eddy::streams_config::processing_exception_handler, "dead_letter");
    config.set(eddy::streams_config::production_exception_handler, "dead_letter");
    config.set(eddy::streams_config::dead_letter_topic, dlq);
    config.set(eddy::streams_config::dead_letter_degraded_rate, "1");
    config.set("producer.message.max.bytes", "1000000");
    eddy::query_server server("127.0.0.1", 0);
    config.set("application.server", server.address());
    eddy::kafka_streams app(builder.build(), config);
    server.attach(app);
    // Not started: nothing is processed, so unhealthy (it said healthy before issue 14).
    EXPECT_EQ(app.health().status, eddy::health_status::unhealthy);
    app.start();

    std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> records;
    for (int i = 0; i < 20; ++i) {
        const std::string v = i == 5 ? "boom" : i == 12 ? "big" : std::to_string(i);
        records.emplace_back("k" + std::to_string(i), v);
    }
    eddy::test::produce(broker().bootstrap_servers(), in, records, 0);

    const auto good = eddy::test::consume(broker().bootstrap_servers(), out, 18, 30s);
    ASSERT_EQ(good.size(), 18u);
    for (const auto& r : good) {
        EXPECT_TRUE(r.value && r.value->starts_with("ok-")) << r.value.value_or("<null>");
    }

    const auto dead = read_with_headers(dlq, 2, 30s);
    ASSERT_EQ(dead.size(), 2u);
    const auto& processing = dead[0];
    EXPECT_EQ(processing.key, std::optional<std::string>("k5"));
    EXPECT_EQ(processing.value, std::optional<std::string>("boom"));
    EXPECT_EQ(processing.headers.at(std::string(h::kind)), "processing");
    EXPECT_EQ(processing.headers.at(std::string(h::error_class)), "std::domain_error");
    EXPECT_EQ(processing.headers.at(std::string(h::error_message)), "no booms here");
    EXPECT_EQ(processing.headers.at(std::string(h::source_topic)), in);
    EXPECT_EQ(processing.headers.at(std::string(h::source_partition)), "0");
    EXPECT_EQ(processing.headers.at(std::string(h::source_offset)), "5");
    EXPECT_EQ(processing.headers.at(std::string(h::processor_node)), "explode");
    EXPECT_EQ(processing.headers.at(std::string(h::attempts)), "1");
    EXPECT_EQ(processing.headers.at(std::string(h::application_id)), app_id);
    EXPECT_FALSE(processing.headers.at(std::string(h::time)).empty());

    const auto& production = dead[1];
    EXPECT_EQ(production.key, std::optional<std::string>("k12"));
    // The source's 3 bytes, not the 2 MB the sink could not write.
    EXPECT_EQ(production.value, std::optional<std::string>("big"));
    EXPECT_EQ(production.headers.at(std::string(h::kind)), "production");
    EXPECT_EQ(production.headers.at(std::string(h::error_class)), "eddy::record_rejected");
    EXPECT_THAT(production.headers.at(std::string(h::error_message)), HasSubstr("sink to-out cannot write to topic " + out));
    EXPECT_THAT(production.headers.at(std::string(h::error_message)), HasSubstr("too large"));
    EXPECT_EQ(production.headers.at(std::string(h::source_offset)), "12");
    EXPECT_EQ(production.headers.at(std::string(h::processor_node)), "to-out");

    // Committed past both: nothing left for the next owner to redo.
    EXPECT_TRUE(wait_for(
        [&] { return eddy::test::uncommitted(broker().bootstrap_servers(), app_id, in, 1) == 0; }, 30s));
    EXPECT_EQ(app.state(), eddy::streams_state::running);

    EXPECT_EQ(metric_value(app, "dead-letter-records-total", {}), 2);
    EXPECT_EQ(metric_value(app, "dead-letter-records-total", {{"kind", "processing"}}), 1);
    EXPECT_EQ(metric_value(app, "dead-letter-records-total", {{"kind", "production"}}), 1);
    EXPECT_EQ(metric_value(app, "dead-letter-records-total", {{"kind", "deserialization"}}), 0);
    EXPECT_EQ(metric_value(app, "dead-letter-records-last-minute", {}), 2);

    // Two in a minute, above the rate of 1: degraded, in code and over HTTP.
    const auto health = app.health();
    EXPECT_EQ(health.status, eddy::health_status::degraded);
    ASSERT_EQ(health.reasons.size(), 1u);
    EXPECT_THAT(health.reasons[0], HasSubstr("2 records dead-lettered in the last minute"));
    const auto answer = eddy::test::http_get(server.port(), "/health");
    EXPECT_EQ(answer.status, 503);
    const auto body = nlohmann::json::parse(answer.body);
    EXPECT_EQ(body["status"], "degraded");
    EXPECT_THAT(body["reasons"][0].get<std::string>(), HasSubstr("records dead-lettered"));

    // Another reason, set and cleared by its key (a broker outage, say).
    app.set_health_reason("test", "a test says so");
    EXPECT_EQ(app.health().reasons.size(), 2u);
    app.clear_health_reason("test");
    EXPECT_EQ(app.health().reasons.size(), 1u);
    EXPECT_TRUE(app.close(30s));
}

TEST(DeadLetterContractTest, TheDeadLetterTopicsAreCreatedOnStartAndHealthIsServed) {
    const auto in = unique("dl2-in");
    const auto dlq = unique("dl2-dlq");
    const auto branch_dlq = unique("dl2-branch-dlq");
    broker().create_topic(in, 1);
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(in).with_dead_letter_topic(branch_dlq).to(unique("dl2-out"));
    auto config = config_for(unique("dl2-app"));
    config.set(eddy::streams_config::processing_exception_handler, "dead_letter");
    config.set(eddy::streams_config::dead_letter_topic, dlq);
    eddy::query_server server("127.0.0.1", 0);
    eddy::kafka_streams app(builder.build(), config);
    server.attach(app);
    app.start();
    eddy::admin_client admin({{"bootstrap.servers", broker().bootstrap_servers()}});
    EXPECT_TRUE(admin.describe_topic(dlq).has_value());
    EXPECT_TRUE(admin.describe_topic(branch_dlq).has_value());
    const auto answer = eddy::test::http_get(server.port(), "/health");
    EXPECT_EQ(answer.status, 200);
    EXPECT_EQ(nlohmann::json::parse(answer.body), nlohmann::json({{"status", "healthy"}}));
    EXPECT_TRUE(app.close(30s));
}

TEST(DeadLetterContractTest, UnderExactlyOnceDeadLettersCommitWithTheOutput) {
    const auto in = unique("dl5-in");
    const auto out = unique("dl5-out");
    const auto dlq = unique("dl5-dlq");
    broker().create_topic(in, 1);
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(in)
        .map_values([](const std::string& v) -> std::string {
            if (v == "boom") {
                throw std::domain_error("no booms here");
            }
            return v;
        }, eddy::named::as("explode"))
        .to(out);
    auto config = config_for(unique("dl5-app"));
    config.set("processing.guarantee", "exactly_once_v2");
    config.set(eddy::streams_config::processing_exception_handler, "dead_letter");
    config.set(eddy::streams_config::dead_letter_topic, dlq);
    eddy::kafka_streams app(builder.build(), config);
    app.start();
    eddy::test::produce(broker().bootstrap_servers(), in, {{"a", "1"}, {"b", "boom"}, {"c", "3"}}, 0);
    EXPECT_EQ(eddy::test::consume(broker().bootstrap_servers(), out, 2, 30s, true).size(), 2u);
    const auto dead = read_with_headers(dlq, 1, 30s, true);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].key, std::optional<std::string>("b"));
    EXPECT_EQ(dead[0].headers.at(std::string(h::processor_node)), "explode");
    EXPECT_EQ(app.state(), eddy::streams_state::running);
    EXPECT_TRUE(app.close(30s));
}

TEST(DeadLetterContractTest, LogAndFailStopsTheThreadWithAMessageNamingTheNode) {
    const auto in = unique("dl4-in");
    broker().create_topic(in, 1);
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(in)
        .map_values([](const std::string& v) -> std::string {
            if (v == "boom") {
                throw std::domain_error("no booms here");
            }
            return v;
        }, eddy::named::as("explode"))
        .to(unique("dl4-out"));
    eddy::kafka_streams app(builder.build(), config_for(unique("dl4-app")));
    std::mutex mutex;
    std::string what;
    app.set_uncaught_exception_handler([&](const std::exception& e) {
        std::scoped_lock lock(mutex);
        what = e.what();
        return eddy::uncaught_response::shutdown_client;
    });
    app.start();
    eddy::test::produce(broker().bootstrap_servers(), in, {{"k", "fine"}, {"k", "boom"}}, 0);
    ASSERT_TRUE(wait_for([&] { return app.state() == eddy::streams_state::error; }, 30s));
    {
        std::scoped_lock lock(mutex);
        EXPECT_THAT(what, HasSubstr("processing failed at node explode topic=" + in + " partition=0 offset=1"));
        EXPECT_THAT(what, HasSubstr("std::domain_error: no booms here"));
    }
    app.close(30s);
}

#ifdef EDDY_TEST_KAFKA
// Only a real broker refuses a record after the fact (the embedded one keeps
// no max.message.bytes): the delivery report's error goes to the production
// handler before the offsets are committed.
TEST(DeadLetterContractTest, ARecordTheBrokerRefusesIsDeadLetteredFromItsDeliveryReport) {
    const auto in = unique("dl3-in");
    const auto out = unique("dl3-out");
    const auto dlq = unique("dl3-dlq");
    const auto app_id = unique("dl3-app");
    broker().create_topic(in, 1);
    {
        eddy::admin_client admin({{"bootstrap.servers", broker().bootstrap_servers()}});
        admin.create_topics({{out, 1, 1, {{"max.message.bytes", "2000"}}}});
        ASSERT_TRUE(wait_for([&] { return admin.describe_topic(out).has_value(); }, 10s));
    }
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(in)
        .map_values([](const std::string& v) {
            if (v != "huge") {
                return v;
            }
            // 20 kB that lz4 cannot shrink below the topic's 2000 bytes.
            std::string noise(20'000, '\0');
            std::uint32_t x = 2463534242u;
            for (auto& c : noise) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                c = static_cast<char>(x);
            }
            return noise;
        })
        .to(out);
    auto config = config_for(app_id);
    config.set(eddy::streams_config::production_exception_handler, "dead_letter");
    config.set(eddy::streams_config::dead_letter_topic, dlq);
    // One record per batch: the broker refuses batches, and only the huge
    // record's may be refused.
    config.set("producer.linger.ms", "0");
    config.set("producer.batch.num.messages", "1");
    eddy::kafka_streams app(builder.build(), config);
    app.start();
    eddy::test::produce(broker().bootstrap_servers(), in, {{"a", "1"}, {"b", "huge"}, {"c", "3"}}, 0);
    const auto good = eddy::test::consume(broker().bootstrap_servers(), out, 2, 30s);
    ASSERT_EQ(good.size(), 2u);
    const auto dead = read_with_headers(dlq, 1, 30s);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].key, std::optional<std::string>("b"));
    EXPECT_EQ(dead[0].value->size(), 20'000u);
    EXPECT_EQ(dead[0].headers.at(std::string(h::kind)), "production");
    EXPECT_EQ(dead[0].headers.at(std::string(h::processor_node)), "producer");
    EXPECT_EQ(dead[0].headers.at(std::string(h::source_topic)), out);
    EXPECT_EQ(dead[0].headers.at(std::string(h::source_offset)), "-1");
    EXPECT_THAT(dead[0].headers.at(std::string(h::error_message)), HasSubstr("delivery to topic " + out));
    EXPECT_TRUE(wait_for(
        [&] { return eddy::test::uncommitted(broker().bootstrap_servers(), app_id, in, 1) == 0; }, 30s));
    EXPECT_EQ(app.state(), eddy::streams_state::running);
    EXPECT_EQ(metric_value(app, "dead-letter-records-total", {{"kind", "production"}}), 1);
    EXPECT_TRUE(app.close(30s));
}
#endif

} // namespace
