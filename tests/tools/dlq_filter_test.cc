// The selection and text forms behind eddy dlq inspect/replay: times in
// epoch ms and ISO-8601, --where conditions, what a filter matches, and how
// bytes become text.

#include "tools/dlq_filter.h"

#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "serde/internal/json_io.h"
#include "tools/kafka_client.h"

namespace {

using eddy::tools::apply_where;
using eddy::tools::check_filter;
using eddy::tools::dlq_filter;
using eddy::tools::format_time;
using eddy::tools::parse_time;
using eddy::tools::render_bytes;
using eddy::tools::tool_error;
using testing::HasSubstr;

std::string failure_of(auto&& f) {
    try {
        f();
    } catch (const tool_error& e) {
        return e.what();
    }
    return "no tool_error";
}

eddy::dead_letter_info info(std::string error_class, std::string message, std::string source, std::string node,
    std::int64_t time) {
    eddy::dead_letter_info i;
    i.error_class = std::move(error_class);
    i.error_message = std::move(message);
    i.source_topic = std::move(source);
    i.processor_node = std::move(node);
    i.time_ms = time;
    return i;
}

TEST(DlqTimeTest, EpochMillisecondsAreTakenAsTheyAre) {
    EXPECT_EQ(parse_time("1700000000000", "--since"), 1700000000000);
    EXPECT_EQ(parse_time("0", "--since"), 0);
}

TEST(DlqTimeTest, Iso8601DatesTimesFractionsAndZones) {
    // 2023-11-14T22:13:20Z is 1700000000 s after the epoch.
    EXPECT_EQ(parse_time("2023-11-14T22:13:20Z", "--since"), 1700000000000);
    EXPECT_EQ(parse_time("2023-11-14T22:13:20", "--since"), 1700000000000);
    EXPECT_EQ(parse_time("2023-11-14 22:13:20z", "--since"), 1700000000000);
    EXPECT_EQ(parse_time("2023-11-14T22:13:20.250Z", "--since"), 1700000000250);
    EXPECT_EQ(parse_time("2023-11-14T22:13:20.2509999Z", "--since"), 1700000000250);
    EXPECT_EQ(parse_time("2023-11-14T23:13:20+01:00", "--since"), 1700000000000);
    EXPECT_EQ(parse_time("2023-11-14T17:13:20-0500", "--since"), 1700000000000);
    EXPECT_EQ(parse_time("2023-11-14T22:13", "--since"), 1700000000000 - 20'000);
    EXPECT_EQ(parse_time("2023-11-14", "--since"), 1699920000000);
    EXPECT_EQ(parse_time("1970-01-01T00:00:00Z", "--since"), 0);
    EXPECT_EQ(parse_time("2024-02-29", "--since"), 1709164800000);
}

TEST(DlqTimeTest, WhatIsNotATimeIsRefusedNamingTheOption) {
    for (const char* bad : {"", "yesterday", "2023-02-29", "2023-13-01", "2023-11-14T24:00", "2023-11-14T22:13:60",
             "2023-11-14T22:13:20+1", "2023-11-14T22:13:20Zjunk", "2023-11-14T", "2023-11-14T22:13:20.", "-5",
             "2023/11/14"}) {
        EXPECT_THAT(failure_of([&] { parse_time(bad, "--until"); }),
            HasSubstr(std::string("--until: \"") + bad + "\" is not a time"))
            << bad;
    }
}

TEST(DlqTimeTest, FormatsUtcWithMilliseconds) {
    EXPECT_EQ(format_time(1700000000250), "2023-11-14T22:13:20.250Z");
    EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(parse_time(format_time(1764662400123), "x"), 1764662400123);
    EXPECT_EQ(format_time(253402300799999), "9999-12-31T23:59:59.999Z");
}

// Issue 14, finding 13: int64's largest printed as year -6911.
TEST(DlqTimeTest, TimesBeyondTheCalendarAreRefusedOrShownAsNumbers) {
    EXPECT_THAT(failure_of([] { parse_time("9223372036854775807", "--since"); }),
        HasSubstr("--since: 9223372036854775807 is past 9999-12-31 (at most 253402300799999 epoch milliseconds)"));
    EXPECT_THAT(failure_of([] { parse_time("253402300800000", "--until"); }), HasSubstr("--until: 253402300800000 is past"));
    EXPECT_EQ(format_time(std::numeric_limits<std::int64_t>::max()), "9223372036854775807ms");
    EXPECT_EQ(format_time(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808ms");
    EXPECT_EQ(format_time(-1), "1969-12-31T23:59:59.999Z");
}

TEST(DlqFilterTest, AnEmptyFilterMatchesEveryRecordWithOrWithoutHeaders) {
    const dlq_filter f;
    const auto i = info("serde_error", "bad bytes", "orders", "src", 10);
    EXPECT_TRUE(f.matches(0, 0, &i));
    EXPECT_TRUE(f.matches(3, 99, nullptr));
}

TEST(DlqFilterTest, ErrorMatchesASubstringOfTheClassOrTheMessage) {
    dlq_filter f;
    apply_where(f, "error=serde");
    const auto by_class = info("serde_error", "x", "t", "n", 0);
    EXPECT_TRUE(f.matches(0, 0, &by_class));
    const auto by_message = info("processing_error", "division by zero", "t", "n", 0);
    const auto neither = info("processing_error", "timeout", "t", "n", 0);
    apply_where(f, "error=zero");
    EXPECT_TRUE(f.matches(0, 0, &by_message));
    EXPECT_FALSE(f.matches(0, 0, &neither));
    // A record without dead-letter headers has no error to match.
    EXPECT_FALSE(f.matches(0, 0, nullptr));
}

TEST(DlqFilterTest, SourceTopicAndNodeMatchExactly) {
    dlq_filter f;
    apply_where(f, "source-topic=orders");
    apply_where(f, "node=parse");
    const auto both = info("c", "m", "orders", "parse", 0);
    EXPECT_TRUE(f.matches(0, 0, &both));
    const auto other_topic = info("c", "m", "orders-v2", "parse", 0);
    const auto other_node = info("c", "m", "orders", "parse-2", 0);
    EXPECT_FALSE(f.matches(0, 0, &other_topic));
    EXPECT_FALSE(f.matches(0, 0, &other_node));
}

TEST(DlqFilterTest, SinceIsInclusiveAndUntilExclusive) {
    dlq_filter f;
    apply_where(f, "since=1000");
    apply_where(f, "until=1970-01-01T00:00:02Z");
    const auto before = info("c", "m", "t", "n", 999);
    const auto first = info("c", "m", "t", "n", 1000);
    const auto last = info("c", "m", "t", "n", 1999);
    const auto at_until = info("c", "m", "t", "n", 2000);
    EXPECT_FALSE(f.matches(0, 0, &before));
    EXPECT_TRUE(f.matches(0, 0, &first));
    EXPECT_TRUE(f.matches(0, 0, &last));
    EXPECT_FALSE(f.matches(0, 0, &at_until));
}

TEST(DlqFilterTest, PartitionAndOffsetRangeSelectRecordsEvenWithoutHeaders) {
    dlq_filter f;
    apply_where(f, "partition=1");
    apply_where(f, "offset=3-5");
    EXPECT_FALSE(f.matches(1, 2, nullptr));
    EXPECT_TRUE(f.matches(1, 3, nullptr));
    EXPECT_TRUE(f.matches(1, 5, nullptr));
    EXPECT_FALSE(f.matches(1, 6, nullptr));
    EXPECT_FALSE(f.matches(0, 4, nullptr));
    apply_where(f, "offset=7");
    EXPECT_TRUE(f.matches(1, 7, nullptr));
    EXPECT_FALSE(f.matches(1, 8, nullptr));
}

TEST(DlqFilterTest, BadConditionsAreRefusedWithTheirReason) {
    dlq_filter f;
    EXPECT_THAT(failure_of([&] { apply_where(f, "error"); }), HasSubstr("--where error: expected KEY=VALUE"));
    EXPECT_THAT(failure_of([&] { apply_where(f, "colour=red"); }), HasSubstr("unknown key colour"));
    EXPECT_THAT(failure_of([&] { apply_where(f, "partition=-1"); }), HasSubstr("expected a partition number"));
    EXPECT_THAT(failure_of([&] { apply_where(f, "offset=a-b"); }), HasSubstr("expected an offset N or a range"));
    EXPECT_THAT(failure_of([&] { apply_where(f, "since=soon"); }), HasSubstr("--where since=soon: \"soon\" is not a time"));
}

TEST(DlqFilterTest, ARangeThatCanMatchNothingIsRefused) {
    dlq_filter f;
    apply_where(f, "since=2000");
    apply_where(f, "until=2000");
    EXPECT_THAT(failure_of([&] { check_filter(f); }), HasSubstr("is not before --until"));
    dlq_filter g;
    apply_where(g, "offset=5-3");
    EXPECT_THAT(failure_of([&] { check_filter(g); }), HasSubstr("offset range 5-3 is backwards"));
}

TEST(DlqBytesTest, PrintableUtf8StaysTextAndTheRestIsBase64) {
    EXPECT_EQ(render_bytes("hello").encoding, "utf8");
    EXPECT_EQ(render_bytes("caf\xc3\xa9 \xe2\x82\xac\ttab\nline").encoding, "utf8");
    EXPECT_EQ(render_bytes("").encoding, "utf8");
    const auto binary = render_bytes(std::string("\x00\x01\xff", 3));
    EXPECT_EQ(binary.encoding, "base64");
    EXPECT_EQ(binary.text, "AAH/");
    // Invalid UTF-8: a lone continuation byte, an overlong '/', a surrogate,
    // a truncated sequence, and an escape (a control character).
    for (const char* bad : {"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\x1b[31m"}) {
        EXPECT_EQ(render_bytes(bad).encoding, "base64") << bad;
    }
    EXPECT_EQ(eddy::serdes::internal::base64_encode("f"), "Zg==");
    EXPECT_EQ(eddy::serdes::internal::base64_encode("fo"), "Zm8=");
    EXPECT_EQ(eddy::serdes::internal::base64_encode("foo"), "Zm9v");
    EXPECT_EQ(eddy::serdes::internal::base64_encode("foobar"), "Zm9vYmFy");
    // Decoding takes both alphabets, with or without padding, and refuses
    // what is not base64.
    using eddy::serdes::internal::base64_decode;
    EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
    EXPECT_EQ(base64_decode("Zg=="), "f");
    EXPECT_EQ(base64_decode("Zm8"), "fo");
    EXPECT_EQ(base64_decode("AAH/"), std::string("\x00\x01\xff", 3));
    EXPECT_EQ(base64_decode("AAH_"), std::string("\x00\x01\xff", 3));
    EXPECT_EQ(base64_decode(""), "");
    EXPECT_EQ(base64_decode("Z"), std::nullopt);
    EXPECT_EQ(base64_decode("Zm 9v"), std::nullopt);
    EXPECT_EQ(base64_decode("Zg==Zg"), std::nullopt);
}

} // namespace
