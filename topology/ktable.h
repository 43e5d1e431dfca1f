#pragma once

// ktable<K, V>: a table, the latest value per key, as an aggregation
// produces it. Downstream of a table node, records carry change<V> (new and
// old value); to_stream() turns the changes back into a stream of the new
// values. The store behind the table answers queries by its name.
//
//   auto counts = builder.stream<std::string, std::string>("clicks").group_by_key().count();
//   counts.to_stream().to("click-counts");

#include <memory>
#include <string>
#include <utility>

#include "operators/aggregate.h"
#include "operators/change.h"
#include "operators/internal/processor_node.h"
#include "topology/internal/graph.h"
#include "topology/kstream.h"
#include "topology/named.h"

namespace eddy {

template<typename K, typename V>
class ktable {
public:
    using key_type = K;
    using value_type = V;

    ktable(std::shared_ptr<dsl::internal::graph> graph, std::string node, std::string store)
        : _graph(std::move(graph)), _node(std::move(node)), _store(std::move(store)) {}

    const std::string& node_name() const noexcept { return _node; }
    // The store that holds the table, for queries.
    const std::string& queryable_store_name() const noexcept { return _store; }

    // Each update as a stream record (a delete as a tombstone where V is
    // std::optional; tables made by aggregations never delete).
    kstream<K, V> to_stream(const named& n = {}) const {
        dsl::internal::graph_node node;
        node.name = _graph->name_or_new(n.name(), "KTABLE-TOSTREAM-");
        node.kind = dsl::internal::node_kind::processor;
        node.parents = {_node};
        node.factory = operators::internal::processor_factory<K, change<V>, K, V>(
            node.name, [] { return std::make_unique<operators::table_to_stream_processor<K, V>>(); });
        auto name = node.name;
        _graph->add(std::move(node));
        return kstream<K, V>(_graph, name);
    }

private:
    std::shared_ptr<dsl::internal::graph> _graph;
    std::string _node;
    std::string _store;
};

} // namespace eddy
