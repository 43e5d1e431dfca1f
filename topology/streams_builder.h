#pragma once

// streams_builder: where a topology starts. stream() adds a source; the
// returned kstream adds the rest; build() validates the graph and returns the
// topology the runtime or the test driver runs.
//
//   eddy::streams_builder builder;
//   builder.stream<std::string, std::string>("in").filter(keep).to("out");
//   eddy::topology topology = builder.build(); // throws eddy::topology_error

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../operators/internal/source_node.h"
#include "global_ktable.h"
#include "internal/graph.h"
#include "internal/timestamped_store.h"
#include "../statestore/stores.h"
#include "kgrouped_stream.h"
#include "kstream.h"
#include "ktable.h"
#include "named.h"
#include "topology.h"

namespace eddy {

class streams_builder {
public:
    streams_builder() : _graph(std::make_shared<dsl::internal::graph>()) {}

    template<typename K, typename V>
    kstream<K, V> stream(const std::string& topic, const consumed<K, V>& c = {}) {
        return stream<K, V>(std::vector<std::string>{topic}, c);
    }

    template<typename K, typename V>
    kstream<K, V> stream(std::vector<std::string> topics, const consumed<K, V>& c = {}) {
        return kstream<K, V>(_graph, dsl::internal::add_source<K, V>(*_graph, c.name(), std::move(topics),
                                         c.key_serde(), c.value_serde(), c.handler(), false, c.extractor(),
                                         c.wall_clock_time()));
    }

    // A table of `topic`: the latest value per key, a null value (a
    // tombstone) deleting the key; materialised in the store `m` names (or
    // one generated). The topic is the store's changelog: it restores from
    // it up to the committed offset, and nothing is written twice.
    template<typename K, typename V>
    ktable<K, V> table(
        const std::string& topic, const consumed<K, V>& c = {}, std::type_identity_t<materialized<K, V>> m = {}) {
        const auto source = dsl::internal::add_source<K, nullable_t<V>>(
            *_graph, c.name(), {topic}, c.key_serde(), nullable_serde_of(c.value_serde()), c.handler(), false);
        const auto store = dsl::internal::store_name(m, [&] { return _graph->new_name(topic + "-STATE-STORE-"); });
        // The store keeps the bytes the topic has (the source's serdes)
        // behind each record's timestamp, as Kafka Streams' timestamped
        // table stores; it still reads as plain values.
        m = m.with_key_serde(c.key_serde()).with_value_serde(c.value_serde());
        auto name = dsl::internal::add_stateful<K, timestamped<V>, K, nullable_t<V>, K, change<V>>(*_graph, source,
            store, dsl::internal::timestamped_materialized(store, m), {}, "KTABLE-SOURCE-",
            [store] { return std::make_unique<operators::table_source_processor<K, V, nullable_t<V>, true>>(store); },
            m.logging() ? topic : std::string());
        dsl::internal::add_plain_view(*_graph, store, c.value_serde());
        if (auto* spec = _graph->find_store(store)) {
            spec->make = [make = spec->make] {
                auto handle = make();
                handle->set_timestamps_source_values(true);
                return handle;
            };
        }
        return ktable<K, V>(_graph, name, store, true);
    }

    // A global table of `topic`: every instance holds all its partitions in
    // the store `m` names (or one generated), restored to the end of the
    // topic before any task processes and kept up to date while the app
    // runs; a tombstone deletes the key. The topic is the store's changelog
    // (no topic of its own) and no other source may read it. Processors of
    // every task read the store by name (read only).
    template<typename K, typename V>
    global_ktable<K, V> global_table(
        const std::string& topic, const consumed<K, V>& c = {}, std::type_identity_t<materialized<K, V>> m = {}) {
        const auto store = dsl::internal::store_name(m, [&] { return _graph->new_name(topic + "-STATE-STORE-"); });
        const auto source = dsl::internal::add_source<K, nullable_t<V>>(
            *_graph, c.name(), {topic}, c.key_serde(), nullable_serde_of(c.value_serde()), c.handler(), false);
        for (auto& node : _graph->nodes_for_update()) {
            if (node.name == source) {
                node.global = true;
            }
        }
        // The store keeps the topic's bytes: the source's serdes; never
        // logged (the topic is its changelog).
        m = m.with_key_serde(c.key_serde()).with_value_serde(c.value_serde()).with_logging_disabled();
        dsl::internal::add_stateful<K, V, K, nullable_t<V>, K, change<V>>(*_graph, source, store, m, {},
            "KTABLE-SOURCE-", [store] { return std::make_unique<operators::table_source_processor<K, V>>(store); },
            topic);
        _graph->mark_store_global(store);
        return global_ktable<K, V>(_graph, topic, store);
    }

    // Declares a store for the processor API; processors name it in
    // kstream::process(supplier, named, {"store"}).
    template<typename K, typename V>
    streams_builder& add_state_store(const key_value_store_builder_t<K, V>& store) {
        _graph->add_store(statestore::internal::builder_access::spec(store));
        return *this;
    }

    // Validates the graph and turns it into a topology; throws
    // topology_error naming the nodes at fault. The builder is spent.
    eddy::topology build();

private:
    std::shared_ptr<dsl::internal::graph> _graph;
};

} // namespace eddy
