// Windowed counts on the topology test driver's in-process path, next to the
// plain count per key as the baseline: 10k keys, one record per millisecond
// of event time (so each key sees a record every 10 s), RocksDB stores,
// results written to a sink. Reports records/s; the ratio to
// BM_CountPerKey is what windowing costs.
//
//   tumbling: 1 min windows (one window per record)
//   hopping:  1 min windows advancing by 10 s (six per record)
//   sliding:  1 min time difference (the record's left window, the windows it
//             falls in, right windows as needed)
//   session:  1 min inactivity gap (every record extends, so merges, its
//             key's session: a delete and a put)

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "eddy.h"

namespace {

using namespace std::chrono_literals;

constexpr int keys = 10'000;

template<typename Grouped>
void write_counts(const Grouped& windowed, const eddy::serde_ref<eddy::windowed<std::string>>& key_serde) {
    windowed.count(eddy::materialized<std::string, std::int64_t>::as("counts"))
        .to_stream()
        .to("out", eddy::produced<eddy::windowed<std::string>, std::int64_t>::with(key_serde, eddy::serdes::int64{}));
}

eddy::topology plain() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .group_by_key()
        .count(eddy::materialized<std::string, std::int64_t>::as("counts"))
        .to_stream()
        .to("out", eddy::produced<std::string, std::int64_t>::with(eddy::serdes::string{}, eddy::serdes::int64{}));
    return builder.build();
}

eddy::topology tumbling() {
    eddy::streams_builder builder;
    write_counts(builder.stream<std::string, std::string>("in").group_by_key().windowed_by(
                     eddy::time_windows::of_size_with_no_grace(1min)),
        eddy::serdes::time_windowed<std::string>{eddy::serdes::string{}, 60'000});
    return builder.build();
}

eddy::topology hopping() {
    eddy::streams_builder builder;
    write_counts(builder.stream<std::string, std::string>("in").group_by_key().windowed_by(
                     eddy::time_windows::of_size_with_no_grace(1min).advance_by(10s)),
        eddy::serdes::time_windowed<std::string>{eddy::serdes::string{}, 60'000});
    return builder.build();
}

eddy::topology sliding() {
    eddy::streams_builder builder;
    write_counts(builder.stream<std::string, std::string>("in").group_by_key().windowed_by(
                     eddy::sliding_windows::of_time_difference_with_no_grace(1min)),
        eddy::serdes::time_windowed<std::string>{eddy::serdes::string{}, 60'000});
    return builder.build();
}

eddy::topology session() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .group_by_key()
        .windowed_by(eddy::session_windows::of_inactivity_gap_with_no_grace(1min))
        .count(eddy::materialized<std::string, std::int64_t>::as("counts"))
        .map_values([](std::int64_t n) { return std::optional<std::int64_t>(n); })
        .to_stream()
        .to("out", eddy::produced<eddy::windowed<std::string>, std::optional<std::int64_t>>::with(
                       eddy::serdes::session_windowed<std::string>{eddy::serdes::string{}},
                       eddy::serdes::nullable<eddy::serdes::int64>{}));
    return builder.build();
}

void run(benchmark::State& state, const eddy::topology& t) {
    eddy::topology_test_driver driver(t);
    std::vector<std::string> names;
    for (int k = 0; k < keys; ++k) {
        names.push_back("user-" + std::to_string(k));
    }
    const std::string value(32, 'x');
    std::int64_t i = 0;
    std::int64_t outputs = 0;
    for (auto _ : state) {
        driver.pipe_raw({"in", 0, 0, i, names[static_cast<std::size_t>(i % keys)], value, {}});
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
}

void BM_CountPerKey(benchmark::State& state) { run(state, plain()); }
void BM_TumblingWindowCount(benchmark::State& state) { run(state, tumbling()); }
void BM_HoppingWindowCount(benchmark::State& state) { run(state, hopping()); }
void BM_SlidingWindowCount(benchmark::State& state) { run(state, sliding()); }
void BM_SessionWindowCount(benchmark::State& state) { run(state, session()); }

// Enough records for every key to go through several windows.
BENCHMARK(BM_CountPerKey)->Iterations(300'000);
BENCHMARK(BM_TumblingWindowCount)->Iterations(300'000);
BENCHMARK(BM_HoppingWindowCount)->Iterations(300'000);
BENCHMARK(BM_SlidingWindowCount)->Iterations(300'000);
BENCHMARK(BM_SessionWindowCount)->Iterations(300'000);

} // namespace

BENCHMARK_MAIN();
