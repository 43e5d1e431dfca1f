#pragma once

// kstream::deduplicate: how it adds itself to the graph. One node,
// "KSTREAM-DEDUPLICATE-<n>" (or the named one), keeping the store
// "KSTREAM-DEDUPLICATE-STATE-STORE-<n>" (or materialized's name): id ->
// event time of the record that passed, logged to
// "<application.id>-<store>-changelog", created compact,delete with the
// retention (plus windowstore.changelog.additional.retention.ms) as a window
// store's, so forgotten ids leave the changelog too. When the keys may have
// changed upstream the stream goes through "<node>-repartition" first, so
// each key's records meet in one task. The operator is in
// operators/deduplicate.h.
//
//   auto once = payments.deduplicate(
//       [](const std::string&, const Payment& p) { return p.payment_id; }, std::chrono::minutes(30),
//       eddy::materialized<std::string, std::int64_t>::as("seen-payments"));

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "../operators/deduplicate.h"
#include "../operators/internal/processor_node.h"
#include "../statestore/stores.h"
#include "internal/graph.h"
#include "kstream.h"

namespace eddy {

template<typename K, typename V>
template<key_value_to_value_mapper<K, V> F, typename ID>
kstream<K, V> kstream<K, V>::deduplicate(F id_extractor, std::chrono::milliseconds retention,
    const std::type_identity_t<materialized<ID, std::int64_t>>& m, const named& n) const {
    if (retention.count() <= 0) {
        throw std::invalid_argument(
            "deduplicate: the retention must be positive, got " + std::to_string(retention.count()) + " ms");
    }
    auto& g = *_graph;
    // The store first, so it takes the lower index (as an aggregation's).
    const auto store = m.supplier() ? m.supplier().name() : g.new_name("KSTREAM-DEDUPLICATE-STATE-STORE-");
    const auto name = g.name_or_new(n.name(), "KSTREAM-DEDUPLICATE-");
    // Each id is remembered by one task: the records of a key must reach
    // the task of its partition.
    const kstream input = _key_changed ? repartition(repartitioned<K, V>().with_name(name)) : *this;

    auto builder = stores::key_value_store_builder<ID, std::int64_t>(
        m.supplier() ? m.supplier() : stores::persistent_key_value_store(store), m.key_serde(), m.value_serde());
    if (!m.logging()) {
        builder = builder.with_logging_disabled();
    }
    auto spec = statestore::internal::builder_access::spec(builder);
    spec.window_retention_ms = retention.count();
    g.add_store(std::move(spec));

    dsl::internal::graph_node node;
    node.name = name;
    node.kind = dsl::internal::node_kind::processor;
    node.parents = {input.node_name()};
    node.stores = {store};
    dsl::internal::require_serde(node, m.key_serde(), "id");
    dsl::internal::require_serde(node, m.value_serde(), "value");
    node.factory = operators::internal::processor_factory<K, V, K, V>(
        name, [store, retention = retention.count(), id_extractor] {
            return std::make_unique<operators::deduplicate_processor<K, V, ID, F>>(store, retention, id_extractor);
        });
    g.add(std::move(node));
    return kstream(_graph, name);
}

} // namespace eddy
