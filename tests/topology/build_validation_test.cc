// build() rejects a topology that cannot run, with a message naming the node.

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "topology/streams_builder.h"

namespace {

using ::testing::HasSubstr;

// A value type with no default serde.
struct opaque {
    int n = 0;
};

std::string build_error(eddy::streams_builder& builder) {
    try {
        builder.build();
    } catch (const eddy::topology_error& e) {
        return e.what();
    }
    return "<built>";
}

TEST(BuildValidationTest, TwoNodesWithOneNameAreRejected) {
    eddy::streams_builder builder;
    auto s = builder.stream<std::string, std::string>("in");
    s.filter([](const std::string&, const std::string&) { return true; }, eddy::named::as("twice")).to("a");
    s.peek([](const std::string&, const std::string&) {}, eddy::named::as("twice")).to("b");
    EXPECT_THAT(build_error(builder), HasSubstr("node twice: the name is used by two nodes"));
}

TEST(BuildValidationTest, ASourceOrSinkWithoutSerdeIsRejectedNamingNodeAndType) {
    eddy::streams_builder builder;
    builder.stream<std::string, opaque>("in", eddy::consumed<std::string, opaque>::as("opaque-source"))
        .map_values([](const opaque& o) { return o.n; })
        .to("out");
    auto msg = build_error(builder);
    EXPECT_THAT(msg, HasSubstr("source opaque-source: no value serde for type (anonymous namespace)::opaque"));
}

TEST(BuildValidationTest, ASinkWithoutSerdeIsRejected) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .map_values([](const std::string&) { return opaque{}; })
        .to("out", eddy::produced<std::string, opaque>::as("opaque-sink"));
    EXPECT_THAT(build_error(builder), HasSubstr("sink opaque-sink: no value serde"));
}

TEST(BuildValidationTest, ATopicReadByTwoSourcesIsRejected) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in").to("a");
    builder.stream<std::string, std::string>("in", eddy::consumed<std::string, std::string>::as("second")).to("b");
    EXPECT_THAT(build_error(builder),
        HasSubstr("source second: topic in is already read by source KSTREAM-SOURCE-0000000000"));
}

TEST(BuildValidationTest, EmptyTopicNamesAreRejected) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("").to("", eddy::produced<std::string, std::string>::as("nowhere"));
    auto msg = build_error(builder);
    EXPECT_THAT(msg, HasSubstr("source KSTREAM-SOURCE-0000000000: a topic name is empty"));
    EXPECT_THAT(msg, HasSubstr("sink nowhere: has no topic"));
}

TEST(BuildValidationTest, ParentsThatAreMissingOrDownstreamAreRejected) {
    // The DSL cannot make these; a hand-made graph can, and build() must
    // still refuse it.
    using eddy::dsl::internal::graph_node;
    using eddy::dsl::internal::node_kind;
    auto factory = [] { return std::unique_ptr<eddy::operators::internal::node_instance>(); };
    auto node = [&](std::string name, std::string parent) {
        graph_node n;
        n.name = std::move(name);
        n.kind = node_kind::processor;
        n.parents = {std::move(parent)};
        n.factory = factory;
        return n;
    };
    std::vector<graph_node> nodes{node("a", "b"), node("b", "a"), node("c", "ghost")};
    try {
        auto t = eddy::dsl::internal::access::make<eddy::topology>(std::move(nodes));
        FAIL() << "expected a topology_error";
    } catch (const eddy::topology_error& e) {
        EXPECT_THAT(e.what(), HasSubstr("node a: parent b is not upstream of it (a cycle or a parent added later)"));
        EXPECT_THAT(e.what(), HasSubstr("node c: parent ghost is not in the topology"));
    }
}

TEST(BuildValidationTest, AValidTopologyBuilds) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in").to("out");
    EXPECT_EQ(build_error(builder), "<built>");
}

} // namespace
