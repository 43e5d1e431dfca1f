// reduce takes reducer(aggregate, value) -> V. Compiled with
// EDDY_WRONG_SHAPE it is given one of (key, aggregate, value), which the DSL
// must reject naming reducer; compiled without, the same code must compile.

#include <string>

#include "eddy.h"

namespace {

[[maybe_unused]] void longest(eddy::streams_builder& builder) {
    auto grouped = builder.stream<std::string, std::string>("in").group_by_key();
#ifdef EDDY_WRONG_SHAPE
    grouped.reduce([](const std::string&, const std::string& a, const std::string& b) { return a + b; });
#else
    grouped.reduce([](const std::string& a, const std::string& b) { return a.size() >= b.size() ? a : b; });
#endif
}

} // namespace
