#pragma once

// The joins with tables: kstream::join / left_join with a ktable or a
// global_ktable, ktable::join / left_join / outer_join with a ktable (the
// declarations, with their contracts, are in kstream.h and ktable.h; the
// operators in operators/stream_table_join.h and table_table_join.h).
//
//   auto enriched = orders.join(customers, [](const Order& o, const Customer& c) { return with_customer(o, c); });
//   auto seen = clicks.left_join(users, [](const Click& c, const std::optional<User>& u) { return tag(c, u); });
//   auto both = left.outer_join(right, [](const std::optional<A>& a, const std::optional<B>& b) { return pair(a, b); },
//       eddy::materialized<std::string, Pair>::as("pairs"));

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "../operators/change.h"
#include "../operators/internal/processor_node.h"
#include "../operators/passthrough.h"
#include "../operators/stream_table_join.h"
#include "../operators/table_table_join.h"
#include "../core/window.h"
#include "../statestore/stores.h"
#include "global_ktable.h"
#include "internal/graph.h"
#include "internal/timestamped_store.h"
#include "joined.h"
#include "kstream.h"
#include "ktable.h"
#include "named.h"
#include "topology_error.h"

namespace eddy {
namespace dsl::internal {

// The joiner as joiner(key, a, b), the form the operators call: as given,
// or a joiner(a, b) that ignores the key.
template<typename K, typename A, typename B, typename J>
auto with_key_joiner(J joiner) {
    if constexpr (std::is_invocable_v<J&, const K&, const A&, const B&>) {
        return joiner;
    } else {
        return [joiner](const K&, const A& a, const B& b) mutable { return joiner(a, b); };
    }
}

// What a joiner-with-key returns for (key, a, b).
template<typename J, typename K, typename A, typename B>
using joined_t = std::decay_t<std::invoke_result_t<J&, const K&, const A&, const B&>>;

inline void require_one_builder(const std::shared_ptr<graph>& a, const std::shared_ptr<graph>& b,
    const std::string& left, const std::string& right) {
    if (a != b) {
        throw topology_error(
            fmt::format("join of {} and {}: the two come from different streams_builders", left, right));
    }
}

// `table` itself when it is materialised; otherwise the table as a new node
// (KTABLE-MATERIALIZE-...) keeps it, in a timestamped store with the key's
// and the value's default serdes (build() names the node when a type has
// none), for the join to look rows up in.
template<typename K, typename V>
ktable<K, V> materialized_for_join(const ktable<K, V>& table) {
    if (!table.queryable_store_name().empty()) {
        return table;
    }
    auto& g = *access::graph(table);
    const auto store = g.new_name("KTABLE-MATERIALIZE-STATE-STORE-");
    const auto m = materialized<K, V>::as(store);
    auto name = add_stateful<K, timestamped<V>, K, change<V>, K, change<V>>(g, table.node_name(), store,
        timestamped_materialized(store, m), named{}, "KTABLE-MATERIALIZE-",
        [store] { return std::make_unique<operators::table_row_keeper<K, V>>(store); });
    add_plain_view(g, store, m.value_serde());
    return ktable<K, V>(access::graph(table), name, store, true);
}

template<bool Left, typename K, typename V, typename VT, typename J>
auto stream_table_join(const kstream<K, V>& stream, const ktable<K, VT>& table, J joiner, const joined<K, V, VT>& j) {
    using VR = joined_t<J, K, V, std::conditional_t<Left, std::optional<VT>, VT>>;
    require_one_builder(access::graph(stream), access::graph(table), stream.node_name(), table.node_name());
    auto& g = *access::graph(stream);
    // A stream whose keys may have changed goes through a repartition
    // topic first, so that each key meets its row in one task.
    auto input = stream;
    if (stream.key_changed()) {
        auto r = repartitioned<K, V>::with(j.key_serde(), j.value_serde());
        if (!j.name().empty()) {
            r = r.with_name(j.name());
        }
        input = stream.repartition(r);
    }
    const auto rows = materialized_for_join(table);
    const auto store = rows.queryable_store_name();
    graph_node node;
    node.name = g.name_or_new(j.name(), Left ? "KSTREAM-LEFTJOIN-" : "KSTREAM-JOIN-");
    node.kind = node_kind::processor;
    node.parents = {input.node_name()};
    // Naming the store puts the stream and the table in one sub-topology,
    // whose inputs must be co-partitioned (checked at start).
    node.stores = {store};
    auto select = [](const K& k, const V&) { return k; };
    node.factory = operators::internal::processor_factory<K, V, K, VR>(node.name, [store, joiner, select] {
        return std::make_unique<
            operators::stream_table_join_processor<K, V, K, VT, VR, decltype(select), J, Left>>(store, select, joiner);
    });
    auto name = node.name;
    g.add(std::move(node));
    return kstream<K, VR>(access::graph(stream), name);
}

template<bool Left, typename K, typename V, typename GK, typename GV, typename S, typename J>
auto stream_global_join(
    const kstream<K, V>& stream, const global_ktable<GK, GV>& table, S selector, J joiner, const named& n) {
    using VR = joined_t<J, K, V, std::conditional_t<Left, std::optional<GV>, GV>>;
    using selected = std::decay_t<std::invoke_result_t<S&, const K&, const V&>>;
    static_assert(std::is_same_v<selected, GK> || std::is_same_v<selected, std::optional<GK>>,
        "join with a global_ktable: the key selector must return the table's key type (or an optional of it)");
    require_one_builder(
        access::graph(stream), access::graph(table), stream.node_name(), table.queryable_store_name());
    auto& g = *access::graph(stream);
    const auto store = table.queryable_store_name();
    graph_node node;
    node.name = g.name_or_new(n.name(), Left ? "KSTREAM-LEFTJOIN-" : "KSTREAM-JOIN-");
    node.kind = node_kind::processor;
    node.parents = {stream.node_name()};
    // The global store is read through the task's context, as any
    // processor reads it; it joins no sub-topology.
    node.factory = operators::internal::processor_factory<K, V, K, VR>(node.name, [store, selector, joiner] {
        return std::make_unique<operators::stream_table_join_processor<K, V, GK, GV, VR, S, J, Left>>(
            store, selector, joiner);
    });
    auto name = node.name;
    g.add(std::move(node));
    return kstream<K, VR>(access::graph(stream), name, stream.key_changed());
}

// The prefixes of a table-table join's nodes, as Kafka Streams names them.
struct table_join_names {
    const char* this_prefix;
    const char* other_prefix;
};

// LeftOptional / RightOptional: whether the joiner may get a missing left /
// right row (an optional), i.e. whether the other side's rows join alone.
template<bool LeftOptional, bool RightOptional, typename VR, typename K, typename V1, typename V2, typename J>
ktable<K, VR> table_table_join(const ktable<K, V1>& left, const ktable<K, V2>& right, J joiner, const named& n,
    const materialized<K, VR>* m, table_join_names prefixes) {
    require_one_builder(access::graph(left), access::graph(right), left.node_name(), right.node_name());
    auto& g = *access::graph(left);
    const auto l = materialized_for_join(left);
    const auto r = materialized_for_join(right);
    const auto left_store = l.queryable_store_name();
    const auto right_store = r.queryable_store_name();
    auto side = [&](const std::string& name, const std::string& parent, const std::string& other_store,
                    auto factory) {
        graph_node node;
        node.name = name;
        node.kind = node_kind::processor;
        node.parents = {parent};
        // The other side's store (as Kafka Streams lists it): with the
        // parent, it puts the two tables in one sub-topology, one task per
        // partition (co-partitioned).
        node.stores = {other_store};
        node.factory = std::move(factory);
        g.add(std::move(node));
    };
    const auto this_name = n.name().empty() ? g.new_name(prefixes.this_prefix) : n.name() + "-join-this";
    const auto other_name = n.name().empty() ? g.new_name(prefixes.other_prefix) : n.name() + "-join-other";
    side(this_name, l.node_name(), right_store,
        operators::internal::processor_factory<K, change<V1>, K, change<VR>>(this_name, [right_store, joiner] {
            return std::make_unique<operators::table_table_join_processor<K, V1, V2, VR, J, LeftOptional,
                RightOptional, true>>(right_store, joiner);
        }));
    side(other_name, r.node_name(), left_store,
        operators::internal::processor_factory<K, change<V2>, K, change<VR>>(other_name, [left_store, joiner] {
            return std::make_unique<operators::table_table_join_processor<K, V2, V1, VR, J, RightOptional,
                LeftOptional, false>>(left_store, joiner);
        }));
    if (m == nullptr) {
        graph_node merge;
        merge.name = g.name_or_new(n.name(), "KTABLE-MERGE-");
        merge.kind = node_kind::processor;
        merge.parents = {this_name, other_name};
        merge.factory = operators::internal::processor_factory<K, change<VR>, K, change<VR>>(
            merge.name, [] { return std::make_unique<operators::passthrough_processor<K, change<VR>>>(); });
        auto name = merge.name;
        g.add(std::move(merge));
        return ktable<K, VR>(access::graph(left), name, "", true);
    }
    // The result kept in a timestamped store (value and time of the last
    // change), queryable as plain values.
    const auto store = store_name(*m, [&] { return g.new_name("KTABLE-MERGE-STATE-STORE-"); });
    auto name = add_stateful<K, timestamped<VR>, K, change<VR>, K, change<VR>>(g, this_name, store,
        timestamped_materialized(store, *m), n, "KTABLE-MERGE-",
        [store] { return std::make_unique<operators::table_row_keeper<K, VR>>(store); });
    add_plain_view(g, store, m->value_serde());
    for (auto& node : g.nodes_for_update()) {
        if (node.name == name) {
            node.parents.push_back(other_name);
        }
    }
    return ktable<K, VR>(access::graph(left), name, store, true);
}

inline constexpr table_join_names inner_join_names{"KTABLE-JOINTHIS-", "KTABLE-JOINOTHER-"};
inline constexpr table_join_names left_join_names{"KTABLE-LEFTTHIS-", "KTABLE-LEFTOTHER-"};
inline constexpr table_join_names outer_join_names{"KTABLE-OUTERTHIS-", "KTABLE-OUTEROTHER-"};

} // namespace dsl::internal

template<typename K, typename V>
template<typename VT, value_joiner<K, V, VT> J>
auto kstream<K, V>::join(const ktable<K, VT>& table, J joiner, const std::type_identity_t<joined<K, V, VT>>& j) const {
    return dsl::internal::stream_table_join<false>(
        *this, table, dsl::internal::with_key_joiner<K, V, VT>(std::move(joiner)), j);
}

template<typename K, typename V>
template<typename VT, value_joiner<K, V, std::optional<VT>> J>
auto kstream<K, V>::left_join(const ktable<K, VT>& table, J joiner, const std::type_identity_t<joined<K, V, VT>>& j) const {
    return dsl::internal::stream_table_join<true>(
        *this, table, dsl::internal::with_key_joiner<K, V, std::optional<VT>>(std::move(joiner)), j);
}

template<typename K, typename V>
template<typename GK, typename GV, std::invocable<const K&, const V&> S, value_joiner<K, V, GV> J>
auto kstream<K, V>::join(const global_ktable<GK, GV>& table, S key_selector, J joiner, const named& n) const {
    return dsl::internal::stream_global_join<false>(
        *this, table, std::move(key_selector), dsl::internal::with_key_joiner<K, V, GV>(std::move(joiner)), n);
}

template<typename K, typename V>
template<typename GK, typename GV, std::invocable<const K&, const V&> S, value_joiner<K, V, std::optional<GV>> J>
auto kstream<K, V>::left_join(const global_ktable<GK, GV>& table, S key_selector, J joiner, const named& n) const {
    return dsl::internal::stream_global_join<true>(*this, table, std::move(key_selector),
        dsl::internal::with_key_joiner<K, V, std::optional<GV>>(std::move(joiner)), n);
}

template<typename K, typename V>
template<typename V2, value_joiner<K, V, V2> J>
auto ktable<K, V>::join(const ktable<K, V2>& other, J joiner, const named& n) const {
    auto joiner_with_key = dsl::internal::with_key_joiner<K, V, V2>(std::move(joiner));
    using VR = dsl::internal::joined_t<decltype(joiner_with_key), K, V, V2>;
    return dsl::internal::table_table_join<false, false, VR>(*this, other, std::move(joiner_with_key), n,
        static_cast<const materialized<K, VR>*>(nullptr), dsl::internal::inner_join_names);
}

template<typename K, typename V>
template<typename V2, value_joiner<K, V, V2> J, typename VR>
ktable<K, VR> ktable<K, V>::join(
    const ktable<K, V2>& other, J joiner, const materialized<K, VR>& m, const named& n) const {
    auto joiner_with_key = dsl::internal::with_key_joiner<K, V, V2>(std::move(joiner));
    return dsl::internal::table_table_join<false, false, VR>(
        *this, other, std::move(joiner_with_key), n, &m, dsl::internal::inner_join_names);
}

template<typename K, typename V>
template<typename V2, value_joiner<K, V, std::optional<V2>> J>
auto ktable<K, V>::left_join(const ktable<K, V2>& other, J joiner, const named& n) const {
    auto joiner_with_key = dsl::internal::with_key_joiner<K, V, std::optional<V2>>(std::move(joiner));
    using VR = dsl::internal::joined_t<decltype(joiner_with_key), K, V, std::optional<V2>>;
    return dsl::internal::table_table_join<false, true, VR>(*this, other, std::move(joiner_with_key), n,
        static_cast<const materialized<K, VR>*>(nullptr), dsl::internal::left_join_names);
}

template<typename K, typename V>
template<typename V2, value_joiner<K, V, std::optional<V2>> J, typename VR>
ktable<K, VR> ktable<K, V>::left_join(
    const ktable<K, V2>& other, J joiner, const materialized<K, VR>& m, const named& n) const {
    auto joiner_with_key = dsl::internal::with_key_joiner<K, V, std::optional<V2>>(std::move(joiner));
    return dsl::internal::table_table_join<false, true, VR>(
        *this, other, std::move(joiner_with_key), n, &m, dsl::internal::left_join_names);
}

template<typename K, typename V>
template<typename V2, value_joiner<K, std::optional<V>, std::optional<V2>> J>
auto ktable<K, V>::outer_join(const ktable<K, V2>& other, J joiner, const named& n) const {
    auto joiner_with_key = dsl::internal::with_key_joiner<K, std::optional<V>, std::optional<V2>>(std::move(joiner));
    using VR = dsl::internal::joined_t<decltype(joiner_with_key), K, std::optional<V>, std::optional<V2>>;
    return dsl::internal::table_table_join<true, true, VR>(*this, other, std::move(joiner_with_key), n,
        static_cast<const materialized<K, VR>*>(nullptr), dsl::internal::outer_join_names);
}

template<typename K, typename V>
template<typename V2, value_joiner<K, std::optional<V>, std::optional<V2>> J, typename VR>
ktable<K, VR> ktable<K, V>::outer_join(
    const ktable<K, V2>& other, J joiner, const materialized<K, VR>& m, const named& n) const {
    auto joiner_with_key = dsl::internal::with_key_joiner<K, std::optional<V>, std::optional<V2>>(std::move(joiner));
    return dsl::internal::table_table_join<true, true, VR>(
        *this, other, std::move(joiner_with_key), n, &m, dsl::internal::outer_join_names);
}

template<typename K, typename V>
template<typename V2, value_joiner<K, V, V2> J>
auto ktable<K, V>::join(const ktable<K, V2>& other, J joiner, const materialized<>& m, const named& n) const {
    using VR = dsl::internal::joined_t<decltype(dsl::internal::with_key_joiner<K, V, V2>(joiner)), K, V, V2>;
    return join(other, std::move(joiner), materialized<K, VR>(m), n);
}

template<typename K, typename V>
template<typename V2, value_joiner<K, V, std::optional<V2>> J>
auto ktable<K, V>::left_join(const ktable<K, V2>& other, J joiner, const materialized<>& m, const named& n) const {
    using VR = dsl::internal::joined_t<decltype(dsl::internal::with_key_joiner<K, V, std::optional<V2>>(joiner)), K, V,
        std::optional<V2>>;
    return left_join(other, std::move(joiner), materialized<K, VR>(m), n);
}

template<typename K, typename V>
template<typename V2, value_joiner<K, std::optional<V>, std::optional<V2>> J>
auto ktable<K, V>::outer_join(const ktable<K, V2>& other, J joiner, const materialized<>& m, const named& n) const {
    using VR = dsl::internal::joined_t<
        decltype(dsl::internal::with_key_joiner<K, std::optional<V>, std::optional<V2>>(joiner)), K,
        std::optional<V>, std::optional<V2>>;
    return outer_join(other, std::move(joiner), materialized<K, VR>(m), n);
}

} // namespace eddy
