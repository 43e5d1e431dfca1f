// describe(): Kafka Streams' text format and a Mermaid graph.

#include <string>

#include <gtest/gtest.h>

#include "topology/streams_builder.h"

namespace {

using sv = std::string_view;

eddy::topology three_branches() {
    eddy::streams_builder builder;
    auto branches = builder.stream<std::string, std::string>("todo.tasks")
                        .filter([](const std::string&, const std::string& v) { return !v.empty(); })
                        .split(eddy::named::as("route-"))
                        .branch([](const std::string&, const std::string& v) { return v == "urgent"; },
                            eddy::branched<std::string, std::string>::as("urgent"))
                        .branch([](const std::string&, const std::string& v) { return v == "normal"; },
                            eddy::branched<std::string, std::string>::as("normal"))
                        .default_branch(eddy::branched<std::string, std::string>::as("rest"));
    branches.at("route-urgent").to("todo.urgent");
    branches.at("route-normal").to("todo.normal");
    branches.at("route-rest").to("todo.rest");
    return builder.build();
}

TEST(DescribeTest, ThreeBranchTopologyInKafkaStreamsTextFormat) {
    const std::string expected =
        "Topologies:\n"
        "   Sub-topology: 0\n"
        "    Source: KSTREAM-SOURCE-0000000000 (topics: [todo.tasks])\n"
        "      --> KSTREAM-FILTER-0000000001\n"
        "    Processor: KSTREAM-FILTER-0000000001 (stores: [])\n"
        "      --> route-\n"
        "      <-- KSTREAM-SOURCE-0000000000\n"
        "    Processor: route- (stores: [])\n"
        "      --> route-normal, route-rest, route-urgent\n"
        "      <-- KSTREAM-FILTER-0000000001\n"
        "    Processor: route-normal (stores: [])\n"
        "      --> KSTREAM-SINK-0000000007\n"
        "      <-- route-\n"
        "    Processor: route-rest (stores: [])\n"
        "      --> KSTREAM-SINK-0000000008\n"
        "      <-- route-\n"
        "    Processor: route-urgent (stores: [])\n"
        "      --> KSTREAM-SINK-0000000006\n"
        "      <-- route-\n"
        "    Sink: KSTREAM-SINK-0000000006 (topic: todo.urgent)\n"
        "      <-- route-urgent\n"
        "    Sink: KSTREAM-SINK-0000000007 (topic: todo.normal)\n"
        "      <-- route-normal\n"
        "    Sink: KSTREAM-SINK-0000000008 (topic: todo.rest)\n"
        "      <-- route-rest\n"
        "\n";
    EXPECT_EQ(three_branches().describe().to_string(), expected);
}

TEST(DescribeTest, ThreeBranchTopologyAsMermaid) {
    const std::string expected =
        "flowchart TD\n"
        "    t2[(\"todo.normal\")]\n"
        "    t3[(\"todo.rest\")]\n"
        "    t0[(\"todo.tasks\")]\n"
        "    t1[(\"todo.urgent\")]\n"
        "    subgraph sub0[\"Sub-topology: 0\"]\n"
        "        n0[\"KSTREAM-SOURCE-0000000000\"]\n"
        "        n1[\"KSTREAM-FILTER-0000000001\"]\n"
        "        n2[\"route-\"]\n"
        "        n3[\"route-normal\"]\n"
        "        n4[\"route-rest\"]\n"
        "        n5[\"route-urgent\"]\n"
        "        n6[\"KSTREAM-SINK-0000000006\"]\n"
        "        n7[\"KSTREAM-SINK-0000000007\"]\n"
        "        n8[\"KSTREAM-SINK-0000000008\"]\n"
        "    end\n"
        "    t0 --> n0\n"
        "    n0 --> n1\n"
        "    n1 --> n2\n"
        "    n2 --> n3\n"
        "    n2 --> n4\n"
        "    n2 --> n5\n"
        "    n3 --> n7\n"
        "    n4 --> n8\n"
        "    n5 --> n6\n"
        "    n6 --> t1\n"
        "    n7 --> t2\n"
        "    n8 --> t3\n";
    EXPECT_EQ(three_branches().describe().to_mermaid(), expected);
}

TEST(DescribeTest, UnconnectedPartsAreSeparateSubTopologiesNumberedInOrderOfCreation) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("b-in").to("b-out");
    auto a = builder.stream<std::string, std::string>("a-in");
    auto c = builder.stream<std::string, std::string>("c-in");
    a.merge(c).to([](const std::string& k, const std::string&) { return k; });
    auto topology = builder.build();
    ASSERT_EQ(topology.subtopology_count(), 2U);
    EXPECT_EQ(topology.subtopology_of("b-in"), 0);
    EXPECT_EQ(topology.subtopology_of("a-in"), 1);
    EXPECT_EQ(topology.subtopology_of("c-in"), 1);
    EXPECT_EQ(topology.subtopology_of("b-out"), std::nullopt);
    const std::string expected =
        "Topologies:\n"
        "   Sub-topology: 0\n"
        "    Source: KSTREAM-SOURCE-0000000000 (topics: [b-in])\n"
        "      --> KSTREAM-SINK-0000000001\n"
        "    Sink: KSTREAM-SINK-0000000001 (topic: b-out)\n"
        "      <-- KSTREAM-SOURCE-0000000000\n"
        "\n"
        "  Sub-topology: 1\n"
        "    Source: KSTREAM-SOURCE-0000000002 (topics: [a-in])\n"
        "      --> KSTREAM-MERGE-0000000004\n"
        "    Source: KSTREAM-SOURCE-0000000003 (topics: [c-in])\n"
        "      --> KSTREAM-MERGE-0000000004\n"
        "    Processor: KSTREAM-MERGE-0000000004 (stores: [])\n"
        "      --> KSTREAM-SINK-0000000005\n"
        "      <-- KSTREAM-SOURCE-0000000002, KSTREAM-SOURCE-0000000003\n"
        "    Sink: KSTREAM-SINK-0000000005 (extractor class: topic_name_extractor)\n"
        "      <-- KSTREAM-MERGE-0000000004\n"
        "\n";
    EXPECT_EQ(topology.describe().to_string(), expected);
}

} // namespace
