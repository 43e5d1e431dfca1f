// ktable::transform_values on the test driver: a transformer that keeps
// state in a declared store, materialised and queried; both sides of a
// change transformed when not materialised (so a regrouping downstream
// retracts the transformed old value); a store that is not declared fails
// build() naming the node.

#include <cctype>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eddy.h"

namespace {

using eddy::key_value;
using testing::HasSubstr;
using testing::ThrowsMessage;

using string_kvs = std::vector<key_value<std::string, std::string>>;
using count_kvs = std::vector<key_value<std::string, std::int64_t>>;
using opt = std::optional<std::string>;

// Counts how often each key changed, in the store "changes", and tags the
// value with that count: "<value>#<n>".
class count_changes final : public eddy::value_transformer_with_key<std::string, std::string, std::string> {
public:
    void init(eddy::value_transformer_context& context) override {
        value_transformer_with_key::init(context);
        _changes.emplace(context.get_key_value_store<std::string, std::int64_t>("changes"));
    }
    std::string transform(const std::string& key, const std::string& value) override {
        const auto n = _changes->get(key).value_or(0) + 1;
        _changes->put(key, n);
        return value + "#" + std::to_string(n);
    }

private:
    std::optional<eddy::key_value_store<std::string, std::int64_t>> _changes;
};

class upper final : public eddy::value_transformer_with_key<std::string, std::string, std::string> {
public:
    std::string transform(const std::string&, const std::string& value) override {
        std::string out = value;
        for (auto& c : out) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        return out;
    }
};

void add_changes_store(eddy::streams_builder& builder) {
    builder.add_state_store(eddy::stores::key_value_store_builder(
        eddy::stores::in_memory_key_value_store("changes"), eddy::serdes::string{}, eddy::serdes::int64{}));
}

TEST(TransformValuesTest, AStoreUsingTransformerIsMaterialisedAndQueryable) {
    eddy::streams_builder builder;
    add_changes_store(builder);
    auto counted = builder.stream<std::string, std::string>("users")
                       .to_table()
                       .transform_values([] { return std::make_unique<count_changes>(); },
                           eddy::materialized<std::string, std::string>::as("counted"), eddy::named::as("count-changes"),
                           {"changes"});
    EXPECT_EQ(counted.queryable_store_name(), "counted");
    counted.to_stream().to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("users");
    in.pipe_input("A", "a1", 10);
    in.pipe_input("B", "b1", 20);
    in.pipe_input("A", "a2", 30);
    in.pipe_input("A", "a3", 40);
    auto out = driver.create_output_topic<std::string, std::string>("out");
    std::vector<eddy::record<std::string, std::string>> expected{
        {"A", "a1#1", 10, {}}, {"B", "b1#1", 20, {}}, {"A", "a2#2", 30, {}}, {"A", "a3#3", 40, {}}};
    EXPECT_EQ(out.read_records_to_list(), expected);
    // Materialised: each change transformed once (the old value is the
    // stored one), so the counts are the number of changes.
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("changes").all().to_vector()), (count_kvs{{"A", 3}, {"B", 1}}));
    EXPECT_EQ((driver.get_key_value_store<std::string, std::string>("counted").all().to_vector()),
        (string_kvs{{"A", "a3#3"}, {"B", "b1#1"}}));
}

// Upper-cases an optional value (a table that deletes keeps an optional one).
class upper_opt final : public eddy::value_transformer_with_key<std::string, opt, opt> {
public:
    opt transform(const std::string& key, const opt& value) override { return upper{}.transform(key, value.value_or("")); }
};

TEST(TransformValuesTest, AMaterialisedTransformDeletesTheRowsItsTableDeletes) {
    eddy::streams_builder builder;
    builder.table<std::string, opt>("users")
        .transform_values([] { return std::make_unique<upper_opt>(); }, eddy::materialized<std::string, opt>::as("upper-users"))
        .to_stream()
        .to("out");
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, opt>("users");
    in.pipe_input("A", "alice");
    in.pipe_input("B", "bob");
    in.pipe_input("A", std::nullopt);
    in.pipe_input("X", std::nullopt); // never there: nothing changes
    auto out = driver.create_output_topic<std::string, opt>("out");
    EXPECT_EQ(out.read_key_values_to_list(),
        (std::vector<key_value<std::string, opt>>{{"A", "ALICE"}, {"B", "BOB"}, {"A", std::nullopt}}));
    EXPECT_EQ((driver.get_key_value_store<std::string, opt>("upper-users").all().to_vector()),
        (std::vector<key_value<std::string, opt>>{{"B", "BOB"}}));
}

TEST(TransformValuesTest, BothSidesOfAChangeAreTransformedSoARegroupingRetractsTheTransformedOldValue) {
    eddy::streams_builder builder;
    builder.table<std::string, std::string>("colours")
        .transform_values([] { return std::make_unique<upper>(); })
        .group_by([](const std::string&, const std::string& c) { return key_value<std::string, std::string>{c, c}; })
        .count(eddy::materialized<std::string, std::int64_t>::as("per-colour"));
    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("colours");
    in.pipe_input("A", "red");
    in.pipe_input("B", "red");
    in.pipe_input("A", "blue"); // RED retracted (as RED, not red), BLUE added
    EXPECT_EQ((driver.get_key_value_store<std::string, std::int64_t>("per-colour").all().to_vector()),
        (count_kvs{{"BLUE", 1}, {"RED", 1}}));
}

TEST(TransformValuesTest, AStoreThatIsNotDeclaredFailsTheBuildNamingTheNode) {
    eddy::streams_builder builder;
    builder.table<std::string, std::string>("users").transform_values(
        [] { return std::make_unique<count_changes>(); }, eddy::named::as("count-changes"), {"changes"});
    EXPECT_THAT([&] { (void)builder.build(); },
        ThrowsMessage<eddy::topology_error>(HasSubstr("processor count-changes: uses store changes, which is not declared")));
}

} // namespace
