// Every stateless DSL operation, driven through the topology test driver.

#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/topology_test_driver.h"
#include "serde/serdes.h"
#include "topology/streams_builder.h"

namespace {

using eddy::key_value;
using kv_ss = key_value<std::string, std::string>;
using kv_si = key_value<std::string, std::int64_t>;
using ::testing::ElementsAre;

struct KStreamTest : ::testing::Test {
    eddy::streams_builder builder;
    eddy::kstream<std::string, std::string> input = builder.stream<std::string, std::string>("in");
};

TEST_F(KStreamTest, FilterKeepsOnlyRecordsThePredicateAccepts) {
    input.filter([](const std::string& k, const std::string&) { return k.starts_with("keep"); }).to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("keep-1", "a");
    in.pipe_input("drop-1", "b");
    in.pipe_input("keep-2", "c");
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_ss{"keep-1", "a"}, kv_ss{"keep-2", "c"}));
}

TEST_F(KStreamTest, FilterNotDropsRecordsThePredicateAccepts) {
    input.filter_not([](const std::string& k, const std::string&) { return k.starts_with("drop"); }).to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("keep-1", "a");
    in.pipe_input("drop-1", "b");
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_ss{"keep-1", "a"}));
}

TEST_F(KStreamTest, MapValuesChangesTheValueTypeAndKeepsKeyTimestampAndHeaders) {
    input.map_values([](const std::string& v) { return static_cast<std::int64_t>(v.size()); })
        .to("out", eddy::produced<std::string, std::int64_t>::with(eddy::serdes::string{}, eddy::serdes::int64{}));
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::int64_t>("out");
    in.pipe_input("k", "hello", 42, eddy::headers{{"trace", "t-1"}});
    auto r = out.read_record();
    EXPECT_EQ(r.key, "k");
    EXPECT_EQ(r.value, 5);
    EXPECT_EQ(r.timestamp, 42);
    EXPECT_EQ(r.headers, (eddy::headers{{"trace", "t-1"}}));
}

TEST_F(KStreamTest, MapValuesWithKeySeesTheKey) {
    input.map_values([](const std::string& k, const std::string& v) { return k + "=" + v; }).to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("a", "1");
    EXPECT_EQ(out.read_value(), "a=1");
}

TEST_F(KStreamTest, MapChangesKeyAndValueTypes) {
    input
        .map([](const std::string& k, const std::string& v) {
            return key_value<std::int32_t, std::string>{static_cast<std::int32_t>(k.size()), v + v};
        })
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::int32_t, std::string>("out");
    in.pipe_input("abc", "x");
    EXPECT_EQ(out.read_key_value(), (key_value<std::int32_t, std::string>{3, "xx"}));
}

TEST_F(KStreamTest, MapAcceptsStdPair) {
    input.map([](const std::string& k, const std::string& v) { return std::pair{v, k}; }).to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k", "v");
    EXPECT_EQ(out.read_key_value(), (kv_ss{"v", "k"}));
}

TEST_F(KStreamTest, FlatMapEmitsZeroOrMoreRecordsPerInput) {
    input
        .flat_map([](const std::string& k, const std::string& v) {
            std::vector<kv_si> out;
            for (std::size_t i = 0; i < v.size(); ++i) {
                out.push_back({k + std::to_string(i), static_cast<std::int64_t>(i)});
            }
            return out;
        })
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::int64_t>("out");
    in.pipe_input("a", "xy");
    in.pipe_input("b", "");
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_si{"a0", 0}, kv_si{"a1", 1}));
}

TEST_F(KStreamTest, FlatMapValuesSplitsValuesUnderTheSameKey) {
    input
        .flat_map_values([](const std::string& v) {
            std::vector<std::string> words;
            std::string w;
            for (char c : v + " ") {
                if (c == ' ') {
                    if (!w.empty()) {
                        words.push_back(w);
                    }
                    w.clear();
                } else {
                    w += c;
                }
            }
            return words;
        })
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k", "buy oat milk");
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_ss{"k", "buy"}, kv_ss{"k", "oat"}, kv_ss{"k", "milk"}));
}

TEST_F(KStreamTest, FlatMapValuesWithKeySeesTheKey) {
    input.flat_map_values([](const std::string& k, const std::string& v) { return std::vector{k, v}; }).to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k", "v");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("k", "v"));
}

TEST_F(KStreamTest, SelectKeyReplacesTheKeyAndKeepsTheValue) {
    input.select_key([](const std::string&, const std::string& v) { return static_cast<std::int64_t>(v.size()); })
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::int64_t, std::string>("out");
    in.pipe_input("k", "four");
    EXPECT_EQ(out.read_key_value(), (key_value<std::int64_t, std::string>{4, "four"}));
}

TEST_F(KStreamTest, PeekSeesEveryRecordAndForwardsItUnchanged) {
    std::vector<std::string> seen;
    input.peek([&seen](const std::string& k, const std::string& v) { seen.push_back(k + v); }).to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("a", "1");
    in.pipe_input("b", "2");
    EXPECT_THAT(seen, ElementsAre("a1", "b2"));
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_ss{"a", "1"}, kv_ss{"b", "2"}));
}

TEST_F(KStreamTest, ForeachCallsTheActionAndWritesNothing) {
    std::vector<std::string> seen;
    input.foreach ([&seen](const std::string& k, const std::string& v) { seen.push_back(k + v); });
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    in.pipe_input("a", "1");
    EXPECT_THAT(seen, ElementsAre("a1"));
    EXPECT_TRUE(driver.produced_topic_names().empty());
}

TEST_F(KStreamTest, MergeInterleavesBothStreamsInArrivalOrder) {
    auto other = builder.stream<std::string, std::string>("in-2");
    input.merge(other).to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto in2 = driver.create_input_topic<std::string, std::string>("in-2");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("a", "1");
    in2.pipe_input("b", "2");
    in.pipe_input("c", "3");
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_ss{"a", "1"}, kv_ss{"b", "2"}, kv_ss{"c", "3"}));
}

TEST_F(KStreamTest, MergeOfStreamsFromTwoBuildersIsRejected) {
    eddy::streams_builder other_builder;
    auto other = other_builder.stream<std::string, std::string>("in-2");
    EXPECT_THROW(
        {
            try {
                input.merge(other);
            } catch (const eddy::topology_error& e) {
                EXPECT_THAT(e.what(), ::testing::HasSubstr("different streams_builders"));
                throw;
            }
        },
        eddy::topology_error);
}

TEST_F(KStreamTest, SplitSendsEachRecordToTheFirstMatchingBranchOrTheDefault) {
    auto branches = input.split(eddy::named::as("by-size-"))
                        .branch([](const std::string&, const std::string& v) { return v.size() > 5; },
                            eddy::branched<std::string, std::string>::as("long"))
                        .branch([](const std::string&, const std::string& v) { return v.size() > 2; },
                            eddy::branched<std::string, std::string>::as("medium"))
                        .default_branch(eddy::branched<std::string, std::string>::as("short"));
    ASSERT_EQ(branches.size(), 3U);
    branches.at("by-size-long").to("long");
    branches.at("by-size-medium").to("medium");
    branches.at("by-size-short").to("short");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto long_out = driver.create_output_topic<std::string, std::string>("long");
    auto medium_out = driver.create_output_topic<std::string, std::string>("medium");
    auto short_out = driver.create_output_topic<std::string, std::string>("short");
    in.pipe_input("a", "abcdefg");
    in.pipe_input("b", "abcd");
    in.pipe_input("c", "ab");
    EXPECT_THAT(long_out.read_values_to_list(), ElementsAre("abcdefg"));
    EXPECT_THAT(medium_out.read_values_to_list(), ElementsAre("abcd"));
    EXPECT_THAT(short_out.read_values_to_list(), ElementsAre("ab"));
}

// branch_stream() hands each branch's stream back as it is added: no name
// to look up, so no lookup that fails at run time. With a function, the
// handle is what the function made of the branch.
TEST_F(KStreamTest, SplitHandsBackTypedBranchStreamsWithoutNames) {
    auto by_size = input.split(eddy::named::as("by-size-"));
    eddy::kstream<std::string, std::string> long_words =
        by_size.branch_stream([](const std::string&, const std::string& v) { return v.size() > 5; });
    eddy::kstream<std::string, std::string> shouted = by_size.branch_stream(
        [](const std::string&, const std::string& v) { return v.size() > 2; },
        eddy::branched<std::string, std::string>::with_function([](const eddy::kstream<std::string, std::string>& s) {
            return s.map_values([](const std::string& v) { return v + "!"; });
        }));
    eddy::kstream<std::string, std::string> rest = by_size.default_branch_stream();
    long_words.to("long");
    shouted.to("medium");
    rest.to("short");
    const auto topology = builder.build();
    // The branches keep Kafka Streams' names: the split's, then the index.
    const auto described = topology.describe().to_string();
    EXPECT_THAT(described, ::testing::HasSubstr("by-size-1"));
    EXPECT_THAT(described, ::testing::HasSubstr("by-size-2"));
    EXPECT_THAT(described, ::testing::HasSubstr("by-size-0"));
    eddy::topology_test_driver driver(topology);
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto long_out = driver.create_output_topic<std::string, std::string>("long");
    auto medium_out = driver.create_output_topic<std::string, std::string>("medium");
    auto short_out = driver.create_output_topic<std::string, std::string>("short");
    in.pipe_input("a", "abcdefg");
    in.pipe_input("b", "abcd");
    in.pipe_input("c", "ab");
    in.pipe_input("d", "abcdefgh");
    EXPECT_THAT(long_out.read_values_to_list(), ElementsAre("abcdefg", "abcdefgh"));
    EXPECT_THAT(medium_out.read_values_to_list(), ElementsAre("abcd!"));
    EXPECT_THAT(short_out.read_values_to_list(), ElementsAre("ab"));
}

TEST_F(KStreamTest, SplitWithoutDefaultDropsUnmatchedRecordsAndNamesBranchesByIndex) {
    auto branches = input.split()
                        .branch([](const std::string& k, const std::string&) { return k == "x"; })
                        .no_default_branch();
    ASSERT_EQ(branches.size(), 1U);
    // Kafka Streams' naming: the split node's name, then the branch index from 1.
    ASSERT_TRUE(branches.contains("KSTREAM-BRANCH-00000000011"));
    branches.begin()->second.to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("x", "1");
    in.pipe_input("y", "2");
    EXPECT_THAT(out.read_key_values_to_list(), ElementsAre(kv_ss{"x", "1"}));
}

TEST_F(KStreamTest, BranchedWithFunctionAndConsumerShapeTheBranches) {
    auto branches =
        input.split(eddy::named::as("s-"))
            .branch([](const std::string& k, const std::string&) { return k == "upper"; },
                eddy::branched<std::string, std::string>::with_function(
                    [](const eddy::kstream<std::string, std::string>& s) {
                        return s.map_values([](const std::string& v) { return v + "!"; });
                    },
                    "f"))
            .default_branch(eddy::branched<std::string, std::string>::with_consumer(
                [](const eddy::kstream<std::string, std::string>& s) { s.to("consumed"); }, "c"));
    ASSERT_EQ(branches.size(), 1U);
    branches.at("s-f").to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    auto consumed = driver.create_output_topic<std::string, std::string>("consumed");
    in.pipe_input("upper", "a");
    in.pipe_input("other", "b");
    EXPECT_THAT(out.read_values_to_list(), ElementsAre("a!"));
    EXPECT_THAT(consumed.read_values_to_list(), ElementsAre("b"));
}

TEST_F(KStreamTest, ToWithATopicNameExtractorRoutesPerRecord) {
    input.to([](const std::string& k, const std::string&) { return "out-" + k; });
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    in.pipe_input("a", "1");
    in.pipe_input("b", "2");
    auto a = driver.create_output_topic<std::string, std::string>("out-a");
    auto b = driver.create_output_topic<std::string, std::string>("out-b");
    EXPECT_EQ(a.read_value(), "1");
    EXPECT_EQ(b.read_value(), "2");
}

TEST_F(KStreamTest, TopicNameExtractorMaySeeTheSourceMetadata) {
    input.to([](const std::string&, const std::string&, const std::optional<eddy::record_metadata>& m) {
        return m->topic + "-copy";
    });
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    in.pipe_input("a", "1");
    auto copy = driver.create_output_topic<std::string, std::string>("in-copy");
    EXPECT_EQ(copy.read_value(), "1");
}

TEST_F(KStreamTest, ProducedSerdesDecideTheBytesOnTheWire) {
    input.map_values([](const std::string& v) { return static_cast<std::int32_t>(v.size()); }).to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    in.pipe_input("k", "abc");
    auto raw = driver.read_raw("out");
    EXPECT_EQ(raw.key, std::optional<std::string>("k"));
    EXPECT_EQ(raw.value, std::optional<std::string>(std::string("\x00\x00\x00\x03", 4)));
}

TEST_F(KStreamTest, OptionalValuesCarryTombstonesBothWays) {
    eddy::streams_builder b;
    b.stream<std::string, std::optional<std::string>>("in")
        .map_values([](const std::optional<std::string>& v) {
            return v ? std::optional<std::string>(*v + "!") : std::nullopt;
        })
        .to("out");
    eddy::topology_test_driver driver(b.build());
    auto in = driver.create_input_topic<std::string, std::optional<std::string>>("in");
    auto out = driver.create_output_topic<std::string, std::optional<std::string>>("out");
    in.pipe_input("a", "x");
    in.pipe_input("a", std::nullopt);
    EXPECT_EQ(out.read_value(), std::optional<std::string>("x!"));
    EXPECT_EQ(driver.read_raw("out").value, std::nullopt);
}

TEST_F(KStreamTest, RepartitionWritesAnInternalTopicNamedAfterTheApplicationAndReadsItBack) {
    input.select_key([](const std::string&, const std::string& v) { return v; })
        .repartition(eddy::repartitioned<std::string, std::string>::as("by-value"))
        .map_values([](const std::string& k, const std::string& v) { return k + "=" + v; })
        .to("out");
    auto topology = builder.build();
    ASSERT_EQ(topology.subtopology_count(), 2U);
    EXPECT_EQ(topology.subtopology_of("app-by-value-repartition", "app"), 1);
    ASSERT_EQ(topology.internal_topics("app").size(), 1U);
    EXPECT_EQ(topology.internal_topics("app")[0].name, "app-by-value-repartition");
    EXPECT_EQ(topology.internal_topics("app")[0].writer_subtopology, 0);
    EXPECT_EQ(topology.internal_topics("app")[0].reader_subtopology, 1);

    eddy::topology_test_driver driver(topology, {{"application.id", "app"}});
    auto in = driver.create_input_topic<std::string, std::string>("in");
    auto out = driver.create_output_topic<std::string, std::string>("out");
    in.pipe_input("k", "v");
    EXPECT_EQ(out.read_key_value(), (kv_ss{"v", "v=v"}));
    auto repartitioned = driver.read_raw("app-by-value-repartition");
    EXPECT_EQ(repartitioned.key, std::optional<std::string>("v"));
}

TEST_F(KStreamTest, GeneratedNamesAreStableAndNamedOperationsUseTheirName) {
    auto f = input.filter([](const std::string&, const std::string&) { return true; });
    auto m = f.map_values([](const std::string& v) { return v; }, eddy::named::as("my-map"));
    auto p = m.peek([](const std::string&, const std::string&) {});
    EXPECT_EQ(input.node_name(), "KSTREAM-SOURCE-0000000000");
    EXPECT_EQ(f.node_name(), "KSTREAM-FILTER-0000000001");
    EXPECT_EQ(m.node_name(), "my-map");
    // A named operation still uses up its index, as in Kafka Streams.
    EXPECT_EQ(p.node_name(), "KSTREAM-PEEK-0000000003");
}

} // namespace
