// Session-window aggregations on the test driver, against Kafka Streams' own
// KStreamSessionWindowAggregateProcessorTest: sessions within the gap,
// sessions apart by more than the gap, merges (the merged-away sessions
// deleted downstream), late records dropped after the grace period and
// counted, and the session store as the driver reads it.

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eddy.h"

namespace {

using namespace std::chrono_literals;

constexpr std::int64_t gap_ms = 5 * 60 * 1000;

struct out_record {
    std::string key; // "[a@0/0]"
    std::optional<std::int64_t> value; // none: the session was merged away
    std::int64_t timestamp;
    friend bool operator==(const out_record&, const out_record&) = default;
    friend std::ostream& operator<<(std::ostream& os, const out_record& r) {
        return os << r.key << "=" << (r.value ? std::to_string(*r.value) : "null") << "@" << r.timestamp;
    }
};

// Kafka Streams' test processor: initializer 0, aggregator +1, merger a + b,
// into a store named "store"; the table's changes go to "output" keyed
// "[key@start/end]".
// `caching` false: the store without a record cache (every change forwarded).
eddy::topology sessions(const eddy::session_windows& windows, bool emit_final, bool caching = true) {
    eddy::streams_builder builder;
    auto windowed = builder.stream<std::string, std::string>("topic").group_by_key().windowed_by(windows);
    if (emit_final) {
        windowed = windowed.emit_strategy(eddy::emit_strategy::on_window_close());
    }
    windowed
        .aggregate([] { return std::int64_t{0}; },
            [](const std::string&, const std::string&, std::int64_t n) { return n + 1; },
            [](const std::string&, std::int64_t a, std::int64_t b) { return a + b; },
            caching ? eddy::materialized<std::string, std::int64_t>::as("store")
                    : eddy::materialized<std::string, std::int64_t>::as("store").with_caching_disabled())
        .map_values([](std::int64_t n) { return std::optional<std::int64_t>(n); })
        .to_stream()
        .map([](const eddy::windowed<std::string>& k, const std::optional<std::int64_t>& n) {
            return eddy::key_value<std::string, std::optional<std::int64_t>>{eddy::to_string(k), n};
        })
        .to("output");
    return builder.build();
}

void pipe(eddy::topology_test_driver& driver, const std::vector<std::tuple<std::string, std::int64_t>>& in) {
    auto topic = driver.create_input_topic<std::string, std::string>("topic");
    for (const auto& [k, ts] : in) {
        topic.pipe_input(k, "v", ts);
    }
}

std::vector<out_record> read_all(eddy::topology_test_driver& driver) {
    std::vector<out_record> out;
    for (const auto& r : driver.create_output_topic<std::string, std::optional<std::int64_t>>("output")
                             .read_records_to_list()) {
        out.push_back({r.key, r.value, r.timestamp});
    }
    return out;
}

std::string at(const std::string& key, std::int64_t start, std::int64_t end) {
    return eddy::to_string(eddy::windowed<std::string>{key, {start, end}});
}

using sessions_of = std::vector<eddy::key_value<eddy::windowed<std::string>, std::int64_t>>;

eddy::session_store<std::string, std::int64_t> counts(eddy::topology_test_driver& driver, const std::string& name = "store") {
    return driver.get_session_store<std::string, std::int64_t>(name);
}

TEST(SessionWindowTest, RecordsWithinTheGapFormOneSessionAsKafkaStreamsSingleSession) {
    eddy::topology_test_driver driver(sessions(eddy::session_windows::of_inactivity_gap_with_no_grace(5min), false));
    pipe(driver, {{"john", 0}, {"john", 500}});
    auto store = driver.get_session_store<std::string, std::int64_t>("store");
    EXPECT_EQ(store.find_sessions("john", 0, 2000), (sessions_of{{{"john", {0, 500}}, 2}}));
    EXPECT_EQ(read_all(driver),
        (std::vector<out_record>{{at("john", 0, 0), 1, 0}, {at("john", 0, 0), std::nullopt, 0},
            {at("john", 0, 500), 2, 500}}));
}

TEST(SessionWindowTest, ARecordBetweenTwoSessionsMergesThemAsKafkaStreamsShouldMergeSessions) {
    eddy::topology_test_driver driver(sessions(eddy::session_windows::of_inactivity_gap_with_no_grace(5min), false));
    pipe(driver, {{"mel", 0}});
    auto store = driver.get_session_store<std::string, std::int64_t>("store");
    EXPECT_EQ(store.find_sessions("mel", 0, 0).size(), 1u);
    pipe(driver, {{"mel", gap_ms + 1}}); // beyond the gap: a second session
    EXPECT_EQ(store.find_sessions("mel", gap_ms + 1, gap_ms + 1).size(), 1u);
    EXPECT_EQ(store.find_sessions("mel", 0, 0).size(), 1u);
    pipe(driver, {{"mel", gap_ms / 2}}); // within the gap of both
    EXPECT_EQ(store.find_sessions("mel", 0, gap_ms + 1), (sessions_of{{{"mel", {0, gap_ms + 1}}, 3}}));
    EXPECT_EQ(store.fetch("mel"), (sessions_of{{{"mel", {0, gap_ms + 1}}, 3}}));
    // Both old sessions are deleted downstream, then the merged one comes.
    EXPECT_EQ(read_all(driver),
        (std::vector<out_record>{{at("mel", 0, 0), 1, 0}, {at("mel", gap_ms + 1, gap_ms + 1), 1, gap_ms + 1},
            {at("mel", 0, 0), std::nullopt, 0}, {at("mel", gap_ms + 1, gap_ms + 1), std::nullopt, gap_ms + 1},
            {at("mel", 0, gap_ms + 1), 3, gap_ms + 1}}));
}

TEST(SessionWindowTest, RecordsAtTheSameTimeUpdateTheSessionAsKafkaStreamsShouldUpdateSessionIfTheSameTime) {
    eddy::topology_test_driver driver(sessions(eddy::session_windows::of_inactivity_gap_with_no_grace(5min), false));
    pipe(driver, {{"mel", 0}, {"mel", 0}});
    EXPECT_EQ(counts(driver).find_sessions("mel", 0, 0),
        (sessions_of{{{"mel", {0, 0}}, 2}}));
    // The same window: an update, nothing deleted.
    EXPECT_EQ(read_all(driver), (std::vector<out_record>{{at("mel", 0, 0), 1, 0}, {at("mel", 0, 0), 2, 0}}));
}

// A record inside a session (no merge, no new bounds) removes and puts the
// same session. With the record cache (the default) that is one change, new
// over old, as Kafka Streams with caching; with caching off, for the store or
// for the app, its delete and then its new value, as Kafka Streams without.
TEST(SessionWindowTest, ARecordInsideASessionIsOneUpdateWithTheCacheAndADeleteThenAPutWithout) {
    const auto windows = eddy::session_windows::of_inactivity_gap_and_grace(10ms, 1h);
    const std::vector<out_record> first_two{
        {at("a", 3, 3), 1, 3}, {at("a", 3, 3), std::nullopt, 3}, {at("a", 3, 7), 2, 7}};
    {
        eddy::topology_test_driver driver(sessions(windows, false));
        pipe(driver, {{"a", 3}, {"a", 7}});
        EXPECT_EQ(read_all(driver), first_two);
        pipe(driver, {{"a", 3}});
        EXPECT_EQ(read_all(driver), (std::vector<out_record>{{at("a", 3, 7), 3, 7}}));
    }
    const std::vector<out_record> delete_then_put{{at("a", 3, 7), std::nullopt, 7}, {at("a", 3, 7), 3, 7}};
    {
        eddy::topology_test_driver driver(sessions(windows, false, false));
        pipe(driver, {{"a", 3}, {"a", 7}});
        EXPECT_EQ(read_all(driver), first_two);
        pipe(driver, {{"a", 3}});
        EXPECT_EQ(read_all(driver), delete_then_put);
    }
    {
        eddy::topology_test_driver driver(sessions(windows, false), {{"statestore.cache.max.bytes", "0"}});
        pipe(driver, {{"a", 3}, {"a", 7}});
        EXPECT_EQ(read_all(driver), first_two);
        pipe(driver, {{"a", 3}});
        EXPECT_EQ(read_all(driver), delete_then_put);
    }
}

// ADR 0006's revision: a late record within grace bridges an old session
// to an open one, however far behind stream time the old one ended (gap 5,
// grace 2). Dropping sessions 2 x gap + grace behind stream time gave
// [6,10] = 2 here.
TEST(SessionWindowTest, ALateRecordWithinGraceMergesAnOldSessionIntoAnOpenOne) {
    eddy::topology_test_driver driver(sessions(eddy::session_windows::of_inactivity_gap_and_grace(5ms, 2ms), false));
    pipe(driver, {{"a", 2}, {"c", 17}, {"a", 10}});
    read_all(driver);
    pipe(driver, {{"a", 6}});
    EXPECT_EQ(read_all(driver), (std::vector<out_record>{{at("a", 2, 2), std::nullopt, 2},
                                    {at("a", 10, 10), std::nullopt, 10}, {at("a", 2, 10), 3, 10}}));
    EXPECT_EQ(counts(driver).fetch("a"), (sessions_of{{{"a", {2, 10}}, 3}}));
    EXPECT_EQ(driver.dropped_records(), 0);
}

// Sessions closed by one record come out by (end, start, key), as Kafka
// Streams' emit-final reads its time-ordered session store (gap 10, grace
// 16): c and a at 0 both close at 34, a first.
TEST(SessionWindowTest, EmitFinalOrdersSessionsClosedTogetherByEndStartThenKey) {
    eddy::topology_test_driver driver(
        sessions(eddy::session_windows::of_inactivity_gap_and_grace(10ms, 16ms), true));
    pipe(driver, {{"c", 0}, {"a", 0}});
    EXPECT_TRUE(read_all(driver).empty());
    pipe(driver, {{"a", 34}});
    EXPECT_EQ(read_all(driver), (std::vector<out_record>{{at("a", 0, 0), 1, 0}, {at("c", 0, 0), 1, 0}}));
}

TEST(SessionWindowTest, RecordsApartByMoreThanTheGapAreSeparateSessionsAsKafkaStreams) {
    const std::int64_t second = gap_ms + 1;
    const std::int64_t third = 2 * (gap_ms + 1);
    const std::vector<std::tuple<std::string, std::int64_t>> in{
        {"mel", 0}, {"mel", second}, {"mel", second}, {"mel", third}, {"mel", third}, {"mel", third}};
    {
        eddy::topology_test_driver driver(
            sessions(eddy::session_windows::of_inactivity_gap_with_no_grace(5min), false));
        pipe(driver, in);
        EXPECT_EQ(read_all(driver),
            (std::vector<out_record>{{at("mel", 0, 0), 1, 0}, {at("mel", second, second), 1, second},
                {at("mel", second, second), 2, second}, {at("mel", third, third), 1, third},
                {at("mel", third, third), 2, third}, {at("mel", third, third), 3, third}}));
        // The store keeps a session 3 gaps + grace + 60 s behind stream time
        // (a late record may still bridge it: ADR 0006) ...
        EXPECT_EQ(counts(driver).fetch("mel"), (sessions_of{{{"mel", {0, 0}}, 1},
                                                  {{"mel", {second, second}}, 2}, {{"mel", {third, third}}, 3}}));
        // ... and then drops it.
        pipe(driver, {{"zed", third + 3 * gap_ms + 60'000 + 1}});
        EXPECT_EQ(counts(driver).fetch("mel"), sessions_of{});
    }
    {
        // On window close (Kafka Streams' emitFinal results): the first two
        // sessions have closed (end < stream time - gap), the third has not.
        eddy::topology_test_driver driver(sessions(eddy::session_windows::of_inactivity_gap_with_no_grace(5min), true));
        pipe(driver, in);
        EXPECT_EQ(read_all(driver),
            (std::vector<out_record>{{at("mel", 0, 0), 1, 0}, {at("mel", second, second), 2, second}}));
    }
}

const std::vector<std::tuple<std::string, std::int64_t>> several_keys{{"a", 0}, {"b", 0}, {"c", 0}, {"d", 0},
    {"d", gap_ms / 2}, {"a", gap_ms + 1}, {"b", gap_ms + 1}, {"a", gap_ms + 1 + gap_ms / 2},
    {"c", gap_ms + 1 + gap_ms / 2}};

TEST(SessionWindowTest, SeveralKeysAndMergesAsKafkaStreamsShouldHandleMultipleSessionsAndMerging) {
    eddy::topology_test_driver driver(sessions(eddy::session_windows::of_inactivity_gap_with_no_grace(5min), false));
    pipe(driver, several_keys);
    const std::int64_t g1 = gap_ms + 1;
    const std::int64_t g2 = gap_ms + 1 + gap_ms / 2;
    EXPECT_EQ(read_all(driver),
        (std::vector<out_record>{{at("a", 0, 0), 1, 0}, {at("b", 0, 0), 1, 0}, {at("c", 0, 0), 1, 0},
            {at("d", 0, 0), 1, 0}, {at("d", 0, 0), std::nullopt, 0}, {at("d", 0, gap_ms / 2), 2, gap_ms / 2},
            {at("a", g1, g1), 1, g1}, {at("b", g1, g1), 1, g1}, {at("a", g1, g1), std::nullopt, g1},
            {at("a", g1, g2), 2, g2}, {at("c", g2, g2), 1, g2}}));
    auto store = driver.get_session_store<std::string, std::int64_t>("store");
    EXPECT_EQ(store.fetch("a"), (sessions_of{{{"a", {0, 0}}, 1}, {{"a", {g1, g2}}, 2}}));
    EXPECT_EQ(store.fetch("d"), (sessions_of{{{"d", {0, gap_ms / 2}}, 2}}));
    // find_sessions: those ending at or after 1 and starting at or before g1.
    EXPECT_EQ(store.find_sessions("a", 1, g1), (sessions_of{{{"a", {g1, g2}}, 2}}));
    EXPECT_EQ(store.fetch_session("a", g1, g2), 2);
    EXPECT_EQ(store.fetch_session("a", g1, g1), std::nullopt);
}

TEST(SessionWindowTest, OnWindowCloseAsKafkaStreamsShouldHandleMultipleSessionsAndMergingEmitFinal) {
    eddy::topology_test_driver driver(sessions(eddy::session_windows::of_inactivity_gap_with_no_grace(5min), true));
    pipe(driver, several_keys);
    // d's first session was merged away: never emitted.
    EXPECT_EQ(read_all(driver),
        (std::vector<out_record>{{at("a", 0, 0), 1, 0}, {at("b", 0, 0), 1, 0}, {at("c", 0, 0), 1, 0},
            {at("d", 0, gap_ms / 2), 2, gap_ms / 2}}));
}

// A session already emitted as final (closed at end + gap) that a record
// still within grace of the merged session joins: the merged session is
// emitted when it closes; the old one's delete is not a dropped record.
TEST(SessionWindowTest, OnWindowCloseAClosedSessionCanStillBeMergedInto) {
    eddy::topology_test_driver driver(sessions(eddy::session_windows::of_inactivity_gap_with_no_grace(10ms), true));
    pipe(driver, {{"k", 0}, {"x", 11}}); // stream time 11: [0, 0] closes (0 < 11 - 10)
    EXPECT_EQ(read_all(driver), (std::vector<out_record>{{at("k", 0, 0), 1, 0}}));
    pipe(driver, {{"k", 10}}); // within the gap of [0, 0]: [0, 10] ends after 1, so it is taken
    pipe(driver, {{"y", 21}}); // [0, 10] closes; x's [11, 11] not yet
    EXPECT_EQ(read_all(driver), (std::vector<out_record>{{at("k", 0, 10), 2, 10}}));
    EXPECT_EQ(driver.dropped_records(), 0);
}

TEST(SessionWindowTest, AMergeDeletesTheOldSessionFirstAsKafkaStreamsShouldImmediatelyForwardRemovedSessions) {
    eddy::topology_test_driver driver(sessions(eddy::session_windows::of_inactivity_gap_with_no_grace(5min), false));
    pipe(driver, {{"a", 0}, {"a", 5}});
    EXPECT_EQ(read_all(driver),
        (std::vector<out_record>{{at("a", 0, 0), 1, 0}, {at("a", 0, 0), std::nullopt, 0}, {at("a", 0, 5), 2, 5}}));
    EXPECT_EQ(counts(driver).fetch("a"),
        (sessions_of{{{"a", {0, 5}}, 2}}));
}

// shouldLogAndMeterWhenSkippingLateRecordWithZeroGrace: gap 10, no grace;
// at stream time 11 the session [0, 0] has closed.
TEST(SessionWindowTest, LateRecordsAreDroppedAndCountedAsKafkaStreamsZeroGrace) {
    eddy::topology_test_driver driver(sessions(eddy::session_windows::of_inactivity_gap_and_grace(10ms, 0ms), false));
    pipe(driver, {{"dummy", 0}, {"OnTime1", 0}, {"dummy", 11}, {"Late1", 0}});
    EXPECT_EQ(driver.dropped_records(), 1);
    EXPECT_EQ(counts(driver).fetch("Late1"), sessions_of{});
    EXPECT_EQ(read_all(driver).size(), 3u);
}

// ...WithNonzeroGrace: gap 10, grace 1: at 11 a record at 0 is still on
// time, at 12 it is late.
TEST(SessionWindowTest, LateRecordsAreDroppedAfterTheGraceAsKafkaStreamsNonzeroGrace) {
    eddy::topology_test_driver driver(sessions(eddy::session_windows::of_inactivity_gap_and_grace(10ms, 1ms), false));
    pipe(driver, {{"dummy", 0}, {"OnTime1", 0}, {"dummy", 11}, {"OnTime2", 0}, {"dummy", 12}, {"Late1", 0}});
    EXPECT_EQ(driver.dropped_records(), 1);
    auto store = driver.get_session_store<std::string, std::int64_t>("store");
    EXPECT_EQ(store.fetch("OnTime2"), (sessions_of{{{"OnTime2", {0, 0}}, 1}}));
    EXPECT_EQ(store.fetch("Late1"), sessions_of{});
}

// aggregate(initializer, aggregator, merger) with strings: the merger joins
// the sessions' aggregates (earlier first), then the record folds in; every
// output carries its session's end as its timestamp.
TEST(SessionWindowTest, TheMergerJoinsAggregatesAndOutputsCarryTheSessionEnd) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("topic")
        .group_by_key()
        .windowed_by(eddy::session_windows::of_inactivity_gap_with_no_grace(10ms))
        .aggregate([] { return std::string(); },
            [](const std::string&, const std::string& v, const std::string& agg) { return agg + v; },
            [](const std::string&, const std::string& a, const std::string& b) { return a + "|" + b; },
            eddy::materialized<std::string, std::string>::as("letters"))
        .map_values([](const std::string& s) { return std::optional<std::string>(s); })
        .to_stream()
        .to("output", eddy::produced<eddy::windowed<std::string>, std::optional<std::string>>::with(
            eddy::serdes::session_windowed<std::string>{eddy::serdes::string{}},
            eddy::serdes::nullable<eddy::serdes::string>{}));
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("topic");
    in.pipe_input("k", "a", 0);
    in.pipe_input("k", "c", 20);
    in.pipe_input("k", "b", 10); // within 10 of both sessions
    in.pipe_input("k", "d", 100);
    auto out = driver.create_output_topic<eddy::windowed<std::string>, std::optional<std::string>>("output",
        eddy::serdes::session_windowed<std::string>{eddy::serdes::string{}},
        eddy::serdes::nullable<eddy::serdes::string>{});
    using rec = eddy::record<eddy::windowed<std::string>, std::optional<std::string>>;
    std::vector<std::tuple<eddy::windowed<std::string>, std::optional<std::string>, std::int64_t>> got;
    for (const rec& r : out.read_records_to_list()) {
        got.emplace_back(r.key, r.value, r.timestamp);
    }
    using w = eddy::windowed<std::string>;
    EXPECT_EQ(got,
        (std::vector<std::tuple<w, std::optional<std::string>, std::int64_t>>{{w{"k", {0, 0}}, "a", 0},
            {w{"k", {20, 20}}, "c", 20}, {w{"k", {0, 0}}, std::nullopt, 0}, {w{"k", {20, 20}}, std::nullopt, 20},
            {w{"k", {0, 20}}, "|a|cb", 20}, {w{"k", {100, 100}}, "d", 100}}));
}

TEST(SessionWindowTest, ReduceAndCountMergeSessions) {
    eddy::streams_builder builder;
    auto windowed = builder.stream<std::string, std::string>("topic")
                        .group_by_key()
                        .windowed_by(eddy::session_windows::of_inactivity_gap_with_no_grace(10ms));
    windowed.reduce([](const std::string& a, const std::string& b) { return a + "+" + b; },
        eddy::materialized<std::string, std::string>::as("reduced"));
    windowed.count(eddy::materialized<std::string, std::int64_t>::as("counted"));
    eddy::topology_test_driver driver(builder.build());
    pipe(driver, {{"k", 0}, {"k", 20}, {"k", 10}, {"k", 15}});
    auto reduced = driver.get_session_store<std::string, std::string>("reduced");
    EXPECT_EQ(reduced.fetch("k"),
        (std::vector<eddy::key_value<eddy::windowed<std::string>, std::string>>{{{"k", {0, 20}}, "v+v+v+v"}}));
    EXPECT_EQ(counts(driver, "counted").fetch("k"),
        (sessions_of{{{"k", {0, 20}}, 4}}));
}

// Kafka Streams' SessionWindowedSerde layout: key bytes, 8-byte end, 8-byte
// start, big-endian.
TEST(SessionWindowTest, SessionWindowedKeysAreKeyThenEndThenStart) {
    eddy::serdes::session_windowed<std::string> serde{eddy::serdes::string{}};
    const auto bytes = serde.serialize({"k", {1, 258}});
    EXPECT_EQ(bytes, std::string("k") + std::string("\0\0\0\0\0\0\x01\x02", 8) + std::string("\0\0\0\0\0\0\0\x01", 8));
    EXPECT_EQ(serde.deserialize(bytes), (eddy::windowed<std::string>{"k", {1, 258}}));
    EXPECT_THAT([&] { (void)serde.deserialize("short"); },
        testing::ThrowsMessage<eddy::serde_error>(testing::HasSubstr("expected at least 16 bytes")));
}

TEST(SessionWindowTest, AStreamOfADeletingSessionTableNeedsAnOptionalValue) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("topic")
        .group_by_key()
        .windowed_by(eddy::session_windows::of_inactivity_gap_with_no_grace(10ms))
        .count(eddy::materialized<std::string, std::int64_t>::as("counted"), eddy::named::as("sessions"))
        .to_stream(eddy::named::as("stream"))
        .to("output", eddy::produced<eddy::windowed<std::string>, std::int64_t>::with(
            eddy::serdes::session_windowed<std::string>{eddy::serdes::string{}}, eddy::serdes::int64{}));
    EXPECT_THAT([&] { (void)builder.build(); },
        testing::ThrowsMessage<eddy::topology_error>(testing::HasSubstr("must be std::optional")));
}

TEST(SessionWindowTest, AGapMustBePositive) {
    EXPECT_THAT([] { (void)eddy::session_windows::of_inactivity_gap_with_no_grace(0ms); },
        testing::ThrowsMessage<std::invalid_argument>(testing::HasSubstr("inactivity gap must be positive")));
}

} // namespace
