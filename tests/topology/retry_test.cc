// Retry steps on the test driver: a failing call is retried at its backoff
// time (a wall-clock punctuation) while its task's later records wait and
// other tasks go on; after the last attempt the record is dead-lettered and
// the task moves on; an open circuit breaker holds the task without
// spending attempts.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operators/circuit_breaker.h"
#include "operators/error_handlers.h"
#include "operators/retry_policy.h"
#include "runtime/topology_test_driver.h"
#include "serde/serdes.h"
#include "topology/streams_builder.h"

namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using kv = eddy::key_value<std::string, std::string>;

// A call to another system: fails while `down`, or for the first
// `failures[value]` calls with that value; counts every call per value.
struct flaky_service {
    std::map<std::string, int> failures;
    std::map<std::string, int> calls;
    bool down = false;

    std::string call(const std::string& v) {
        ++calls[v];
        if (down) {
            throw std::runtime_error("service down");
        }
        if (auto it = failures.find(v); it != failures.end() && it->second > 0) {
            --it->second;
            throw std::runtime_error("timeout calling for " + v);
        }
        return "sent:" + v;
    }
};

// No jitter, so the test knows the backoff: 100, 200, 400, 800 ms.
eddy::retry_policy exact_policy() {
    return eddy::retry_policy().with_initial_backoff(100ms).with_multiplier(2).with_jitter(0);
}

// "in" -> the retry step "call" -> "out"; "other" -> upper case -> "other-out",
// a second sub-topology and so a task of its own.
eddy::topology two_tasks(flaky_service& svc, const eddy::retry_policy& policy) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .map_values_with_retry([&svc](const std::string& v) { return svc.call(v); }, policy, eddy::named::as("call"))
        .to("out");
    builder.stream<std::string, std::string>("other")
        .map_values([](const std::string& v) { return "other:" + v; })
        .to("other-out");
    return builder.build();
}

TEST(RetryStepTest, AFailingCallIsRetriedAtItsBackoffAndLaterRecordsWaitInOrder) {
    flaky_service svc;
    svc.failures["v1"] = 3;
    eddy::topology_test_driver driver(two_tasks(svc, exact_policy()), {}, 10'000);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto other = driver.create_input_topic<std::string, std::string>("other");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    auto other_out = driver.create_output_topic<std::string, std::string>("other-out");

    in.pipe_input("k1", "v1", 5);
    in.pipe_input("k1", "v2", 6);
    in.pipe_input("k2", "v3", 7);
    EXPECT_TRUE(out.is_empty());
    EXPECT_EQ(svc.calls["v1"], 1);
    // Held: v2 and v3 were not even called.
    EXPECT_EQ(svc.calls.count("v2"), 0U);
    EXPECT_EQ(driver.waiting_records(), 2U);

    // Another task of the same driver goes on meanwhile.
    other.pipe_input("o", "x");
    EXPECT_THAT(other_out.read_key_values_to_list(), ElementsAre(kv{"o", "other:x"}));

    driver.advance_wall_clock_time(99ms);
    EXPECT_EQ(svc.calls["v1"], 1);
    driver.advance_wall_clock_time(1ms); // 100 ms: attempt 2 fails
    EXPECT_EQ(svc.calls["v1"], 2);
    driver.advance_wall_clock_time(200ms); // attempt 3 fails
    EXPECT_EQ(svc.calls["v1"], 3);
    driver.advance_wall_clock_time(399ms);
    EXPECT_EQ(svc.calls["v1"], 3);
    EXPECT_TRUE(out.is_empty());
    driver.advance_wall_clock_time(1ms); // attempt 4 succeeds
    EXPECT_EQ(svc.calls["v1"], 4);

    const auto records = out.read_records_to_list();
    ASSERT_EQ(records.size(), 3U);
    EXPECT_EQ(records[0].key, "k1");
    EXPECT_EQ(records[0].value, "sent:v1");
    // The retried record keeps its own timestamp.
    EXPECT_EQ(records[0].timestamp, 5);
    EXPECT_EQ(records[1].value, "sent:v2");
    EXPECT_EQ(records[2].value, "sent:v3");
    EXPECT_EQ(svc.calls["v2"], 1);
    EXPECT_EQ(svc.calls["v3"], 1);
    EXPECT_EQ(driver.waiting_records(), 0U);

    // Released: the next record goes straight through.
    in.pipe_input("k3", "v4");
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv{"k3", "sent:v4"}));
    EXPECT_EQ(driver.queue_size("errors"), 0U);
}

TEST(RetryStepTest, ARecordThatAlwaysFailsIsDeadLetteredAfterFiveAttemptsAndThePartitionMovesOn) {
    flaky_service svc;
    svc.failures["bad"] = 1'000;
    eddy::topology_test_driver driver(two_tasks(svc, exact_policy()),
        {{"application.id", "retry-app"}, {std::string(eddy::streams_config::dead_letter_topic), "app.dlq"}}, 50'000);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");

    in.pipe_input("k", "first");
    in.pipe_input("k", "bad", 42, eddy::headers{{"trace", "t-1"}});
    in.pipe_input("k", "after");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("sent:first"));
    for (auto wait : {100ms, 200ms, 400ms}) {
        driver.advance_wall_clock_time(wait);
        EXPECT_EQ(driver.queue_size("app.dlq"), 0U);
    }
    EXPECT_EQ(svc.calls["bad"], 4);
    driver.advance_wall_clock_time(800ms);
    EXPECT_EQ(svc.calls["bad"], 5);
    // No sixth call, however long we wait.
    driver.advance_wall_clock_time(60s);
    EXPECT_EQ(svc.calls["bad"], 5);

    ASSERT_EQ(driver.queue_size("app.dlq"), 1U);
    const auto dead = driver.read_raw("app.dlq");
    EXPECT_EQ(dead.key, std::optional<std::string>("k"));
    EXPECT_EQ(dead.value, std::optional<std::string>("bad"));
    EXPECT_EQ(dead.timestamp, 42);
    const auto why = eddy::decode_dead_letter_headers(dead.headers);
    EXPECT_EQ(why.attempts, 5);
    EXPECT_EQ(why.error_class, "std::runtime_error");
    EXPECT_EQ(why.error_message, "timeout calling for bad");
    EXPECT_EQ(why.source_topic, "in");
    EXPECT_EQ(why.source_partition, 0);
    EXPECT_EQ(why.source_offset, 1);
    EXPECT_EQ(why.processor_node, "call");
    EXPECT_EQ(why.application_id, "retry-app");
    EXPECT_EQ(why.time_ms, 50'000 + 100 + 200 + 400 + 800);
    // The original headers travel along.
    ASSERT_NE(dead.headers.last_header("trace"), nullptr);
    EXPECT_EQ(dead.headers.last_header("trace")->value, std::optional<std::string>("t-1"));

    // The partition moved on: the record behind it went out.
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("sent:after"));
    in.pipe_input("k", "later");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("sent:later"));
}

TEST(RetryStepTest, ThePolicysTopicAndPredicateWin) {
    flaky_service svc;
    eddy::streams_builder builder;
    auto policy = exact_policy().with_dead_letter_topic("call.dlq").retry_on([](const std::exception& e) {
        return dynamic_cast<const std::invalid_argument*>(&e) == nullptr;
    });
    builder.stream<std::string, std::string>("in").foreach_with_retry(
        [&svc](const std::string& k, const std::string& v) {
            ++svc.calls[v];
            if (k == "invalid") {
                throw std::invalid_argument("no such user " + v);
            }
        },
        policy, eddy::named::as("notify"));
    const auto topo = builder.build();
    EXPECT_EQ(topo.dead_letter_topics(), std::set<std::string>{"call.dlq"});
    eddy::topology_test_driver driver(topo, {{std::string(eddy::streams_config::dead_letter_topic), "app.dlq"}});
    auto in = driver.create_input_topic<std::string, std::string>("in");
    in.pipe_input("invalid", "u1");
    in.pipe_input("ok", "u2");
    // Not retriable: dead-lettered at the first attempt, no hold.
    EXPECT_EQ(svc.calls["u1"], 1);
    EXPECT_EQ(svc.calls["u2"], 1);
    EXPECT_EQ(driver.queue_size("app.dlq"), 0U);
    ASSERT_EQ(driver.queue_size("call.dlq"), 1U);
    const auto why = eddy::decode_dead_letter_headers(driver.read_raw("call.dlq").headers);
    EXPECT_EQ(why.attempts, 1);
    EXPECT_EQ(why.error_class, "std::invalid_argument");
    EXPECT_EQ(why.processor_node, "notify");
}

TEST(RetryStepTest, WithNoDeadLetterTopicTheLastFailureFailsNamingTheNode) {
    flaky_service svc;
    svc.down = true;
    eddy::topology_test_driver driver(two_tasks(svc, exact_policy().with_max_attempts(2)));
    auto in = driver.create_input_topic<std::string, std::string>("in");
    in.pipe_input("k", "v");
    EXPECT_THAT([&] { driver.advance_wall_clock_time(100ms); },
        ::testing::ThrowsMessage<eddy::retries_exhausted_error>(
            ::testing::AllOf(HasSubstr("node call"), HasSubstr("offset=0"), HasSubstr("after 2 attempt(s)"),
                HasSubstr("no dead-letter topic"), HasSubstr("service down"))));
    EXPECT_EQ(svc.calls["v"], 2);
}

TEST(RetryStepTest, AnOpenBreakerHoldsTheTaskWithoutSpendingAttemptsAndClosingItResumes) {
    flaky_service svc;
    svc.down = true;
    std::int64_t clock = 0;
    auto breaker = std::make_shared<eddy::circuit_breaker>("svc",
        eddy::circuit_breaker_config{
            .window_size = 2, .minimum_calls = 2, .failure_rate_threshold = 1.0, .probe_interval = 1'000ms},
        [&clock] { return clock; });
    eddy::topology_test_driver driver(two_tasks(svc, exact_policy().with_circuit_breaker(breaker)),
        {{std::string(eddy::streams_config::dead_letter_topic), "app.dlq"}});
    auto advance = [&](std::chrono::milliseconds by) {
        clock += by.count();
        driver.advance_wall_clock_time(by);
    };
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");

    in.pipe_input("k", "a"); // attempt 1 fails
    advance(100ms);          // attempt 2 fails: the breaker opens
    EXPECT_EQ(breaker->state(), eddy::circuit_state::open);
    EXPECT_EQ(svc.calls["a"], 2);
    in.pipe_input("k", "b");
    // Far longer than five attempts' backoffs: no call, no attempt spent,
    // nothing dead-lettered, b waits.
    for (int i = 0; i < 9; ++i) {
        advance(100ms);
    }
    EXPECT_EQ(svc.calls["a"], 2);
    EXPECT_EQ(svc.calls.count("b"), 0U);
    EXPECT_EQ(driver.queue_size("app.dlq"), 0U);
    EXPECT_TRUE(out.is_empty());
    EXPECT_GE(breaker->metrics().rejected_calls, 1);

    svc.down = false;
    advance(100ms); // 1 s after it opened: one probe goes out and succeeds
    EXPECT_EQ(breaker->state(), eddy::circuit_state::closed);
    EXPECT_EQ(svc.calls["a"], 3);
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("sent:a", "sent:b"));
    EXPECT_EQ(driver.queue_size("app.dlq"), 0U);
    EXPECT_EQ(breaker->metrics().opened, 1);
    EXPECT_EQ(breaker->metrics().closed, 1);
}

TEST(RetryStepTest, RecordsOfAFanOutWaitBehindTheOneThatFailed) {
    flaky_service svc;
    svc.failures["2"] = 1;
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .flat_map_values([](const std::string& v) { return std::vector<std::string>{v + "1", v + "2", v + "3"}; })
        .map_values_with_retry([&svc](const std::string& v) { return svc.call(v.substr(1)); }, exact_policy())
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k", "x");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("sent:1"));
    driver.advance_wall_clock_time(100ms);
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("sent:2", "sent:3"));
}

TEST(RetryStepTest, DescribeShowsTheStepAndTheTopologySaysItHolds) {
    flaky_service svc;
    const auto t = two_tasks(svc, exact_policy());
    EXPECT_TRUE(t.holds_input());
    EXPECT_THAT(t.describe().to_string(), HasSubstr("Processor: call"));
    eddy::streams_builder plain;
    plain.stream<std::string, std::string>("in").to("out");
    EXPECT_FALSE(plain.build().holds_input());
}

} // namespace
