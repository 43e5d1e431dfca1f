// left_join takes a joiner whose right side is a std::optional (empty when
// the left record found no match). Compiled with EDDY_WRONG_SHAPE it is given
// an inner join's joiner (a plain right value), which the DSL must reject
// naming left_value_joiner; compiled without, the same code must compile.

#include <chrono>
#include <optional>
#include <string>

#include "eddy.h"

namespace {

[[maybe_unused]] void orders_with_payments(eddy::streams_builder& builder) {
    using namespace std::chrono_literals;
    auto orders = builder.stream<std::string, std::string>("orders");
    auto payments = builder.stream<std::string, std::string>("payments");
    const auto windows = eddy::join_windows::of_time_difference_with_no_grace(10min);
#ifdef EDDY_WRONG_SHAPE
    orders.left_join(payments, [](const std::string& o, const std::string& p) { return o + p; }, windows).to("out");
#else
    orders
        .left_join(
            payments, [](const std::string& o, const std::optional<std::string>& p) { return o + p.value_or(""); },
            windows)
        .to("out");
#endif
}

} // namespace
