#pragma once

// kgrouped_stream<K, V>: a stream grouped by key, ready to aggregate into a
// table, as Kafka Streams' KGroupedStream. Each aggregation keeps its state
// in a key-value store (named by materialized, or generated) backed by a
// changelog topic.
//
//   auto words = builder.stream<std::string, std::string>("lines")
//       .flat_map_values(split_words)
//       .group_by([](const std::string&, const std::string& word) { return word; });
//   words.count(eddy::materialized<std::string, std::int64_t>::as("word-counts"))
//       .to_stream().to("word-counts");

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "operators/aggregate.h"
#include "statestore/stores.h"
#include "topology/kstream.h"
#include "topology/ktable.h"

namespace eddy {

template<typename K, typename V>
class kgrouped_stream {
public:
    explicit kgrouped_stream(kstream<K, V> stream) : _stream(std::move(stream)) {}

    // Records per key.
    ktable<K, std::int64_t> count(const materialized<K, std::int64_t>& m = {}, const named& n = {}) const {
        return aggregate_with<std::int64_t>("KSTREAM-AGGREGATE-", m, n, [](const std::string& store) {
            auto init = [] { return std::int64_t{0}; };
            auto fold = [](const K&, const V&, std::int64_t count) { return count + 1; };
            return std::make_unique<operators::aggregate_processor<K, V, std::int64_t, decltype(init), decltype(fold)>>(
                store, init, fold);
        });
    }

    // The first value of a key, then reducer(aggregate, value) -> V.
    template<typename F>
        requires std::is_convertible_v<std::invoke_result_t<F&, const V&, const V&>, V>
    ktable<K, V> reduce(F reducer, const materialized<K, V>& m = {}, const named& n = {}) const {
        return aggregate_with<V>("KSTREAM-REDUCE-", m, n, [reducer](const std::string& store) {
            return std::make_unique<operators::reduce_processor<K, V, F>>(store, reducer);
        });
    }

    // initializer() -> VA, then aggregator(key, value, aggregate) -> VA.
    template<typename I, typename F, typename VA = std::decay_t<std::invoke_result_t<I&>>>
        requires std::is_convertible_v<std::invoke_result_t<F&, const K&, const V&, const VA&>, VA>
    ktable<K, VA> aggregate(I initializer, F aggregator, const materialized<K, VA>& m = {}, const named& n = {}) const {
        return aggregate_with<VA>("KSTREAM-AGGREGATE-", m, n, [initializer, aggregator](const std::string& store) {
            auto fold = [aggregator](const K& k, const V& v, const VA& a) { return VA(aggregator(k, v, a)); };
            return std::make_unique<operators::aggregate_processor<K, V, VA, I, decltype(fold)>>(
                store, initializer, fold);
        });
    }

private:
    // Adds the store (materialized's name, or one generated as Kafka Streams
    // does, before the processor's so it takes the lower index) and the
    // processor make(store) returns.
    template<typename VA, typename Make>
    ktable<K, VA> aggregate_with(const std::string& prefix, const materialized<K, VA>& m, const named& n, Make make) const {
        const std::string store =
            m.supplier() ? m.supplier().name() : _stream.graph()->new_name(prefix + "STATE-STORE-");
        auto supplier = m.supplier() ? m.supplier() : stores::persistent_key_value_store(store);
        auto builder = stores::key_value_store_builder<K, VA>(supplier, m.key_serde(), m.value_serde());
        if (!m.logging()) {
            builder = builder.with_logging_disabled();
        }
        _stream.graph()->add_store(builder.spec());

        dsl::internal::graph_node node;
        node.name = _stream.graph()->name_or_new(n.name(), prefix);
        node.kind = dsl::internal::node_kind::processor;
        node.parents = {_stream.node_name()};
        node.stores = {store};
        dsl::internal::require_serde(node, m.key_serde(), "key");
        dsl::internal::require_serde(node, m.value_serde(), "value");
        node.factory = operators::internal::processor_factory<K, V, K, change<VA>>(
            node.name, [make, store] { return make(store); });
        auto name = node.name;
        _stream.graph()->add(std::move(node));
        return ktable<K, VA>(_stream.graph(), name, store);
    }

    kstream<K, V> _stream;
};

template<typename K, typename V>
template<typename G>
kgrouped_stream<K, V> kstream<K, V>::group_by_key(const G& g) const {
    if (!_key_changed) {
        return kgrouped_stream<K, V>(*this);
    }
    auto r = repartitioned<K, V>::with(g.key_serde(), g.value_serde());
    if (!g.name().empty()) {
        r = r.with_name(g.name());
    }
    return kgrouped_stream<K, V>(repartition(r));
}

} // namespace eddy
