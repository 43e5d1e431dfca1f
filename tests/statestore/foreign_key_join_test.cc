// Foreign-key table-table joins on the test driver, ported from Kafka
// Streams' KTableKTableForeignKeyJoinIntegrationTest (each scenario for the
// inner and the left join, with and without a materialised result): the same
// inputs, the same outputs (tombstones included) and final store contents;
// plus the internal topics, the subscription store and null foreign keys.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eddy.h"

namespace {

using opt = std::optional<std::string>;
using result_map = std::map<std::string, opt>;

// "lhsValue1|rhs1" -> "rhs1" (Kafka's test splits on '|').
std::string foreign_key_of(const std::string& v) {
    return v.substr(v.find('|') + 1);
}
// "(left,right)", a missing right side "null".
const auto joiner = [](const std::string& a, const std::string& b) -> opt { return "(" + a + "," + b + ")"; };
const auto left_joiner = [](const std::string& a, const opt& b) -> opt {
    return "(" + a + "," + b.value_or("null") + ")";
};

struct fk_param {
    bool left_join;
    bool materialized;
};

std::string param_name(const testing::TestParamInfo<fk_param>& p) {
    return std::string(p.param.left_join ? "Left" : "Inner") + (p.param.materialized ? "Materialized" : "Plain");
}

eddy::topology build(const fk_param& p) {
    eddy::streams_builder builder;
    auto left = builder.table<std::string, std::string>("left_table");
    auto right = builder.table<std::string, std::string>("right_table");
    const auto m = eddy::materialized<std::string, opt>::as("store");
    const auto extractor = [](const std::string& v) { return foreign_key_of(v); };
    eddy::ktable<std::string, opt> joined = [&] {
        if (p.left_join) {
            return p.materialized ? left.left_join(right, extractor, left_joiner, m)
                                  : left.left_join(right, extractor, left_joiner);
        }
        return p.materialized ? left.join(right, extractor, joiner, m) : left.join(right, extractor, joiner);
    }();
    joined.to_stream().to("output");
    return builder.build();
}

class foreign_key_join : public testing::TestWithParam<fk_param> {
protected:
    foreign_key_join() : driver(build(GetParam())) {}

    bool left_join() const { return GetParam().left_join; }
    bool materialized() const { return GetParam().materialized; }

    // The output topic's latest value per key, a tombstone kept as null (as
    // Kafka's readKeyValuesToMap keeps it).
    result_map read_output() {
        result_map got;
        while (!out.is_empty()) {
            auto kv = out.read_key_value();
            got.insert_or_assign(kv.key, kv.value);
        }
        return got;
    }
    std::map<std::string, std::string> store_contents() {
        std::map<std::string, std::string> got;
        for (const auto& kv : driver.get_key_value_store<std::string, opt>("store").all()) {
            got.emplace(kv.key, kv.value.value_or("<null>"));
        }
        return got;
    }
    // Asserts the store (when materialised) holds `expected`.
    void expect_store(const std::map<std::string, std::string>& expected) {
        if (materialized()) {
            EXPECT_EQ(store_contents(), expected);
        }
    }

    eddy::topology_test_driver driver;
    eddy::test_input_topic<std::string, opt> left = driver.create_input_topic<std::string, opt>("left_table");
    eddy::test_input_topic<std::string, opt> right = driver.create_input_topic<std::string, opt>("right_table");
    eddy::test_output_topic<std::string, opt> out = driver.create_output_topic<std::string, opt>("output");
};

TEST_P(foreign_key_join, DoJoinFromLeftThenDeleteLeftEntity) {
    right.pipe_input("rhs1", "rhsValue1");
    right.pipe_input("rhs2", "rhsValue2");
    right.pipe_input("rhs3", "rhsValue3"); // an unreferenced key shows up in no result
    EXPECT_EQ(read_output(), result_map{});
    expect_store({});

    left.pipe_input("lhs1", "lhsValue1|rhs1");
    left.pipe_input("lhs2", "lhsValue2|rhs2");
    EXPECT_EQ(read_output(),
        (result_map{{"lhs1", "(lhsValue1|rhs1,rhsValue1)"}, {"lhs2", "(lhsValue2|rhs2,rhsValue2)"}}));
    expect_store({{"lhs1", "(lhsValue1|rhs1,rhsValue1)"}, {"lhs2", "(lhsValue2|rhs2,rhsValue2)"}});

    // Another reference to an existing foreign key.
    left.pipe_input("lhs3", "lhsValue3|rhs1");
    EXPECT_EQ(read_output(), (result_map{{"lhs3", "(lhsValue3|rhs1,rhsValue1)"}}));
    expect_store({{"lhs1", "(lhsValue1|rhs1,rhsValue1)"}, {"lhs2", "(lhsValue2|rhs2,rhsValue2)"},
        {"lhs3", "(lhsValue3|rhs1,rhsValue1)"}});

    // Deleting a left row propagates a delete.
    left.pipe_input("lhs1", std::nullopt);
    EXPECT_EQ(read_output(), (result_map{{"lhs1", std::nullopt}}));
    expect_store({{"lhs2", "(lhsValue2|rhs2,rhsValue2)"}, {"lhs3", "(lhsValue3|rhs1,rhsValue1)"}});
}

TEST_P(foreign_key_join, DoJoinFromRightThenDeleteRightEntity) {
    left.pipe_input("lhs1", "lhsValue1|rhs1");
    left.pipe_input("lhs2", "lhsValue2|rhs2");
    left.pipe_input("lhs3", "lhsValue3|rhs1");
    const result_map half{{"lhs1", "(lhsValue1|rhs1,null)"}, {"lhs2", "(lhsValue2|rhs2,null)"},
        {"lhs3", "(lhsValue3|rhs1,null)"}};
    EXPECT_EQ(read_output(), left_join() ? half : result_map{});
    if (left_join()) {
        expect_store({{"lhs1", "(lhsValue1|rhs1,null)"}, {"lhs2", "(lhsValue2|rhs2,null)"},
            {"lhs3", "(lhsValue3|rhs1,null)"}});
    } else {
        expect_store({});
    }

    right.pipe_input("rhs1", "rhsValue1");
    EXPECT_EQ(read_output(),
        (result_map{{"lhs1", "(lhsValue1|rhs1,rhsValue1)"}, {"lhs3", "(lhsValue3|rhs1,rhsValue1)"}}));
    if (left_join()) {
        expect_store({{"lhs1", "(lhsValue1|rhs1,rhsValue1)"}, {"lhs2", "(lhsValue2|rhs2,null)"},
            {"lhs3", "(lhsValue3|rhs1,rhsValue1)"}});
    } else {
        expect_store({{"lhs1", "(lhsValue1|rhs1,rhsValue1)"}, {"lhs3", "(lhsValue3|rhs1,rhsValue1)"}});
    }

    right.pipe_input("rhs2", "rhsValue2");
    EXPECT_EQ(read_output(), (result_map{{"lhs2", "(lhsValue2|rhs2,rhsValue2)"}}));
    const std::map<std::string, std::string> all{{"lhs1", "(lhsValue1|rhs1,rhsValue1)"},
        {"lhs2", "(lhsValue2|rhs2,rhsValue2)"}, {"lhs3", "(lhsValue3|rhs1,rhsValue1)"}};
    expect_store(all);

    right.pipe_input("rhs3", "rhsValue3"); // unreferenced
    EXPECT_EQ(read_output(), result_map{});
    expect_store(all);

    // Deleting the right row: every subscribed left row gets a delete (inner)
    // or a result with no right side (left).
    right.pipe_input("rhs1", std::nullopt);
    if (left_join()) {
        EXPECT_EQ(read_output(),
            (result_map{{"lhs1", "(lhsValue1|rhs1,null)"}, {"lhs3", "(lhsValue3|rhs1,null)"}}));
        expect_store({{"lhs1", "(lhsValue1|rhs1,null)"}, {"lhs2", "(lhsValue2|rhs2,rhsValue2)"},
            {"lhs3", "(lhsValue3|rhs1,null)"}});
    } else {
        EXPECT_EQ(read_output(), (result_map{{"lhs1", std::nullopt}, {"lhs3", std::nullopt}}));
        expect_store({{"lhs2", "(lhsValue2|rhs2,rhsValue2)"}});
    }
}

TEST_P(foreign_key_join, ShouldEmitTombstoneWhenDeletingNonJoiningRecords) {
    left.pipe_input("lhs1", "lhsValue1|rhs1");
    if (left_join()) {
        EXPECT_EQ(read_output(), (result_map{{"lhs1", "(lhsValue1|rhs1,null)"}}));
        expect_store({{"lhs1", "(lhsValue1|rhs1,null)"}});
    } else {
        EXPECT_EQ(read_output(), result_map{});
        expect_store({});
    }
    // An inner join cannot know whether a result was emitted: an unneeded
    // tombstone; the left join's is needed.
    left.pipe_input("lhs1", std::nullopt);
    EXPECT_EQ(read_output(), (result_map{{"lhs1", std::nullopt}}));
    expect_store({});
    // Deleting a row that is gone again changes nothing.
    left.pipe_input("lhs1", std::nullopt);
    EXPECT_EQ(read_output(), result_map{});
    expect_store({});
}

TEST_P(foreign_key_join, ShouldNotEmitTombstonesWhenDeletingNonExistingRecords) {
    left.pipe_input("lhs1", std::nullopt);
    EXPECT_EQ(read_output(), result_map{});
    EXPECT_TRUE(out.is_empty());
    expect_store({});
}

TEST_P(foreign_key_join, JoinShouldProduceNullsWhenValueHasNonMatchingForeignKey) {
    left.pipe_input("lhs1", "lhsValue1|rhs1");
    // No output for an inner join on a missing key; the left join's half
    // result.
    EXPECT_EQ(read_output(), (left_join() ? result_map{{"lhs1", "(lhsValue1|rhs1,null)"}} : result_map{}));
    expect_store(left_join() ? std::map<std::string, std::string>{{"lhs1", "(lhsValue1|rhs1,null)"}}
                             : std::map<std::string, std::string>{});

    // Moving to another missing key: an unneeded tombstone (inner), a needed
    // update (left).
    left.pipe_input("lhs1", "lhsValue1|rhs2");
    EXPECT_EQ(read_output(), (result_map{{"lhs1", left_join() ? opt("(lhsValue1|rhs2,null)") : std::nullopt}}));
    expect_store(left_join() ? std::map<std::string, std::string>{{"lhs1", "(lhsValue1|rhs2,null)"}}
                             : std::map<std::string, std::string>{});
    left.pipe_input("lhs1", "lhsValue1|rhs3");
    EXPECT_EQ(read_output(), (result_map{{"lhs1", left_join() ? opt("(lhsValue1|rhs3,null)") : std::nullopt}}));
    expect_store(left_join() ? std::map<std::string, std::string>{{"lhs1", "(lhsValue1|rhs3,null)"}}
                             : std::map<std::string, std::string>{});

    // rhs1 was named before, not now: adding it changes nothing.
    right.pipe_input("rhs1", "rhsValue1");
    EXPECT_EQ(read_output(), result_map{});
    expect_store(left_join() ? std::map<std::string, std::string>{{"lhs1", "(lhsValue1|rhs3,null)"}}
                             : std::map<std::string, std::string>{});

    // Moving to a key that exists completes the join.
    left.pipe_input("lhs1", "lhsValue1|rhs1");
    EXPECT_EQ(read_output(), (result_map{{"lhs1", "(lhsValue1|rhs1,rhsValue1)"}}));
    expect_store({{"lhs1", "(lhsValue1|rhs1,rhsValue1)"}});

    // And moving away again: a tombstone (inner), an update (left).
    left.pipe_input("lhs1", "lhsValue1|rhs2");
    EXPECT_EQ(read_output(), (result_map{{"lhs1", left_join() ? opt("(lhsValue1|rhs2,null)") : std::nullopt}}));
    expect_store(left_join() ? std::map<std::string, std::string>{{"lhs1", "(lhsValue1|rhs2,null)"}}
                             : std::map<std::string, std::string>{});
}

TEST_P(foreign_key_join, ShouldUnsubscribeOldForeignKeyIfLeftSideIsUpdated) {
    right.pipe_input("rhs1", "rhsValue1");
    right.pipe_input("rhs2", "rhsValue2");
    EXPECT_EQ(read_output(), result_map{});
    expect_store({});

    left.pipe_input("lhs1", "lhsValue1|rhs1");
    EXPECT_EQ(read_output(), (result_map{{"lhs1", "(lhsValue1|rhs1,rhsValue1)"}}));
    expect_store({{"lhs1", "(lhsValue1|rhs1,rhsValue1)"}});

    // The foreign key changes.
    left.pipe_input("lhs1", "lhsValue1|rhs2");
    EXPECT_EQ(read_output(), (result_map{{"lhs1", "(lhsValue1|rhs2,rhsValue2)"}}));
    expect_store({{"lhs1", "(lhsValue1|rhs2,rhsValue2)"}});

    // An update of the old key's row reaches nobody.
    right.pipe_input("rhs1", "rhsValue1Delta");
    EXPECT_EQ(read_output(), result_map{});
    expect_store({{"lhs1", "(lhsValue1|rhs2,rhsValue2)"}});
}

TEST_P(foreign_key_join, RightUpdateReachesEverySubscriberWithItsLatestLeftValue) {
    right.pipe_input("rhs1", "a");
    left.pipe_input("lhs1", "x|rhs1");
    left.pipe_input("lhs2", "y|rhs1");
    left.pipe_input("lhs1", "x2|rhs1"); // same key, new value
    read_output();
    right.pipe_input("rhs1", "b");
    EXPECT_EQ(read_output(), (result_map{{"lhs1", "(x2|rhs1,b)"}, {"lhs2", "(y|rhs1,b)"}}));
    expect_store({{"lhs1", "(x2|rhs1,b)"}, {"lhs2", "(y|rhs1,b)"}});
}

INSTANTIATE_TEST_SUITE_P(Joins, foreign_key_join,
    testing::Values(fk_param{false, false}, fk_param{false, true}, fk_param{true, false}, fk_param{true, true}),
    param_name);

// ---------------------------------------------------------------------------
// Without the parameters: internal topics, the subscription store, ordering
// of superseded answers, null foreign keys, timestamps.

struct named_fixture {
    static eddy::topology build(bool left_join) {
        eddy::streams_builder builder;
        auto left = builder.table<std::string, std::string>("left_table");
        auto right = builder.table<std::string, std::string>("right_table");
        // An empty key ("|") is a null foreign key.
        const auto extractor = [](const std::string& v) -> opt {
            auto fk = foreign_key_of(v);
            return fk.empty() ? std::nullopt : opt(fk);
        };
        const auto m = eddy::materialized<std::string, opt>::as("store");
        auto joined = left_join ? left.left_join(right, extractor, left_joiner, m, eddy::named::as("fk"))
                                : left.join(right, extractor, joiner, m, eddy::named::as("fk"));
        joined.to_stream().to("output");
        return builder.build();
    }
};

result_map drain(eddy::test_output_topic<std::string, opt>& out) {
    result_map got;
    while (!out.is_empty()) {
        auto kv = out.read_key_value();
        got.insert_or_assign(kv.key, kv.value);
    }
    return got;
}

TEST(ForeignKeyJoinTest, InternalTopicsAndTheSubscriptionStoreAreNamedAfterTheJoin) {
    eddy::streams_config config;
    config.set(eddy::streams_config::application_id, "app");
    eddy::topology_test_driver driver(named_fixture::build(false), config);
    auto left = driver.create_input_topic<std::string, opt>("left_table");
    auto right = driver.create_input_topic<std::string, opt>("right_table");
    right.pipe_input("rhs1", "r");
    left.pipe_input("lhs1", "l|rhs1");
    EXPECT_TRUE(driver.store_names().contains("fk-subscription-store"));
    // The registration topic is keyed by the foreign key, the response topic
    // by the left key.
    auto registrations = driver.create_output_topic<std::string, std::string>(
        "app-fk-subscription-registration-topic", eddy::serdes::string{}, eddy::serdes::string{});
    EXPECT_EQ(registrations.read_key_value().key, "rhs1");
    auto responses = driver.create_output_topic<std::string, std::string>(
        "app-fk-subscription-response-topic", eddy::serdes::string{}, eddy::serdes::string{});
    EXPECT_EQ(responses.read_key_value().key, "lhs1");
    const auto names = eddy::topology(named_fixture::build(false)).describe().to_string();
    EXPECT_THAT(names, testing::HasSubstr("fk-subscription-registration-topic"));
    EXPECT_THAT(names, testing::HasSubstr("fk-subscription-response-topic"));
}

TEST(ForeignKeyJoinTest, SubscriptionStoreHoldsOneEntryPerLeftRowUnderItsCurrentForeignKey) {
    eddy::topology_test_driver driver(named_fixture::build(false));
    auto left = driver.create_input_topic<std::string, opt>("left_table");
    left.pipe_input("lhs1", "a|rhs1");
    left.pipe_input("lhs2", "b|rhs1");
    left.pipe_input("lhs1", "a|rhs2"); // moves
    left.pipe_input("lhs2", std::nullopt); // unsubscribes
    auto store = driver.get_key_value_store<eddy::operators::combined_key<std::string, std::string>,
        eddy::timestamped<eddy::operators::subscription_wrapper<std::string>>>("fk-subscription-store");
    std::vector<std::pair<std::string, std::string>> keys;
    for (const auto& kv : store.all()) {
        keys.emplace_back(kv.key.foreign_key, kv.key.primary_key.value_or("?"));
        EXPECT_EQ(kv.value.value.primary_key, "lhs1");
        EXPECT_TRUE(kv.value.value.hash.has_value());
    }
    EXPECT_EQ(keys, (std::vector<std::pair<std::string, std::string>>{{"rhs2", "lhs1"}}));
}

TEST(ForeignKeyJoinTest, NullForeignKeyInnerJoinEmitsNothingOrATombstoneForAPreviousResult) {
    eddy::topology_test_driver driver(named_fixture::build(false));
    auto left = driver.create_input_topic<std::string, opt>("left_table");
    auto right = driver.create_input_topic<std::string, opt>("right_table");
    auto out = driver.create_output_topic<std::string, opt>("output");
    right.pipe_input("rhs1", "r");
    left.pipe_input("lhs1", "a|");
    EXPECT_TRUE(out.is_empty());
    EXPECT_EQ(driver.dropped_records(), 1);
    left.pipe_input("lhs2", "b|rhs1");
    EXPECT_EQ(drain(out), (result_map{{"lhs2", "(b|rhs1,r)"}}));
    left.pipe_input("lhs2", "b|"); // the key goes: the result too
    EXPECT_EQ(drain(out), (result_map{{"lhs2", std::nullopt}}));
    EXPECT_TRUE((driver.get_key_value_store<std::string, opt>("store").all().empty()));
    right.pipe_input("rhs1", "r2"); // nobody subscribes any more
    EXPECT_TRUE(out.is_empty());
}

TEST(ForeignKeyJoinTest, NullForeignKeyLeftJoinEmitsWithAnEmptyRightSide) {
    eddy::topology_test_driver driver(named_fixture::build(true));
    auto left = driver.create_input_topic<std::string, opt>("left_table");
    auto right = driver.create_input_topic<std::string, opt>("right_table");
    auto out = driver.create_output_topic<std::string, opt>("output");
    right.pipe_input("rhs1", "r");
    left.pipe_input("lhs1", "a|");
    EXPECT_EQ(drain(out), (result_map{{"lhs1", "(a|,null)"}}));
    left.pipe_input("lhs1", "a|rhs1");
    EXPECT_EQ(drain(out), (result_map{{"lhs1", "(a|rhs1,r)"}}));
    left.pipe_input("lhs1", "b|"); // leaves rhs1
    EXPECT_EQ(drain(out), (result_map{{"lhs1", "(b|,null)"}}));
    right.pipe_input("rhs1", "r2");
    EXPECT_TRUE(out.is_empty());
    left.pipe_input("lhs1", std::nullopt);
    EXPECT_EQ(drain(out), (result_map{{"lhs1", std::nullopt}}));
    EXPECT_TRUE((driver.get_key_value_store<std::string, opt>("store").all().empty()));
}

TEST(ForeignKeyJoinTest, AnswerForASupersededLeftValueIsDropped) {
    // The answer to the first subscription arrives after the row moved on:
    // only the answer for the current value may produce a result.
    eddy::topology_test_driver driver(named_fixture::build(false));
    auto left = driver.create_input_topic<std::string, opt>("left_table");
    auto right = driver.create_input_topic<std::string, opt>("right_table");
    auto responses = driver.create_input_topic<std::string, std::string>(
        "topology-test-driver-fk-subscription-response-topic", eddy::serdes::string{}, eddy::serdes::string{});
    auto out = driver.create_output_topic<std::string, opt>("output");
    right.pipe_input("rhs1", "r1");
    right.pipe_input("rhs2", "r2");
    left.pipe_input("lhs1", "a|rhs1");
    EXPECT_EQ(drain(out), (result_map{{"lhs1", "(a|rhs1,r1)"}}));
    // Replay rhs1's answer for "a|rhs1" after lhs1 moved to rhs2.
    auto raw = driver.create_output_topic<std::string, std::string>(
        "topology-test-driver-fk-subscription-response-topic", eddy::serdes::string{}, eddy::serdes::string{});
    const auto stale = raw.read_key_value();
    left.pipe_input("lhs1", "a|rhs2");
    EXPECT_EQ(drain(out), (result_map{{"lhs1", "(a|rhs2,r2)"}}));
    responses.pipe_input(stale.key, stale.value);
    EXPECT_TRUE(out.is_empty());
    EXPECT_EQ((driver.get_key_value_store<std::string, opt>("store").get("lhs1")), opt("(a|rhs2,r2)"));
}

TEST(ForeignKeyJoinTest, ResultCarriesTheLaterOfTheTwoRowsTimes) {
    eddy::topology_test_driver driver(named_fixture::build(false));
    auto left = driver.create_input_topic<std::string, opt>("left_table");
    auto right = driver.create_input_topic<std::string, opt>("right_table");
    auto out = driver.create_output_topic<std::string, opt>("output");
    right.pipe_input("rhs1", "r", 100);
    left.pipe_input("lhs1", "a|rhs1", 50);
    auto first = out.read_record();
    EXPECT_EQ(first.timestamp, 100);
    right.pipe_input("rhs1", "r2", 70);
    auto second = out.read_record();
    EXPECT_EQ(second.value, opt("(a|rhs1,r2)"));
    EXPECT_EQ(second.timestamp, 70);
    left.pipe_input("lhs1", "b|rhs1", 200);
    EXPECT_EQ(out.read_record().timestamp, 200);
}

TEST(ForeignKeyJoinTest, KeyAwareJoinerGetsTheLeftKey) {
    eddy::streams_builder builder;
    auto left = builder.table<std::string, std::string>("left_table");
    auto right = builder.table<std::string, std::string>("right_table");
    left.join(
            right, [](const std::string& v) { return foreign_key_of(v); },
            [](const std::string& k, const std::string& a, const std::string& b) -> opt { return k + ":" + a + "+" + b; })
        .to_stream()
        .to("output");
    eddy::topology_test_driver driver(builder.build());
    driver.create_input_topic<std::string, opt>("right_table").pipe_input("rhs1", "r");
    driver.create_input_topic<std::string, opt>("left_table").pipe_input("lhs1", "a|rhs1");
    auto out = driver.create_output_topic<std::string, opt>("output");
    EXPECT_EQ(drain(out), (result_map{{"lhs1", "lhs1:a|rhs1+r"}}));
}

TEST(ForeignKeyJoinTest, GeneratedNamesWithoutANamed) {
    eddy::streams_builder builder;
    auto left = builder.table<std::string, std::string>("left_table");
    auto right = builder.table<std::string, std::string>("right_table");
    left.join(right, [](const std::string& v) { return foreign_key_of(v); }, joiner).to_stream().to("output");
    const auto t = builder.build();
    const auto text = t.describe().to_string();
    EXPECT_THAT(text, testing::MatchesRegex(".*KTABLE-FK-JOIN-[0-9]{10}-subscription-registration-topic.*"));
    EXPECT_THAT(text, testing::MatchesRegex(".*KTABLE-FK-JOIN-[0-9]{10}-subscription-store.*"));
}

TEST(ForeignKeyJoinTest, ValueHashTellsValuesApart) {
    // Same bytes, same hash; a change in a full 16-byte block or in the tail
    // changes it.
    const auto a = eddy::operators::murmur3_128("lhsValue1|rhs1");
    EXPECT_EQ(a, eddy::operators::murmur3_128("lhsValue1|rhs1"));
    EXPECT_NE(a, eddy::operators::murmur3_128("lhsValue1|rhs2"));
    EXPECT_NE(eddy::operators::murmur3_128("0123456789abcdef"), eddy::operators::murmur3_128("0123456789abcdeg"));
    EXPECT_NE(eddy::operators::murmur3_128("0123456789abcdefX"), eddy::operators::murmur3_128("0123456789abcdefY"));
}

} // namespace
