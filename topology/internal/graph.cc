#include "topology/internal/graph.h"

#include <fmt/format.h>

namespace eddy::dsl::internal {

std::string graph::new_name(std::string_view prefix) {
    return fmt::format("{}{:010d}", prefix, _index++);
}

std::string graph::name_or_new(const std::string& explicit_name, std::string_view prefix) {
    auto generated = new_name(prefix);
    return explicit_name.empty() ? generated : explicit_name;
}

graph_node& graph::add(graph_node node) {
    _nodes.push_back(std::move(node));
    return _nodes.back();
}

} // namespace eddy::dsl::internal
