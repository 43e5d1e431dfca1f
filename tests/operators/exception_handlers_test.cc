// Processing and production failures (KIP-1033, KIP-1034): a processor that
// throws or a sink that cannot write fails the task, is skipped, or is
// dead-lettered with the source record's bytes and headers saying why; a
// branch can route its failures to a topic of its own; the dead-letter rate
// turns the health to degraded and back.

#include <cctype>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
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

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace h = eddy::dead_letter_headers;

std::string header(const eddy::raw_record& r, std::string_view key) {
    const auto* hd = r.headers.last_header(key);
    return hd && hd->value ? *hd->value : "<missing>";
}

// in -> upper (map_values) -> explode (map_values, throws on "BOOM") -> out.
// The value changes before the failure: a dead letter must keep the bytes
// the source read, not what the chain made of them.
eddy::topology exploding() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .map_values([](const std::string& v) {
            std::string up = v;
            for (auto& c : up) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            return up;
        }, eddy::named::as("upper"))
        .map_values([](const std::string& v) -> std::string {
            if (v == "BOOM") {
                throw std::invalid_argument("cannot explode " + v);
            }
            return v + "!";
        }, eddy::named::as("explode"))
        .to("out");
    return builder.build();
}

eddy::streams_config with(std::initializer_list<std::pair<const std::string, std::string>> settings) {
    eddy::streams_config c(settings);
    c.set(eddy::streams_config::application_id, "handlers-app");
    return c;
}

} // namespace

// --- processing ---------------------------------------------------------

TEST(ProcessingHandlerTest, LogAndFailIsTheDefaultAndTheErrorNamesTheNodeAndTheRecord) {
    eddy::topology_test_driver driver(exploding());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k1", "fine");
    try {
        in.pipe_input("k2", "boom");
        FAIL() << "expected a processing_error";
    } catch (const eddy::processing_error& e) {
        EXPECT_EQ(e.node(), "explode");
        EXPECT_THAT(e.what(), HasSubstr("processing failed at node explode topic=in partition=0 offset=1"));
        EXPECT_THAT(e.what(), HasSubstr("std::invalid_argument: cannot explode BOOM"));
    }
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("FINE!"));
    EXPECT_EQ(driver.dead_letter_records(), 0);
}

TEST(ProcessingHandlerTest, LogAndContinueSkipsTheFailedRecordAndGoesOn) {
    eddy::topology_test_driver driver(
        exploding(), with({{std::string(eddy::streams_config::processing_exception_handler), "log_and_continue"}}));
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k1", "a");
    in.pipe_input("k2", "boom");
    in.pipe_input("k3", "b");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("A!", "B!"));
    EXPECT_EQ(driver.dead_letter_records(), 0);
    EXPECT_EQ(driver.queue_size("dlq"), 0u);
}

TEST(ProcessingHandlerTest, DeadLetterKeepsTheSourceBytesAndEveryHeader) {
    eddy::topology_test_driver driver(exploding(),
        with({{std::string(eddy::streams_config::processing_exception_handler), "dead_letter"},
            {std::string(eddy::streams_config::dead_letter_topic), "dlq"}}),
        1'700'000'000'000);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k1", "a");
    in.pipe_input("k2", "boom", 1'600'000'000'000, {{"trace", "t-9"}});
    in.pipe_input("k3", "b");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("A!", "B!"));
    ASSERT_EQ(driver.queue_size("dlq"), 1u);
    const auto dead = driver.read_raw("dlq");
    EXPECT_EQ(dead.key, std::optional<std::string>("k2"));
    // "boom" as the source read it, not the "BOOM" upper made of it.
    EXPECT_EQ(dead.value, std::optional<std::string>("boom"));
    EXPECT_EQ(dead.timestamp, 1'600'000'000'000);
    EXPECT_EQ(header(dead, "trace"), "t-9");
    EXPECT_EQ(header(dead, h::error_class), "std::invalid_argument");
    EXPECT_EQ(header(dead, h::error_message), "cannot explode BOOM");
    EXPECT_EQ(header(dead, h::source_topic), "in");
    EXPECT_EQ(header(dead, h::source_partition), "0");
    EXPECT_EQ(header(dead, h::source_offset), "1");
    EXPECT_EQ(header(dead, h::processor_node), "explode");
    EXPECT_EQ(header(dead, h::attempts), "1");
    EXPECT_EQ(header(dead, h::application_id), "handlers-app");
    EXPECT_EQ(header(dead, h::time), "1700000000000");
    EXPECT_EQ(header(dead, h::kind), "processing");
    // What dlq inspect decodes.
    const auto info = eddy::decode_dead_letter_headers(dead.headers);
    EXPECT_EQ(info.processor_node, "explode");
    EXPECT_EQ(info.source_offset, 1);
    EXPECT_EQ(driver.dead_letter_records(), 1);
    EXPECT_EQ(driver.dead_letter_records(eddy::error_kind::processing), 1);
    EXPECT_EQ(driver.dead_letter_records(eddy::error_kind::production), 0);
}

TEST(ProcessingHandlerTest, AFailureIsHandledOnceByTheInnermostNode) {
    // A user handler that counts its calls and the nodes it is told of.
    struct counting : eddy::processing_exception_handler {
        std::vector<std::string> nodes;
        eddy::handler_response handle(const eddy::error_context& ctx, eddy::record_collector&) override {
            nodes.emplace_back(ctx.node);
            return eddy::handler_response::fail;
        }
        std::string_view name() const noexcept override { return "counting"; }
    };
    auto handler = std::make_shared<counting>();
    auto config = with({});
    config.set_processing_exception_handler(handler);
    eddy::topology_test_driver driver(exploding(), config);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    try {
        in.pipe_input("k", "boom");
        FAIL() << "expected a processing_error";
    } catch (const eddy::processing_error& e) {
        // Not "upper", explode's parent, which the failure passed through.
        EXPECT_EQ(e.node(), "explode");
    }
    EXPECT_THAT(handler->nodes, ElementsAre("explode"));
}

TEST(ProcessingHandlerTest, AUserHandlerIsToldEverythingAndMaySendItsOwnDeadLetter) {
    struct quarantine : eddy::processing_exception_handler {
        std::string node, error_class, message, value, dlq;
        bool has_source = false;
        eddy::error_kind kind = eddy::error_kind::deserialization;
        eddy::handler_response handle(const eddy::error_context& ctx, eddy::record_collector& c) override {
            node = ctx.node;
            error_class = ctx.error_class;
            message = ctx.message;
            value = ctx.record.value.value_or("<null>");
            dlq = ctx.dead_letter_topic;
            has_source = ctx.has_source_record;
            kind = ctx.kind;
            auto r = eddy::make_dead_letter(ctx, "quarantine", 7);
            c.send(r);
            return eddy::handler_response::continue_processing;
        }
        std::string_view name() const noexcept override { return "quarantine"; }
    };
    auto handler = std::make_shared<quarantine>();
    auto config = with({{std::string(eddy::streams_config::dead_letter_topic), "dlq"}});
    config.set_processing_exception_handler(handler);
    eddy::topology_test_driver driver(exploding(), config);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k", "boom");
    in.pipe_input("k", "ok");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("OK!"));
    EXPECT_EQ(handler->node, "explode");
    EXPECT_EQ(handler->error_class, "std::invalid_argument");
    EXPECT_EQ(handler->message, "cannot explode BOOM");
    EXPECT_EQ(handler->value, "boom");
    EXPECT_EQ(handler->dlq, "dlq");
    EXPECT_TRUE(handler->has_source);
    EXPECT_EQ(handler->kind, eddy::error_kind::processing);
    ASSERT_EQ(driver.queue_size("quarantine"), 1u);
    EXPECT_EQ(header(driver.read_raw("quarantine"), h::attempts), "7");
    // What a user's handler sends is a dead letter too.
    EXPECT_EQ(driver.dead_letter_records(eddy::error_kind::processing), 1);
}

namespace {

// A processor whose wall-clock punctuation throws, and which forwards what
// it gets.
struct ticking : eddy::processor<std::string, std::string, std::string, std::string> {
    void init(eddy::processor_context<std::string, std::string>& c) override {
        processor::init(c);
        c.schedule(1s, eddy::punctuation_type::wall_clock_time,
            [](std::int64_t) { throw std::runtime_error("the clock struck thirteen"); });
    }
    void process(const eddy::record<std::string, std::string>& r) override { context().forward(r); }
};

eddy::topology ticking_topology() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .process([] { return std::make_unique<ticking>(); }, eddy::named::as("ticker"))
        .to("out");
    return builder.build();
}

} // namespace

TEST(ProcessingHandlerTest, APunctuationsFailureIsDeadLetteredWithoutASourceRecord) {
    eddy::topology_test_driver driver(ticking_topology(),
        with({{std::string(eddy::streams_config::processing_exception_handler), "dead_letter"},
            {std::string(eddy::streams_config::dead_letter_topic), "dlq"}}),
        5'000);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k", "v");
    driver.advance_wall_clock_time(1s);
    in.pipe_input("k", "w");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("v", "w"));
    ASSERT_EQ(driver.queue_size("dlq"), 1u);
    const auto dead = driver.read_raw("dlq");
    EXPECT_FALSE(dead.key.has_value());
    EXPECT_FALSE(dead.value.has_value());
    EXPECT_EQ(dead.timestamp, 6'000);
    EXPECT_EQ(header(dead, h::processor_node), "ticker");
    EXPECT_EQ(header(dead, h::error_class), "std::runtime_error");
    EXPECT_EQ(header(dead, h::error_message), "the clock struck thirteen (in a punctuation: no source record)");
    EXPECT_EQ(header(dead, h::source_topic), "");
    EXPECT_EQ(header(dead, h::source_partition), "-1");
    EXPECT_EQ(header(dead, h::source_offset), "-1");
    EXPECT_EQ(header(dead, h::time), "6000");
}

TEST(ProcessingHandlerTest, APunctuationsFailureFailsByDefaultNamingTheNode) {
    eddy::topology_test_driver driver(ticking_topology());
    try {
        driver.advance_wall_clock_time(1s);
        FAIL() << "expected a processing_error";
    } catch (const eddy::processing_error& e) {
        EXPECT_EQ(e.node(), "ticker");
        EXPECT_THAT(e.what(), HasSubstr("processing failed at node ticker in a punctuation"));
    }
}

TEST(ProcessingHandlerTest, BadSettingsAreConfigErrorsNamingThem) {
    try {
        eddy::topology_test_driver driver(
            exploding(), with({{std::string(eddy::streams_config::processing_exception_handler), "ignore"}}));
        FAIL() << "expected a config_error";
    } catch (const eddy::config_error& e) {
        EXPECT_THAT(e.what(), HasSubstr("processing.exception.handler=ignore"));
    }
    try {
        eddy::topology_test_driver driver(
            exploding(), with({{std::string(eddy::streams_config::production_exception_handler), "dead_letter"}}));
        FAIL() << "expected a config_error";
    } catch (const eddy::config_error& e) {
        EXPECT_THAT(e.what(), HasSubstr("production.exception.handler=dead_letter needs errors.dead.letter.queue.topic.name"));
    }
}

// --- production ---------------------------------------------------------

namespace {

// A string serde that cannot serialize "unwritable".
struct picky_serde {
    using value_type = std::string;
    static constexpr std::string_view name = "picky";
    std::string serialize(const std::string& v) const {
        if (v == "unwritable") {
            throw eddy::serde_error("picky: will not write " + v);
        }
        return v;
    }
    std::string deserialize(std::string_view bytes) const { return std::string(bytes); }
};

eddy::topology picky_sink() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .map_values([](const std::string& v) { return v == "bad" ? std::string("unwritable") : v; },
            eddy::named::as("rename"))
        .to("out", eddy::produced<std::string, std::string>::with(eddy::serdes::string{}, picky_serde{})
                       .with_name("to-out"));
    return builder.build();
}

} // namespace

TEST(ProductionHandlerTest, ASerializationFailureFailsByDefaultNamingTheSink) {
    eddy::topology_test_driver driver(picky_sink());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    try {
        in.pipe_input("k", "bad");
        FAIL() << "expected a production_error";
    } catch (const eddy::production_error& e) {
        EXPECT_EQ(e.node(), "to-out");
        EXPECT_THAT(e.what(), HasSubstr("sink to-out cannot write to topic out: picky: will not write unwritable"));
        EXPECT_THAT(e.what(), HasSubstr("topic=in partition=0 offset=0"));
    }
}

TEST(ProductionHandlerTest, ASinkFailureIsNotTakenForItsParentsProcessingFailure) {
    // The processing handler would dead-letter; the production one fails.
    eddy::topology_test_driver driver(picky_sink(),
        with({{std::string(eddy::streams_config::processing_exception_handler), "dead_letter"},
            {std::string(eddy::streams_config::dead_letter_topic), "dlq"}}));
    auto in = driver.create_input_topic<std::string, std::string>("in");
    EXPECT_THROW(in.pipe_input("k", "bad"), eddy::production_error);
    EXPECT_EQ(driver.queue_size("dlq"), 0u);
}

TEST(ProductionHandlerTest, LogAndContinueSkipsTheRecord) {
    eddy::topology_test_driver driver(
        picky_sink(), with({{std::string(eddy::streams_config::production_exception_handler), "log_and_continue"}}));
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k", "a");
    in.pipe_input("k", "bad");
    in.pipe_input("k", "b");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("a", "b"));
    EXPECT_EQ(driver.dead_letter_records(), 0);
}

TEST(ProductionHandlerTest, DeadLetterKeepsTheSourceBytesAndSaysProduction) {
    eddy::topology_test_driver driver(picky_sink(),
        with({{std::string(eddy::streams_config::production_exception_handler), "dead_letter"},
            {std::string(eddy::streams_config::dead_letter_topic), "dlq"}}),
        42);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k", "a");
    in.pipe_input("k", "bad");
    in.pipe_input("k", "b");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("a", "b"));
    ASSERT_EQ(driver.queue_size("dlq"), 1u);
    const auto dead = driver.read_raw("dlq");
    EXPECT_EQ(dead.key, std::optional<std::string>("k"));
    EXPECT_EQ(dead.value, std::optional<std::string>("bad"));
    EXPECT_EQ(header(dead, h::error_class), "eddy::serde_error");
    EXPECT_EQ(header(dead, h::error_message), "sink to-out cannot write to topic out: picky: will not write unwritable");
    EXPECT_EQ(header(dead, h::processor_node), "to-out");
    EXPECT_EQ(header(dead, h::source_topic), "in");
    EXPECT_EQ(header(dead, h::source_offset), "1");
    EXPECT_EQ(header(dead, h::attempts), "1");
    EXPECT_EQ(header(dead, h::application_id), "handlers-app");
    EXPECT_EQ(header(dead, h::time), "42");
    EXPECT_EQ(header(dead, h::kind), "production");
    EXPECT_EQ(driver.dead_letter_records(eddy::error_kind::production), 1);
}

// --- per-branch routing -------------------------------------------------

namespace {

std::string explode_on_boom(const std::string& v) {
    if (v == "boom") {
        throw std::runtime_error("boom in " + v);
    }
    return v;
}

// split(): keys starting with "a" go to branch a, whose failures go to
// "a.dlq"; the rest to the default branch, whose failures go wherever the
// handler says.
eddy::topology split_topology() {
    eddy::streams_builder builder;
    using b = eddy::branched<std::string, std::string>;
    builder.stream<std::string, std::string>("in")
        .split(eddy::named::as("split-"))
        .branch([](const std::string& k, const std::string&) { return k.starts_with("a"); },
            b::with_consumer([](const eddy::kstream<std::string, std::string>& s) {
                s.map_values(explode_on_boom, eddy::named::as("a-explode")).to("out-a");
            }, "a").with_dead_letter_topic("a.dlq"))
        .default_branch(b::with_consumer([](const eddy::kstream<std::string, std::string>& s) {
            s.map_values(explode_on_boom, eddy::named::as("rest-explode")).to("out-rest");
        }, "rest"));
    return builder.build();
}

} // namespace

TEST(DeadLetterRoutingTest, ABranchsFailuresGoToItsTopicOthersToTheDefault) {
    const auto t = split_topology();
    EXPECT_EQ(t.dead_letter_topics(), (std::set<std::string>{"a.dlq"}));
    eddy::topology_test_driver driver(t,
        with({{std::string(eddy::streams_config::processing_exception_handler), "dead_letter"},
            {std::string(eddy::streams_config::dead_letter_topic), "default.dlq"}}));
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out_a = driver.create_output_topic<std::string, std::string>("out-a");
    auto out_rest = driver.create_output_topic<std::string, std::string>("out-rest");
    in.pipe_input("a1", "x");
    in.pipe_input("a2", "boom");
    in.pipe_input("b1", "boom");
    in.pipe_input("b2", "y");
    EXPECT_THAT(out_a.read_values_to_list(), ElementsAre("x"));
    EXPECT_THAT(out_rest.read_values_to_list(), ElementsAre("y"));
    ASSERT_EQ(driver.queue_size("a.dlq"), 1u);
    ASSERT_EQ(driver.queue_size("default.dlq"), 1u);
    const auto a = driver.read_raw("a.dlq");
    EXPECT_EQ(a.key, std::optional<std::string>("a2"));
    EXPECT_EQ(header(a, h::processor_node), "a-explode");
    const auto rest = driver.read_raw("default.dlq");
    EXPECT_EQ(rest.key, std::optional<std::string>("b1"));
    EXPECT_EQ(header(rest, h::processor_node), "rest-explode");
    EXPECT_EQ(driver.dead_letter_records(), 2);
}

TEST(DeadLetterRoutingTest, ABranchsTopicWinsOverLogAndFailTheOthersStillFail) {
    eddy::topology_test_driver driver(split_topology());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    in.pipe_input("a2", "boom");
    EXPECT_EQ(driver.queue_size("a.dlq"), 1u);
    EXPECT_THROW(in.pipe_input("b1", "boom"), eddy::processing_error);
}

TEST(DeadLetterRoutingTest, AStreamsTopicCoversTheNodesAfterItAndItsSinks) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .map_values([](const std::string& v) -> std::string {
            if (v == "early") {
                throw std::runtime_error("before the routing");
            }
            return v;
        }, eddy::named::as("before"))
        .with_dead_letter_topic("chain.dlq")
        .map_values(explode_on_boom, eddy::named::as("after"))
        .map_values([](const std::string& v) { return v == "bad" ? std::string("unwritable") : v; })
        .to("out", eddy::produced<std::string, std::string>::with(eddy::serdes::string{}, picky_serde{})
                       .with_name("to-out"));
    const auto t = builder.build();
    EXPECT_EQ(t.dead_letter_topics(), (std::set<std::string>{"chain.dlq"}));
    eddy::topology_test_driver driver(t);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k1", "boom");
    in.pipe_input("k2", "bad");
    in.pipe_input("k3", "good");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("good"));
    ASSERT_EQ(driver.queue_size("chain.dlq"), 2u);
    const auto processing = driver.read_raw("chain.dlq");
    EXPECT_EQ(header(processing, h::processor_node), "after");
    EXPECT_EQ(header(processing, h::kind), "processing");
    const auto production = driver.read_raw("chain.dlq");
    EXPECT_EQ(header(production, h::processor_node), "to-out");
    EXPECT_EQ(header(production, h::kind), "production");
    EXPECT_EQ(production.value, std::optional<std::string>("bad"));
    // The node before the routing keeps the configured log_and_fail.
    EXPECT_THROW(in.pipe_input("k4", "early"), eddy::processing_error);
}

// --- health ---------------------------------------------------------------

TEST(HealthTest, DegradedAboveTheDeadLetterRateAndHealthyAgainWhenItFalls) {
    eddy::topology_test_driver driver(exploding(),
        with({{std::string(eddy::streams_config::processing_exception_handler), "dead_letter"},
            {std::string(eddy::streams_config::dead_letter_topic), "dlq"},
            {std::string(eddy::streams_config::dead_letter_degraded_rate), "3"}}),
        1'000'000);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    EXPECT_EQ(driver.health().status, eddy::health_status::healthy);
    for (int i = 0; i < 3; ++i) {
        in.pipe_input("k", "boom");
    }
    // Three a minute is the limit, not above it.
    EXPECT_EQ(driver.health().status, eddy::health_status::healthy);
    driver.advance_wall_clock_time(30s);
    in.pipe_input("k", "boom");
    auto degraded = driver.health();
    EXPECT_EQ(degraded.status, eddy::health_status::degraded);
    ASSERT_EQ(degraded.reasons.size(), 1u);
    EXPECT_THAT(degraded.reasons[0], HasSubstr("4 records dead-lettered in the last minute"));
    EXPECT_THAT(degraded.reasons[0], HasSubstr("errors.dead.letter.degraded.rate=3"));
    // 31 s later the first three are out of the minute: one left.
    driver.advance_wall_clock_time(31s);
    const auto recovered = driver.health();
    EXPECT_EQ(recovered.status, eddy::health_status::healthy);
    EXPECT_TRUE(recovered.reasons.empty());
    EXPECT_EQ(driver.dead_letter_records(), 4);
}

TEST(HealthTest, ARateOfZeroNeverDegrades) {
    eddy::topology_test_driver driver(exploding(),
        with({{std::string(eddy::streams_config::processing_exception_handler), "dead_letter"},
            {std::string(eddy::streams_config::dead_letter_topic), "dlq"},
            {std::string(eddy::streams_config::dead_letter_degraded_rate), "0"}}));
    auto in = driver.create_input_topic<std::string, std::string>("in");
    for (int i = 0; i < 100; ++i) {
        in.pipe_input("k", "boom");
    }
    EXPECT_EQ(driver.health().status, eddy::health_status::healthy);
    EXPECT_EQ(driver.dead_letter_records(), 100);
}
