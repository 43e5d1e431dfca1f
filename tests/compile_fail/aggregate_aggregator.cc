// aggregate takes initializer() -> VA and aggregator(key, value, aggregate)
// -> VA. Compiled with EDDY_WRONG_SHAPE it is given an aggregator of
// (aggregate, value), which the DSL must reject naming aggregator; compiled
// without, the same code must compile.

#include <cstdint>
#include <string>

#include "eddy.h"

namespace {

[[maybe_unused]] void total_sizes(eddy::streams_builder& builder) {
    auto grouped = builder.stream<std::string, std::string>("in").group_by_key();
    auto init = [] { return std::int64_t{0}; };
#ifdef EDDY_WRONG_SHAPE
    grouped.aggregate(init, [](std::int64_t total, const std::string& v) { return total + std::int64_t(v.size()); });
#else
    grouped.aggregate(init, [](const std::string&, const std::string& v, std::int64_t total) {
        return total + static_cast<std::int64_t>(v.size());
    });
#endif
}

} // namespace
