// Poison pills among 100,000 good task events on the embedded broker, read by
// the todo app's audit topology (its source dead-letters what it cannot
// read): garbage bytes, truncated Protobuf, a newer schema version, a value
// of another message type, JSON with a bad version field, a null key where
// a key is needed, and a 1 MiB value. Every good event is audited once, every
// pill is in the dead-letter topic once with headers pointing at its
// original (same key and value bytes), none is lost, nothing crashes.

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "apps/todo/audit_topology.h"
#include "operators/error_handlers.h"
#include "runtime/embedded_broker.h"
#include "runtime/kafka_streams.h"
#include "serde/protobuf.h"
#include "tests/chaos/chaos_util.h"
#include "tests/integration/kafka_test_util.h"
#include "topology/streams_builder.h"

namespace {

using namespace std::chrono_literals;
using eddy::test::unique;
using eddy::todo::AuditRecord;
using eddy::todo::TaskEvent;

TaskEvent good_event(int i) {
    TaskEvent e;
    e.set_event_id("e" + std::to_string(i));
    e.set_type(eddy::todo::TASK_CREATED);
    e.set_task_id("t" + std::to_string(i));
    e.set_user_id("u" + std::to_string(i % 97));
    e.set_title("title-" + std::to_string(i));
    e.set_schema_version(eddy::todo::task_event_schema_version);
    e.mutable_occurred_at()->set_seconds(1'795'000'000 + i);
    return e;
}

struct pill {
    std::string kind;
    eddy::chaos::to_send record;
    std::string reason; // what the dead letter's error message must say
};

pill make_pill(const std::string& kind, int j) {
    const std::string key = "pill-" + std::to_string(j);
    if (kind == "garbage") {
        return {kind, {key, std::string(24, '\xff') + "not protobuf " + std::to_string(j), -1}, ""};
    }
    if (kind == "truncated") {
        const auto bytes = eddy::serdes::protobuf<TaskEvent>{}.serialize(good_event(900'000 + j));
        // Cut inside the title: a length-delimited field that ends early.
        return {kind, {key, bytes.substr(0, bytes.find("title-") + 3), -1}, ""};
    }
    if (kind == "schema-v7") {
        auto e = good_event(800'000 + j);
        e.set_schema_version(7);
        return {kind, {key, eddy::serdes::protobuf<TaskEvent>{}.serialize(e), -1}, "schema version 7"};
    }
    if (kind == "other-type") {
        AuditRecord a;
        a.set_event_id("a" + std::to_string(j));
        a.set_action(eddy::todo::TASK_COMPLETED);
        a.set_summary("an audit record where a task event belongs");
        return {kind, {key, eddy::serdes::protobuf<AuditRecord>{}.serialize(a), -1}, ""};
    }
    if (kind == "json-bad-version") {
        return {kind,
            {key, R"({"eventId":"j)" + std::to_string(j) + R"(","type":"TASK_CREATED","schemaVersion":"nine"})", -1},
            ""};
    }
    if (kind == "null-key") {
        return {kind, {std::nullopt, eddy::serdes::protobuf<TaskEvent>{}.serialize(good_event(700'000 + j)), -1},
            "null key"};
    }
    // one-mib: 1 MiB that no reader can parse.
    return {kind, {key, std::string(1 << 20, '\xfe'), -1}, ""};
}

TEST(ChaosPoisonTest, PoisonPillsAreDeadLetteredWithTheirOriginsAndEveryGoodRecordIsProcessedOnce) {
    eddy::embedded_broker broker(1);
    const eddy::todo::audit_topics topics{unique("chaos-task-events"), unique("chaos-audit"), unique("chaos-dlq")};
    const auto app_id = unique("chaos-poison");
    broker.create_topic(topics.task_events, 3);
    // The mock keeps ~5 MiB per partition: spread the audit records.
    broker.create_topic(topics.audit, 6);

    constexpr int good = 100'000;
    const std::vector<std::pair<std::string, int>> kinds = {{"garbage", 5}, {"truncated", 5}, {"schema-v7", 5},
        {"other-type", 5}, {"json-bad-version", 5}, {"null-key", 5}, {"one-mib", 2}};
    std::vector<pill> pills;
    for (const auto& [kind, n] : kinds) {
        for (int i = 0; i < n; ++i) {
            pills.push_back(make_pill(kind, static_cast<int>(pills.size())));
        }
    }
    // Each pill at a random place among the good records (seeded: the same
    // places every run).
    std::mt19937 rng(20261202);
    std::multimap<int, std::size_t> place;
    for (std::size_t j = 0; j < pills.size(); ++j) {
        place.emplace(static_cast<int>(rng() % good), j);
    }
    std::vector<eddy::chaos::to_send> input;
    auto next = place.begin();
    for (int i = 0; i < good; ++i) {
        for (; next != place.end() && next->first == i; ++next) {
            input.push_back(pills[next->second].record);
        }
        input.push_back({"t" + std::to_string(i), eddy::serdes::protobuf<TaskEvent>{}.serialize(good_event(i)), -1});
    }
    const auto bootstrap = broker.bootstrap_servers();
    eddy::chaos::produce(bootstrap, topics.task_events, input, {{"message.max.bytes", "4194304"}});

    eddy::streams_builder builder;
    eddy::todo::add_audit_topology(builder, topics);
    eddy::kafka_streams app(builder.build(),
        {{"application.id", app_id}, {"bootstrap.servers", bootstrap}, {"commit.interval.ms", "200"},
            {"poll.ms", "20"}, {"consumer.fetch.wait.max.ms", "10"},
            // Creates the dead-letter topic (the source's handler names it).
            {std::string(eddy::streams_config::dead_letter_topic), topics.dead_letters}});
    const auto start = std::chrono::steady_clock::now();
    app.start();

    // Where each input record landed, to check the dead letters against.
    auto in = eddy::chaos::read(
        bootstrap, topics.task_events, [&](const auto& rs) { return rs.size() >= input.size(); }, 60s);
    ASSERT_EQ(in.size(), input.size());
    std::map<std::pair<std::int32_t, std::int64_t>, const eddy::chaos::record*> by_position;
    for (const auto& r : in) {
        by_position[{r.partition, r.offset}] = &r;
    }

    std::set<std::string> expected;
    for (int i = 0; i < good; ++i) {
        expected.insert("e" + std::to_string(i));
    }
    std::set<std::string> audited;
    std::size_t read_so_far = 0;
    auto out = eddy::chaos::read(
        bootstrap, topics.audit,
        [&](const std::vector<eddy::chaos::record>& rs) {
            for (; read_so_far < rs.size(); ++read_so_far) {
                audited.insert(eddy::serdes::protobuf<AuditRecord>{}.deserialize(rs[read_so_far].value.value_or(""))
                                   .event_id());
            }
            return audited.size() >= expected.size();
        },
        120s);
    const auto processed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    auto dead = eddy::chaos::read(
        bootstrap, topics.dead_letters, [&](const auto& rs) { return rs.size() >= pills.size(); }, 30s);
    // Anything more (a duplicate) would come now.
    std::this_thread::sleep_for(1s);
    dead = eddy::chaos::read(
        bootstrap, topics.dead_letters, [&](const auto& rs) { return rs.size() > pills.size(); }, 3s);

    // The audit: each good event once, stamped with the offset of its input.
    std::map<std::string, int> times;
    std::size_t wrong_provenance = 0;
    for (const auto& r : out) {
        const auto a = eddy::serdes::protobuf<AuditRecord>{}.deserialize(r.value.value_or(""));
        ++times[a.event_id()];
        const auto it = by_position.find({a.source_partition(), a.source_offset()});
        if (a.source_topic() != topics.task_events || it == by_position.end()
            || it->second->value != eddy::serdes::protobuf<TaskEvent>{}.serialize(
                   good_event(std::stoi(a.event_id().substr(1))))) {
            ++wrong_provenance;
        }
    }
    std::size_t duplicates = 0;
    std::size_t lost = 0;
    for (const auto& id : expected) {
        const auto it = times.find(id);
        lost += it == times.end() ? 1 : 0;
        duplicates += it != times.end() && it->second > 1 ? static_cast<std::size_t>(it->second - 1) : 0;
    }

    // The dead letters: each pill once, with the right origin and reason.
    std::map<std::string, std::size_t> dead_by_kind;
    std::set<std::pair<std::int32_t, std::int64_t>> dead_positions;
    std::size_t bad_headers = 0;
    for (const auto& d : dead) {
        eddy::dead_letter_info why;
        try {
            why = eddy::decode_dead_letter_headers(d.headers);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "dead letter at offset " << d.offset << ": " << e.what();
            ++bad_headers;
            continue;
        }
        const auto it = by_position.find({why.source_partition, why.source_offset});
        if (why.source_topic != topics.task_events || it == by_position.end()) {
            ADD_FAILURE() << "dead letter points at nothing: " << why.source_topic << "/" << why.source_partition
                          << "@" << why.source_offset;
            ++bad_headers;
            continue;
        }
        dead_positions.insert({why.source_partition, why.source_offset});
        const auto& original = *it->second;
        EXPECT_EQ(d.key, original.key) << "at " << why.source_offset;
        EXPECT_EQ(d.value, original.value) << "at " << why.source_offset;
        EXPECT_EQ(why.error_class, "eddy::serde_error");
        EXPECT_EQ(why.processor_node, "todo-task-events-source");
        EXPECT_EQ(why.application_id, app_id);
        EXPECT_EQ(why.attempts, 1);
        EXPECT_FALSE(why.error_message.empty());
        bool matched = false;
        for (const auto& p : pills) {
            if (p.record.key == original.key && p.record.value == original.value) {
                matched = true;
                ++dead_by_kind[p.kind];
                if (!p.reason.empty()) {
                    EXPECT_NE(why.error_message.find(p.reason), std::string::npos)
                        << p.kind << ": " << why.error_message;
                }
            }
        }
        EXPECT_TRUE(matched) << "a dead letter that is no pill, at offset " << why.source_offset;
    }
    std::string per_kind;
    for (const auto& [kind, n] : kinds) {
        per_kind += (per_kind.empty() ? "" : ",") + kind + ":" + std::to_string(dead_by_kind[kind]);
        EXPECT_EQ(dead_by_kind[kind], static_cast<std::size_t>(n)) << kind;
    }
    eddy::chaos::report("poison-pills",
        {{"guarantee", "at_least_once"}, {"in", std::to_string(input.size())}, {"out", std::to_string(out.size())},
            {"duplicates", std::to_string(duplicates)}, {"dead_lettered", std::to_string(dead.size())},
            {"lost", std::to_string(lost + pills.size() - dead_positions.size())},
            {"recovery_ms", "0"}, {"processed_ms", std::to_string(processed_ms)}, {"pills", per_kind},
            {"wrong_provenance", std::to_string(wrong_provenance)}});
    EXPECT_EQ(lost, 0U);
    EXPECT_EQ(duplicates, 0U);
    EXPECT_EQ(wrong_provenance, 0U);
    EXPECT_EQ(out.size(), static_cast<std::size_t>(good));
    EXPECT_EQ(dead.size(), pills.size());
    EXPECT_EQ(dead_positions.size(), pills.size());
    EXPECT_EQ(bad_headers, 0U);
    EXPECT_NE(app.state(), eddy::streams_state::error);
    EXPECT_TRUE(app.close(30s));
}

} // namespace
