#pragma once

// kstream<K, V>: a stream of records with keys of K and values of V. Every
// call adds a node to the builder's graph and returns the stream of that
// node's output, typed by what the lambda returns.
//
//   auto tasks = builder.stream<std::string, std::string>("todo.task-events");
//   tasks.filter([](const std::string&, const std::string& v) { return !v.empty(); })
//        .map_values([](const std::string& v) { return static_cast<std::int64_t>(v.size()); })
//        .to("todo.sizes");

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../operators/deduplicate.h"
#include "../operators/filter.h"
#include "../operators/flat_map.h"
#include "../operators/flat_map_values.h"
#include "../operators/internal/processor_node.h"
#include "../operators/internal/sink_node.h"
#include "../operators/internal/source_node.h"
#include "../operators/map.h"
#include "../operators/map_values.h"
#include "../operators/passthrough.h"
#include "../operators/peek.h"
#include "../operators/processor.h"
#include "../operators/retry.h"
#include "../operators/select_key.h"
#include "../statestore/stores.h"
#include "concepts.h"
#include "grouped.h"
#include "internal/access.h"
#include "internal/graph.h"
#include "internal/type_name.h"
#include "join_windows.h"
#include "joined.h"
#include "named.h"
#include "stream_joined.h"

namespace eddy {

template<typename K, typename V>
class branched_kstream;
template<typename K, typename V>
class kgrouped_stream;
template<typename K, typename V>
class ktable;
template<typename K, typename V>
class global_ktable;

// A callable returning std::unique_ptr<P>, P a processor<K, V, KOut, VOut>.
template<typename S, typename K, typename V>
concept processor_supplier = requires(S& s) {
    typename std::invoke_result_t<S&>::element_type;
    requires std::derived_from<typename std::invoke_result_t<S&>::element_type,
        processor<K, V, typename std::invoke_result_t<S&>::element_type::key_out,
            typename std::invoke_result_t<S&>::element_type::value_out>>;
};

// A callable returning std::unique_ptr<P>, P a fixed_key_processor<K, V, VOut>.
template<typename S, typename K, typename V>
concept fixed_key_processor_supplier = requires(S& s) {
    typename std::invoke_result_t<S&>::element_type;
    requires std::derived_from<typename std::invoke_result_t<S&>::element_type,
        fixed_key_processor<K, V, typename std::invoke_result_t<S&>::element_type::value_out>>;
};

namespace dsl::internal {
// Problems of a missing serde, for build() to report.
template<typename T>
void require_serde(graph_node& node, const serde_ref<T>& serde, const char* what) {
    if (!serde) {
        node.problems.push_back(std::string("no ") + what + " serde for type " + type_name<T>()
            + " (it has no default serde; pass one with consumed/produced::with)");
    }
}

// Adds a source node reading `topics` with these serdes; returns its name.
template<typename K, typename V>
std::string add_source(graph& g, const std::string& explicit_name, std::vector<std::string> topics,
    const serde_ref<K>& key_serde, const serde_ref<V>& value_serde,
    std::shared_ptr<deserialization_exception_handler> handler, bool internal,
    std::function<std::int64_t(const K&, const V&, std::int64_t)> extractor = {}, bool wall_clock = false) {
    graph_node node;
    node.name = g.name_or_new(explicit_name, "KSTREAM-SOURCE-");
    node.kind = node_kind::source;
    node.topics = std::move(topics);
    node.internal_topics = internal;
    require_serde(node, key_serde, "key");
    require_serde(node, value_serde, "value");
    node.factory = [name = node.name, ks = key_serde, vs = value_serde, h = std::move(handler),
                       x = std::move(extractor), wall_clock] {
        return std::make_unique<operators::internal::source_node<K, V>>(name, ks, vs, h, x, wall_clock);
    };
    auto name = node.name;
    g.add(std::move(node));
    return name;
}
} // namespace dsl::internal

template<typename K, typename V>
class kstream {
public:
    using key_type = K;
    using value_type = V;

    kstream(std::shared_ptr<dsl::internal::graph> graph, std::string node, bool key_changed = false,
        std::string dead_letter_topic = {})
        : _graph(std::move(graph))
        , _node(std::move(node))
        , _key_changed(key_changed)
        , _dead_letter_topic(std::move(dead_letter_topic)) {}

    // The node whose output this stream is.
    const std::string& node_name() const noexcept { return _node; }
    // Whether an operation upstream (map, flat_map, select_key) may have
    // changed the keys since the last source or repartition: then a grouping
    // repartitions first, so that each key's records meet in one task.
    bool key_changed() const noexcept { return _key_changed; }

    // This stream, whose failures from here on go to the dead-letter topic
    // `topic`: every node the stream's own operations add after it (filter,
    // map, map_values, flat_map, select_key, peek, foreach, process,
    // process_values, split, merge, repartition, to), and the streams they
    // return, dead-letter their processing and production failures there,
    // whatever the configured handlers say. Aggregations, joins and tables
    // made from it keep the configured handlers. The topic is created on
    // start. An empty topic ends the routing.
    //
    //   in.with_dead_letter_topic("payments.dlq").map_values(charge).to("charged");
    kstream with_dead_letter_topic(std::string topic) const {
        return kstream(_graph, _node, _key_changed, std::move(topic));
    }
    // The dead-letter topic of this stream's chain; empty when none.
    const std::string& dead_letter_topic() const noexcept { return _dead_letter_topic; }

    template<key_value_predicate<K, V> P>
    kstream filter(P predicate, const named& n = {}) const {
        return add_filter(std::move(predicate), false, n);
    }
    template<key_value_predicate<K, V> P>
    kstream filter_not(P predicate, const named& n = {}) const {
        return add_filter(std::move(predicate), true, n);
    }

    // f(value) or f(key, value) -> V2
    template<typename F>
        requires value_mapper<F, V> || key_value_to_value_mapper<F, K, V>
    auto map_values(F f, const named& n = {}) const {
        auto kv = with_key(std::move(f));
        using V2 = std::decay_t<std::invoke_result_t<decltype(kv)&, const K&, const V&>>;
        return add<K, V2>("KSTREAM-MAPVALUES-", n,
            [kv] { return std::make_unique<operators::map_values_processor<K, V, V2, decltype(kv)>>(kv); });
    }

    // f(key, value) -> key_value<K2, V2> (or std::pair<K2, V2>)
    template<key_value_mapper<K, V> F>
    auto map(F f, const named& n = {}) const {
        using R = std::remove_cvref_t<std::invoke_result_t<F&, const K&, const V&>>;
        using K2 = typename key_value_traits<R>::key_type;
        using V2 = typename key_value_traits<R>::value_type;
        return add<K2, V2>(
            "KSTREAM-MAP-", n, [f] { return std::make_unique<operators::map_processor<K, V, K2, V2, F>>(f); })
            .with_key_changed();
    }

    // f(key, value) -> a range of key_value<K2, V2>
    template<key_value_flat_mapper<K, V> F>
    auto flat_map(F f, const named& n = {}) const {
        using R = std::remove_cvref_t<std::ranges::range_value_t<std::invoke_result_t<F&, const K&, const V&>>>;
        using K2 = typename key_value_traits<R>::key_type;
        using V2 = typename key_value_traits<R>::value_type;
        return add<K2, V2>("KSTREAM-FLATMAP-", n,
            [f] { return std::make_unique<operators::flat_map_processor<K, V, K2, V2, F>>(f); })
            .with_key_changed();
    }

    // f(value) or f(key, value) -> a range of V2
    template<typename F>
        requires value_flat_mapper<F, V> || key_value_to_values_flat_mapper<F, K, V>
    auto flat_map_values(F f, const named& n = {}) const {
        auto kv = with_key(std::move(f));
        using V2 = std::remove_cvref_t<std::ranges::range_value_t<std::invoke_result_t<decltype(kv)&, const K&, const V&>>>;
        return add<K, V2>("KSTREAM-FLATMAPVALUES-", n,
            [kv] { return std::make_unique<operators::flat_map_values_processor<K, V, V2, decltype(kv)>>(kv); });
    }

    // f(key, value) -> K2
    template<key_value_to_value_mapper<K, V> F>
    auto select_key(F f, const named& n = {}) const {
        using K2 = std::decay_t<std::invoke_result_t<F&, const K&, const V&>>;
        return add<K2, V>("KSTREAM-KEY-SELECT-", n,
            [f] { return std::make_unique<operators::select_key_processor<K, V, K2, F>>(f); })
            .with_key_changed();
    }

    // f(key, value), then the record goes on unchanged.
    template<key_value_action<K, V> F>
    kstream peek(F f, const named& n = {}) const {
        return add<K, V>(
            "KSTREAM-PEEK-", n, [f] { return std::make_unique<operators::peek_processor<K, V, F>>(f, true); });
    }

    // f(key, value); the stream ends here.
    template<key_value_action<K, V> F>
    void foreach (F f, const named& n = {}) const {
        add<K, V>(
            "KSTREAM-FOREACH-", n, [f] { return std::make_unique<operators::peek_processor<K, V, F>>(f, false); });
    }

    // map_values for a function that calls out and may fail: when f throws
    // an error the policy retries, the record waits in the task's retry
    // queue and f is called again at its backoff time (a wall-clock
    // punctuation); meanwhile the task's later records wait too, so order
    // per key holds, while the thread's other tasks go on. After the last
    // attempt the record goes to the dead-letter topic and the task moves
    // on. See docs/retries.md.
    //
    //   auto sent = reminders.map_values_with_retry(
    //       [&](const std::string& v) { return push.send(v); },
    //       eddy::retry_policy().with_max_attempts(5), eddy::named::as("push"));
    template<typename F>
        requires value_mapper<F, V> || key_value_to_value_mapper<F, K, V>
    auto map_values_with_retry(F f, const retry_policy& policy, const named& n = {}) const {
        auto kv = with_key(std::move(f));
        using V2 = std::decay_t<std::invoke_result_t<decltype(kv)&, const K&, const V&>>;
        auto out = add<K, V2>("KSTREAM-MAPVALUES-RETRY-", n, [kv, policy] {
            return std::make_unique<operators::retry_processor<K, V, V2, decltype(kv), true>>(kv, policy);
        });
        mark_retry_step(policy);
        return out;
    }

    // foreach for an action that calls out and may fail, retried as
    // map_values_with_retry does; the stream ends here.
    template<key_value_action<K, V> F>
    void foreach_with_retry(F f, const retry_policy& policy, const named& n = {}) const {
        add<K, V>("KSTREAM-FOREACH-RETRY-", n, [f, policy] {
            return std::make_unique<operators::retry_processor<K, V, V, F, false>>(f, policy);
        });
        mark_retry_step(policy);
    }

    // This stream and `other` as one, in arrival order.
    kstream merge(const kstream& other, const named& n = {}) const;

    // Splits the stream into branches; each record goes to the first branch
    // whose predicate holds.
    branched_kstream<K, V> split(const named& n = {}) const;

    void to(const std::string& topic, const produced<K, V>& p = {}) const { add_sink(topic, nullptr, p); }

    // Writes the stream to an internal topic, "<application.id>-<name>-repartition",
    // and reads it back: the records' partitions then follow their keys, and
    // what follows runs in a sub-topology of its own.
    kstream repartition(const repartitioned<K, V>& r = {}) const {
        const auto name = _graph->name_or_new(r.name(), "KSTREAM-REPARTITION-");
        const auto topic = name + "-repartition";
        add_sink(topic, nullptr, produced<K, V>::with(r.key_serde(), r.value_serde()).with_name(name + "-sink"),
            true, r.partitions());
        return kstream(_graph,
            dsl::internal::add_source<K, V>(
                *_graph, name + "-source", {topic}, r.key_serde(), r.value_serde(), nullptr, true),
            false, _dead_letter_topic);
    }

    // Writes each record to the topic extractor(key, value[, metadata]) names.
    template<topic_name_extractor<K, V> F>
    void to(F extractor, const produced<K, V>& p = {}) const {
        typename operators::internal::sink_node<K, V>::extractor fn;
        if constexpr (std::is_invocable_r_v<std::string, F&, const K&, const V&, const std::optional<record_metadata>&>) {
            fn = std::move(extractor);
        } else {
            fn = [extractor](const K& k, const V& v, const std::optional<record_metadata>&) mutable {
                return std::string(extractor(k, v));
            };
        }
        add_sink("", std::move(fn), p);
    }

    // Runs the processor `supplier()` makes, one per task.
    // `stores`: the stores (declared with streams_builder::add_state_store)
    // the processor reads and writes through its context.
    template<processor_supplier<K, V> S>
    auto process(S supplier, const named& n = {}, std::vector<std::string> stores = {}) const {
        using P = typename std::invoke_result_t<S&>::element_type;
        using KOut = typename P::key_out;
        using VOut = typename P::value_out;
        std::string name = n.name().empty() ? _graph->new_name("KSTREAM-PROCESSOR-") : n.name();
        add_node<KOut, VOut>(name, std::move(supplier), std::move(stores));
        // A processor may forward any key.
        return kstream<KOut, VOut>(_graph, name, true, _dead_letter_topic);
    }

    // Runs the fixed-key processor `supplier()` makes: values may change,
    // keys cannot.
    template<fixed_key_processor_supplier<K, V> S>
    auto process_values(S supplier, const named& n = {}, std::vector<std::string> stores = {}) const {
        using P = typename std::invoke_result_t<S&>::element_type;
        using VOut = typename P::value_out;
        std::string name = n.name().empty() ? _graph->new_name("KSTREAM-PROCESSVALUES-") : n.name();
        add_node<K, VOut>(
            name,
            [supplier]() mutable {
                return std::make_unique<operators::internal::fixed_key_adapter<K, V, VOut>>(supplier());
            },
            std::move(stores));
        return kstream<K, VOut>(_graph, name, _key_changed, _dead_letter_topic);
    }

    // Drops duplicates: the first record of each id_extractor(key, value)
    // passes, later ones with that id within `retention` of event time are
    // dropped and counted (deduplicated-records-total). The ids live in the
    // store `m` names (generated otherwise; RocksDB unless `m` gives an
    // in-memory supplier), id -> event time of the record that passed, with
    // a changelog, so duplicates are dropped across restarts. The extractor
    // may return std::optional<ID>: no id, the record passes. Ids must be
    // co-partitioned with the key (dedup runs per task): select_key to the
    // id first when it is not the key; after a key change the stream is
    // repartitioned first. Semantics in docs/state.md, "De-duplication".
    //
    //   events.deduplicate([](const std::string&, const Event& e) { return e.id; }, std::chrono::hours(1),
    //       eddy::materialized<std::string, std::int64_t>::as("seen-event-ids"));
    template<key_value_to_value_mapper<K, V> F,
        typename ID = operators::internal::deduplicate_id_t<std::invoke_result_t<F&, const K&, const V&>>>
    kstream deduplicate(F id_extractor, std::chrono::milliseconds retention,
        const std::type_identity_t<materialized<ID, std::int64_t>>& m = {}, const named& n = {}) const;

    // This stream, marked as having had its keys changed.
    kstream with_key_changed() const { return kstream(_graph, _node, true, _dead_letter_topic); }

    // Groups the records by their key for an aggregation. When the keys may
    // have changed upstream (map, flat_map, select_key), the stream is first
    // repartitioned through "<application.id>-<name>-repartition" (the name
    // from `g`, or generated).
    template<typename G = grouped<K, V>>
    kgrouped_stream<K, V> group_by_key(const G& g = {}) const;

    // A table of the stream's latest value per key (materialised in the
    // store `m` names, or one generated); a null value (an empty optional)
    // deletes the key.
    template<typename M = materialized<K, V>>
    ktable<K, V> to_table(const M& m = {}, const named& n = {}) const;

    // Groups by the key selector(key, value) returns: select_key, then
    // group_by_key (which repartitions).
    template<key_value_to_value_mapper<K, V> F>
    auto group_by(F selector, const grouped<std::decay_t<std::invoke_result_t<F&, const K&, const V&>>, V>& g = {},
        const named& n = {}) const {
        return select_key(std::move(selector), n).group_by_key(g);
    }

    // Windowed stream-stream joins (topology/stream_stream_join.h), as Kafka
    // Streams' KStream#join/leftJoin/outerJoin with JoinWindows: records of
    // this stream and `other` with the same key at most the windows apart
    // join into joiner(...) -> VR, stamped with the later of the two times.
    // join: joiner(v1, v2) or joiner(key, v1, v2), emitted at once.
    template<typename V2, typename F>
        requires inner_value_joiner<F, K, V, V2>
    auto join(const kstream<K, V2>& other, F joiner, const join_windows& windows,
        const std::type_identity_t<stream_joined<K, V, V2>>& joined = {}) const;
    // left_join: joiner(v1, std::optional<V2>) or with the key first; a left
    // record with no match is emitted (empty right) once its window and the
    // grace period have passed.
    template<typename V2, typename F>
        requires left_value_joiner<F, K, V, V2>
    auto left_join(const kstream<K, V2>& other, F joiner, const join_windows& windows,
        const std::type_identity_t<stream_joined<K, V, V2>>& joined = {}) const;
    // outer_join: joiner(std::optional<V1>, std::optional<V2>) or with the
    // key first; unmatched records of either side as left_join's.
    template<typename V2, typename F>
        requires outer_value_joiner<F, K, V, V2>
    auto outer_join(const kstream<K, V2>& other, F joiner, const join_windows& windows,
        const std::type_identity_t<stream_joined<K, V, V2>>& joined = {}) const;
    // Stream-table joins (defined in topology/table_joins.h). Each record
    // looks its key up in the table's store and goes on as joiner(value,
    // row) (or joiner(key, value, row)) with its own key and timestamp;
    // the table's updates emit nothing. left_join's joiner gets the row as
    // std::optional<VT> (empty: no row). The table must be materialised (one that is not, a filter's
    // say, is materialised for the join) and co-partitioned with the stream:
    // the two run in one task. After a key change (map, select_key) the
    // stream is repartitioned first ("<j.name()>-repartition"). Null values,
    // and an inner join's null keys, are dropped and counted.
    template<typename VT, value_joiner<K, V, VT> J>
    auto join(const ktable<K, VT>& table, J joiner, const std::type_identity_t<joined<K, V, VT>>& j = {}) const;
    template<typename VT, value_joiner<K, V, std::optional<VT>> J>
    auto left_join(const ktable<K, VT>& table, J joiner, const std::type_identity_t<joined<K, V, VT>>& j = {}) const;

    // Stream-global-table joins: key_selector(key, value) -> GK (or
    // std::optional<GK>, empty: no key, the record is dropped) names the row
    // of the global table to join with. No co-partitioning, no repartition.
    template<typename GK, typename GV, std::invocable<const K&, const V&> S, value_joiner<K, V, GV> J>
    auto join(const global_ktable<GK, GV>& table, S key_selector, J joiner, const named& n = {}) const;
    template<typename GK, typename GV, std::invocable<const K&, const V&> S, value_joiner<K, V, std::optional<GV>> J>
    auto left_join(const global_ktable<GK, GV>& table, S key_selector, J joiner, const named& n = {}) const;

private:
    template<typename, typename>
    friend class kstream;
    friend struct dsl::internal::access;

    // A child node taking this stream's records.
    template<typename K2, typename V2, typename Make>
    kstream<K2, V2> add(std::string_view prefix, const named& n, Make make, bool burn_index = true) const {
        std::string name = burn_index || n.name().empty() ? _graph->name_or_new(n.name(), prefix) : n.name();
        add_node<K2, V2>(name, std::move(make));
        return kstream<K2, V2>(_graph, name, _key_changed, _dead_letter_topic);
    }

    template<typename K2, typename V2, typename Make>
    void add_node(const std::string& name, Make make, std::vector<std::string> stores = {}) const {
        dsl::internal::graph_node node;
        node.name = name;
        node.kind = dsl::internal::node_kind::processor;
        node.parents = {_node};
        node.stores = std::move(stores);
        node.dead_letter_topic = _dead_letter_topic;
        node.factory = operators::internal::processor_factory<K, V, K2, V2>(name, std::move(make));
        _graph->add(std::move(node));
    }

    const std::shared_ptr<dsl::internal::graph>& graph() const noexcept { return _graph; }

    // The node just added is a retry step: it may hold its task's input.
    void mark_retry_step(const retry_policy& policy) const {
        auto& node = _graph->nodes_for_update().back();
        node.holds_input = true;
        // The policy's own topic wins over the chain's
        // (with_dead_letter_topic); without one the chain's stays.
        if (!policy.dead_letter_topic().empty()) {
            node.dead_letter_topic = policy.dead_letter_topic();
        }
    }

    template<typename P>
    kstream add_filter(P predicate, bool negate, const named& n) const {
        return add<K, V>("KSTREAM-FILTER-", n, [predicate, negate] {
            return std::make_unique<operators::filter_processor<K, V, P>>(predicate, negate);
        });
    }

    // Adapts f(value) to f(key, value).
    template<typename F>
    static auto with_key(F f) {
        if constexpr (std::is_invocable_v<F&, const V&>) {
            return [f](const K&, const V& v) mutable { return f(v); };
        } else {
            return f;
        }
    }

    void add_sink(const std::string& topic, typename operators::internal::sink_node<K, V>::extractor extractor,
        const produced<K, V>& p, bool internal = false, int partitions = 0) const {
        dsl::internal::graph_node node;
        node.name = _graph->name_or_new(p.name(), "KSTREAM-SINK-");
        node.kind = dsl::internal::node_kind::sink;
        node.parents = {_node};
        node.topic_extractor = static_cast<bool>(extractor);
        node.internal_topics = internal;
        node.partitions = partitions;
        node.dead_letter_topic = _dead_letter_topic;
        if (!extractor) {
            node.topics = {topic};
        }
        dsl::internal::require_serde(node, p.key_serde(), "key");
        dsl::internal::require_serde(node, p.value_serde(), "value");
        node.factory = [name = node.name, topic, extractor, ks = p.key_serde(), vs = p.value_serde(), internal] {
            auto sink = std::make_unique<operators::internal::sink_node<K, V>>(name, topic, extractor, ks, vs);
            sink->set_internal(internal);
            return sink;
        };
        _graph->add(std::move(node));
    }

    std::shared_ptr<dsl::internal::graph> _graph;
    std::string _node;
    bool _key_changed = false;
    std::string _dead_letter_topic;
};

[[noreturn]] void throw_merge_of_two_builders(const std::string& left, const std::string& right);

template<typename K, typename V>
kstream<K, V> kstream<K, V>::merge(const kstream& other, const named& n) const {
    if (other._graph != _graph) {
        throw_merge_of_two_builders(_node, other._node);
    }
    dsl::internal::graph_node node;
    node.name = _graph->name_or_new(n.name(), "KSTREAM-MERGE-");
    node.parents = {_node, other._node};
    node.dead_letter_topic = _dead_letter_topic;
    node.factory = operators::internal::processor_factory<K, V, K, V>(
        node.name, [] { return std::make_unique<operators::passthrough_processor<K, V>>(); });
    auto name = node.name;
    _graph->add(std::move(node));
    return kstream(_graph, name, _key_changed || other._key_changed, _dead_letter_topic);
}

} // namespace eddy

// split()'s branches (they use kstream).
#include "branched_kstream.h"
// The stream-stream joins' definitions (they use kstream).
#include "stream_stream_join.h"
// deduplicate's definition.
#include "deduplicate.h"
