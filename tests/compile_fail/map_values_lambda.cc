// map_values takes f(value) or f(key, value). Compiled with EDDY_WRONG_SHAPE
// it is given f(int, int, int), which the DSL must reject naming
// value_mapper; compiled without, the same code must compile.

#include <cstdint>
#include <string>

#include "eddy.h"

namespace {

[[maybe_unused]] void add_sizes(eddy::streams_builder& builder) {
    auto tasks = builder.stream<std::string, std::string>("in");
#ifdef EDDY_WRONG_SHAPE
    tasks.map_values([](int a, int b, int c) { return a + b + c; }).to("out");
#else
    tasks.map_values([](const std::string& v) { return static_cast<std::int64_t>(v.size()); }).to("out");
#endif
}

} // namespace
