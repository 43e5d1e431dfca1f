#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "serde/serde.h"
#include "serde/serdes.h"
#include "serde/uuid.h"

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Bytes as a string, from a list of byte values, so expected encodings read
// like a hex dump.
std::string hex_bytes(std::initializer_list<unsigned> values) {
    std::string out;
    for (const unsigned v : values) {
        out.push_back(static_cast<char>(v));
    }
    return out;
}

TEST(StringSerdeTest, RoundTripsArbitraryBytesIncludingNul) {
    const eddy::serdes::string s;
    const std::string value("a\0b\xff", 4);
    EXPECT_EQ(s.serialize(value), value);
    EXPECT_EQ(s.deserialize(s.serialize(value)), value);
    EXPECT_EQ(s.deserialize(""), "");
}

TEST(BytesSerdeTest, RoundTripsBytesUnchanged) {
    const eddy::serdes::bytes s;
    const std::vector<std::byte> value{std::byte{0x00}, std::byte{0x7f}, std::byte{0x80}, std::byte{0xff}};
    EXPECT_EQ(s.serialize(value), hex_bytes({0x00, 0x7f, 0x80, 0xff}));
    EXPECT_EQ(s.deserialize(s.serialize(value)), value);
    EXPECT_TRUE(s.deserialize("").empty());
}

TEST(Int32SerdeTest, WritesBigEndianLikeKafka) {
    const eddy::serdes::int32 s;
    EXPECT_EQ(s.serialize(42), hex_bytes({0x00, 0x00, 0x00, 0x2a}));
    EXPECT_EQ(s.serialize(0x01020304), hex_bytes({0x01, 0x02, 0x03, 0x04}));
    EXPECT_EQ(s.serialize(-1), hex_bytes({0xff, 0xff, 0xff, 0xff}));
    EXPECT_EQ(s.serialize(std::numeric_limits<std::int32_t>::min()), hex_bytes({0x80, 0x00, 0x00, 0x00}));
}

TEST(Int32SerdeTest, ReadsBigEndianAndRoundTripsExtremes) {
    const eddy::serdes::int32 s;
    EXPECT_EQ(s.deserialize(hex_bytes({0x00, 0x00, 0x01, 0x00})), 256);
    EXPECT_EQ(s.deserialize(hex_bytes({0xff, 0xff, 0xff, 0xfe})), -2);
    for (const std::int32_t v : {0, 1, -1, 42, std::numeric_limits<std::int32_t>::min(),
                                 std::numeric_limits<std::int32_t>::max()}) {
        EXPECT_EQ(s.deserialize(s.serialize(v)), v);
    }
}

TEST(Int32SerdeTest, RejectsAnyLengthButFour) {
    const eddy::serdes::int32 s;
    EXPECT_THAT([&] { (void)s.deserialize(""); },
                ThrowsMessage<eddy::serde_error>("int32: expected 4 bytes, got 0"));
    EXPECT_THAT([&] { (void)s.deserialize(hex_bytes({0, 0, 42})); },
                ThrowsMessage<eddy::serde_error>("int32: expected 4 bytes, got 3"));
    EXPECT_THAT([&] { (void)s.deserialize(hex_bytes({0, 0, 0, 0, 42})); },
                ThrowsMessage<eddy::serde_error>("int32: expected 4 bytes, got 5"));
}

TEST(Int64SerdeTest, WritesBigEndianLikeKafka) {
    const eddy::serdes::int64 s;
    EXPECT_EQ(s.serialize(42), hex_bytes({0, 0, 0, 0, 0, 0, 0, 0x2a}));
    EXPECT_EQ(s.serialize(0x0102030405060708), hex_bytes({1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(s.serialize(-2), hex_bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}));
    EXPECT_EQ(s.serialize(std::numeric_limits<std::int64_t>::min()), hex_bytes({0x80, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(Int64SerdeTest, RoundTripsExtremes) {
    const eddy::serdes::int64 s;
    for (const std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1} << 40,
                                 std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
        EXPECT_EQ(s.deserialize(s.serialize(v)), v);
    }
}

TEST(Int64SerdeTest, RejectsAnyLengthButEight) {
    const eddy::serdes::int64 s;
    EXPECT_THAT([&] { (void)s.deserialize(hex_bytes({0, 0, 0, 42})); },
                ThrowsMessage<eddy::serde_error>("int64: expected 8 bytes, got 4"));
    EXPECT_THAT([&] { (void)s.deserialize(std::string(9, '\0')); },
                ThrowsMessage<eddy::serde_error>("int64: expected 8 bytes, got 9"));
}

TEST(Float64SerdeTest, WritesIeee754BigEndianLikeKafka) {
    const eddy::serdes::float64 s;
    EXPECT_EQ(eddy::serdes::float64::name, "double");
    EXPECT_EQ(s.serialize(1.0), hex_bytes({0x3f, 0xf0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(s.serialize(-2.5), hex_bytes({0xc0, 0x04, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(s.serialize(0.0), hex_bytes({0, 0, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(s.serialize(-0.0), hex_bytes({0x80, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(Float64SerdeTest, WritesEveryNanAsJavasCanonicalNan) {
    const eddy::serdes::float64 s;
    const std::string canonical = hex_bytes({0x7f, 0xf8, 0, 0, 0, 0, 0, 0});
    EXPECT_EQ(s.serialize(std::numeric_limits<double>::quiet_NaN()), canonical);
    EXPECT_EQ(s.serialize(-std::numeric_limits<double>::quiet_NaN()), canonical);
    EXPECT_EQ(s.serialize(std::numeric_limits<double>::signaling_NaN()), canonical);
    EXPECT_TRUE(std::isnan(s.deserialize(canonical)));
}

TEST(Float64SerdeTest, RoundTripsSpecialValuesBitForBit) {
    const eddy::serdes::float64 s;
    for (const double v : {0.1, -0.0, std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max()}) {
        const double back = s.deserialize(s.serialize(v));
        EXPECT_EQ(back, v);
        EXPECT_EQ(std::signbit(back), std::signbit(v));
    }
}

TEST(Float64SerdeTest, RejectsAnyLengthButEight) {
    const eddy::serdes::float64 s;
    EXPECT_THAT([&] { (void)s.deserialize(hex_bytes({0x3f, 0xf0})); },
                ThrowsMessage<eddy::serde_error>("double: expected 8 bytes, got 2"));
}

TEST(UuidTest, ParsesCanonicalTextIntoNetworkOrderBytes) {
    const auto id = eddy::uuid::parse("00112233-4455-6677-8899-aabbccddeeff");
    const std::array<std::uint8_t, 16> expected{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                                0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    EXPECT_EQ(id.bytes, expected);
    EXPECT_EQ(id.to_string(), "00112233-4455-6677-8899-aabbccddeeff");
}

TEST(UuidTest, AcceptsUppercaseAndWritesLowercaseLikeJava) {
    const auto id = eddy::uuid::parse("123E4567-E89B-12D3-A456-426614174000");
    EXPECT_EQ(id.to_string(), "123e4567-e89b-12d3-a456-426614174000");
    EXPECT_EQ(id, eddy::uuid::parse("123e4567-e89b-12d3-a456-426614174000"));
}

TEST(UuidTest, RejectsTextThatIsNotTheCanonicalForm) {
    const auto rejects = [](std::string_view text, std::string_view why) {
        EXPECT_THAT([&] { (void)eddy::uuid::parse(text); },
                    ThrowsMessage<eddy::serde_error>(
                        AllOf(HasSubstr("uuid: expected 36-character canonical form"), HasSubstr(std::string(why)))))
            << text;
    };
    rejects("", "(0 characters)");
    rejects("123e4567-e89b-12d3-a456-42661417400", "(35 characters)");
    rejects("123e4567-e89b-12d3-a456-4266141740000", "(37 characters)");
    rejects("123e4567e89b12d3a456426614174000", "(32 characters)");
    rejects("123e4567-e89b-12d3-a456_426614174000", "no '-' at offset 23");
    rejects("123e4567xe89b-12d3-a456-426614174000", "no '-' at offset 8");
    rejects("123e456-7e89b-12d3-a456-426614174000", "not a hex digit at offset 7");
    rejects("123e4567-e89b-12d3-a456-42661417400g", "not a hex digit at offset 35");
    rejects("{23e4567-e89b-12d3-a456-426614174000", "not a hex digit at offset 0");
    rejects("+23e4567-e89b-12d3-a456-426614174000", "got \"+23e4567-");
}

TEST(UuidTest, QuotesBadInputSafelyInTheMessage) {
    EXPECT_THAT([] { (void)eddy::uuid::parse(std::string("\x01\"ab", 4)); },
                ThrowsMessage<eddy::serde_error>(HasSubstr(R"(got "\x01\"ab")")));
}

TEST(UuidTest, RandomIsVersion4VariantRfc4122AndDistinct) {
    std::unordered_set<eddy::uuid> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto id = eddy::uuid::random();
        EXPECT_EQ(id.bytes[6] >> 4, 4);
        EXPECT_EQ(id.bytes[8] >> 6, 2);
        EXPECT_EQ(id.to_string()[14], '4');
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000U);
}

TEST(UuidTest, OrdersByBytesAndPrintsCanonicalText) {
    const auto low = eddy::uuid::parse("00000000-0000-0000-0000-000000000001");
    const auto high = eddy::uuid::parse("01000000-0000-0000-0000-000000000000");
    EXPECT_LT(low, high);
    EXPECT_EQ(std::set<eddy::uuid>({high, low}).begin()->to_string(), low.to_string());
    std::ostringstream out;
    out << high;
    EXPECT_EQ(out.str(), "01000000-0000-0000-0000-000000000000");
}

TEST(UuidSerdeTest, WritesCanonicalTextLikeKafka) {
    const eddy::serdes::uuid s;
    const auto id = eddy::uuid::parse("123e4567-e89b-12d3-a456-426614174000");
    EXPECT_EQ(s.serialize(id), "123e4567-e89b-12d3-a456-426614174000");
    EXPECT_EQ(s.deserialize(s.serialize(id)), id);
}

TEST(UuidSerdeTest, RejectsBytesThatAreNotAUuid) {
    const eddy::serdes::uuid s;
    EXPECT_THAT([&] { (void)s.deserialize(std::string(16, '\x11')); },
                ThrowsMessage<eddy::serde_error>(HasSubstr("uuid: expected 36-character canonical form")));
}

TEST(NullableSerdeTest, SerializesTheEngagedValueWithTheInnerSerde) {
    const eddy::serdes::nullable<eddy::serdes::int32> s;
    EXPECT_EQ(s.serialize(std::optional<std::int32_t>(42)), hex_bytes({0, 0, 0, 0x2a}));
    EXPECT_EQ(s.deserialize(hex_bytes({0, 0, 0, 0x2a})), std::optional<std::int32_t>(42));
}

TEST(NullableSerdeTest, RefusesToSerializeANull) {
    const eddy::serdes::nullable<eddy::serdes::string> s;
    EXPECT_THAT([&] { (void)s.serialize(std::nullopt); },
                ThrowsMessage<eddy::serde_error>("nullable: a null value has no bytes (the sink writes a Kafka null)"));
}

TEST(NullableSerdeTest, ReadsEmptyBytesAsTheEmptyValueNotANull) {
    const eddy::serdes::nullable<eddy::serdes::string> s;
    const auto value = s.deserialize("");
    ASSERT_TRUE(value.has_value());
    EXPECT_EQ(*value, "");
}

TEST(NullableSerdeTest, PassesOnTheInnerSerdesErrors) {
    const eddy::serdes::nullable<eddy::serdes::int64> s;
    EXPECT_THAT([&] { (void)s.deserialize("abc"); },
                ThrowsMessage<eddy::serde_error>("int64: expected 8 bytes, got 3"));
}

TEST(NullableSerdeTest, IsNamedAfterItsInnerSerde) {
    EXPECT_EQ(eddy::serdes::nullable<eddy::serdes::int32>::name, "nullable<int32>");
    EXPECT_EQ(eddy::serdes::nullable<eddy::serdes::float64>::name, "nullable<double>");
    const eddy::serde_ref<std::optional<std::string>> ref = eddy::serdes::nullable<eddy::serdes::string>{};
    EXPECT_EQ(ref.name(), "nullable<string>");
}

template<typename T, typename S>
constexpr bool default_is = std::same_as<typename eddy::default_serde<T>::type, S>;

TEST(DefaultSerdeTest, MapsEachValueTypeToItsKafkaSerde) {
    static_assert(default_is<std::string, eddy::serdes::string>);
    static_assert(default_is<std::vector<std::byte>, eddy::serdes::bytes>);
    static_assert(default_is<std::int32_t, eddy::serdes::int32>);
    static_assert(default_is<std::int64_t, eddy::serdes::int64>);
    static_assert(default_is<double, eddy::serdes::float64>);
    static_assert(default_is<eddy::uuid, eddy::serdes::uuid>);
    static_assert(default_is<std::optional<std::string>, eddy::serdes::nullable<eddy::serdes::string>>);
    static_assert(default_is<std::optional<eddy::uuid>, eddy::serdes::nullable<eddy::serdes::uuid>>);
    static_assert(!eddy::has_default_serde<float>);
    static_assert(!eddy::has_default_serde<std::optional<float>>);
    static_assert(!eddy::has_default_serde<std::vector<int>>);

    EXPECT_EQ(eddy::default_serde_ref<std::int32_t>().name(), "int32");
    EXPECT_EQ(eddy::default_serde_ref<std::optional<std::int64_t>>().name(), "nullable<int64>");
    EXPECT_FALSE(eddy::default_serde_ref<float>());
}

TEST(DefaultSerdeTest, WorksThroughSerdeRef) {
    const auto ref = eddy::default_serde_ref<std::int64_t>();
    EXPECT_EQ(ref.serialize(42), hex_bytes({0, 0, 0, 0, 0, 0, 0, 0x2a}));
    EXPECT_EQ(ref.deserialize(ref.serialize(-7)), -7);
    EXPECT_THROW((void)ref.deserialize("x"), eddy::serde_error);
}

} // namespace

TEST(SerdeRefTest, SerializeIntoWritesTheSameBytesAsSerializeAndReusesTheBuffer) {
    const eddy::serde_ref<std::string> text = eddy::serdes::string{};
    std::string out(200, 'x');
    const auto* storage = out.data();
    text.serialize_into("hello, world", out);
    EXPECT_EQ(out, "hello, world");
    EXPECT_EQ(out.data(), storage); // the string serde assigns into the buffer

    // A serde without serialize_into: replaced by serialize()'s result.
    const auto number = eddy::default_serde_ref<std::int32_t>();
    number.serialize_into(42, out);
    EXPECT_EQ(out, hex_bytes({0, 0, 0, 0x2a}));
    EXPECT_EQ(out, number.serialize(42));
}
