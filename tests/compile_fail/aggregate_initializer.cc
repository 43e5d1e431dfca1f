// aggregate's initializer takes nothing and returns the first aggregate.
// Compiled with EDDY_WRONG_SHAPE it is given one that takes the key, which
// the DSL must reject naming initializer; compiled without, the same code
// must compile.

#include <cstdint>
#include <string>

#include "eddy.h"

namespace {

[[maybe_unused]] void count_words(eddy::streams_builder& builder) {
    auto grouped = builder.stream<std::string, std::string>("in").group_by_key();
    auto add = [](const std::string&, const std::string&, std::int64_t n) { return n + 1; };
#ifdef EDDY_WRONG_SHAPE
    grouped.aggregate([](const std::string&) { return std::int64_t{0}; }, add);
#else
    grouped.aggregate([] { return std::int64_t{0}; }, add);
#endif
}

} // namespace
