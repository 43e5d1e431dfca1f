// The processor API: process() and process_values() with user processors,
// record metadata, forwarding to a named child, and punctuations.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operators/error_handlers.h"
#include "operators/processor.h"
#include "runtime/topology_test_driver.h"
#include "serde/serdes.h"
#include "topology/streams_builder.h"

namespace {

using ::testing::ElementsAre;
using namespace std::chrono_literals;

// Emits "topic/partition/offset@timestamp" for each record, as the value.
class where_from final : public eddy::processor<std::string, std::string, std::string, std::string> {
public:
    void process(const eddy::record<std::string, std::string>& r) override {
        const auto& m = context().record_metadata();
        context().forward(r.with_value(
            m->topic + "/" + std::to_string(m->partition) + "/" + std::to_string(m->offset) + "@"
            + std::to_string(r.timestamp)));
    }
};

TEST(ProcessorApiTest, ProcessorSeesTopicPartitionOffsetAndTimestamp) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in").process([] { return std::make_unique<where_from>(); }).to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("a", "x", 100);
    in.pipe_input("b", "y", 200);
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("in/0/0@100", "in/0/1@200"));
}

// Sends even lengths to the child named "even", odd to "odd", and changes
// the types: string -> (int64 key, string value).
class by_parity final : public eddy::processor<std::string, std::string, std::int64_t, std::string> {
public:
    void process(const eddy::record<std::string, std::string>& r) override {
        auto len = static_cast<std::int64_t>(r.value.size());
        context().forward(r.with_key(len), len % 2 == 0 ? "even" : "odd");
    }
};

TEST(ProcessorApiTest, ProcessorForwardsToANamedChildOnly) {
    eddy::streams_builder builder;
    auto parity = builder.stream<std::string, std::string>("in").process([] { return std::make_unique<by_parity>(); });
    parity.peek([](std::int64_t, const std::string&) {}, eddy::named::as("even")).to("even-out");
    parity.peek([](std::int64_t, const std::string&) {}, eddy::named::as("odd")).to("odd-out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto even = driver.create_output_topic<std::int64_t, std::string>("even-out");
    auto odd = driver.create_output_topic<std::int64_t, std::string>("odd-out");
    in.pipe_input("k", "ab");
    in.pipe_input("k", "abc");
    EXPECT_EQ(even.read_key_value(), (eddy::key_value<std::int64_t, std::string>{2, "ab"}));
    EXPECT_EQ(odd.read_key_value(), (eddy::key_value<std::int64_t, std::string>{3, "abc"}));
    EXPECT_TRUE(even.is_empty());
}

class to_unknown_child final : public eddy::processor<std::string, std::string, std::string, std::string> {
public:
    void process(const eddy::record<std::string, std::string>& r) override { context().forward(r, "nobody"); }
};

TEST(ProcessorApiTest, ForwardingToAnUnknownChildNamesBothNodes) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .process([] { return std::make_unique<to_unknown_child>(); }, eddy::named::as("router"))
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    // A processor's exception, as any other: the processing handler's
    // (log_and_fail by default, which names the node and the record).
    try {
        in.pipe_input("k", "v");
        FAIL() << "expected eddy::processing_error";
    } catch (const eddy::processing_error& e) {
        EXPECT_EQ(e.node(), "router");
        EXPECT_THAT(e.what(), ::testing::HasSubstr("std::invalid_argument: node router has no child named nobody"));
    }
}

// Appends the header "seen-by" and upper-cases the value; keys cannot change.
class shout final : public eddy::fixed_key_processor<std::string, std::string, std::string> {
public:
    void process(const eddy::fixed_key_record<std::string, std::string>& r) override {
        std::string v = r.value();
        for (auto& c : v) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        auto hs = r.headers();
        hs.add("seen-by", "shout");
        context().forward(r.with_value(v).with_headers(hs));
    }
};

TEST(ProcessorApiTest, ProcessValuesChangesValuesAndHeadersButNotKeys) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in").process_values([] { return std::make_unique<shout>(); }).to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k", "hi", 5);
    auto r = out.read_record();
    EXPECT_EQ(r.key, "k");
    EXPECT_EQ(r.value, "HI");
    EXPECT_EQ(r.timestamp, 5);
    ASSERT_NE(r.headers.last_header("seen-by"), nullptr);
    EXPECT_EQ(r.headers.last_header("seen-by")->value, "shout");
}

// Holds each record back until the next one comes: the record it keeps is a
// copy of the one it was lent, and must outlive the call that lent it.
class one_behind final : public eddy::fixed_key_processor<std::string, std::string, std::string> {
public:
    void process(const eddy::fixed_key_record<std::string, std::string>& r) override {
        if (_held) {
            context().forward(*_held);
        }
        _held.emplace(r);
    }

private:
    std::optional<eddy::fixed_key_record<std::string, std::string>> _held;
};

TEST(ProcessorApiTest, AFixedKeyRecordKeptPastItsCallIsTheProcessorsOwn) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .process_values([] { return std::make_unique<one_behind>(); })
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("a", std::string(64, 'x'), 1, eddy::headers{{"n", "1"}});
    in.pipe_input("b", std::string(64, 'y'), 2);
    auto r = out.read_record();
    EXPECT_EQ(r.key, "a");
    EXPECT_EQ(r.value, std::string(64, 'x'));
    EXPECT_EQ(r.timestamp, 1);
    EXPECT_EQ(r.headers, (eddy::headers{{"n", "1"}}));
    EXPECT_TRUE(out.is_empty());
}

TEST(ProcessorApiTest, HeadersCopiedAndThenChangedLeaveTheOriginalAsItWas) {
    eddy::headers original{{"trace", "t-1"}};
    eddy::headers copy = original;
    copy.add("seen-by", "x");
    copy.remove("trace");
    EXPECT_EQ(original, (eddy::headers{{"trace", "t-1"}}));
    EXPECT_EQ(copy, (eddy::headers{{"seen-by", "x"}}));
    eddy::headers empty;
    eddy::headers also_empty = empty;
    also_empty.add("k", std::nullopt);
    EXPECT_TRUE(empty.empty());
    EXPECT_EQ(also_empty.size(), 1U);
    EXPECT_EQ(also_empty.last_header("k")->value, std::nullopt);
}

// Counts records and emits the count on each wall-clock punctuation.
class ticker final : public eddy::processor<std::string, std::string, std::string, std::int64_t> {
public:
    explicit ticker(eddy::punctuation_type type) : _type(type) {}
    void init(eddy::processor_context<std::string, std::int64_t>& ctx) override {
        processor::init(ctx);
        ctx.schedule(10s, _type, [this, &ctx](std::int64_t now) {
            ctx.forward(eddy::record<std::string, std::int64_t>{"tick@" + std::to_string(now), _count, now, {}});
        });
    }
    void process(const eddy::record<std::string, std::string>&) override { ++_count; }

private:
    eddy::punctuation_type _type;
    std::int64_t _count = 0;
};

TEST(ProcessorApiTest, WallClockPunctuationFiresWhenTheTestAdvancesTheClock) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .process([] { return std::make_unique<ticker>(eddy::punctuation_type::wall_clock_time); })
        .to("out");
    eddy::topology_test_driver driver(builder.build(), {}, 1'000);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::int64_t>("out");
    in.pipe_input("a", "1");
    driver.advance_wall_clock_time(9s);
    EXPECT_TRUE(out.is_empty());
    driver.advance_wall_clock_time(1s);
    in.pipe_input("b", "2");
    // Missed intervals are skipped: one call after a 25 s jump.
    driver.advance_wall_clock_time(25s);
    EXPECT_THAT(out.read_key_values_to_list(),
        ElementsAre(eddy::key_value<std::string, std::int64_t>{"tick@11000", 1},
            eddy::key_value<std::string, std::int64_t>{"tick@36000", 2}));
}

TEST(ProcessorApiTest, StreamTimePunctuationFollowsRecordTimestamps) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .process([] { return std::make_unique<ticker>(eddy::punctuation_type::stream_time); })
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::int64_t>("out");
    in.pipe_input("a", "1", 5'000);   // first record: fires at stream time 5000
    in.pipe_input("b", "2", 9'000);   // next due at 10000: nothing
    in.pipe_input("c", "3", 4'000);   // out of order: stream time stays 9000
    in.pipe_input("d", "4", 10'000);  // due
    driver.advance_wall_clock_time(1h); // wall clock does not move stream time
    EXPECT_THAT(out.read_key_values_to_list(),
        ElementsAre(eddy::key_value<std::string, std::int64_t>{"tick@5000", 1},
            eddy::key_value<std::string, std::int64_t>{"tick@10000", 4}));
}

class lifecycle final : public eddy::processor<std::string, std::string, std::string, std::string> {
public:
    explicit lifecycle(std::vector<std::string>& log) : _log(&log) {}
    void init(eddy::processor_context<std::string, std::string>& ctx) override {
        processor::init(ctx);
        _log->push_back("init " + ctx.task_id().to_string() + " " + ctx.application_id());
    }
    void process(const eddy::record<std::string, std::string>& r) override { _log->push_back("process " + r.key); }
    void close() override { _log->push_back("close"); }

private:
    std::vector<std::string>* _log;
};

TEST(ProcessorApiTest, ProcessorIsInitializedProcessesAndIsClosedWithTheDriver) {
    std::vector<std::string> log;
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in").process([&log] { return std::make_unique<lifecycle>(log); });
    {
        eddy::topology_test_driver driver(builder.build(), {{"application.id", "app-1"}});
        driver.create_input_topic<std::string, std::string>("in").pipe_input("k", "v");
    }
    EXPECT_THAT(log, ElementsAre("init 0_0 app-1", "process k", "close"));
}

} // namespace
