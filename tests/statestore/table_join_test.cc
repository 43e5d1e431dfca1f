// Joins with tables on the test driver: stream-table, stream-global-table and
// table-table (inner, left, outer), ported from Kafka Streams'
// KStreamKTableJoinTest, KStreamKTableLeftJoinTest, KStreamGlobalKTableJoinTest,
// KStreamGlobalKTableLeftJoinTest, KTableKTableInnerJoinTest,
// KTableKTableLeftJoinTest and KTableKTableOuterJoinTest: the same inputs,
// the same outputs (values, old values, timestamps, tombstones).

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eddy.h"

namespace {

using testing::HasSubstr;
using testing::ThrowsMessage;

using opt = std::optional<std::string>;
// key, value, timestamp
using kvt = std::tuple<int, std::string, std::int64_t>;
using kvts = std::vector<kvt>;

// Kafka Streams' MockValueJoiner.TOSTRING_JOINER: "a+b", a missing side "null".
std::string str(const opt& v) {
    return v.value_or("null");
}
const auto tostring_joiner = [](const std::string& a, const std::string& b) { return a + "+" + b; };
const auto tostring_left_joiner = [](const std::string& a, const opt& b) { return a + "+" + str(b); };
const auto tostring_outer_joiner = [](const opt& a, const opt& b) { return str(a) + "+" + str(b); };

const std::vector<int> expected_keys{0, 1, 2, 3};

// Everything an output topic holds, as (key, value, timestamp).
kvts read_all(eddy::test_output_topic<int, std::string>& out) {
    kvts got;
    for (const auto& r : out.read_records_to_list()) {
        got.emplace_back(r.key, r.value, r.timestamp);
    }
    return got;
}

// ---------------------------------------------------------------------------
// Stream-table joins (KStreamKTableJoinTest, KStreamKTableLeftJoinTest)

class stream_table_join : public testing::TestWithParam<bool> {};

struct stream_table_fixture {
    explicit stream_table_fixture(bool left) : driver(build(left)) {}

    static eddy::topology build(bool left) {
        eddy::streams_builder builder;
        auto stream = builder.stream<int, std::string>("streamTopic");
        auto table = builder.table<int, std::string>("tableTopic");
        if (left) {
            stream.left_join(table, tostring_left_joiner).to("output");
        } else {
            stream.join(table, tostring_joiner).to("output");
        }
        return builder.build();
    }

    void push_to_stream(int count, const std::string& prefix) {
        for (int i = 0; i < count; ++i) {
            stream_in.pipe_input(expected_keys[i], prefix + std::to_string(expected_keys[i]), i);
        }
    }
    // Kafka Streams pushes table rows with random timestamps: they play no
    // part in the output's.
    void push_to_table(int count, const std::string& prefix) {
        for (int i = 0; i < count; ++i) {
            table_in.pipe_input(expected_keys[i], prefix + std::to_string(expected_keys[i]), 1000 + 37 * i);
        }
    }
    void push_null_value_to_table(int count) {
        for (int i = 0; i < count; ++i) {
            table_in.pipe_input(expected_keys[i], std::nullopt);
        }
    }
    kvts output() { return read_all(out); }

    eddy::topology_test_driver driver;
    eddy::test_input_topic<int, std::string> stream_in = driver.create_input_topic<int, std::string>("streamTopic");
    eddy::test_input_topic<int, opt> table_in = driver.create_input_topic<int, opt>("tableTopic");
    eddy::test_output_topic<int, std::string> out = driver.create_output_topic<int, std::string>("output");
};

TEST(KStreamKTableJoinTest, ShouldRequireCopartitionedStreams) {
    auto topology = stream_table_fixture::build(false);
    ASSERT_EQ(topology.subtopology_count(), 1U);
    auto topics = topology.source_topics(0);
    std::sort(topics.begin(), topics.end());
    EXPECT_EQ(topics, (std::vector<std::string>{"streamTopic", "tableTopic"}));
}

TEST(KStreamKTableJoinTest, ShouldNotJoinWithEmptyTableOnStreamUpdates) {
    stream_table_fixture f(false);
    f.push_to_stream(2, "X");
    EXPECT_EQ(f.output(), kvts{});
}

TEST(KStreamKTableJoinTest, ShouldNotJoinOnTableUpdates) {
    stream_table_fixture f(false);
    f.push_to_stream(2, "X");
    EXPECT_EQ(f.output(), kvts{});
    f.push_to_table(2, "Y");
    EXPECT_EQ(f.output(), kvts{});
    f.push_to_stream(4, "X");
    EXPECT_EQ(f.output(), (kvts{{0, "X0+Y0", 0}, {1, "X1+Y1", 1}}));
    f.push_to_table(4, "YY");
    EXPECT_EQ(f.output(), kvts{});
    f.push_to_stream(4, "X");
    EXPECT_EQ(f.output(), (kvts{{0, "X0+YY0", 0}, {1, "X1+YY1", 1}, {2, "X2+YY2", 2}, {3, "X3+YY3", 3}}));
    f.push_to_table(4, "YYY");
    EXPECT_EQ(f.output(), kvts{});
}

TEST(KStreamKTableJoinTest, ShouldJoinOnlyIfMatchFoundOnStreamUpdates) {
    stream_table_fixture f(false);
    f.push_to_table(2, "Y");
    EXPECT_EQ(f.output(), kvts{});
    f.push_to_stream(4, "X");
    EXPECT_EQ(f.output(), (kvts{{0, "X0+Y0", 0}, {1, "X1+Y1", 1}}));
}

TEST(KStreamKTableJoinTest, ShouldClearTableEntryOnNullValueUpdates) {
    stream_table_fixture f(false);
    f.push_to_table(4, "Y");
    EXPECT_EQ(f.output(), kvts{});
    f.push_to_stream(4, "X");
    EXPECT_EQ(f.output(), (kvts{{0, "X0+Y0", 0}, {1, "X1+Y1", 1}, {2, "X2+Y2", 2}, {3, "X3+Y3", 3}}));
    f.push_null_value_to_table(2);
    EXPECT_EQ(f.output(), kvts{});
    f.push_to_stream(4, "XX");
    EXPECT_EQ(f.output(), (kvts{{2, "XX2+Y2", 2}, {3, "XX3+Y3", 3}}));
}

// A stream and a table whose keys and values may be null.
eddy::topology nullable_stream_table_join(bool left) {
    eddy::streams_builder builder;
    auto stream = builder.stream<opt, opt>("streamTopic");
    auto table = builder.table<opt, std::string>("tableTopic");
    if (left) {
        stream.left_join(table, [](const opt& v, const opt& row) { return str(v) + "+" + str(row); }).to("output");
    } else {
        stream.join(table, [](const opt& v, const std::string& row) { return str(v) + "+" + row; }).to("output");
    }
    return builder.build();
}

TEST(KStreamKTableJoinTest, ShouldLogAndMeterWhenSkippingNullLeftKey) {
    eddy::topology_test_driver driver(nullable_stream_table_join(false));
    driver.create_input_topic<opt, opt>("tableTopic").pipe_input("k", "Y");
    driver.create_input_topic<opt, opt>("streamTopic").pipe_input(std::nullopt, "A");
    EXPECT_TRUE((driver.create_output_topic<opt, std::string>("output").is_empty()));
    EXPECT_EQ(driver.dropped_records(), 1);
}

TEST(KStreamKTableJoinTest, ShouldLogAndMeterWhenSkippingNullLeftValue) {
    eddy::topology_test_driver driver(nullable_stream_table_join(false));
    driver.create_input_topic<opt, opt>("tableTopic").pipe_input("k", "Y");
    driver.create_input_topic<opt, opt>("streamTopic").pipe_input("k", std::nullopt);
    EXPECT_TRUE((driver.create_output_topic<opt, std::string>("output").is_empty()));
    EXPECT_EQ(driver.dropped_records(), 1);
}

TEST(KStreamKTableLeftJoinTest, ANullValueIsDroppedAndANullKeyJoinsNoRow) {
    // Kafka Streams 3.7 (KIP-962): a left join keeps a null-key record.
    eddy::topology_test_driver driver(nullable_stream_table_join(true));
    driver.create_input_topic<opt, opt>("tableTopic").pipe_input("k", "Y");
    auto in = driver.create_input_topic<opt, opt>("streamTopic");
    in.pipe_input("k", std::nullopt, 1);
    in.pipe_input(std::nullopt, "A", 2);
    in.pipe_input("k", "B", 3);
    auto out = driver.create_output_topic<opt, std::string>("output");
    EXPECT_EQ(out.read_key_values_to_list(),
        (std::vector<eddy::key_value<opt, std::string>>{{std::nullopt, "A+null"}, {"k", "B+Y"}}));
    EXPECT_EQ(driver.dropped_records(), 1);
}

TEST(KStreamKTableLeftJoinTest, ShouldRequireCopartitionedStreams) {
    auto topology = stream_table_fixture::build(true);
    ASSERT_EQ(topology.subtopology_count(), 1U);
    auto topics = topology.source_topics(0);
    std::sort(topics.begin(), topics.end());
    EXPECT_EQ(topics, (std::vector<std::string>{"streamTopic", "tableTopic"}));
}

TEST(KStreamKTableLeftJoinTest, ShouldJoinWithEmptyTableOnStreamUpdates) {
    stream_table_fixture f(true);
    f.push_to_stream(2, "X");
    EXPECT_EQ(f.output(), (kvts{{0, "X0+null", 0}, {1, "X1+null", 1}}));
}

TEST(KStreamKTableLeftJoinTest, ShouldNotJoinOnTableUpdates) {
    stream_table_fixture f(true);
    f.push_to_stream(2, "X");
    EXPECT_EQ(f.output(), (kvts{{0, "X0+null", 0}, {1, "X1+null", 1}}));
    f.push_to_table(2, "Y");
    EXPECT_EQ(f.output(), kvts{});
    f.push_to_stream(4, "X");
    EXPECT_EQ(f.output(), (kvts{{0, "X0+Y0", 0}, {1, "X1+Y1", 1}, {2, "X2+null", 2}, {3, "X3+null", 3}}));
    f.push_to_table(4, "YY");
    EXPECT_EQ(f.output(), kvts{});
    f.push_to_stream(4, "X");
    EXPECT_EQ(f.output(), (kvts{{0, "X0+YY0", 0}, {1, "X1+YY1", 1}, {2, "X2+YY2", 2}, {3, "X3+YY3", 3}}));
    f.push_to_table(4, "YYY");
    EXPECT_EQ(f.output(), kvts{});
}

TEST(KStreamKTableLeftJoinTest, ShouldJoinRegardlessIfMatchFoundOnStreamUpdates) {
    stream_table_fixture f(true);
    f.push_to_table(2, "Y");
    EXPECT_EQ(f.output(), kvts{});
    f.push_to_stream(4, "X");
    EXPECT_EQ(f.output(), (kvts{{0, "X0+Y0", 0}, {1, "X1+Y1", 1}, {2, "X2+null", 2}, {3, "X3+null", 3}}));
}

TEST(KStreamKTableLeftJoinTest, ShouldClearTableEntryOnNullValueUpdates) {
    stream_table_fixture f(true);
    f.push_to_table(4, "Y");
    EXPECT_EQ(f.output(), kvts{});
    f.push_to_stream(4, "X");
    EXPECT_EQ(f.output(), (kvts{{0, "X0+Y0", 0}, {1, "X1+Y1", 1}, {2, "X2+Y2", 2}, {3, "X3+Y3", 3}}));
    f.push_null_value_to_table(2);
    EXPECT_EQ(f.output(), kvts{});
    f.push_to_stream(4, "XX");
    EXPECT_EQ(f.output(), (kvts{{0, "XX0+null", 0}, {1, "XX1+null", 1}, {2, "XX2+Y2", 2}, {3, "XX3+Y3", 3}}));
}

// KStreamKTableJoinTest.shouldCreateRepartitionTopicsWithUserProvidedName: a
// join after a key change reads the stream through a repartition topic named
// after the join, in the table's sub-topology.
TEST(KStreamKTableJoinTest, ShouldCreateRepartitionTopicsWithUserProvidedName) {
    eddy::streams_builder builder;
    auto stream = builder.stream<std::string, std::string>("topic");
    auto table_b = builder.table<std::string, std::string>("topic2");
    auto table_c = builder.table<std::string, std::string>("topic3");
    auto rekeyed = stream.map([](const std::string& k, const std::string& v) { return eddy::key_value{v, k}; });
    const auto concat = [](const std::string& a, const std::string& b) { return a + b; };
    rekeyed.join(table_b, concat, eddy::joined<std::string, std::string, std::string>::as("first-join")).to("out-one");
    rekeyed.join(table_c, concat, eddy::joined<std::string, std::string, std::string>::as("second-join"))
        .to("out-two");
    auto topology = builder.build();
    ASSERT_EQ(topology.subtopology_count(), 3U);
    const auto internal = topology.internal_topics("app");
    ASSERT_EQ(internal.size(), 2U);
    EXPECT_EQ(internal[0].name, "app-first-join-repartition");
    EXPECT_EQ(internal[1].name, "app-second-join-repartition");
    auto first = topology.source_topics(*topology.subtopology_of("app-first-join-repartition", "app"), "app");
    std::sort(first.begin(), first.end());
    EXPECT_EQ(first, (std::vector<std::string>{"app-first-join-repartition", "topic2"}));
    auto second = topology.source_topics(*topology.subtopology_of("app-second-join-repartition", "app"), "app");
    std::sort(second.begin(), second.end());
    EXPECT_EQ(second, (std::vector<std::string>{"app-second-join-repartition", "topic3"}));
    const auto text = topology.describe().to_string();
    EXPECT_THAT(text, HasSubstr("Processor: first-join (stores: [topic2-STATE-STORE-0000000002])"));
    EXPECT_THAT(text, HasSubstr("Processor: second-join (stores: [topic3-STATE-STORE-0000000005])"));
}

TEST(KStreamKTableJoinTest, AJoinAfterAKeyChangeMeetsTheRowOfTheNewKey) {
    eddy::streams_builder builder;
    auto table = builder.table<std::string, std::string>("users");
    builder.stream<std::string, std::string>("clicks")
        .select_key([](const std::string&, const std::string& user) { return user; })
        .join(table, tostring_joiner)
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    driver.create_input_topic<std::string, opt>("users").pipe_input("alice", "Alice A.");
    auto clicks = driver.create_input_topic<std::string, std::string>("clicks");
    clicks.pipe_input("c1", "alice", 5);
    clicks.pipe_input("c2", "bob", 6);
    auto out = driver.create_output_topic<std::string, std::string>("out");
    auto records = out.read_records_to_list();
    ASSERT_EQ(records.size(), 1U);
    EXPECT_EQ(records[0].key, "alice");
    EXPECT_EQ(records[0].value, "alice+Alice A.");
    EXPECT_EQ(records[0].timestamp, 5);
}

TEST(KStreamKTableJoinTest, ATableThatIsNotMaterialisedIsMaterialisedForTheJoin) {
    eddy::streams_builder builder;
    auto table = builder.table<int, std::string>("tableTopic").filter([](int, const std::string& v) {
        return v != "skip";
    });
    builder.stream<int, std::string>("streamTopic").join(table, tostring_joiner).to("output");
    eddy::topology_test_driver driver(builder.build());
    auto rows = driver.create_input_topic<int, opt>("tableTopic");
    rows.pipe_input(0, "Y0", 3);
    rows.pipe_input(1, "skip", 4);
    rows.pipe_input(2, "Y2", 5);
    rows.pipe_input(2, "skip", 6); // stops passing: deleted from the filtered table
    auto in = driver.create_input_topic<int, std::string>("streamTopic");
    for (int k = 0; k < 3; ++k) {
        in.pipe_input(k, "X" + std::to_string(k), 10 + k);
    }
    auto out = driver.create_output_topic<int, std::string>("output");
    EXPECT_EQ(read_all(out), (kvts{{0, "X0+Y0", 10}}));
}

// Kafka Streams' ValueJoinerWithKey (KStreamImplValueJoinerWithKeyTest):
// a joiner may take the key first, in every kind of join.
TEST(KStreamImplValueJoinerWithKeyTest, JoinersMayTakeTheKey) {
    eddy::streams_builder builder;
    auto table = builder.table<int, std::string>("tableTopic");
    auto other = builder.table<int, std::string>("otherTopic");
    auto global = builder.global_table<std::string, std::string>("globalTopic");
    auto stream = builder.stream<int, std::string>("streamTopic");
    const auto keyed = [](int k, const std::string& v, const std::string& row) {
        return std::to_string(k) + ":" + v + "+" + row;
    };
    stream.join(table, keyed).to("inner");
    stream
        .left_join(table,
            [](int k, const std::string& v, const opt& row) { return std::to_string(k) + ":" + v + "+" + str(row); })
        .to("left");
    stream.join(global, [](int, const std::string& v) { return v; }, keyed).to("global");
    table
        .outer_join(other,
            [](int k, const opt& a, const opt& b) { return std::to_string(k) + ":" + str(a) + "+" + str(b); })
        .map_values([](const std::string& v) { return opt(v); })
        .to_stream()
        .to("outer");
    eddy::topology_test_driver driver(builder.build());
    driver.create_input_topic<int, opt>("tableTopic").pipe_input(1, "Y1", 1);
    driver.create_input_topic<int, opt>("otherTopic").pipe_input(1, "Z1", 2);
    driver.create_input_topic<std::string, opt>("globalTopic").pipe_input("X1", "G1", 3);
    auto in = driver.create_input_topic<int, std::string>("streamTopic");
    in.pipe_input(1, "X1", 4);
    in.pipe_input(2, "X2", 5);
    auto inner = driver.create_output_topic<int, std::string>("inner");
    auto left = driver.create_output_topic<int, std::string>("left");
    auto joined_global = driver.create_output_topic<int, std::string>("global");
    auto outer = driver.create_output_topic<int, opt>("outer");
    EXPECT_EQ(read_all(inner), (kvts{{1, "1:X1+Y1", 4}}));
    EXPECT_EQ(read_all(left), (kvts{{1, "1:X1+Y1", 4}, {2, "2:X2+null", 5}}));
    EXPECT_EQ(read_all(joined_global), (kvts{{1, "1:X1+G1", 4}}));
    EXPECT_EQ(outer.read_values_to_list(), (std::vector<opt>{"1:Y1+null", "1:Y1+Z1"}));
}

TEST(KStreamKTableJoinTest, AJoinOfTwoBuildersIsRejected) {
    eddy::streams_builder one;
    eddy::streams_builder two;
    auto stream = one.stream<int, std::string>("s");
    auto table = two.table<int, std::string>("t");
    EXPECT_THAT([&] { (void)stream.join(table, tostring_joiner); },
        ThrowsMessage<eddy::topology_error>(HasSubstr("come from different streams_builders")));
}

TEST(KStreamKTableJoinTest, AJoinedTableWithoutADefaultSerdeFailsBuildNamingTheNode) {
    struct no_serde {
        std::string v;
    };
    eddy::streams_builder builder;
    auto table = builder.table<int, std::string>("t").map_values([](const std::string& v) { return no_serde{v}; });
    builder.stream<int, std::string>("s")
        .join(table, [](const std::string& a, const no_serde& b) { return a + b.v; })
        .to("out");
    EXPECT_THAT([&] { (void)builder.build(); },
        ThrowsMessage<eddy::topology_error>(HasSubstr("processor KTABLE-MATERIALIZE-")));
}

// ---------------------------------------------------------------------------
// Stream-global-table joins (KStreamGlobalKTableJoinTest,
// KStreamGlobalKTableLeftJoinTest): the stream's value, "X0,FKey0", names the
// row "FKey0"; a value without the second token names none.

struct global_fixture {
    explicit global_fixture(bool left) : driver(build(left)) {}

    static eddy::topology build(bool left) {
        eddy::streams_builder builder;
        auto stream = builder.stream<opt, std::string>("streamTopic");
        auto table = builder.global_table<std::string, std::string>("globalTopic");
        auto key_mapper = [](const opt&, const std::string& value) -> opt {
            const auto comma = value.find(',');
            return comma == std::string::npos ? std::nullopt : opt(value.substr(comma + 1));
        };
        if (left) {
            stream.left_join(table, key_mapper, tostring_left_joiner).to("output");
        } else {
            stream.join(table, key_mapper, tostring_joiner).to("output");
        }
        return builder.build();
    }

    // The stream's timestamps advance by 1 ms per record (Kafka Streams'
    // auto-advancing input topic), the global table's do not matter.
    void push_to_stream(int count, const std::string& prefix, bool include_foreign_key, bool include_null_key) {
        for (int i = 0; i < count; ++i) {
            std::string value = prefix + std::to_string(expected_keys[i]);
            if (include_foreign_key) {
                value += ",FKey" + std::to_string(expected_keys[i]);
            }
            opt key = std::to_string(expected_keys[i]);
            if (include_null_key && i == 0) {
                key = std::nullopt;
            }
            stream_in.pipe_input(key, value, _time++);
        }
    }
    void push_to_global_table(int count, const std::string& prefix) {
        for (int i = 0; i < count; ++i) {
            table_in.pipe_input("FKey" + std::to_string(expected_keys[i]), prefix + std::to_string(expected_keys[i]));
        }
    }
    void push_null_value_to_global_table(int count) {
        for (int i = 0; i < count; ++i) {
            table_in.pipe_input("FKey" + std::to_string(expected_keys[i]), std::nullopt);
        }
    }
    // (key, value, timestamp), a null key as "null".
    std::vector<std::tuple<std::string, std::string, std::int64_t>> output() {
        std::vector<std::tuple<std::string, std::string, std::int64_t>> got;
        for (const auto& r : out.read_records_to_list()) {
            got.emplace_back(str(r.key), r.value, r.timestamp);
        }
        return got;
    }

    eddy::topology_test_driver driver;
    eddy::test_input_topic<opt, std::string> stream_in = driver.create_input_topic<opt, std::string>("streamTopic");
    eddy::test_input_topic<std::string, opt> table_in = driver.create_input_topic<std::string, opt>("globalTopic");
    eddy::test_output_topic<opt, std::string> out = driver.create_output_topic<opt, std::string>("output");

private:
    std::int64_t _time = 0;
};

using skvts = std::vector<std::tuple<std::string, std::string, std::int64_t>>;

TEST(KStreamGlobalKTableJoinTest, ShouldNotRequireCopartitioning) {
    auto topology = global_fixture::build(false);
    ASSERT_EQ(topology.subtopology_count(), 2U);
    EXPECT_TRUE(topology.is_global(1));
    EXPECT_EQ(topology.source_topics(0), (std::vector<std::string>{"streamTopic"}));
    EXPECT_TRUE(topology.stores_of(0).empty()); // the task keeps no copy of the global store
}

TEST(KStreamGlobalKTableJoinTest, ShouldNotJoinWithEmptyGlobalTableOnStreamUpdates) {
    global_fixture f(false);
    f.push_to_stream(2, "X", true, false);
    EXPECT_EQ(f.output(), skvts{});
}

TEST(KStreamGlobalKTableJoinTest, ShouldNotJoinOnGlobalTableUpdates) {
    global_fixture f(false);
    f.push_to_stream(2, "X", true, false);
    EXPECT_EQ(f.output(), skvts{});
    f.push_to_global_table(2, "Y");
    EXPECT_EQ(f.output(), skvts{});
    f.push_to_stream(4, "X", true, false);
    EXPECT_EQ(f.output(), (skvts{{"0", "X0,FKey0+Y0", 2}, {"1", "X1,FKey1+Y1", 3}}));
    f.push_to_global_table(4, "YY");
    EXPECT_EQ(f.output(), skvts{});
    f.push_to_stream(4, "X", true, false);
    EXPECT_EQ(f.output(), (skvts{{"0", "X0,FKey0+YY0", 6}, {"1", "X1,FKey1+YY1", 7}, {"2", "X2,FKey2+YY2", 8},
                              {"3", "X3,FKey3+YY3", 9}}));
    f.push_to_global_table(4, "YYY");
    EXPECT_EQ(f.output(), skvts{});
}

TEST(KStreamGlobalKTableJoinTest, ShouldJoinOnlyIfMatchFoundOnStreamUpdates) {
    global_fixture f(false);
    f.push_to_global_table(2, "Y");
    EXPECT_EQ(f.output(), skvts{});
    f.push_to_stream(4, "X", true, false);
    EXPECT_EQ(f.output(), (skvts{{"0", "X0,FKey0+Y0", 0}, {"1", "X1,FKey1+Y1", 1}}));
}

TEST(KStreamGlobalKTableJoinTest, ShouldClearGlobalTableEntryOnNullValueUpdates) {
    global_fixture f(false);
    f.push_to_global_table(4, "Y");
    f.push_to_stream(4, "X", true, false);
    EXPECT_EQ(f.output(), (skvts{{"0", "X0,FKey0+Y0", 0}, {"1", "X1,FKey1+Y1", 1}, {"2", "X2,FKey2+Y2", 2},
                              {"3", "X3,FKey3+Y3", 3}}));
    f.push_null_value_to_global_table(2);
    EXPECT_EQ(f.output(), skvts{});
    f.push_to_stream(4, "XX", true, false);
    EXPECT_EQ(f.output(), (skvts{{"2", "XX2,FKey2+Y2", 6}, {"3", "XX3,FKey3+Y3", 7}}));
}

TEST(KStreamGlobalKTableJoinTest, ShouldNotJoinOnNullKeyMapperValues) {
    global_fixture f(false);
    f.push_to_global_table(4, "Y");
    f.push_to_stream(4, "XXX", false, false);
    EXPECT_EQ(f.output(), skvts{});
    EXPECT_EQ(f.driver.dropped_records(), 4);
}

TEST(KStreamGlobalKTableJoinTest, ShouldJoinOnNullKeyWithNonNullKeyMapperValues) {
    global_fixture f(false);
    f.push_to_global_table(2, "Y");
    f.push_to_stream(4, "X", true, true);
    EXPECT_EQ(f.output(), (skvts{{"null", "X0,FKey0+Y0", 0}, {"1", "X1,FKey1+Y1", 1}}));
}

TEST(KStreamGlobalKTableLeftJoinTest, ShouldNotJoinWithEmptyGlobalTableOnStreamUpdates) {
    global_fixture f(true);
    f.push_to_stream(2, "X", true, false);
    EXPECT_EQ(f.output(), (skvts{{"0", "X0,FKey0+null", 0}, {"1", "X1,FKey1+null", 1}}));
}

TEST(KStreamGlobalKTableLeftJoinTest, ShouldNotJoinOnGlobalTableUpdates) {
    global_fixture f(true);
    f.push_to_stream(2, "X", true, false);
    EXPECT_EQ(f.output(), (skvts{{"0", "X0,FKey0+null", 0}, {"1", "X1,FKey1+null", 1}}));
    f.push_to_global_table(2, "Y");
    EXPECT_EQ(f.output(), skvts{});
    f.push_to_stream(4, "X", true, false);
    EXPECT_EQ(f.output(), (skvts{{"0", "X0,FKey0+Y0", 2}, {"1", "X1,FKey1+Y1", 3}, {"2", "X2,FKey2+null", 4},
                              {"3", "X3,FKey3+null", 5}}));
    f.push_to_global_table(4, "YY");
    EXPECT_EQ(f.output(), skvts{});
    f.push_to_stream(4, "X", true, false);
    EXPECT_EQ(f.output(), (skvts{{"0", "X0,FKey0+YY0", 6}, {"1", "X1,FKey1+YY1", 7}, {"2", "X2,FKey2+YY2", 8},
                              {"3", "X3,FKey3+YY3", 9}}));
}

TEST(KStreamGlobalKTableLeftJoinTest, ShouldClearGlobalTableEntryOnNullValueUpdates) {
    global_fixture f(true);
    f.push_to_global_table(4, "Y");
    f.push_to_stream(4, "X", true, false);
    EXPECT_EQ(f.output(), (skvts{{"0", "X0,FKey0+Y0", 0}, {"1", "X1,FKey1+Y1", 1}, {"2", "X2,FKey2+Y2", 2},
                              {"3", "X3,FKey3+Y3", 3}}));
    f.push_null_value_to_global_table(2);
    f.push_to_stream(4, "XX", true, false);
    EXPECT_EQ(f.output(), (skvts{{"0", "XX0,FKey0+null", 4}, {"1", "XX1,FKey1+null", 5}, {"2", "XX2,FKey2+Y2", 6},
                              {"3", "XX3,FKey3+Y3", 7}}));
}

TEST(KStreamGlobalKTableLeftJoinTest, ShouldJoinOnNullKeyWithNonNullKeyMapperValues) {
    global_fixture f(true);
    f.push_to_global_table(4, "Y");
    f.push_to_stream(4, "X", true, true);
    EXPECT_EQ(f.output(), (skvts{{"null", "X0,FKey0+Y0", 0}, {"1", "X1,FKey1+Y1", 1}, {"2", "X2,FKey2+Y2", 2},
                              {"3", "X3,FKey3+Y3", 3}}));
}

// ---------------------------------------------------------------------------
// Table-table joins (KTableKTableInnerJoinTest, KTableKTableLeftJoinTest,
// KTableKTableOuterJoinTest). Each Java test drives the same eight steps;
// the expected changes differ by join.

enum class join_type { inner, left, outer };

// One change of the join's table: key, new value, old value, timestamp.
using change_row = std::tuple<int, opt, opt, std::int64_t>;
using change_rows = std::vector<change_row>;

// The join's changes as a string stream "<new>|<old>" (either "null").
std::string show(const eddy::change<std::string>& c) {
    return str(c.new_value) + "|" + str(c.old_value);
}

struct table_join_fixture {
    table_join_fixture(join_type type, bool materialize) : driver(build(type, materialize)) {}

    static eddy::topology build(join_type type, bool materialize) {
        eddy::streams_builder builder;
        auto table1 = builder.table<int, std::string>("topic1");
        auto table2 = builder.table<int, std::string>("topic2");
        const auto m = eddy::materialized<int, std::string>::as("joined-store");
        eddy::ktable<int, std::string> joined = [&] {
            switch (type) {
            case join_type::inner:
                return materialize ? table1.join(table2, tostring_joiner, m) : table1.join(table2, tostring_joiner);
            case join_type::left:
                return materialize ? table1.left_join(table2, tostring_left_joiner, m)
                                   : table1.left_join(table2, tostring_left_joiner);
            case join_type::outer:
                break;
            }
            return materialize ? table1.outer_join(table2, tostring_outer_joiner, m)
                               : table1.outer_join(table2, tostring_outer_joiner);
        }();
        // Kafka Streams' test: joined.toStream().to(output), deletes as
        // tombstones (hence the optional value).
        joined.map_values([](const std::string& v) { return opt(v); }).to_stream().to("output");
        // ... and the changes themselves, as MockApiProcessor records them.
        eddy::kstream<int, eddy::change<std::string>>(eddy::dsl::internal::access::graph(joined), joined.node_name())
            .map_values([](const eddy::change<std::string>& c) { return show(c); })
            .to("changes");
        return builder.build();
    }

    void pipe(int side, int key, const opt& value, std::int64_t ts) {
        (side == 1 ? in1 : in2).pipe_input(key, value, ts);
    }

    // The eight steps of the Java tests; after each, `check(step)`.
    template<typename Check>
    void run(Check check) {
        for (int i = 0; i < 2; ++i) {
            pipe(1, expected_keys[i], "X" + std::to_string(i), 5 + i);
        }
        check(1);
        for (int i = 0; i < 2; ++i) {
            pipe(2, expected_keys[i], "Y" + std::to_string(i), 10 * i);
        }
        check(2);
        for (int k : expected_keys) {
            pipe(1, k, "XX" + std::to_string(k), 7);
        }
        check(3);
        for (int k : expected_keys) {
            pipe(2, k, "YY" + std::to_string(k), k * 5);
        }
        check(4);
        for (int k : expected_keys) {
            pipe(1, k, "XXX" + std::to_string(k), 6);
        }
        check(5);
        pipe(2, expected_keys[0], std::nullopt, 5);
        pipe(2, expected_keys[1], std::nullopt, 7);
        check(6);
        for (int k : expected_keys) {
            pipe(1, k, "XXXX" + std::to_string(k), 13);
        }
        check(7);
        pipe(1, expected_keys[0], std::nullopt, 0);
        pipe(1, expected_keys[1], std::nullopt, 42);
        pipe(1, expected_keys[2], std::nullopt, 5);
        pipe(1, expected_keys[3], std::nullopt, 20);
        check(8);
    }

    change_rows changes_out() {
        change_rows got;
        for (const auto& r : changes.read_records_to_list()) {
            const auto bar = r.value.find('|');
            auto part = [](const std::string& s) { return s == "null" ? opt() : opt(s); };
            got.emplace_back(r.key, part(r.value.substr(0, bar)), part(r.value.substr(bar + 1)), r.timestamp);
        }
        return got;
    }
    // The output topic: new values, deletes as tombstones.
    std::vector<std::tuple<int, opt, std::int64_t>> stream_out() {
        std::vector<std::tuple<int, opt, std::int64_t>> got;
        for (const auto& r : output.read_records_to_list()) {
            got.emplace_back(r.key, r.value, r.timestamp);
        }
        return got;
    }

    eddy::topology_test_driver driver;
    eddy::test_input_topic<int, opt> in1 = driver.create_input_topic<int, opt>("topic1");
    eddy::test_input_topic<int, opt> in2 = driver.create_input_topic<int, opt>("topic2");
    eddy::test_output_topic<int, opt> output = driver.create_output_topic<int, opt>("output");
    eddy::test_output_topic<int, std::string> changes = driver.create_output_topic<int, std::string>("changes");
};

const opt none;

// The changes (new, old, timestamp) each step makes, per join type: Kafka
// Streams' testSendingOldValues expectations.
std::vector<change_rows> expected_changes(join_type type) {
    const bool left = type != join_type::inner;
    std::vector<change_rows> steps(9);
    if (left) {
        steps[1] = {{0, "X0+null", none, 5}, {1, "X1+null", none, 6}};
        steps[2] = {{0, "X0+Y0", "X0+null", 5}, {1, "X1+Y1", "X1+null", 10}};
        steps[3] = {{0, "XX0+Y0", "X0+Y0", 7}, {1, "XX1+Y1", "X1+Y1", 10}, {2, "XX2+null", none, 7},
            {3, "XX3+null", none, 7}};
        steps[4] = {{0, "XX0+YY0", "XX0+Y0", 7}, {1, "XX1+YY1", "XX1+Y1", 7}, {2, "XX2+YY2", "XX2+null", 10},
            {3, "XX3+YY3", "XX3+null", 15}};
        steps[6] = {{0, "XXX0+null", "XXX0+YY0", 6}, {1, "XXX1+null", "XXX1+YY1", 7}};
        steps[7] = {{0, "XXXX0+null", "XXX0+null", 13}, {1, "XXXX1+null", "XXX1+null", 13},
            {2, "XXXX2+YY2", "XXX2+YY2", 13}, {3, "XXXX3+YY3", "XXX3+YY3", 15}};
        steps[8] = {{0, none, "XXXX0+null", 0}, {1, none, "XXXX1+null", 42}, {2, none, "XXXX2+YY2", 10},
            {3, none, "XXXX3+YY3", 20}};
    } else {
        steps[2] = {{0, "X0+Y0", none, 5}, {1, "X1+Y1", none, 10}};
        steps[3] = {{0, "XX0+Y0", "X0+Y0", 7}, {1, "XX1+Y1", "X1+Y1", 10}};
        steps[4] = {{0, "XX0+YY0", "XX0+Y0", 7}, {1, "XX1+YY1", "XX1+Y1", 7}, {2, "XX2+YY2", none, 10},
            {3, "XX3+YY3", none, 15}};
        steps[6] = {{0, none, "XXX0+YY0", 6}, {1, none, "XXX1+YY1", 7}};
        steps[7] = {{2, "XXXX2+YY2", "XXX2+YY2", 13}, {3, "XXXX3+YY3", "XXX3+YY3", 15}};
        steps[8] = {{2, none, "XXXX2+YY2", 10}, {3, none, "XXXX3+YY3", 20}};
    }
    steps[5] = {{0, "XXX0+YY0", "XX0+YY0", 6}, {1, "XXX1+YY1", "XX1+YY1", 6}, {2, "XXX2+YY2", "XX2+YY2", 10},
        {3, "XXX3+YY3", "XX3+YY3", 15}};
    if (type == join_type::outer) {
        // A left delete leaves the right row alone in the result.
        steps[8][2] = {2, "null+YY2", "XXXX2+YY2", 10};
        steps[8][3] = {3, "null+YY3", "XXXX3+YY3", 20};
    }
    return steps;
}

void expect_changes(join_type type, bool materialize) {
    table_join_fixture f(type, materialize);
    const auto expected = expected_changes(type);
    f.run([&](int step) { EXPECT_EQ(f.changes_out(), expected[static_cast<std::size_t>(step)]) << "step " << step; });
}

// testJoin: what joined.toStream().to(output) receives, step by step.
void expect_stream(join_type type, bool materialize) {
    table_join_fixture f(type, materialize);
    const auto expected = expected_changes(type);
    f.run([&](int step) {
        std::vector<std::tuple<int, opt, std::int64_t>> want;
        for (const auto& [k, now, before, ts] : expected[static_cast<std::size_t>(step)]) {
            want.emplace_back(k, now, ts);
        }
        EXPECT_EQ(f.stream_out(), want) << "step " << step;
    });
}

TEST(KTableKTableInnerJoinTest, TestJoin) {
    expect_stream(join_type::inner, false);
}

TEST(KTableKTableInnerJoinTest, TestQueryableJoin) {
    expect_stream(join_type::inner, true);
}

TEST(KTableKTableInnerJoinTest, TestSendingOldValues) {
    expect_changes(join_type::inner, false);
}

TEST(KTableKTableInnerJoinTest, TestQueryableSendingOldValues) {
    expect_changes(join_type::inner, true);
}

TEST(KTableKTableInnerJoinTest, ShouldRequireCopartitionedTables) {
    auto topology = table_join_fixture::build(join_type::inner, false);
    ASSERT_EQ(topology.subtopology_count(), 1U);
    auto topics = topology.source_topics(0);
    std::sort(topics.begin(), topics.end());
    EXPECT_EQ(topics, (std::vector<std::string>{"topic1", "topic2"}));
}

TEST(KTableKTableInnerJoinTest, TheMaterialisedResultIsQueryableWithItsTimestamps) {
    table_join_fixture f(join_type::inner, true);
    f.run([&](int step) {
        if (step == 5) {
            auto store = f.driver.get_key_value_store<int, std::string>("joined-store");
            EXPECT_EQ(store.all().to_vector(), (std::vector<eddy::key_value<int, std::string>>{
                                       {0, "XXX0+YY0"}, {1, "XXX1+YY1"}, {2, "XXX2+YY2"}, {3, "XXX3+YY3"}}));
            auto stamped = f.driver.get_key_value_store<int, eddy::timestamped<std::string>>("joined-store");
            EXPECT_EQ(stamped.get(3), (eddy::timestamped<std::string>{"XXX3+YY3", 15}));
        }
        if (step == 6) {
            auto store = f.driver.get_key_value_store<int, std::string>("joined-store");
            EXPECT_EQ(store.all().to_vector(),
                (std::vector<eddy::key_value<int, std::string>>{{2, "XXX2+YY2"}, {3, "XXX3+YY3"}}));
        }
    });
    EXPECT_TRUE((f.driver.get_key_value_store<int, std::string>("joined-store").all().empty()));
}

TEST(KTableKTableLeftJoinTest, TestJoin) {
    expect_stream(join_type::left, false);
}

TEST(KTableKTableLeftJoinTest, TestSendingOldValue) {
    expect_changes(join_type::left, false);
}

TEST(KTableKTableLeftJoinTest, TestQueryableSendingOldValue) {
    expect_changes(join_type::left, true);
}

TEST(KTableKTableOuterJoinTest, TestJoin) {
    expect_stream(join_type::outer, false);
}

TEST(KTableKTableOuterJoinTest, TestSendingOldValue) {
    expect_changes(join_type::outer, false);
}

TEST(KTableKTableOuterJoinTest, ARightRowAloneJoinsWithANullLeft) {
    table_join_fixture f(join_type::outer, false);
    f.pipe(2, 7, "Y7", 3);
    f.pipe(1, 7, "X7", 4);
    f.pipe(2, 7, std::nullopt, 9);
    f.pipe(1, 7, std::nullopt, 10);
    EXPECT_EQ(f.changes_out(), (change_rows{{7, "null+Y7", none, 3}, {7, "X7+Y7", "null+Y7", 4},
                                   {7, "X7+null", "X7+Y7", 9}, {7, none, "X7+null", 10}}));
}

// The old values let a regrouping downstream retract: counting the joined
// rows per value of the join stays right through updates and deletes.
TEST(KTableKTableInnerJoinTest, AnAggregationDownstreamRetractsThroughUpdatesAndDeletes) {
    eddy::streams_builder builder;
    auto users = builder.table<std::string, std::string>("users");      // user -> city
    auto plans = builder.table<std::string, std::string>("plans");      // user -> plan
    users.join(plans, [](const std::string& city, const std::string& plan) { return city + "/" + plan; })
        .group_by([](const std::string& user, const std::string& city_plan) {
            return eddy::key_value<std::string, std::string>{city_plan, user};
        })
        .count(eddy::materialized<std::string, std::int64_t>::as("per-city-plan"));
    eddy::topology_test_driver driver(builder.build());
    auto u = driver.create_input_topic<std::string, opt>("users");
    auto p = driver.create_input_topic<std::string, opt>("plans");
    u.pipe_input("ann", "oslo");
    u.pipe_input("bob", "oslo");
    p.pipe_input("ann", "pro");
    p.pipe_input("bob", "pro");
    p.pipe_input("bob", "free"); // bob moves from oslo/pro to oslo/free
    u.pipe_input("ann", "rome"); // ann moves to rome/pro
    p.pipe_input("ann", std::nullopt); // ann's row leaves the join
    auto counts = driver.get_key_value_store<std::string, std::int64_t>("per-city-plan");
    EXPECT_EQ(counts.get("oslo/pro"), 0);
    EXPECT_EQ(counts.get("oslo/free"), 1);
    EXPECT_EQ(counts.get("rome/pro"), 0);
}

TEST(KTableKTableInnerJoinTest, NamedJoinNodesFollowKafkaStreamsNames) {
    eddy::streams_builder builder;
    auto a = builder.table<int, std::string>("a");
    auto b = builder.table<int, std::string>("b");
    auto j = a.join(b, tostring_joiner, eddy::named::as("ab"));
    EXPECT_EQ(j.node_name(), "ab");
    EXPECT_TRUE(j.queryable_store_name().empty());
    const auto text = builder.build().describe().to_string();
    EXPECT_THAT(text, HasSubstr("Processor: ab-join-this (stores: [b-STATE-STORE-0000000004])"));
    EXPECT_THAT(text, HasSubstr("Processor: ab-join-other (stores: [a-STATE-STORE-0000000001])"));
    EXPECT_THAT(text, HasSubstr("<-- ab-join-other, ab-join-this"));
}

} // namespace
