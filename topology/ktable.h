#pragma once

// ktable<K, V>: a table, the latest value per key: from a topic
// (streams_builder::table), a stream (kstream::to_table) or an aggregation.
// Downstream of a table node, records carry change<V> (the new and the old
// value); to_stream() turns the changes back into a stream of new values.
// The store behind a materialised table answers queries by its name.
//
//   auto counts = builder.stream<std::string, std::string>("clicks").group_by_key().count();
//   counts.to_stream().to("click-counts");

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../operators/aggregate.h"
#include "../operators/change.h"
#include "../operators/internal/processor_node.h"
#include "../operators/suppress.h"
#include "../operators/table.h"
#include "../operators/table_materialize.h"
#include "../operators/table_transform_values.h"
#include "../operators/value_transformer.h"
#include "../core/window.h"
#include "../statestore/stores.h"
#include "concepts.h"
#include "internal/access.h"
#include "internal/graph.h"
#include "kstream.h"
#include "named.h"

namespace eddy {

template<typename K, typename V>
class kgrouped_table;

// The key of a windowed aggregation's table.
template<typename K>
concept windowed_key = is_windowed_v<K>;

// What suppress() holds back until: each window's close (the only policy so
// far; the buffer is unbounded).
class suppressed {
public:
    static suppressed until_window_closes() { return {}; }
};

template<typename K, typename V>
class ktable {
public:
    using key_type = K;
    using value_type = V;

    // `may_delete`: whether rows can disappear (a table from a topic or a
    // filter), which to_stream() must be able to say.
    ktable(std::shared_ptr<dsl::internal::graph> graph, std::string node, std::string store, bool may_delete = false)
        : _graph(std::move(graph)), _node(std::move(node)), _store(std::move(store)), _may_delete(may_delete) {}

    const std::string& node_name() const noexcept { return _node; }
    // The store that holds the table, for queries; empty when the table is
    // not materialised (a filter or map_values of another table without a
    // materialized).
    const std::string& queryable_store_name() const noexcept { return _store; }

    // Each update as a stream record. A delete becomes a tombstone, which
    // needs V to be std::optional: a table whose rows can disappear is
    // rejected at build time otherwise (tables of aggregations never delete).
    kstream<K, V> to_stream(const named& n = {}) const {
        dsl::internal::graph_node node;
        node.name = _graph->name_or_new(n.name(), "KTABLE-TOSTREAM-");
        node.kind = dsl::internal::node_kind::processor;
        node.parents = {_node};
        if (_may_delete && !is_optional_v<V>) {
            node.problems.push_back("the table's rows can be deleted, and a delete becomes a tombstone: the value type "
                                    "must be std::optional (declare the table with an optional value)");
        }
        node.factory = operators::internal::processor_factory<K, change<V>, K, V>(
            node.name, [] { return std::make_unique<operators::table_to_stream_processor<K, V>>(); });
        auto name = node.name;
        _graph->add(std::move(node));
        return kstream<K, V>(_graph, name);
    }

    // Only each window's final value, once stream time has passed the
    // window's end plus the grace period (Kafka Streams'
    // suppress(Suppressed.untilWindowCloses(unbounded()))). For the tables of
    // windowed aggregations; the pending updates live in a store with a
    // changelog, "<name>-buffer" (name from `n` or generated).
    template<typename S = suppressed>
        requires windowed_key<K>
    ktable suppress(const S& = suppressed::until_window_closes(), const named& n = {}) const {
        using KW = typename K::key_type;
        const auto name = _graph->name_or_new(n.name(), "KTABLE-SUPPRESS-");
        const auto store = name + "-buffer";
        dsl::internal::graph_node node;
        node.name = name;
        node.kind = dsl::internal::node_kind::processor;
        node.parents = {_node};
        node.stores = {store};
        if (_window_grace_ms < 0 || !_buffer_spec) {
            node.problems.push_back("suppress(until_window_closes) needs the table of a windowed aggregation");
        } else {
            _graph->add_store(_buffer_spec(store));
        }
        const auto grace = _window_grace_ms;
        node.factory = operators::internal::processor_factory<K, change<V>, K, change<V>>(name, [store, grace] {
            return std::make_unique<operators::suppress_processor<KW, V>>(store, grace);
        });
        _graph->add(std::move(node));
        return ktable(_graph, name, "", _may_delete).with_window_grace(_window_grace_ms);
    }

    // The rows P(key, value) holds for; a row that stops passing is deleted.
    template<key_value_predicate<K, V> P>
    ktable filter(P predicate, const named& n = {}) const {
        return add_filter(std::move(predicate), false, n, "KTABLE-FILTER-");
    }
    template<key_value_predicate<K, V> P>
    ktable filter_not(P predicate, const named& n = {}) const {
        return add_filter(std::move(predicate), true, n, "KTABLE-FILTER-");
    }
    // ... kept in the store `m` names (queryable; logged to
    // "<application.id>-<store>-changelog" unless logging is disabled): a row
    // that stops passing is deleted from it, and a delete goes downstream
    // only when the store held the key.
    //
    //   auto adults = users.filter(is_adult, eddy::materialized<std::string, user>::as("adults"));
    template<key_value_predicate<K, V> P>
    ktable filter(P predicate, const materialized<K, V>& m, const named& n = {}) const {
        return add_materialized_filter(std::move(predicate), false, m, n);
    }
    template<key_value_predicate<K, V> P>
    ktable filter_not(P predicate, const materialized<K, V>& m, const named& n = {}) const {
        return add_materialized_filter(std::move(predicate), true, m, n);
    }

    // f(value) or f(key, value) -> V2 for every row.
    template<typename F>
        requires value_mapper<F, V> || key_value_to_value_mapper<F, K, V>
    auto map_values(F f, const named& n = {}) const {
        auto kv = [f](const K& k, const V& v) mutable {
            if constexpr (std::is_invocable_v<F&, const V&>) {
                return f(v);
            } else {
                return f(k, v);
            }
        };
        using V2 = std::decay_t<std::invoke_result_t<decltype(kv)&, const K&, const V&>>;
        auto name = add_node<V2>(n, "KTABLE-MAPVALUES-", [kv] {
            return std::make_unique<operators::table_map_values_processor<K, V, V2, decltype(kv)>>(kv);
        });
        return ktable<K, V2>(_graph, name, "", _may_delete);
    }
    // ... kept in the store `m` names (queryable; logged unless logging is
    // disabled): the old value of a change is the stored one, so each change
    // is mapped once.
    template<typename F, typename VR>
        requires value_mapper<F, V> || key_value_to_value_mapper<F, K, V>
    ktable<K, VR> map_values(F f, const materialized<K, VR>& m, const named& n = {}) const;
    // The same with materialized<> (a store's name and settings, no types):
    // the store holds what f returns.
    template<typename F>
        requires value_mapper<F, V> || key_value_to_value_mapper<F, K, V>
    auto map_values(F f, const materialized<>& m, const named& n = {}) const {
        using R = std::conditional_t<std::is_invocable_v<F&, const V&>, std::invoke_result<F&, const V&>,
            std::invoke_result<F&, const K&, const V&>>;
        return map_values(std::move(f), materialized<K, std::decay_t<typename R::type>>(m), n);
    }

    // Runs the value transformer `supplier()` makes (one per task) on each
    // change: the new and the old value are both transformed (Kafka Streams'
    // KTableTransformValues). `stores`: stores declared with
    // streams_builder::add_state_store that the transformer uses (build()
    // rejects one that is not declared, naming the node).
    template<value_transformer_supplier<K, V> S>
    auto transform_values(S supplier, const named& n = {}, std::vector<std::string> stores = {}) const;
    // ... materialised in the store `m` names (queryable): the old value of a
    // change is the one stored, so each change is transformed once.
    template<value_transformer_supplier<K, V> S, typename VR>
    ktable<K, VR> transform_values(
        S supplier, const materialized<K, VR>& m, const named& n = {}, std::vector<std::string> stores = {}) const;
    // The same with materialized<>: the store holds what the transformer
    // returns.
    template<value_transformer_supplier<K, V> S>
    auto transform_values(
        S supplier, const materialized<>& m, const named& n = {}, std::vector<std::string> stores = {}) const {
        using VR = typename std::invoke_result_t<S&>::element_type::value_out;
        return transform_values(std::move(supplier), materialized<K, VR>(m), n, std::move(stores));
    }

    // Regroups the rows by selector(key, value) -> key_value<KR, VR>, for an
    // aggregation that subtracts a row's old value and adds its new one. The
    // rows go through a repartition topic ("<application.id>-<name>-repartition",
    // the name from `g` or generated).
    template<key_value_mapper<K, V> S>
    auto group_by(S selector, const named& n = {}) const {
        using R = std::remove_cvref_t<std::invoke_result_t<S&, const K&, const V&>>;
        using KR = typename key_value_traits<R>::key_type;
        using VR = typename key_value_traits<R>::value_type;
        return group_by<KR, VR>(std::move(selector), grouped<KR, VR>{}, n);
    }
    // With grouped<> (a name and no types): the types from the selector.
    template<key_value_mapper<K, V> S>
    auto group_by(S selector, const grouped<>& g, const named& n = {}) const {
        using R = std::remove_cvref_t<std::invoke_result_t<S&, const K&, const V&>>;
        using KR = typename key_value_traits<R>::key_type;
        using VR = typename key_value_traits<R>::value_type;
        return group_by<KR, VR>(std::move(selector), grouped<KR, VR>(g), n);
    }
    template<typename KR, typename VR, key_value_mapper<K, V> S>
    kgrouped_table<KR, VR> group_by(S selector, const grouped<KR, VR>& g, const named& n = {}) const;

    // Table-table joins (defined in topology/table_joins.h): each side's
    // change looks the key up in the other side's store and passes on the
    // joined new and old values, stamped with the later of the two rows'
    // times. joiner(value, other) or joiner(key, value, other); left_join's
    // gets the other as std::optional<V2>, outer_join's both as optionals.
    // A delete on either side becomes a change with no new value when there
    // was a result. With a materialized, the result is stored (queryable).
    // Both tables must be co-partitioned (they run in one task); one that is
    // not materialised is materialised for the join.
    template<typename V2, value_joiner<K, V, V2> J>
    auto join(const ktable<K, V2>& other, J joiner, const named& n = {}) const;
    template<typename V2, value_joiner<K, V, V2> J, typename VR>
    ktable<K, VR> join(const ktable<K, V2>& other, J joiner, const materialized<K, VR>& m, const named& n = {}) const;
    template<typename V2, value_joiner<K, V, std::optional<V2>> J>
    auto left_join(const ktable<K, V2>& other, J joiner, const named& n = {}) const;
    template<typename V2, value_joiner<K, V, std::optional<V2>> J, typename VR>
    ktable<K, VR> left_join(
        const ktable<K, V2>& other, J joiner, const materialized<K, VR>& m, const named& n = {}) const;
    template<typename V2, value_joiner<K, std::optional<V>, std::optional<V2>> J>
    auto outer_join(const ktable<K, V2>& other, J joiner, const named& n = {}) const;
    template<typename V2, value_joiner<K, std::optional<V>, std::optional<V2>> J, typename VR>
    ktable<K, VR> outer_join(
        const ktable<K, V2>& other, J joiner, const materialized<K, VR>& m, const named& n = {}) const;
    // The same with materialized<>: the store holds what the joiner returns.
    template<typename V2, value_joiner<K, V, V2> J>
    auto join(const ktable<K, V2>& other, J joiner, const materialized<>& m, const named& n = {}) const;
    template<typename V2, value_joiner<K, V, std::optional<V2>> J>
    auto left_join(const ktable<K, V2>& other, J joiner, const materialized<>& m, const named& n = {}) const;
    template<typename V2, value_joiner<K, std::optional<V>, std::optional<V2>> J>
    auto outer_join(const ktable<K, V2>& other, J joiner, const materialized<>& m, const named& n = {}) const;

    // Foreign-key joins (defined in topology/foreign_key_join.h; Kafka
    // Streams' KIP-213): each left row joins the row of `other` whose key
    // extractor(value) names (KO, or std::optional<KO>: empty is no key).
    // joiner(value, other) or joiner(key, value, other); left_join's gets the
    // other as std::optional<VO>. The tables need not be co-partitioned:
    // subscriptions travel through "<application.id>-<name>-subscription-
    // registration-topic" and answers back through "...-subscription-
    // response-topic", the right side keeping them in "<name>-subscription-
    // store" (name from `n`, or generated). A changed foreign key moves the
    // subscription and an answer for a superseded left value is dropped; a
    // right row's change reaches every left row naming it; a delete on
    // either side (and an inner join's row naming no row) gives a tombstone,
    // a left join's row with no right row joiner(value, empty). K, V, KO and
    // VO need default serdes.
    template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, VO> J>
    auto join(const ktable<KO, VO>& other, F extractor, J joiner, const named& n = {}) const;
    template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, VO> J, typename VR>
    ktable<K, VR> join(
        const ktable<KO, VO>& other, F extractor, J joiner, const materialized<K, VR>& m, const named& n = {}) const;
    template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, std::optional<VO>> J>
    auto left_join(const ktable<KO, VO>& other, F extractor, J joiner, const named& n = {}) const;
    template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, std::optional<VO>> J,
        typename VR>
    ktable<K, VR> left_join(
        const ktable<KO, VO>& other, F extractor, J joiner, const materialized<K, VR>& m, const named& n = {}) const;
    // The same with materialized<>: the store holds what the joiner returns.
    template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, VO> J>
    auto join(const ktable<KO, VO>& other, F extractor, J joiner, const materialized<>& m, const named& n = {}) const;
    template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, std::optional<VO>> J>
    auto left_join(
        const ktable<KO, VO>& other, F extractor, J joiner, const materialized<>& m, const named& n = {}) const;

private:
    template<typename, typename>
    friend class ktable;
    friend struct dsl::internal::access;

    const std::shared_ptr<dsl::internal::graph>& graph() const noexcept { return _graph; }

    // A windowed aggregation's table: its windows' grace, for suppress().
    ktable with_window_grace(std::int64_t grace_ms) const {
        auto t = *this;
        t._window_grace_ms = grace_ms;
        return t;
    }

    // The store spec of the suppress buffer: set by the windowed aggregation
    // that made this table (it knows the serdes).
    ktable with_buffer_spec(std::function<statestore::internal::store_spec(const std::string&)> spec) const {
        auto t = *this;
        t._buffer_spec = std::move(spec);
        return t;
    }

    template<typename V2, typename Make>
    std::string add_node(const named& n, const char* prefix, Make make) const {
        dsl::internal::graph_node node;
        node.name = _graph->name_or_new(n.name(), prefix);
        node.kind = dsl::internal::node_kind::processor;
        node.parents = {_node};
        node.factory = operators::internal::processor_factory<K, change<V>, K, change<V2>>(node.name, std::move(make));
        auto name = node.name;
        _graph->add(std::move(node));
        return name;
    }

    template<typename P>
    ktable add_filter(P predicate, bool negate, const named& n, const char* prefix) const {
        auto name = add_node<V>(n, prefix, [predicate, negate] {
            return std::make_unique<operators::table_filter_processor<K, V, P>>(predicate, negate);
        });
        return ktable(_graph, name, "", true);
    }

    template<typename P>
    ktable add_materialized_filter(P predicate, bool negate, const materialized<K, V>& m, const named& n) const;

    std::shared_ptr<dsl::internal::graph> _graph;
    std::string _node;
    std::string _store;
    bool _may_delete = false;
    std::int64_t _window_grace_ms = -1;
    std::function<statestore::internal::store_spec(const std::string&)> _buffer_spec;
};

namespace dsl::internal {
// Adds the store `m` describes (named `store`) and a processor `prefix`
// whose node `make()` makes, reading `parent`; returns the processor's name.
// `source_topic`: the store materialises that topic, which is then its
// changelog (no topic of its own).
template<typename K, typename VStore, typename KIn, typename VIn, typename KOut, typename VOut, typename Make>
std::string add_stateful(graph& g, const std::string& parent, const std::string& store,
    const materialized<K, VStore>& m, const named& n, const char* prefix, Make make,
    const std::string& source_topic = {}) {
    auto supplier = m.supplier() ? m.supplier() : stores::persistent_key_value_store(store);
    auto builder = stores::key_value_store_builder<K, VStore>(supplier, m.key_serde(), m.value_serde());
    if (!m.logging() || !source_topic.empty()) {
        builder = builder.with_logging_disabled();
    }
    if (!m.caching()) {
        builder = builder.with_caching_disabled();
    }
    auto spec = statestore::internal::builder_access::spec(builder);
    spec.source_topic = source_topic;
    g.add_store(std::move(spec));
    graph_node node;
    node.name = g.name_or_new(n.name(), prefix);
    node.kind = node_kind::processor;
    node.parents = {parent};
    node.stores = {store};
    require_serde(node, m.key_serde(), "key");
    require_serde(node, m.value_serde(), "value");
    node.factory = operators::internal::processor_factory<KIn, VIn, KOut, VOut>(node.name, std::move(make));
    auto name = node.name;
    g.add(std::move(node));
    return name;
}

// The store's name: materialized's, or `generated()`.
template<typename K, typename V, typename Gen>
std::string store_name(const materialized<K, V>& m, Gen generated) {
    return m.supplier() ? m.supplier().name() : generated();
}
} // namespace dsl::internal

template<typename K, typename V>
template<value_transformer_supplier<K, V> S>
auto ktable<K, V>::transform_values(S supplier, const named& n, std::vector<std::string> stores) const {
    using VR = typename std::invoke_result_t<S&>::element_type::value_out;
    dsl::internal::graph_node node;
    node.name = _graph->name_or_new(n.name(), "KTABLE-TRANSFORMVALUES-");
    node.kind = dsl::internal::node_kind::processor;
    node.parents = {_node};
    node.stores = std::move(stores);
    node.factory = operators::internal::processor_factory<K, change<V>, K, change<VR>>(node.name, [supplier]() mutable {
        return std::make_unique<operators::table_transform_values_processor<K, V, VR>>(supplier(), std::string());
    });
    auto name = node.name;
    _graph->add(std::move(node));
    return ktable<K, VR>(_graph, name, "", _may_delete);
}

template<typename K, typename V>
template<value_transformer_supplier<K, V> S, typename VR>
ktable<K, VR> ktable<K, V>::transform_values(
    S supplier, const materialized<K, VR>& m, const named& n, std::vector<std::string> stores) const {
    static_assert(std::is_same_v<VR, typename std::invoke_result_t<S&>::element_type::value_out>,
        "transform_values: the materialized value type must be what the transformer returns");
    auto& g = *_graph;
    const auto store = dsl::internal::store_name(m, [&] { return g.new_name("KTABLE-TRANSFORMVALUES-STATE-STORE-"); });
    auto name = dsl::internal::add_stateful<K, VR, K, change<V>, K, change<VR>>(g, _node, store, m, n,
        "KTABLE-TRANSFORMVALUES-", [supplier, store]() mutable {
            return std::make_unique<operators::table_transform_values_processor<K, V, VR>>(supplier(), store);
        });
    for (auto& node : g.nodes_for_update()) {
        if (node.name == name) {
            node.stores.insert(node.stores.end(), stores.begin(), stores.end());
        }
    }
    return ktable<K, VR>(_graph, name, store, _may_delete);
}

template<typename K, typename V>
template<typename P>
ktable<K, V> ktable<K, V>::add_materialized_filter(
    P predicate, bool negate, const materialized<K, V>& m, const named& n) const {
    auto& g = *_graph;
    const auto store = dsl::internal::store_name(m, [&] { return g.new_name("KTABLE-FILTER-STATE-STORE-"); });
    auto keep = [predicate, negate](const K& k, const V& v) mutable -> std::optional<V> {
        if (static_cast<bool>(predicate(k, v)) != negate) {
            return v;
        }
        return std::nullopt;
    };
    auto name = dsl::internal::add_stateful<K, V, K, change<V>, K, change<V>>(
        g, _node, store, m, n, "KTABLE-FILTER-", [keep, store] {
            return std::make_unique<operators::table_materialize_processor<K, V, V, decltype(keep)>>(keep, store);
        });
    return ktable(_graph, name, store, true);
}

template<typename K, typename V>
template<typename F, typename VR>
    requires value_mapper<F, V> || key_value_to_value_mapper<F, K, V>
ktable<K, VR> ktable<K, V>::map_values(F f, const materialized<K, VR>& m, const named& n) const {
    auto kv = [f](const K& k, const V& v) mutable {
        if constexpr (std::is_invocable_v<F&, const V&>) {
            return f(v);
        } else {
            return f(k, v);
        }
    };
    using V2 = std::decay_t<std::invoke_result_t<decltype(kv)&, const K&, const V&>>;
    static_assert(std::is_same_v<VR, V2>, "map_values: the materialized value type must be what the mapper returns");
    auto& g = *_graph;
    const auto store = dsl::internal::store_name(m, [&] { return g.new_name("KTABLE-MAPVALUES-STATE-STORE-"); });
    // Every row maps to a row (even an empty optional is a value).
    auto row = [kv](const K& k, const V& v) mutable { return std::optional<VR>(std::in_place, kv(k, v)); };
    auto name = dsl::internal::add_stateful<K, VR, K, change<V>, K, change<VR>>(
        g, _node, store, m, n, "KTABLE-MAPVALUES-", [row, store] {
            return std::make_unique<operators::table_materialize_processor<K, V, VR, decltype(row)>>(row, store);
        });
    return ktable<K, VR>(_graph, name, store, _may_delete);
}

template<typename K, typename V>
template<typename M>
ktable<K, V> kstream<K, V>::to_table(const M& m, const named& n) const {
    if constexpr (std::is_same_v<M, materialized<>>) {
        return to_table(materialized<K, V>(m), n);
    } else {
        auto& g = *_graph;
        const auto store = dsl::internal::store_name(m, [&] { return g.new_name("KSTREAM-TOTABLE-STATE-STORE-"); });
        auto name = dsl::internal::add_stateful<K, V, K, V, K, change<V>>(g, _node, store, m, n, "KSTREAM-TOTABLE-",
            [store] { return std::make_unique<operators::table_source_processor<K, V, V>>(store); });
        // Only an optional value can be null, and so delete a row.
        return ktable<K, V>(_graph, name, store, is_optional_v<V>);
    }
}

} // namespace eddy

// The joins, after ktable and kstream are complete (they use both).
#include "table_joins.h"
#include "foreign_key_join.h"
