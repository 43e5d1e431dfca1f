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
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "../operators/aggregate.h"
#include "../operators/passthrough.h"
#include "../core/window.h"
#include "../operators/window_aggregate.h"
#include "../statestore/stores.h"
#include "emit_strategy.h"
#include "internal/aggregations.h"
#include "internal/timestamped_store.h"
#include "internal/windowed.h"
#include "kstream.h"
#include "ktable.h"

namespace eddy {

template<typename K, typename V>
class time_windowed_kstream;
template<typename K, typename V>
class sliding_windowed_kstream;
template<typename K, typename V>
class session_windowed_kstream;

template<typename K, typename VA>
class cogrouped_kstream;

// count(), reduce() and aggregate() are dsl::internal::fold_aggregations'.
template<typename K, typename V>
class kgrouped_stream : public dsl::internal::fold_aggregations<kgrouped_stream<K, V>, K, V, K> {
public:
    explicit kgrouped_stream(kstream<K, V> stream) : _stream(std::move(stream)) {}

    // The start of a cogroup: this stream's records fold into an aggregate
    // of VA with aggregator(key, value, aggregate) -> VA; add more grouped
    // streams with cogroup(), then aggregate(initializer).
    template<typename VA, typename F>
        requires aggregator<F, K, V, VA>
    cogrouped_kstream<K, VA> cogroup(F aggregator) const {
        return cogrouped_kstream<K, VA>(dsl::internal::access::graph(_stream)).cogroup(*this, std::move(aggregator));
    }

    const kstream<K, V>& stream() const noexcept { return _stream; }

    // Aggregations per key and time window.
    time_windowed_kstream<K, V> windowed_by(const time_windows& windows) const {
        return time_windowed_kstream<K, V>(_stream, windows);
    }
    // ... per key and sliding window (topology/sliding_windowed_kstream.h).
    sliding_windowed_kstream<K, V> windowed_by(const sliding_windows& windows) const {
        return sliding_windowed_kstream<K, V>(_stream, windows);
    }
    // ... per key and session (topology/session_windowed_kstream.h).
    session_windowed_kstream<K, V> windowed_by(const session_windows& windows) const {
        return session_windowed_kstream<K, V>(_stream, windows);
    }

private:
    friend class dsl::internal::fold_aggregations<kgrouped_stream, K, V, K>;

    // Adds the store (materialized's name, or one generated as Kafka Streams
    // does, before the processor's so it takes the lower index) and the
    // processor folding records into it.
    template<typename VA, typename Fold>
    ktable<K, VA> fold(dsl::internal::fold_kind kind, const materialized<K, VA>& m, const named& n, Fold f) const {
        const std::string prefix = kind == dsl::internal::fold_kind::reduce ? "KSTREAM-REDUCE-" : "KSTREAM-AGGREGATE-";
        auto& g = *dsl::internal::access::graph(_stream);
        const auto store = dsl::internal::store_name(m, [&] { return g.new_name(prefix + "STATE-STORE-"); });
        // Timestamped values (dsl::internal::timestamped_materialized).
        auto name = dsl::internal::add_stateful<K, timestamped<VA>, K, V, K, change<VA>>(g, _stream.node_name(), store,
            dsl::internal::timestamped_materialized(store, m), n, prefix.c_str(), [f, store] {
                return std::make_unique<operators::aggregate_processor<K, V, VA, Fold>>(store, f);
            });
        dsl::internal::add_plain_view(g, store, m.value_serde());
        return ktable<K, VA>(dsl::internal::access::graph(_stream), name, store);
    }

    kstream<K, V> _stream;
};

// Several grouped streams (same key type, co-partitioned) folding into one
// aggregate per key, each with its own aggregator, in one store (Kafka
// Streams' CogroupedKStream). The inputs' aggregators run in one task, so the
// aggregate sees every input's records of a key in order.
template<typename K, typename VA>
class cogrouped_kstream {
public:
    explicit cogrouped_kstream(std::shared_ptr<dsl::internal::graph> graph) : _graph(std::move(graph)) {}

    template<typename V, typename F>
        requires aggregator<F, K, V, VA>
    cogrouped_kstream& cogroup(const kgrouped_stream<K, V>& grouped, F aggregator) {
        const auto parent = grouped.stream().node_name();
        _inputs.push_back([parent, aggregator](dsl::internal::graph& g, const std::string& store,
                              const std::function<VA()>& init, const std::string& name) {
            auto fold = dsl::internal::aggregate_fold<K, V, VA>(init, aggregator);
            dsl::internal::graph_node node;
            node.name = name;
            node.kind = dsl::internal::node_kind::processor;
            node.parents = {parent};
            node.stores = {store};
            node.factory = operators::internal::processor_factory<K, V, K, change<VA>>(node.name, [store, fold] {
                return std::make_unique<operators::aggregate_processor<K, V, VA, decltype(fold)>>(store, fold);
            });
            g.add(std::move(node));
        });
        return *this;
    }

    // initializer() -> VA starts each key's aggregate.
    template<initializer I>
        requires std::is_convertible_v<initializer_result_t<I>, VA>
    ktable<K, VA> aggregate(I initializer, const materialized<K, VA>& m = {}, const named& n = {}) const {
        auto& g = *_graph;
        const auto store = dsl::internal::store_name(m, [&] { return g.new_name("COGROUPKSTREAM-AGGREGATE-STATE-STORE-"); });
        // Timestamped values (dsl::internal::timestamped_materialized).
        const auto tm = dsl::internal::timestamped_materialized(store, m);
        auto builder = stores::key_value_store_builder<K, timestamped<VA>>(tm.supplier(), tm.key_serde(), tm.value_serde());
        if (!m.logging()) {
            builder = builder.with_logging_disabled();
        }
        if (!m.caching()) {
            builder = builder.with_caching_disabled();
        }
        g.add_store(statestore::internal::builder_access::spec(builder));
        dsl::internal::add_plain_view(g, store, m.value_serde());
        const std::function<VA()> init = [initializer]() mutable { return VA(initializer()); };
        std::vector<std::string> aggregators;
        for (const auto& add : _inputs) {
            aggregators.push_back(g.new_name("COGROUPKSTREAM-AGGREGATE-"));
            add(g, store, init, aggregators.back());
        }
        dsl::internal::graph_node merge;
        merge.name = g.name_or_new(n.name(), "COGROUPKSTREAM-MERGE-");
        merge.kind = dsl::internal::node_kind::processor;
        merge.parents = aggregators;
        dsl::internal::require_serde(merge, m.key_serde(), "key");
        dsl::internal::require_serde(merge, m.value_serde(), "value");
        merge.factory = operators::internal::processor_factory<K, change<VA>, K, change<VA>>(
            merge.name, [] { return std::make_unique<operators::passthrough_processor<K, change<VA>>>(); });
        auto name = merge.name;
        g.add(std::move(merge));
        return ktable<K, VA>(_graph, name, store);
    }

private:
    std::shared_ptr<dsl::internal::graph> _graph;
    std::vector<std::function<void(
        dsl::internal::graph&, const std::string&, const std::function<VA()>&, const std::string&)>>
        _inputs;
};

// A grouped stream cut into time windows: its aggregations keep one value per
// key and window, in a store keyed by windowed<K> (Kafka Streams'
// TimeWindowedKStream). A record later than its window's end plus the grace
// period is dropped for that window and counted. count(), reduce() and
// aggregate() are dsl::internal::fold_aggregations'; emit_strategy() is
// dsl::internal::windowed_kstream_base's.
template<typename K, typename V>
class time_windowed_kstream
    : public dsl::internal::windowed_kstream_base<time_windowed_kstream<K, V>, K, V, time_windows>,
      public dsl::internal::fold_aggregations<time_windowed_kstream<K, V>, K, V, windowed<K>> {
    using base = dsl::internal::windowed_kstream_base<time_windowed_kstream, K, V, time_windows>;

public:
    using base::base;

private:
    friend class dsl::internal::fold_aggregations<time_windowed_kstream, K, V, windowed<K>>;

    template<typename VA, typename Fold>
    ktable<windowed<K>, VA> fold(dsl::internal::fold_kind, const materialized<K, VA>& m, const named& n, Fold f) const {
        const auto& w = this->_windows;
        // Keys: key bytes + window start; values with the timestamp of their
        // latest update.
        auto table = this->template add_aggregate<VA, timestamped<VA>>(
            m, n,
            [size = w.size_ms()](const serde_ref<K>& ks) {
                return serde_ref<windowed<K>>(serdes::time_windowed<K>{ks, size});
            },
            w.size_ms() + w.grace_ms(), w.grace_ms(), false, [w, f](const std::string& store) {
                return std::make_unique<operators::window_aggregate_processor<K, V, VA, Fold>>(store, w, f);
            });
        return this->_emit_final ? table.suppress() : table;
    }
};

// A table regrouped by ktable::group_by: its aggregations subtract each
// row's old value and add its new one, as Kafka Streams' KGroupedTable.
template<typename K, typename V>
class kgrouped_table {
public:
    explicit kgrouped_table(kstream<K, change<V>> changes) : _changes(std::move(changes)) {}

    // Rows per group key.
    ktable<K, std::int64_t> count(const materialized<K, std::int64_t>& m = {}, const named& n = {}) const {
        auto add = [](const K&, const V&, const std::optional<std::int64_t>& c) { return c.value_or(0) + 1; };
        auto sub = [](const K&, const V&, const std::optional<std::int64_t>& c) { return c.value_or(0) - 1; };
        return fold<std::int64_t>("KTABLE-AGGREGATE-", m, n, add, sub);
    }

    // adder(aggregate, value) and subtractor(aggregate, value) -> V; a
    // group's first value is its aggregate (a retraction before it changes
    // nothing).
    template<reducer<V> A, reducer<V> S>
    ktable<K, V> reduce(A adder, S subtractor, const materialized<K, V>& m = {}, const named& n = {}) const {
        auto add = [adder](const K&, const V& v, const std::optional<V>& a) { return a ? V(adder(*a, v)) : v; };
        auto sub = [subtractor](const K&, const V& v, const std::optional<V>& a) {
            return a ? std::optional<V>(V(subtractor(*a, v))) : std::nullopt;
        };
        return fold<V>("KTABLE-REDUCE-", m, n, add, sub);
    }

    // initializer() -> VA; adder(key, value, aggregate) and subtractor(key,
    // value, aggregate) -> VA.
    template<initializer I, typename A, typename S, typename VA = initializer_result_t<I>>
        requires aggregator<A, K, V, VA> && aggregator<S, K, V, VA>
    ktable<K, VA> aggregate(I initializer, A adder, S subtractor, const materialized<K, VA>& m = {},
        const named& n = {}) const {
        return fold<VA>("KTABLE-AGGREGATE-", m, n, dsl::internal::aggregate_fold<K, V, VA>(initializer, adder),
            dsl::internal::aggregate_fold<K, V, VA>(initializer, subtractor));
    }
    // The same with materialized<> (a store's name and settings, no types).
    template<initializer I, aggregator<K, V, initializer_result_t<I>> A, aggregator<K, V, initializer_result_t<I>> S>
    ktable<K, initializer_result_t<I>> aggregate(
        I initializer, A adder, S subtractor, const materialized<>& m, const named& n = {}) const {
        return aggregate(std::move(initializer), std::move(adder), std::move(subtractor),
            materialized<K, initializer_result_t<I>>(m), n);
    }

private:
    template<typename VA, typename Add, typename Sub>
    ktable<K, VA> fold(
        const std::string& prefix, const materialized<K, VA>& m, const named& n, Add add, Sub sub) const {
        auto& g = *dsl::internal::access::graph(_changes);
        const auto store = dsl::internal::store_name(m, [&] { return g.new_name(prefix + "STATE-STORE-"); });
        // Timestamped values (dsl::internal::timestamped_materialized).
        auto name = dsl::internal::add_stateful<K, timestamped<VA>, K, change<V>, K, change<VA>>(g,
            _changes.node_name(), store, dsl::internal::timestamped_materialized(store, m), n, prefix.c_str(),
            [store, add, sub] {
                return std::make_unique<operators::table_aggregate_processor<K, V, VA, Add, Sub>>(store, add, sub);
            });
        dsl::internal::add_plain_view(g, store, m.value_serde());
        return ktable<K, VA>(dsl::internal::access::graph(_changes), name, store);
    }

    kstream<K, change<V>> _changes;
};

template<typename K, typename V>
template<typename KR, typename VR, key_value_mapper<K, V> S>
kgrouped_table<KR, VR> ktable<K, V>::group_by(S selector, const grouped<KR, VR>& g, const named& n) const {
    dsl::internal::graph_node node;
    node.name = _graph->name_or_new(n.name(), "KTABLE-SELECT-");
    node.kind = dsl::internal::node_kind::processor;
    node.parents = {_node};
    node.factory = operators::internal::processor_factory<K, change<V>, KR, change<VR>>(node.name, [selector] {
        return std::make_unique<operators::table_regroup_processor<K, V, KR, VR, S>>(selector);
    });
    auto name = node.name;
    _graph->add(std::move(node));
    // Groups always move: the old and the new row may belong to different
    // group keys, in different partitions.
    serde_ref<change<VR>> changes;
    if (g.value_serde()) {
        changes = serdes::change_of<VR>{g.value_serde()};
    }
    auto r = repartitioned<KR, change<VR>>::with(g.key_serde(), changes);
    if (!g.name().empty()) {
        r = r.with_name(g.name());
    }
    return kgrouped_table<KR, VR>(kstream<KR, change<VR>>(_graph, name, true).repartition(r));
}

template<typename K, typename V>
template<typename G>
kgrouped_stream<K, V> kstream<K, V>::group_by_key(const G& g) const {
    if constexpr (std::is_same_v<G, grouped<>>) {
        return group_by_key(grouped<K, V>(g));
    } else {
        if (!_key_changed) {
            return kgrouped_stream<K, V>(*this);
        }
        auto r = repartitioned<K, V>::with(g.key_serde(), g.value_serde());
        if (!g.name().empty()) {
            r = r.with_name(g.name());
        }
        return kgrouped_stream<K, V>(repartition(r));
    }
}

} // namespace eddy

// The sliding and session windowed streams, after emit_strategy (they use it).
#include "session_windowed_kstream.h"
#include "sliding_windowed_kstream.h"
