// suppress(until_window_closes) is for the tables of windowed aggregations.
// Compiled with EDDY_WRONG_SHAPE it is called on a plain count's table,
// which must be rejected naming the windowed_key concept; compiled without, on a
// windowed count's table, the same code must compile.

#include <chrono>
#include <cstdint>
#include <string>

#include "eddy.h"

namespace {

[[maybe_unused]] void final_counts(eddy::streams_builder& builder) {
    using namespace std::chrono_literals;
    auto grouped = builder.stream<std::string, std::string>("in").group_by_key();
#ifdef EDDY_WRONG_SHAPE
    grouped.count().suppress();
#else
    grouped.windowed_by(eddy::time_windows::of_size_with_no_grace(1min)).count().suppress();
#endif
}

} // namespace
