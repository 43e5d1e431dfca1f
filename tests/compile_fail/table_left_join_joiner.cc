// A stream-table left_join's joiner takes the row as std::optional (no row:
// empty). Compiled with EDDY_WRONG_SHAPE it is given an inner join's joiner
// (the row as a plain value), which the DSL must reject naming the
// value_joiner concept; compiled without, the same code must compile.

#include <optional>
#include <string>

#include "eddy.h"

namespace {

[[maybe_unused]] void enrich(eddy::streams_builder& builder) {
    auto users = builder.table<std::string, std::string>("users");
    auto clicks = builder.stream<std::string, std::string>("clicks");
#ifdef EDDY_WRONG_SHAPE
    clicks.left_join(users, [](const std::string& c, const std::string& u) { return c + u; }).to("out");
#else
    clicks.left_join(users, [](const std::string& c, const std::optional<std::string>& u) { return c + u.value_or("?"); })
        .to("out");
#endif
}

} // namespace
