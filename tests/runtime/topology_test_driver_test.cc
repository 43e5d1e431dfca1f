// The topology test driver's own contract: topics, reads, errors, and
// records written to a topic the topology reads.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/topology_test_driver.h"
#include "serde/serdes.h"
#include "topology/streams_builder.h"

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using kv_ss = eddy::key_value<std::string, std::string>;

eddy::topology pass_through(const std::string& from, const std::string& to) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::optional<std::string>>(from).to(to);
    return builder.build();
}

TEST(TopologyTestDriverTest, PipesListsAndReadsInOrder) {
    eddy::topology_test_driver driver(pass_through("in", "out"));
    auto in = driver.create_input_topic<std::string, std::optional<std::string>>("in");
    auto out = driver.create_output_topic<std::string, std::optional<std::string>>("out");
    in.pipe_record_list({{"a", "1", 10, {}}, {"b", "2", 20, {}}});
    in.pipe_key_value_list({{"c", "3"}});
    EXPECT_EQ(out.queue_size(), 3U);
    EXPECT_FALSE(out.is_empty());
    auto records = out.read_records_to_list();
    ASSERT_EQ(records.size(), 3U);
    EXPECT_EQ(records[0].timestamp, 10);
    EXPECT_EQ(records[1].timestamp, 20);
    EXPECT_EQ(records[2].timestamp, 0); // the wall clock when none is given
    EXPECT_TRUE(out.is_empty());
}

TEST(TopologyTestDriverTest, ReadToMapKeepsTheLatestValueAndTombstonesDelete) {
    eddy::topology_test_driver driver(pass_through("in", "out"));
    auto in = driver.create_input_topic<std::string, std::optional<std::string>>("in");
    auto out = driver.create_output_topic<std::string, std::optional<std::string>>("out");
    in.pipe_input("a", "1");
    in.pipe_input("b", "2");
    in.pipe_input("a", "3");
    in.pipe_input("b", std::nullopt);
    auto map = out.read_key_values_to_map();
    EXPECT_EQ(map, (std::map<std::string, std::optional<std::string>>{{"a", "3"}}));
}

TEST(TopologyTestDriverTest, TheDefaultTimestampIsTheDriversWallClock) {
    eddy::topology_test_driver driver(pass_through("in", "out"), {}, 5'000);
    auto in = driver.create_input_topic<std::string, std::optional<std::string>>("in");
    driver.advance_wall_clock_time(std::chrono::seconds(2));
    in.pipe_input("a", "1");
    EXPECT_EQ(driver.read_raw("out").timestamp, 7'000);
}

TEST(TopologyTestDriverTest, PipingIntoATopicNoSourceReadsIsAnError) {
    eddy::topology_test_driver driver(pass_through("in", "out"));
    auto wrong = driver.create_input_topic<std::string, std::optional<std::string>>("nope");
    try {
        wrong.pipe_input("a", "1");
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "unknown topic nope: no source of the topology reads it");
    }
}

TEST(TopologyTestDriverTest, ReadingAnEmptyTopicSaysWhy) {
    eddy::topology_test_driver driver(pass_through("in", "out"));
    auto in = driver.create_input_topic<std::string, std::optional<std::string>>("in");
    auto out = driver.create_output_topic<std::string, std::optional<std::string>>("out");
    try {
        out.read_value();
        FAIL() << "expected std::out_of_range";
    } catch (const std::out_of_range& e) {
        EXPECT_STREQ(e.what(), "empty topic out: nothing was written to it");
    }
    in.pipe_input("a", "1");
    out.read_value();
    EXPECT_THROW(out.read_value(), std::out_of_range);
}

TEST(TopologyTestDriverTest, ReadingWithTheWrongSerdeIsASerdeError) {
    eddy::topology_test_driver driver(pass_through("in", "out"));
    driver.create_input_topic<std::string, std::optional<std::string>>("in").pipe_input("a", "abc");
    auto out = driver.create_output_topic<std::string, std::int64_t>("out");
    EXPECT_THROW(out.read_value(), eddy::serde_error);
}

TEST(TopologyTestDriverTest, RecordsWrittenToASourceTopicAreProcessedAgainAfterTheCurrentOne) {
    eddy::streams_builder builder;
    auto first = builder.stream<std::string, std::string>("first");
    first.map_values([](const std::string& v) { return v + ">first"; }).to("second");
    first.to("trace");
    builder.stream<std::string, std::string>("second")
        .map_values([](const std::string& v) { return v + ">second"; })
        .to("trace");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("first");
    auto trace = driver.create_output_topic<std::string, std::string>("trace");
    auto second = driver.create_output_topic<std::string, std::string>("second");
    in.pipe_input("k", "v");
    // "second" is both readable and processed again, after "first" finished.
    EXPECT_THAT(trace.read_values_to_list(), ElementsAre("v", "v>first>second"));
    EXPECT_THAT(second.read_values_to_list(), ElementsAre("v>first"));
}

TEST(TopologyTestDriverTest, TheWallClockCannotGoBack) {
    eddy::topology_test_driver driver(pass_through("in", "out"));
    EXPECT_THROW(driver.advance_wall_clock_time(std::chrono::milliseconds(-1)), std::invalid_argument);
}

TEST(TopologyTestDriverTest, ATopicWithoutAnySerdeForItsTypeIsRejected) {
    struct opaque {};
    eddy::topology_test_driver driver(pass_through("in", "out"));
    try {
        driver.create_output_topic<std::string, opaque>("out");
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& e) {
        EXPECT_THAT(e.what(), HasSubstr("no value serde"));
    }
}

TEST(TopologyTestDriverTest, OutputBytesAreTheSinkSerdesBytes) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .map_values([](const std::string& v) { return static_cast<std::int64_t>(v.size()); })
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    driver.create_input_topic<std::string, std::string>("in").pipe_input("k", std::string(258, 'x'));
    EXPECT_EQ(driver.read_raw("out").value, std::optional<std::string>(std::string("\0\0\0\0\0\0\x01\x02", 8)));
}

} // namespace

namespace {

// Each word of a line counts for the line's key: one input updates its key
// once per word.
eddy::topology words_per_user() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("lines")
        .flat_map_values([](const std::string& line) {
            std::vector<std::string> words;
            std::size_t start = 0;
            while (start < line.size()) {
                auto end = line.find(' ', start);
                end = end == std::string::npos ? line.size() : end;
                words.push_back(line.substr(start, end - start));
                start = end + 1;
            }
            return words;
        })
        .group_by_key()
        .count(eddy::materialized<std::string, std::int64_t>::as("words"))
        .to_stream()
        .to("counts", eddy::produced<std::string, std::int64_t>::with(eddy::serdes::string{}, eddy::serdes::int64{}));
    return builder.build();
}

using kv_si = eddy::key_value<std::string, std::int64_t>;

// The count store's changelog holds Kafka Streams' ValueAndTimestamp layout;
// these tests look at the counts only.
auto counts_changelog(eddy::topology_test_driver& driver) {
    return driver.create_output_topic<std::string, eddy::timestamped<std::int64_t>>(
        "app-words-changelog", eddy::serdes::string{}, eddy::serdes::value_and_timestamp<std::int64_t>{eddy::serdes::int64{}});
}
std::vector<kv_si> counts_of(const std::vector<eddy::key_value<std::string, eddy::timestamped<std::int64_t>>>& records) {
    std::vector<kv_si> out;
    for (const auto& r : records) {
        out.push_back({r.key, r.value.value});
    }
    return out;
}

// The driver commits after every input: the record cache collapses the
// updates one input makes, and the changelog shows each input's result.
TEST(TopologyTestDriverTest, TheRecordCacheFlushesAfterEveryInput) {
    eddy::topology_test_driver driver(words_per_user(), {{"application.id", "app"}});
    auto in = driver.create_input_topic<std::string, std::string>("lines");
    auto out = driver.create_output_topic<std::string, std::int64_t>("counts");
    auto changelog = counts_changelog(driver);
    in.pipe_input("alice", "a b c");
    in.pipe_input("bob", "x");
    in.pipe_input("alice", "d");
    // The count forwards through the cache too: "a b c" counts alice three
    // times and sends her latest count once.
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_si{"alice", 3}, kv_si{"bob", 1}, kv_si{"alice", 4}));
    EXPECT_THAT(counts_of(changelog.read_key_values_to_list()), ElementsAre(kv_si{"alice", 3}, kv_si{"bob", 1}, kv_si{"alice", 4}));
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("words").get("alice")), 4);
}

TEST(TopologyTestDriverTest, ACacheOfZeroBytesLogsEveryUpdate) {
    eddy::topology_test_driver driver(words_per_user(), {{"application.id", "app"}, {"statestore.cache.max.bytes", "0"}});
    auto in = driver.create_input_topic<std::string, std::string>("lines");
    auto changelog = counts_changelog(driver);
    auto out = driver.create_output_topic<std::string, std::int64_t>("counts");
    in.pipe_input("alice", "a b c");
    EXPECT_THAT(counts_of(changelog.read_key_values_to_list()), ElementsAre(kv_si{"alice", 1}, kv_si{"alice", 2}, kv_si{"alice", 3}));
    // ... and the count forwards every update.
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_si{"alice", 1}, kv_si{"alice", 2}, kv_si{"alice", 3}));
}

// A cache too small for one entry evicts every write at once: each eviction
// forwards the key's pending change, as Kafka Streams' cache forwards what it
// evicts, and the flush forwards the last one (whose entry an eviction wrote
// already, so nothing is dirty any more).
TEST(TopologyTestDriverTest, ACacheThatEvictsEveryWriteForwardsEachChangeOnItsEviction) {
    eddy::topology_test_driver driver(
        words_per_user(), {{"application.id", "app"}, {"statestore.cache.max.bytes", "1"}});
    auto in = driver.create_input_topic<std::string, std::string>("lines");
    auto out = driver.create_output_topic<std::string, std::int64_t>("counts");
    in.pipe_input("alice", "a b c");
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_si{"alice", 1}, kv_si{"alice", 2}, kv_si{"alice", 3}));
    in.pipe_input("alice", "d");
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_si{"alice", 4}));
}

TEST(TopologyTestDriverTest, ANegativeCacheSizeIsRejected) {
    EXPECT_THAT([] { eddy::topology_test_driver driver(words_per_user(), {{"statestore.cache.max.bytes", "-1"}}); },
        testing::ThrowsMessage<eddy::config_error>(HasSubstr("statestore.cache.max.bytes=-1 must be at least 0")));
}

} // namespace
