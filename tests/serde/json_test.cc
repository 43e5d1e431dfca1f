#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/hana/define_struct.hpp>

#include <nlohmann/json.hpp>

#include "serde/json.h"
#include "serde/serde.h"

namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::ThrowsMessage;
using namespace std::chrono_literals;
using time_point = std::chrono::system_clock::time_point;

struct due_date {
    BOOST_HANA_DEFINE_STRUCT(due_date,
        (time_point, at),
        (std::optional<std::string>, note));
};

struct task {
    BOOST_HANA_DEFINE_STRUCT(task,
        (std::string, id),
        (bool, done),
        (std::int32_t, priority),
        (std::optional<std::int64_t>, estimate_ms),
        (std::vector<std::string>, tags),
        (due_date, due));
};

struct numbers {
    BOOST_HANA_DEFINE_STRUCT(numbers,
        (std::int8_t, i8),
        (std::uint8_t, u8),
        (std::int16_t, i16),
        (std::uint16_t, u16),
        (std::int32_t, i32),
        (std::uint32_t, u32),
        (std::int64_t, i64),
        (std::uint64_t, u64),
        (float, f),
        (double, d));
};

struct containers {
    BOOST_HANA_DEFINE_STRUCT(containers,
        (std::map<std::string, std::int64_t>, counters),
        (std::map<std::string, due_date>, deadlines),
        (std::vector<std::optional<std::int32_t>>, sparse),
        (std::vector<bool>, flags),
        (std::vector<std::vector<std::string>>, grid),
        (std::optional<due_date>, maybe_due));
};

struct stamp {
    BOOST_HANA_DEFINE_STRUCT(stamp, (time_point, at));
};

struct one_string {
    BOOST_HANA_DEFINE_STRUCT(one_string, (std::string, value));
};

struct nothing {
    BOOST_HANA_DEFINE_STRUCT(nothing);
};

static_assert(eddy::serde_for<eddy::serdes::json<task>, task>);
static_assert(eddy::serdes::hana_struct<task>);
static_assert(!eddy::serdes::hana_struct<std::string>);

// 2026-11-27T20:48:09.123Z
const time_point sample_time = std::chrono::sys_days{std::chrono::November / 27 / 2026} + 20h + 48min + 9s + 123ms;

task sample_task() {
    return task{"t1", false, 3, std::nullopt, {"home", "urgent"}, due_date{sample_time, "before dinner"}};
}

template<typename T>
T read(const std::string& text) {
    return eddy::serdes::json<T>{}.deserialize(text);
}

template<typename T>
std::string write(const T& value) {
    return eddy::serdes::json<T>{}.serialize(value);
}

template<typename T>
auto rejects(const std::string& text) {
    return [text] { (void)read<T>(text); };
}

TEST(JsonSerdeTest, IsNamedJson) {
    EXPECT_EQ(eddy::serdes::json<task>::name, "json");
    const eddy::serde_ref<task> ref = eddy::serdes::json<task>{};
    EXPECT_EQ(ref.name(), "json");
}

TEST(JsonSerdeTest, WritesFieldsInDeclarationOrderCompactly) {
    EXPECT_EQ(write(sample_task()),
              R"({"id":"t1","done":false,"priority":3,"estimate_ms":null,"tags":["home","urgent"],)"
              R"("due":{"at":"2026-11-27T20:48:09.123Z","note":"before dinner"}})");
}

TEST(JsonSerdeTest, RoundTripsNestedStructsVectorsAndOptionals) {
    task t = sample_task();
    t.done = true;
    t.estimate_ms = -5;
    t.due.note.reset();
    const task back = read<task>(write(t));
    EXPECT_EQ(back.id, t.id);
    EXPECT_EQ(back.done, t.done);
    EXPECT_EQ(back.priority, t.priority);
    EXPECT_EQ(back.estimate_ms, t.estimate_ms);
    EXPECT_EQ(back.tags, t.tags);
    EXPECT_EQ(back.due.at, t.due.at);
    EXPECT_EQ(back.due.note, std::nullopt);
}

TEST(JsonSerdeTest, RoundTripsMapsOptionalElementsAndNestedVectors) {
    containers c;
    c.counters = {{"a", 1}, {"with \"quotes\"", -2}};
    c.deadlines = {{"ship", due_date{sample_time, std::nullopt}}};
    c.sparse = {1, std::nullopt, 3};
    c.flags = {true, false, true};
    c.grid = {{"a", "b"}, {}, {"c"}};
    c.maybe_due = due_date{sample_time + 1s, "x"};
    const std::string text = write(c);
    EXPECT_EQ(text,
              R"({"counters":{"a":1,"with \"quotes\"":-2},)"
              R"("deadlines":{"ship":{"at":"2026-11-27T20:48:09.123Z","note":null}},)"
              R"("sparse":[1,null,3],"flags":[true,false,true],"grid":[["a","b"],[],["c"]],)"
              R"("maybe_due":{"at":"2026-11-27T20:48:10.123Z","note":"x"}})");
    const containers back = read<containers>(text);
    EXPECT_EQ(back.counters, c.counters);
    ASSERT_EQ(back.deadlines.size(), 1U);
    EXPECT_EQ(back.deadlines.at("ship").at, sample_time);
    EXPECT_EQ(back.sparse, c.sparse);
    EXPECT_EQ(back.flags, c.flags);
    EXPECT_EQ(back.grid, c.grid);
    ASSERT_TRUE(back.maybe_due.has_value());
    EXPECT_EQ(back.maybe_due->note, "x");
}

TEST(JsonSerdeTest, RoundTripsEveryIntegerTypeAtItsLimits) {
    const numbers low{std::numeric_limits<std::int8_t>::min(), 0, std::numeric_limits<std::int16_t>::min(), 0,
                      std::numeric_limits<std::int32_t>::min(), 0, std::numeric_limits<std::int64_t>::min(), 0,
                      -std::numeric_limits<float>::max(), std::numeric_limits<double>::lowest()};
    const numbers high{std::numeric_limits<std::int8_t>::max(), std::numeric_limits<std::uint8_t>::max(),
                       std::numeric_limits<std::int16_t>::max(), std::numeric_limits<std::uint16_t>::max(),
                       std::numeric_limits<std::int32_t>::max(), std::numeric_limits<std::uint32_t>::max(),
                       std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::uint64_t>::max(),
                       std::numeric_limits<float>::max(), std::numeric_limits<double>::max()};
    EXPECT_EQ(write(high), R"({"i8":127,"u8":255,"i16":32767,"u16":65535,"i32":2147483647,"u32":4294967295,)"
                           R"("i64":9223372036854775807,"u64":18446744073709551615,)"
                           R"("f":3.4028235e+38,"d":1.7976931348623157e+308})");
    for (const numbers& n : {low, high}) {
        const numbers back = read<numbers>(write(n));
        EXPECT_EQ(back.i8, n.i8);
        EXPECT_EQ(back.u8, n.u8);
        EXPECT_EQ(back.i16, n.i16);
        EXPECT_EQ(back.u16, n.u16);
        EXPECT_EQ(back.i32, n.i32);
        EXPECT_EQ(back.u32, n.u32);
        EXPECT_EQ(back.i64, n.i64);
        EXPECT_EQ(back.u64, n.u64);
        EXPECT_EQ(back.f, n.f);
        EXPECT_EQ(back.d, n.d);
    }
}

TEST(JsonSerdeTest, WritesShortestRoundTrippingDecimals) {
    const numbers n{0, 0, 0, 0, 0, 0, 0, 0, 0.1F, 0.1};
    EXPECT_THAT(write(n), HasSubstr(R"("f":0.1,"d":0.1})"));
    const numbers back = read<numbers>(write(n));
    EXPECT_EQ(back.f, 0.1F);
    EXPECT_EQ(back.d, 0.1);
}

TEST(JsonSerdeTest, RoundTripsNegativeZero) {
    // Written as "-0" before, which reads back as the integer 0: the sign
    // was lost (found by tests/fuzz/json_fuzz, from -2.5e-623).
    const numbers n{0, 0, 0, 0, 0, 0, 0, 0, -0.0F, -0.0};
    EXPECT_THAT(write(n), HasSubstr(R"("f":-0.0,"d":-0.0})"));
    const numbers back = read<numbers>(write(n));
    EXPECT_TRUE(std::signbit(back.f));
    EXPECT_TRUE(std::signbit(back.d));
    const numbers underflow = read<numbers>(
        R"({"i8":0,"u8":0,"i16":0,"u16":0,"i32":0,"u32":0,"i64":0,"u64":0,"f":-1e-60,"d":-2.5e-623})");
    EXPECT_TRUE(std::signbit(underflow.d));
    EXPECT_EQ(write(read<numbers>(write(underflow))), write(underflow));
}

TEST(JsonSerdeTest, ReadsIntegralFloatsAndIntegersIntoEitherKind) {
    const auto n = read<numbers>(
        R"({"i8":-1.0,"u8":2e0,"i16":3,"u16":4,"i32":5,"u32":6,"i64":-7,"u64":8,"f":9,"d":-10})");
    EXPECT_EQ(n.i8, -1);
    EXPECT_EQ(n.u8, 2);
    EXPECT_EQ(n.f, 9.0F);
    EXPECT_EQ(n.d, -10.0);
}

TEST(JsonSerdeTest, EscapesStringsSoAnyJsonParserReadsThemBack) {
    const std::string nasty = std::string("quote\" backslash\\ slash/ newline\n tab\t nul") + '\0' +
                              " bell\x07 del\x7f unicode \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    const std::string text = write(one_string{nasty});
    EXPECT_EQ(text, std::string(R"({"value":"quote\" backslash\\ slash/ newline\n tab\t nul\u0000 bell\u0007 )")
                        + "del\x7f unicode \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}");
    EXPECT_EQ(nlohmann::json::parse(text).at("value").get<std::string>(), nasty);
    EXPECT_EQ(read<one_string>(text).value, nasty);
}

TEST(JsonSerdeTest, RefusesToWriteAStringThatIsNotUtf8) {
    EXPECT_THAT([] { (void)write(one_string{"ok \xc3\x28"}); },
                ThrowsMessage<eddy::serde_error>(
                    R"(json: field "value": string is not valid UTF-8 (bad byte at offset 3))"));
    // An encoded surrogate half is not UTF-8 either.
    EXPECT_THAT([] { (void)write(one_string{"\xed\xa0\x80"}); },
                ThrowsMessage<eddy::serde_error>(HasSubstr("not valid UTF-8")));
    containers c;
    c.counters = {{"\xff", 1}};
    EXPECT_THAT([&] { (void)write(c); },
                ThrowsMessage<eddy::serde_error>(
                    "json: field \"counters.\xff\": string is not valid UTF-8 (bad byte at offset 0)"));
}

TEST(JsonSerdeTest, RefusesToWriteNanOrInfinity) {
    numbers n{};
    n.d = std::numeric_limits<double>::quiet_NaN();
    EXPECT_THAT([&] { (void)write(n); },
                ThrowsMessage<eddy::serde_error>(R"(json: field "d": NaN has no JSON representation)"));
    n.d = 0;
    n.f = -std::numeric_limits<float>::infinity();
    EXPECT_THAT([&] { (void)write(n); },
                ThrowsMessage<eddy::serde_error>(R"(json: field "f": infinity has no JSON representation)"));
}

TEST(JsonSerdeTest, ReadsNullAndAbsentOptionalsAsNullopt) {
    const auto absent = read<task>(R"({"id":"t","done":true,"priority":1,"tags":[],"due":{"at":"2026-01-01T00:00:00Z"}})");
    EXPECT_EQ(absent.estimate_ms, std::nullopt);
    EXPECT_EQ(absent.due.note, std::nullopt);
    const auto null = read<task>(
        R"({"id":"t","done":true,"priority":1,"estimate_ms":null,"tags":[],"due":{"at":"2026-01-01T00:00:00Z","note":null}})");
    EXPECT_EQ(null.estimate_ms, std::nullopt);
    EXPECT_EQ(null.due.note, std::nullopt);
}

TEST(JsonSerdeTest, WritesAStructWithoutFieldsAsAnEmptyObject) {
    EXPECT_EQ(write(nothing{}), "{}");
    (void)read<nothing>(R"({"anything": [1]})");
    EXPECT_THAT(rejects<nothing>("[]"), ThrowsMessage<eddy::serde_error>("json: expected object, got array"));
}

TEST(JsonSerdeTest, IgnoresUnknownMembers) {
    const auto t = read<task>(
        R"({"added_later":{"deep":[1,2]},"id":"t","done":false,"priority":1,"tags":["a"],"due":{"at":"2026-01-01T00:00:00Z","x":1}})");
    EXPECT_EQ(t.id, "t");
    EXPECT_EQ(t.tags, std::vector<std::string>{"a"});
}

TEST(JsonSerdeTest, WritesTimePointsAsUtcWithMilliseconds) {
    EXPECT_EQ(write(stamp{sample_time}), R"({"at":"2026-11-27T20:48:09.123Z"})");
    // Sub-millisecond precision is cut, toward the past.
    EXPECT_EQ(write(stamp{sample_time + 999us}), R"({"at":"2026-11-27T20:48:09.123Z"})");
    EXPECT_EQ(write(stamp{time_point{}}), R"({"at":"1970-01-01T00:00:00.000Z"})");
    EXPECT_EQ(write(stamp{time_point{} - 1ms}), R"({"at":"1969-12-31T23:59:59.999Z"})");
    EXPECT_EQ(write(stamp{std::chrono::sys_days{std::chrono::February / 29 / 2024}}),
              R"({"at":"2024-02-29T00:00:00.000Z"})");
}

TEST(JsonSerdeTest, ReadsIso8601TimestampsWithAnyOffsetAndPrecision) {
    EXPECT_EQ(read<stamp>(R"({"at":"2026-11-27T20:48:09.123Z"})").at, sample_time);
    EXPECT_EQ(read<stamp>(R"({"at":"2026-11-27T21:48:09.123+01:00"})").at, sample_time);
    EXPECT_EQ(read<stamp>(R"({"at":"2026-11-27T15:18:09.123-05:30"})").at, sample_time);
    EXPECT_EQ(read<stamp>(R"({"at":"2026-11-27t20:48:09.123z"})").at, sample_time);
    EXPECT_EQ(read<stamp>(R"({"at":"2026-11-27T20:48:09Z"})").at, sample_time - 123ms);
    EXPECT_EQ(read<stamp>(R"({"at":"2026-11-27T20:48:09.1Z"})").at, sample_time - 23ms);
    EXPECT_EQ(read<stamp>(R"({"at":"2026-11-27T20:48:09.123456789Z"})").at, sample_time + 456789ns);
    EXPECT_EQ(read<stamp>(R"({"at":"2026-11-27T20:48:09.1234567891Z"})").at, sample_time + 456789ns);
    EXPECT_EQ(read<stamp>(R"({"at":"1969-12-31T23:59:59.999Z"})").at, time_point{} - 1ms);
}

TEST(JsonSerdeTest, RejectsTimestampsThatAreNotIso8601OrDoNotExist) {
    for (const std::string bad : {"", "2026-11-27", "2026-11-27T20:48:09", "2026-11-27 20:48:09Z", "2026-11-27T20:48Z",
                                  "2026-11-27T20:48:09.Z", "2026-11-27T20:48:09.123+0100", "2026-13-01T00:00:00Z",
                                  "2026-02-29T00:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27T20:60:00Z",
                                  "2026-11-27T20:48:60Z", "2026-11-27T20:48:09ZZ", "26-11-27T20:48:09Z",
                                  "9999-12-31T23:59:59Z", "1000-01-01T00:00:00Z", "yesterday"}) {
        EXPECT_THAT(rejects<stamp>(R"({"at":")" + bad + R"("})"),
                    ThrowsMessage<eddy::serde_error>(
                        R"(json: field "at": expected ISO-8601 UTC timestamp like "2026-11-27T20:48:09.123Z", got ")"
                        + bad + "\""))
            << bad;
    }
}

TEST(JsonSerdeTest, RejectsMalformedJson) {
    for (const std::string bad : {"", "{", R"({"id":})", R"({"id":"t",})", "{} trailing", "nul", R"({"id":"\x"})",
                                  "{\"id\":\"\xff\"}", "{'id':'t'}"}) {
        EXPECT_THAT(rejects<task>(bad), ThrowsMessage<eddy::serde_error>(StartsWith("json: malformed JSON: "))) << bad;
    }
    EXPECT_THAT(rejects<task>("{"),
                ThrowsMessage<eddy::serde_error>(HasSubstr("parse error at line 1, column 2")));
}

TEST(JsonSerdeTest, RejectsADocumentThatIsNotAnObject) {
    EXPECT_THAT(rejects<task>("[]"), ThrowsMessage<eddy::serde_error>("json: expected object, got array"));
    EXPECT_THAT(rejects<task>("null"), ThrowsMessage<eddy::serde_error>("json: expected object, got null"));
}

TEST(JsonSerdeTest, RejectsAMissingRequiredFieldNamingItsPath) {
    EXPECT_THAT(rejects<task>(R"({"done":false,"priority":1,"tags":[],"due":{"at":"2026-01-01T00:00:00Z"}})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "id": required field is missing)"));
    EXPECT_THAT(rejects<task>(R"({"id":"t","done":false,"priority":1,"tags":[],"due":{"note":"x"}})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "due.at": required field is missing)"));
}

TEST(JsonSerdeTest, RejectsAValueOfTheWrongTypeNamingItsPath) {
    const auto with_due = [](const std::string& due) {
        return R"({"id":"t","done":false,"priority":1,"tags":["a","b"],"due":)" + due + "}";
    };
    EXPECT_THAT(rejects<task>(with_due(R"({"at":5})")),
                ThrowsMessage<eddy::serde_error>(R"(json: field "due.at": expected string, got number)"));
    EXPECT_THAT(rejects<task>(with_due(R"("soon")")),
                ThrowsMessage<eddy::serde_error>(R"(json: field "due": expected object, got string)"));
    EXPECT_THAT(rejects<task>(R"({"id":7,"done":false,"priority":1,"tags":[],"due":{"at":"2026-01-01T00:00:00Z"}})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "id": expected string, got number)"));
    EXPECT_THAT(rejects<task>(R"({"id":"t","done":"no","priority":1,"tags":[],"due":{"at":"2026-01-01T00:00:00Z"}})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "done": expected boolean, got string)"));
    EXPECT_THAT(rejects<task>(R"({"id":"t","done":false,"priority":"1","tags":[],"due":{"at":"2026-01-01T00:00:00Z"}})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "priority": expected integer, got string)"));
    EXPECT_THAT(rejects<task>(R"({"id":"t","done":false,"priority":null,"tags":[],"due":{"at":"2026-01-01T00:00:00Z"}})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "priority": expected integer, got null)"));
    EXPECT_THAT(rejects<task>(R"({"id":"t","done":false,"priority":1,"tags":"a","due":{"at":"2026-01-01T00:00:00Z"}})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "tags": expected array, got string)"));
    EXPECT_THAT(rejects<task>(R"({"id":"t","done":false,"priority":1,"tags":["a",2],"due":{"at":"2026-01-01T00:00:00Z"}})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "tags[1]": expected string, got number)"));
    EXPECT_THAT(rejects<task>(R"({"id":"t","done":false,"priority":1,"estimate_ms":true,"tags":[],"due":{"at":"2026-01-01T00:00:00Z"}})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "estimate_ms": expected integer, got boolean)"));
    EXPECT_THAT(rejects<numbers>(R"({"i8":0,"u8":0,"i16":0,"u16":0,"i32":0,"u32":0,"i64":0,"u64":0,"f":0,"d":"1.5"})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "d": expected number, got string)"));
}

TEST(JsonSerdeTest, NamesPathsThroughMapsAndNestedArrays) {
    EXPECT_THAT(rejects<containers>(R"({"counters":{"a":1,"b":"2"},"deadlines":{},"sparse":[],"flags":[],"grid":[]})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "counters.b": expected integer, got string)"));
    EXPECT_THAT(rejects<containers>(R"({"counters":{},"deadlines":{"ship":{"note":"x"}},"sparse":[],"flags":[],"grid":[]})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "deadlines.ship.at": required field is missing)"));
    EXPECT_THAT(rejects<containers>(R"({"counters":{},"deadlines":{},"sparse":[1,null,"x"],"flags":[],"grid":[]})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "sparse[2]": expected integer, got string)"));
    EXPECT_THAT(rejects<containers>(R"({"counters":{},"deadlines":{},"sparse":[],"flags":[1],"grid":[]})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "flags[0]": expected boolean, got number)"));
    EXPECT_THAT(rejects<containers>(R"({"counters":{},"deadlines":{},"sparse":[],"flags":[],"grid":[["a"],[null]]})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "grid[1][0]": expected string, got null)"));
    EXPECT_THAT(rejects<containers>(R"({"counters":[],"deadlines":{},"sparse":[],"flags":[],"grid":[]})"),
                ThrowsMessage<eddy::serde_error>(R"(json: field "counters": expected object, got array)"));
}

std::string numbers_with(const std::string& field, const std::string& value) {
    std::string out = "{";
    for (const char* name : {"i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f", "d"}) {
        out += std::string(out.size() > 1 ? "," : "") + "\"" + name + "\":" + (name == field ? value : "0");
    }
    return out + "}";
}

TEST(JsonSerdeTest, RejectsIntegersOutOfTheirTypesRange) {
    const auto out_of_range = [](const std::string& field, const std::string& value, const std::string& type) {
        EXPECT_THAT(rejects<numbers>(numbers_with(field, value)),
                    ThrowsMessage<eddy::serde_error>("json: field \"" + field + "\": " + value
                                                     + " is out of range for " + type))
            << field << "=" << value;
    };
    out_of_range("i8", "128", "int8");
    out_of_range("i8", "-129", "int8");
    out_of_range("u8", "256", "uint8");
    out_of_range("u8", "-1", "uint8");
    out_of_range("i16", "32768", "int16");
    out_of_range("u16", "65536", "uint16");
    out_of_range("i32", "2147483648", "int32");
    out_of_range("i32", "-2147483649", "int32");
    out_of_range("u32", "4294967296", "uint32");
    out_of_range("i64", "9223372036854775808", "int64");
    out_of_range("u64", "-1", "uint64");
    // Beyond uint64 the parser holds a double; it is still out of range.
    out_of_range("u64", "1e+20", "uint64");
    out_of_range("i64", "-1e+19", "int64");
    out_of_range("f", "1e+39", "float");
    // The limits themselves are fine.
    EXPECT_EQ(read<numbers>(numbers_with("i8", "-128")).i8, -128);
    EXPECT_EQ(read<numbers>(numbers_with("u64", "18446744073709551615")).u64, std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(read<numbers>(numbers_with("i64", "-9223372036854775808")).i64, std::numeric_limits<std::int64_t>::min());
}

TEST(JsonSerdeTest, RejectsFractionsForIntegerFields) {
    EXPECT_THAT(rejects<numbers>(numbers_with("i32", "1.5")),
                ThrowsMessage<eddy::serde_error>(R"(json: field "i32": expected integer, got number 1.5)"));
    EXPECT_THAT(rejects<numbers>(numbers_with("u8", "0.25")),
                ThrowsMessage<eddy::serde_error>(R"(json: field "u8": expected integer, got number 0.25)"));
}

TEST(JsonSerdeTest, RejectsNumbersBeyondDouble) {
    EXPECT_THAT(rejects<numbers>(numbers_with("d", "1e400")),
                ThrowsMessage<eddy::serde_error>(StartsWith("json: malformed JSON: ")));
}

} // namespace
