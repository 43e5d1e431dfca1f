// filter takes bool(const K&, const V&). Compiled with EDDY_WRONG_SHAPE it
// is given a lambda returning void, which the DSL must reject naming
// key_value_predicate; compiled without, the same code must compile.

#include <string>

#include "eddy.h"

namespace {

[[maybe_unused]] void keep_non_empty(eddy::streams_builder& builder) {
    auto tasks = builder.stream<std::string, std::string>("in");
#ifdef EDDY_WRONG_SHAPE
    tasks.filter([](const std::string&, const std::string&) {}).to("out");
#else
    tasks.filter([](const std::string&, const std::string& v) { return !v.empty(); }).to("out");
#endif
}

} // namespace
