// Per-record cost of a filter -> map_values -> to chain on the topology test
// driver's in-process path: source deserialisation, three operators, sink
// serialisation, and the driver's output queue. Reports records/s.

#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "runtime/topology_test_driver.h"
#include "serde/serdes.h"
#include "topology/streams_builder.h"

namespace {

eddy::topology chain() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .filter([](const std::string&, const std::string& v) { return v.size() % 8 != 0; })
        .map_values([](const std::string& v) { return static_cast<std::int64_t>(v.size()); })
        .to("out");
    return builder.build();
}

// ~100-byte values, one in eight filtered out.
std::vector<eddy::raw_record> inputs() {
    std::vector<eddy::raw_record> records;
    for (int i = 0; i < 1024; ++i) {
        records.push_back({"in", 0, 0, i, "key-" + std::to_string(i), std::string(96 + i % 8, 'x'), {}});
    }
    return records;
}

void drain(eddy::topology_test_driver& driver) {
    while (driver.queue_size("out") > 0) {
        benchmark::DoNotOptimize(driver.read_raw("out"));
    }
}

void BM_FilterMapValuesTo_RawBytes(benchmark::State& state) {
    eddy::topology_test_driver driver(chain());
    auto records = inputs();
    std::size_t i = 0;
    for (auto _ : state) {
        driver.pipe_raw(records[i++ % records.size()]);
        if (i % 1024 == 0) {
            state.PauseTiming();
            drain(driver);
            state.ResumeTiming();
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FilterMapValuesTo_RawBytes);

void BM_FilterMapValuesTo_TypedInput(benchmark::State& state) {
    eddy::topology_test_driver driver(chain());
    auto in = driver.create_input_topic<std::string, std::string>("in");
    const std::string value(100, 'x');
    std::int64_t i = 0;
    for (auto _ : state) {
        in.pipe_input("key", value, i++);
        if (i % 1024 == 0) {
            state.PauseTiming();
            drain(driver);
            state.ResumeTiming();
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FilterMapValuesTo_TypedInput);

} // namespace

BENCHMARK_MAIN();
