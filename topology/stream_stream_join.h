#pragma once

// The windowed stream-stream joins of kstream (join, left_join, outer_join):
// how they add themselves to the graph, as Kafka Streams' KStreamImplJoin.
// Each join is five nodes in one sub-topology (so both inputs' partitions
// meet in one task):
//
//   left  -> KSTREAM-WINDOWED-a (keeps left records)  -> KSTREAM-JOINTHIS-c  -> KSTREAM-MERGE-e
//   right -> KSTREAM-WINDOWED-b (keeps right records) -> KSTREAM-JOINOTHER-d -> KSTREAM-MERGE-e
//
// (OUTERTHIS/OUTEROTHER for the sides an outer join emits unmatched). The
// stores are "KSTREAM-JOINTHIS-c-store" and "KSTREAM-JOINOTHER-d-store"
// (names from stream_joined::with_store_name otherwise), window stores kept
// before + after + grace; a left or outer join adds
// "KSTREAM-OUTERSHARED-c-store", where unmatched records wait for their
// window to close. A side whose keys may have changed (map, select_key, ...)
// is repartitioned first. The operators are in operators/stream_stream_join.h.
//
//   auto paid = orders.join(payments,
//       [](const Order& o, const Payment& p) { return Paid{o, p}; },
//       eddy::join_windows::of_time_difference_and_grace(10min, 1min));
//   auto maybe_paid = orders.left_join(payments,
//       [](const Order& o, const std::optional<Payment>& p) { return p ? "paid" : "unpaid"; },
//       eddy::join_windows::of_time_difference_with_no_grace(10min));

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../operators/internal/processor_node.h"
#include "../operators/passthrough.h"
#include "../operators/stream_stream_join.h"
#include "../statestore/stores.h"
#include "internal/graph.h"
#include "internal/windowed.h"
#include "join_windows.h"
#include "kstream.h"
#include "stream_joined.h"
#include "topology_error.h"

namespace eddy {

namespace dsl::internal {

enum class stream_join_kind { inner, left, outer };

// The joiners as the join processors call them: (key, left, right), a null
// pointer for the side a left or outer join found no match for.
template<typename K, typename V1, typename V2, typename F>
auto inner_joiner(F f) {
    return [f](const K& k, const V1* l, const V2* r) mutable {
        if (l == nullptr || r == nullptr) {
            throw std::logic_error("stream-stream join: an inner join has no unmatched results");
        }
        if constexpr (std::is_invocable_v<F&, const V1&, const V2&>) {
            return f(*l, *r);
        } else {
            return f(k, *l, *r);
        }
    };
}

template<typename K, typename V1, typename V2, typename F>
auto left_joiner(F f) {
    return [f](const K& k, const V1* l, const V2* r) mutable {
        if (l == nullptr) {
            throw std::logic_error("stream-stream join: a left join emits no unmatched right record");
        }
        const auto right = r != nullptr ? std::optional<V2>(*r) : std::nullopt;
        if constexpr (std::is_invocable_v<F&, const V1&, const std::optional<V2>&>) {
            return f(*l, right);
        } else {
            return f(k, *l, right);
        }
    };
}

template<typename K, typename V1, typename V2, typename F>
auto outer_joiner(F f) {
    return [f](const K& k, const V1* l, const V2* r) mutable {
        const auto left = l != nullptr ? std::optional<V1>(*l) : std::nullopt;
        const auto right = r != nullptr ? std::optional<V2>(*r) : std::nullopt;
        if constexpr (std::is_invocable_v<F&, const std::optional<V1>&, const std::optional<V2>&>) {
            return f(left, right);
        } else {
            return f(k, left, right);
        }
    };
}

template<typename KS, typename VS>
void add_join_store(graph& g, key_value_bytes_store_supplier supplier, serde_ref<KS> keys, serde_ref<VS> values,
    bool logging, std::int64_t window_retention_ms) {
    auto builder = stores::key_value_store_builder<KS, VS>(std::move(supplier), std::move(keys), std::move(values));
    if (!logging) {
        builder = builder.with_logging_disabled();
    }
    auto spec = statestore::internal::builder_access::spec(builder);
    // -1: a plain key-value store (the outer store).
    spec.window_retention_ms = window_retention_ms;
    g.add_store(std::move(spec));
}

// Adds the join's nodes and stores; returns the merge node's stream.
template<typename K, typename V1, typename V2, typename J>
auto stream_stream_join(kstream<K, V1> left, kstream<K, V2> right, J joiner, const join_windows& windows,
    const stream_joined<K, V1, V2>& joined, stream_join_kind kind) {
    using VR = std::decay_t<std::invoke_result_t<J&, const K&, const V1*, const V2*>>;
    if (access::graph(left) != access::graph(right)) {
        throw topology_error("join of " + left.node_name() + " and " + right.node_name()
            + ": the two streams come from different streams_builders");
    }
    auto& g = *access::graph(left);
    const auto& name = joined.name();
    auto suffixed = [&](std::string_view suffix) { return name.empty() ? std::string() : name + std::string(suffix); };
    // Each key's records of both sides must meet in one task.
    if (left.key_changed()) {
        left = left.repartition(
            repartitioned<K, V1>::with(joined.key_serde(), joined.value_serde()).with_name(suffixed("-left")));
    }
    if (right.key_changed()) {
        right = right.repartition(
            repartitioned<K, V2>::with(joined.key_serde(), joined.other_value_serde()).with_name(suffixed("-right")));
    }

    const bool left_outer = kind != stream_join_kind::inner;
    const bool right_outer = kind == stream_join_kind::outer;
    const std::string_view this_prefix = right_outer ? "KSTREAM-OUTERTHIS-" : "KSTREAM-JOINTHIS-";
    const std::string this_suffix = right_outer ? "-outer-this-join" : "-this-join";
    const std::string other_suffix = left_outer ? "-outer-other-join" : "-other-join";
    const auto this_windowed = g.name_or_new(suffixed("-this-windowed"), "KSTREAM-WINDOWED-");
    const auto other_windowed = g.name_or_new(suffixed("-other-windowed"), "KSTREAM-WINDOWED-");
    const auto this_generated = g.new_name(this_prefix);
    const auto other_generated = g.new_name(left_outer ? "KSTREAM-OUTEROTHER-" : "KSTREAM-JOINOTHER-");
    const auto this_join = name.empty() ? this_generated : name + this_suffix;
    const auto other_join = name.empty() ? other_generated : name + other_suffix;
    const auto merge = g.name_or_new(suffixed("-merge"), "KSTREAM-MERGE-");

    const auto& base = joined.store_name();
    const auto this_store = (base.empty() ? this_generated : base + this_suffix) + "-store";
    const auto other_store = (base.empty() ? other_generated : base + other_suffix) + "-store";
    std::string outer_store;
    if (left_outer) {
        outer_store = (base.empty() ? "KSTREAM-OUTERSHARED-" + this_generated.substr(this_prefix.size())
                                    : base + (right_outer ? "-outer-shared-join" : "-left-shared-join"))
            + "-store";
    }

    auto supplier = [&](const std::string& store) {
        return joined.persistent() ? stores::persistent_key_value_store(store)
                                   : stores::in_memory_key_value_store(store);
    };
    const std::int64_t retention = windows.size_ms() + windows.grace_ms();
    serde_ref<join_window_key<K>> window_keys;
    if (joined.key_serde()) {
        window_keys = serdes::join_window_key_serde<K>{joined.key_serde()};
    }
    add_join_store(g, supplier(this_store), window_keys, joined.value_serde(), joined.logging(), retention);
    add_join_store(g, supplier(other_store), window_keys, joined.other_value_serde(), joined.logging(), retention);
    if (left_outer) {
        serde_ref<timestamped_key_and_join_side<K>> outer_keys;
        if (joined.key_serde()) {
            outer_keys = serdes::timestamped_key_and_join_side_serde<K>{joined.key_serde()};
        }
        serde_ref<left_or_right_value<V1, V2>> outer_values;
        if (joined.value_serde() && joined.other_value_serde()) {
            outer_values = serdes::left_or_right_value_serde<V1, V2>{joined.value_serde(), joined.other_value_serde()};
        }
        add_join_store(g, supplier(outer_store), outer_keys, outer_values, joined.logging(), -1);
    }

    auto states = std::make_shared<operators::internal::stream_join_state_supplier>();
    auto add = [&](std::string node_name, std::string parent, std::vector<std::string> stores, auto factory) {
        graph_node node;
        node.name = std::move(node_name);
        node.kind = node_kind::processor;
        node.parents = {std::move(parent)};
        node.stores = std::move(stores);
        node.factory = std::move(factory);
        return &g.add(std::move(node));
    };
    auto* node = add(this_windowed, left.node_name(), {this_store},
        operators::internal::processor_factory<K, V1, K, V1>(this_windowed, [this_store, retention, states] {
            return std::make_unique<operators::join_window_processor<K, V1>>(this_store, retention, 0, states);
        }));
    require_serde(*node, joined.key_serde(), "key");
    require_serde(*node, joined.value_serde(), "value");
    node = add(other_windowed, right.node_name(), {other_store},
        operators::internal::processor_factory<K, V2, K, V2>(other_windowed, [other_store, retention, states] {
            return std::make_unique<operators::join_window_processor<K, V2>>(other_store, retention, 1, states);
        }));
    require_serde(*node, joined.key_serde(), "key");
    require_serde(*node, joined.other_value_serde(), "other value");

    operators::stream_join_params this_params{other_store, outer_store, windows.before_ms(), windows.after_ms(),
        windows.before_ms(), windows.after_ms(), windows.grace_ms(), retention, left_outer};
    auto other_params = this_params;
    other_params.other_store = this_store;
    other_params.join_before_ms = windows.after_ms();
    other_params.join_after_ms = windows.before_ms();
    other_params.outer = right_outer;
    std::vector<std::string> this_stores{other_store};
    std::vector<std::string> other_stores{this_store};
    if (left_outer) {
        this_stores.push_back(outer_store);
        other_stores.push_back(outer_store);
    }
    add(this_join, this_windowed, this_stores,
        operators::internal::processor_factory<K, V1, K, VR>(this_join, [this_params, joiner, states] {
            return std::make_unique<operators::stream_join_processor<K, V1, V2, VR, J, true>>(
                this_params, joiner, states);
        }));
    add(other_join, other_windowed, other_stores,
        operators::internal::processor_factory<K, V2, K, VR>(other_join, [other_params, joiner, states] {
            return std::make_unique<operators::stream_join_processor<K, V1, V2, VR, J, false>>(
                other_params, joiner, states);
        }));
    graph_node m;
    m.name = merge;
    m.kind = node_kind::processor;
    m.parents = {this_join, other_join};
    m.factory = operators::internal::processor_factory<K, VR, K, VR>(
        merge, [] { return std::make_unique<operators::passthrough_processor<K, VR>>(); });
    g.add(std::move(m));
    return kstream<K, VR>(access::graph(left), merge);
}

} // namespace dsl::internal

template<typename K, typename V>
template<typename V2, typename F>
    requires inner_value_joiner<F, K, V, V2>
auto kstream<K, V>::join(const kstream<K, V2>& other, F joiner, const join_windows& windows,
    const std::type_identity_t<stream_joined<K, V, V2>>& joined) const {
    return dsl::internal::stream_stream_join<K, V, V2>(*this, other,
        dsl::internal::inner_joiner<K, V, V2>(std::move(joiner)), windows, joined,
        dsl::internal::stream_join_kind::inner);
}

template<typename K, typename V>
template<typename V2, typename F>
    requires left_value_joiner<F, K, V, V2>
auto kstream<K, V>::left_join(const kstream<K, V2>& other, F joiner, const join_windows& windows,
    const std::type_identity_t<stream_joined<K, V, V2>>& joined) const {
    return dsl::internal::stream_stream_join<K, V, V2>(*this, other,
        dsl::internal::left_joiner<K, V, V2>(std::move(joiner)), windows, joined,
        dsl::internal::stream_join_kind::left);
}

template<typename K, typename V>
template<typename V2, typename F>
    requires outer_value_joiner<F, K, V, V2>
auto kstream<K, V>::outer_join(const kstream<K, V2>& other, F joiner, const join_windows& windows,
    const std::type_identity_t<stream_joined<K, V, V2>>& joined) const {
    return dsl::internal::stream_stream_join<K, V, V2>(*this, other,
        dsl::internal::outer_joiner<K, V, V2>(std::move(joiner)), windows, joined,
        dsl::internal::stream_join_kind::outer);
}

} // namespace eddy
