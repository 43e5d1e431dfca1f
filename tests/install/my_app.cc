// An application outside eddy's tree, built against the installed library
// with nothing but
//
//   g++ -std=c++20 my_app.cc $(pkg-config --cflags --libs eddy)
//
// It runs filter -> map_values -> to on the topology test driver, prints the
// output records as "key=value" lines, and exits non-zero unless they are
// the ones expected.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <eddy/eddy.h>

int main() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("titles")
        .filter([](const std::string&, const std::string& title) { return !title.empty(); })
        .map_values([](const std::string& title) { return static_cast<std::int64_t>(title.size()); })
        .to("title-lengths");

    eddy::topology_test_driver driver(builder.build());
    auto in = driver.create_input_topic<std::string, std::string>("titles");
    auto out = driver.create_output_topic<std::string, std::int64_t>("title-lengths");
    in.pipe_input("t-1", "Buy milk");
    in.pipe_input("t-2", "");
    in.pipe_input("t-3", "Call Bob");
    in.pipe_input("t-4", "Water the plants");

    std::string got;
    for (const auto& kv : out.read_key_values_to_list()) {
        got += kv.key + "=" + std::to_string(kv.value) + "\n";
    }
    std::fputs(got.c_str(), stdout);

    const std::string expected = "t-1=8\nt-3=8\nt-4=16\n";
    if (got != expected) {
        std::fprintf(stderr, "my_app: expected\n%sgot\n%s", expected.c_str(), got.c_str());
        return 1;
    }
    return 0;
}
