#pragma once

// global_ktable<K, V>: a table of every partition of a topic, held whole by
// each instance (Kafka Streams' GlobalKTable). A global thread restores it to
// the end of the topic before any stream thread processes, then keeps it up
// to date; processors of every task read it by its store's name, and
// kafka_streams::store<K, V>(name) queries it.
//
//   auto users = builder.global_table<std::string, std::string>("users", {},
//       eddy::materialized<std::string, std::string>::as("users-store"));
//   // in a processor of any task:
//   auto store = context.get_key_value_store<std::string, std::string>(users.queryable_store_name());

#include <memory>
#include <string>
#include <utility>

#include "internal/access.h"
#include "internal/graph.h"

namespace eddy {

template<typename K, typename V>
class global_ktable {
public:
    global_ktable(std::shared_ptr<dsl::internal::graph> graph, std::string topic, std::string store)
        : _graph(std::move(graph)), _topic(std::move(topic)), _store(std::move(store)) {}

    // The store that holds the table (processors read it, queries ask it).
    const std::string& queryable_store_name() const noexcept { return _store; }
    const std::string& topic() const noexcept { return _topic; }

private:
    friend struct dsl::internal::access;

    const std::shared_ptr<dsl::internal::graph>& graph() const noexcept { return _graph; }

    std::shared_ptr<dsl::internal::graph> _graph;
    std::string _topic;
    std::string _store;
};

} // namespace eddy
