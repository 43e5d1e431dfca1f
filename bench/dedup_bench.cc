// deduplicate on the topology test driver's in-process path, next to the
// plain pass-through (source -> sink) as the baseline: one record per
// millisecond of event time, keyed by its event id, a 10 s retention (so the
// store holds 10k to 20k ids and the purge scans it every 10k records).
// Reports records/s; the ratio to BM_PassThrough is what de-duplication
// costs.
//
//   unique:        every record a new id (a get and a put each)
//   half repeated: every id twice in a row (the second one a get only)

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ranges>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "eddy.h"

namespace {

using namespace std::chrono_literals;

eddy::topology pass_through() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in").to("out");
    return builder.build();
}

eddy::topology deduplicated(bool persistent) {
    eddy::streams_builder builder;
    auto store = persistent ? eddy::stores::persistent_key_value_store("seen")
                            : eddy::stores::in_memory_key_value_store("seen");
    builder.stream<std::string, std::string>("in")
        .deduplicate([](const std::string& id, const std::string&) { return id; }, 10s,
            eddy::materialized<std::string, std::int64_t>::as(store))
        .to("out");
    return builder.build();
}

// copies: how many records in a row share an id.
void run(benchmark::State& state, const eddy::topology& t, int copies) {
    eddy::topology_test_driver driver(t);
    const std::string value(32, 'x');
    std::int64_t i = 0;
    std::int64_t outputs = 0;
    for (auto _ : state) {
        driver.pipe_raw({"in", 0, 0, i, "evt-" + std::to_string(i / copies), value, {}});
        ++i;
        if (i % 1024 == 0) {
            state.PauseTiming();
            while (driver.queue_size("out") > 0) {
                benchmark::DoNotOptimize(driver.read_raw("out"));
                ++outputs;
            }
            state.ResumeTiming();
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["outputs_per_record"] = static_cast<double>(outputs) / static_cast<double>(std::max<std::int64_t>(1, i));
    state.counters["ids_in_store"] =
        static_cast<double>(std::ranges::distance(driver.get_key_value_store<std::string, std::int64_t>("seen").all()));
}

void BM_PassThrough(benchmark::State& state) {
    eddy::topology_test_driver driver(pass_through());
    const std::string value(32, 'x');
    std::int64_t i = 0;
    for (auto _ : state) {
        driver.pipe_raw({"in", 0, 0, i, "evt-" + std::to_string(i), value, {}});
        ++i;
        if (i % 1024 == 0) {
            state.PauseTiming();
            while (driver.queue_size("out") > 0) {
                benchmark::DoNotOptimize(driver.read_raw("out"));
            }
            state.ResumeTiming();
        }
    }
    state.SetItemsProcessed(state.iterations());
}
void BM_DeduplicateUniqueRocksDB(benchmark::State& state) { run(state, deduplicated(true), 1); }
void BM_DeduplicateHalfRepeatedRocksDB(benchmark::State& state) { run(state, deduplicated(true), 2); }
void BM_DeduplicateUniqueInMemory(benchmark::State& state) { run(state, deduplicated(false), 1); }
void BM_DeduplicateHalfRepeatedInMemory(benchmark::State& state) { run(state, deduplicated(false), 2); }

// Enough records for the purge to run many times.
BENCHMARK(BM_PassThrough)->Iterations(200'000);
BENCHMARK(BM_DeduplicateUniqueRocksDB)->Iterations(200'000);
BENCHMARK(BM_DeduplicateHalfRepeatedRocksDB)->Iterations(200'000);
BENCHMARK(BM_DeduplicateUniqueInMemory)->Iterations(200'000);
BENCHMARK(BM_DeduplicateHalfRepeatedInMemory)->Iterations(200'000);

} // namespace

BENCHMARK_MAIN();
