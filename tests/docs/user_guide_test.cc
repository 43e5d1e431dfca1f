// The code of docs/user-guide.md, so the guide stays true.

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "eddy.h"

namespace {

eddy::topology titles() {
    eddy::streams_builder builder;
    auto lengths = builder.stream<std::string, std::string>("todo.titles")
                       .filter([](const std::string&, const std::string& title) { return !title.empty(); })
                       .map_values([](const std::string& title) { return static_cast<std::int64_t>(title.size()); },
                           eddy::named::as("title-length"));

    auto by_length = lengths.split(eddy::named::as("by-length-"));
    by_length.branch_stream([](const std::string&, std::int64_t n) { return n > 20; }, eddy::branched<>::as("long"))
        .to("todo.long-titles");
    by_length.default_branch_stream(eddy::branched<>::as("short")).to("todo.short-titles");
    return builder.build();
}

TEST(TitlesTest, LongTitlesGoToTheirOwnTopic) {
    eddy::topology_test_driver driver(titles());
    auto in = driver.create_input_topic<std::string, std::string>("todo.titles");
    auto long_titles = driver.create_output_topic<std::string, std::int64_t>("todo.long-titles");
    auto short_titles = driver.create_output_topic<std::string, std::int64_t>("todo.short-titles");

    in.pipe_input("t-1", "Buy milk");
    in.pipe_input("t-2", "Write the quarterly report for the board");
    in.pipe_input("t-3", "");

    EXPECT_EQ(short_titles.read_key_value(), (eddy::key_value<std::string, std::int64_t>{"t-1", 8}));
    EXPECT_EQ(long_titles.read_value(), 40);
    EXPECT_TRUE(short_titles.is_empty());
}

TEST(TitlesTest, TheGuidesDescribeExcerptIsWhatDescribePrints) {
    auto text = titles().describe().to_string();
    EXPECT_TRUE(text.starts_with("Topologies:\n"
                                 "   Sub-topology: 0\n"
                                 "    Source: KSTREAM-SOURCE-0000000000 (topics: [todo.titles])\n"
                                 "      --> KSTREAM-FILTER-0000000001\n"
                                 "    Processor: KSTREAM-FILTER-0000000001 (stores: [])\n"
                                 "      --> title-length\n"
                                 "      <-- KSTREAM-SOURCE-0000000000\n"))
        << text;
}

} // namespace
