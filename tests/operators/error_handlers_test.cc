// What happens to records that cannot be deserialized: fail with where the
// record came from, skip it, or dead-letter it with headers saying why.

#include <cstdint>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operators/error_handlers.h"
#include "runtime/topology_test_driver.h"
#include "serde/serdes.h"
#include "topology/streams_builder.h"

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string header(const eddy::raw_record& r, std::string_view key) {
    const auto* h = r.headers.last_header(key);
    return h && h->value ? *h->value : "<missing>";
}

eddy::topology int_topology() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::int32_t>("numbers").map_values([](std::int32_t v) { return v * 2; }).to("out");
    return builder.build();
}

eddy::raw_record raw(std::optional<std::string> key, std::optional<std::string> value) {
    return {"numbers", 0, 0, 7, std::move(key), std::move(value), {}};
}

TEST(DeserializationHandlerTest, LogAndFailIsTheDefaultAndSaysWhereTheRecordCameFrom) {
    eddy::topology_test_driver driver(int_topology());
    auto in = driver.create_input_topic<std::string, std::int32_t>("numbers");
    in.pipe_input("a", 1);
    try {
        driver.pipe_raw(raw("b", std::string("\x01\x02", 2)));
        FAIL() << "expected a deserialization_error";
    } catch (const eddy::deserialization_error& e) {
        EXPECT_EQ(e.topic(), "numbers");
        EXPECT_EQ(e.partition(), 0);
        EXPECT_EQ(e.offset(), 1);
        EXPECT_EQ(e.node(), "KSTREAM-SOURCE-0000000000");
        EXPECT_THAT(e.reason(), HasSubstr("expected 4 bytes, got 2"));
        EXPECT_THAT(e.what(), HasSubstr("topic=numbers partition=0 offset=1"));
    }
}

TEST(DeserializationHandlerTest, LogAndContinueSkipsTheRecordAndGoesOn) {
    eddy::topology_test_driver driver(
        int_topology(), {{std::string(eddy::streams_config::deserialization_exception_handler), "log_and_continue"}});
    auto in = driver.create_input_topic<std::string, std::int32_t>("numbers");
    auto out = driver.create_output_topic<std::string, std::int32_t>("out");
    driver.pipe_raw(raw("a", std::string("garbage")));
    in.pipe_input("b", 21);
    EXPECT_THAT(out.read_values_to_list(), ElementsAre(42));
}

TEST(DeserializationHandlerTest, DeadLetterKeepsTheBytesAndSaysWhyAndWhereFrom) {
    eddy::streams_config config{{"application.id", "dlq-app"},
        {std::string(eddy::streams_config::deserialization_exception_handler), "dead_letter"},
        {std::string(eddy::streams_config::dead_letter_topic), "numbers.dlq"}};
    eddy::topology_test_driver driver(int_topology(), config, 1'234);
    auto in = driver.create_input_topic<std::string, std::int32_t>("numbers");
    auto out = driver.create_output_topic<std::string, std::int32_t>("out");
    in.pipe_input("a", 1);
    auto bad = raw("b", std::string("\xff\xff\xff", 3));
    bad.headers.add("trace", "t-9");
    driver.pipe_raw(bad);
    in.pipe_input("c", 2);

    EXPECT_THAT(out.read_values_to_list(), ElementsAre(2, 4));
    ASSERT_EQ(driver.queue_size("numbers.dlq"), 1U);
    auto dead = driver.read_raw("numbers.dlq");
    namespace h = eddy::dead_letter_headers;
    EXPECT_EQ(dead.key, std::optional<std::string>("b"));
    EXPECT_EQ(dead.value, std::optional<std::string>(std::string("\xff\xff\xff", 3)));
    EXPECT_EQ(dead.timestamp, 7);
    EXPECT_EQ(header(dead, "trace"), "t-9");
    EXPECT_EQ(header(dead, h::error_class), "eddy::serde_error");
    EXPECT_THAT(header(dead, h::error_message), HasSubstr("expected 4 bytes, got 3"));
    EXPECT_EQ(header(dead, h::source_topic), "numbers");
    EXPECT_EQ(header(dead, h::source_partition), "0");
    EXPECT_EQ(header(dead, h::source_offset), "1");
    EXPECT_EQ(header(dead, h::processor_node), "KSTREAM-SOURCE-0000000000");
    EXPECT_EQ(header(dead, h::attempts), "1");
    EXPECT_EQ(header(dead, h::application_id), "dlq-app");
    EXPECT_EQ(header(dead, h::time), "1234");
}

TEST(DeserializationHandlerTest, ANullKeyWhereAKeyIsNeededIsAFailureNotAnEmptyKey) {
    eddy::topology_test_driver driver(
        int_topology(), {{std::string(eddy::streams_config::deserialization_exception_handler), "dead_letter"},
                            {std::string(eddy::streams_config::dead_letter_topic), "dlq"}});
    driver.pipe_raw(raw(std::nullopt, std::string("\x00\x00\x00\x01", 4)));
    auto dead = driver.read_raw("dlq");
    EXPECT_EQ(header(dead, eddy::dead_letter_headers::error_message), "null key where a key is needed");
    EXPECT_EQ(driver.queue_size("out"), 0U);
}

TEST(DeserializationHandlerTest, ASourceMayCarryItsOwnHandler) {
    eddy::streams_builder builder;
    builder
        .stream<std::string, std::int32_t>("numbers",
            eddy::consumed<std::string, std::int32_t>().with_deserialization_handler(
                eddy::handlers::dead_letter("own.dlq")))
        .to("out");
    eddy::topology_test_driver driver(builder.build()); // the config says log_and_fail
    driver.pipe_raw(raw("a", std::string("xx")));
    EXPECT_EQ(driver.queue_size("own.dlq"), 1U);
}

TEST(DeserializationHandlerTest, UnknownHandlerNameIsAConfigErrorNamingTheSetting) {
    try {
        eddy::topology_test_driver driver(
            int_topology(), {{std::string(eddy::streams_config::deserialization_exception_handler), "ignore"}});
        FAIL() << "expected a config_error";
    } catch (const eddy::config_error& e) {
        EXPECT_THAT(e.what(), HasSubstr("deserialization.exception.handler=ignore"));
    }
}

TEST(DeserializationHandlerTest, DeadLetterWithoutATopicIsAConfigError) {
    try {
        eddy::topology_test_driver driver(
            int_topology(), {{std::string(eddy::streams_config::deserialization_exception_handler), "dead_letter"}});
        FAIL() << "expected a config_error";
    } catch (const eddy::config_error& e) {
        EXPECT_THAT(e.what(), HasSubstr("errors.dead.letter.queue.topic.name"));
    }
}

} // namespace

eddy::raw_record dead_letter_of(const eddy::raw_record& original) {
    const eddy::error_context ctx{"app-1", "KSTREAM-SOURCE-0000000000", "eddy::serde_error",
        "int32: expected 4 bytes, got 3", original, 1'700'000'000'123};
    return eddy::make_dead_letter(ctx, "dlq", 3);
}

TEST(DeadLetterHeadersTest, DecodingGivesBackWhatMakeDeadLetterWrote) {
    eddy::raw_record original{"orders", 11, 9'007'199'254'740'993, 5, "k", "v", {{"trace", "t-1"}}};
    const auto info = eddy::decode_dead_letter_headers(dead_letter_of(original).headers);
    const eddy::dead_letter_info expected{"eddy::serde_error", "int32: expected 4 bytes, got 3", "orders", 11,
        9'007'199'254'740'993, "KSTREAM-SOURCE-0000000000", 3, "app-1", 1'700'000'000'123};
    EXPECT_EQ(info, expected);
}

TEST(DeadLetterHeadersTest, DecodesTheRecordTheDeadLetterHandlerSent) {
    eddy::topology_test_driver driver(int_topology(),
        {{"application.id", "dlq-app"},
            {std::string(eddy::streams_config::deserialization_exception_handler), "dead_letter"},
            {std::string(eddy::streams_config::dead_letter_topic), "numbers.dlq"}},
        1'234);
    driver.pipe_raw(raw("a", std::string("\x01", 1)));
    const auto info = eddy::decode_dead_letter_headers(driver.read_raw("numbers.dlq").headers);
    EXPECT_EQ(info.source_topic, "numbers");
    EXPECT_EQ(info.source_partition, 0);
    EXPECT_EQ(info.source_offset, 0);
    EXPECT_EQ(info.processor_node, "KSTREAM-SOURCE-0000000000");
    EXPECT_EQ(info.error_class, "eddy::serde_error");
    EXPECT_THAT(info.error_message, HasSubstr("expected 4 bytes, got 1"));
    EXPECT_EQ(info.attempts, 1);
    EXPECT_EQ(info.application_id, "dlq-app");
    EXPECT_EQ(info.time_ms, 1'234);
}

TEST(DeadLetterHeadersTest, ARecordDeadLetteredTwiceReadsAsItsLastFailure) {
    eddy::raw_record first = dead_letter_of({"orders", 1, 2, 0, "k", "v", {}});
    first.topic = "dlq";
    first.partition = 4;
    first.offset = 77;
    const auto info = eddy::decode_dead_letter_headers(dead_letter_of(first).headers);
    EXPECT_EQ(info.source_topic, "dlq");
    EXPECT_EQ(info.source_partition, 4);
    EXPECT_EQ(info.source_offset, 77);
}

std::string decode_error(const eddy::headers& hs) {
    try {
        eddy::decode_dead_letter_headers(hs);
    } catch (const eddy::serde_error& e) {
        return e.what();
    }
    return "<no error>";
}

eddy::headers with_header(std::string_view key, std::optional<std::string> value) {
    eddy::headers hs = dead_letter_of({"orders", 1, 2, 0, "k", "v", {}}).headers;
    hs.remove(key);
    hs.add(std::string(key), std::move(value));
    return hs;
}

TEST(DeadLetterHeadersTest, AMissingOrNullHeaderIsASerdeErrorNamingIt) {
    eddy::headers hs = dead_letter_of({"orders", 1, 2, 0, "k", "v", {}}).headers;
    hs.remove(eddy::dead_letter_headers::source_topic);
    EXPECT_EQ(decode_error(hs), "dead letter: no header eddy.source.topic");
    EXPECT_EQ(decode_error(with_header(eddy::dead_letter_headers::error_message, std::nullopt)),
        "dead letter: header eddy.error.message is null");
    EXPECT_EQ(decode_error({}), "dead letter: no header eddy.error.class");
}

TEST(DeadLetterHeadersTest, ANumberHeaderMustBeAWholeDecimalIntegerInRange) {
    namespace h = eddy::dead_letter_headers;
    EXPECT_EQ(decode_error(with_header(h::source_offset, "12x")),
        "dead letter: header eddy.source.offset: expected a decimal integer, got \"12x\"");
    EXPECT_EQ(decode_error(with_header(h::source_offset, "")),
        "dead letter: header eddy.source.offset: expected a decimal integer, got \"\"");
    EXPECT_EQ(decode_error(with_header(h::source_partition, "+1")),
        "dead letter: header eddy.source.partition: expected a decimal integer, got \"+1\"");
    EXPECT_EQ(decode_error(with_header(h::source_partition, "2147483648")),
        "dead letter: header eddy.source.partition: \"2147483648\" is out of range");
    EXPECT_EQ(decode_error(with_header(h::time, "99999999999999999999")),
        "dead letter: header eddy.error.time: \"99999999999999999999\" is out of range");
    EXPECT_EQ(eddy::decode_dead_letter_headers(with_header(h::attempts, "-1")).attempts, -1);
}
