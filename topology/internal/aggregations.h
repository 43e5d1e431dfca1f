#pragma once

// What the grouped and windowed streams' aggregations share.
// - count, reduce and aggregate as folds, (key, value, const
//   std::optional<VA>& aggregate) -> VA, where an empty aggregate is a key's
//   (or window's) first record: operators::aggregate_processor and the time
//   and sliding window processors take them.
// - fold_aggregations: count, reduce and aggregate written once, for
//   kgrouped_stream, time_windowed_kstream and sliding_windowed_kstream;
//   each adds its own node for a fold.
// - windowed_kstream_base: the stream, the windows and the emit strategy of
//   the time, sliding and session windowed streams.

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "../concepts.h"
#include "../emit_strategy.h"
#include "../kstream.h"
#include "../ktable.h"
#include "../named.h"
#include "timestamped_store.h"
#include "windowed.h"

namespace eddy::dsl::internal {

enum class fold_kind { count, reduce, aggregate };

template<typename K, typename V>
auto count_fold() {
    return [](const K&, const V&, const std::optional<std::int64_t>& c) { return c.value_or(0) + 1; };
}

// The first value, then reducer(aggregate, value).
template<typename K, typename V, typename F>
auto reduce_fold(F reducer) {
    return [reducer](const K&, const V& v, const std::optional<V>& a) { return a ? V(reducer(*a, v)) : v; };
}

// initializer(), then aggregator(key, value, aggregate).
template<typename K, typename V, typename VA, typename I, typename F>
auto aggregate_fold(I initializer, F aggregator) {
    return [initializer, aggregator](const K& k, const V& v, const std::optional<VA>& a) {
        return VA(aggregator(k, v, a ? *a : initializer()));
    };
}

// Derived has `template<typename VA, typename Fold> ktable<KR, VA>
// fold(fold_kind, const materialized<K, VA>&, const named&, Fold) const`,
// which adds its store and node; KR is the result's key (K, or windowed<K>).
template<typename Derived, typename K, typename V, typename KR>
class fold_aggregations {
public:
    // Records per key (and window).
    ktable<KR, std::int64_t> count(const materialized<K, std::int64_t>& m = {}, const named& n = {}) const {
        return self().template fold<std::int64_t>(fold_kind::count, m, n, count_fold<K, V>());
    }

    // The first value of a key (and window), then reducer(aggregate, value) -> V.
    template<reducer<V> F>
    ktable<KR, V> reduce(F reducer, const materialized<K, V>& m = {}, const named& n = {}) const {
        return self().template fold<V>(fold_kind::reduce, m, n, reduce_fold<K, V>(std::move(reducer)));
    }

    // initializer() -> VA, then aggregator(key, value, aggregate) -> VA.
    template<initializer I, typename F, typename VA = initializer_result_t<I>>
        requires aggregator<F, K, V, VA>
    ktable<KR, VA> aggregate(
        I initializer, F aggregator, const materialized<K, VA>& m = {}, const named& n = {}) const {
        return self().template fold<VA>(
            fold_kind::aggregate, m, n, aggregate_fold<K, V, VA>(std::move(initializer), std::move(aggregator)));
    }
    // The same with materialized<> (a store's name and settings, no types).
    template<initializer I, aggregator<K, V, initializer_result_t<I>> F>
    ktable<KR, initializer_result_t<I>> aggregate(
        I initializer, F aggregator, const materialized<>& m, const named& n = {}) const {
        return aggregate(std::move(initializer), std::move(aggregator), materialized<K, initializer_result_t<I>>(m), n);
    }

private:
    const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
};

// A grouped stream cut into windows of kind Windows.
template<typename Derived, typename K, typename V, typename Windows>
class windowed_kstream_base {
public:
    windowed_kstream_base(kstream<K, V> stream, Windows windows) : _stream(std::move(stream)), _windows(windows) {}

    // on_window_close(): the aggregations emit each window's final result
    // once, when it closes, instead of every update (the results
    // suppress(until_window_closes) gives).
    Derived emit_strategy(const eddy::emit_strategy& s) const {
        Derived d(static_cast<const Derived&>(*this));
        static_cast<windowed_kstream_base&>(d)._emit_final = s.on_close();
        return d;
    }

    const Windows& windows() const noexcept { return _windows; }

protected:
    // Adds a windowed aggregation: its store (named by `m`, or generated as
    // Kafka Streams does) of SV (timestamped<VA>, or VA) keyed by
    // `key_layout(m's key serde)`, kept `retention_ms` past stream time, and
    // the processor `make(store)` makes. The table's suppress() closes a
    // window `close_ms` after its end; `may_delete`: merges delete rows.
    template<typename VA, typename SV, typename KeyLayout, typename Make>
    ktable<windowed<K>, VA> add_aggregate(const materialized<K, VA>& m, const named& n, KeyLayout key_layout,
        std::int64_t retention_ms, std::int64_t close_ms, bool may_delete, Make make) const {
        auto& g = *access::graph(_stream);
        const std::string prefix = "KSTREAM-AGGREGATE-";
        const auto store = store_name(m, [&] { return g.new_name(prefix + "STATE-STORE-"); });
        serde_ref<windowed<K>> key_serde;
        if (m.key_serde()) {
            key_serde = key_layout(m.key_serde());
        }
        serde_ref<SV> value_serde;
        if constexpr (std::is_same_v<SV, VA>) {
            value_serde = m.value_serde();
        } else {
            value_serde = timestamped_serde(m.value_serde());
        }
        auto name = add_stateful<windowed<K>, SV, K, V, windowed<K>, change<VA>>(g, _stream.node_name(), store,
            store_materialized(store, m, key_serde, value_serde), n, prefix.c_str(),
            [store, make] { return make(store); });
        set_window_retention(g, store, retention_ms);
        const ktable<windowed<K>, VA> table(access::graph(_stream), name, store, may_delete);
        return access::with_buffer_spec(
            access::with_window_grace(table, close_ms), windowed_buffer_spec<K, VA>(key_serde, m.value_serde()));
    }

    kstream<K, V> _stream;
    Windows _windows;
    bool _emit_final = false;
};

} // namespace eddy::dsl::internal
