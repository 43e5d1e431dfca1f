#pragma once

// A grouped stream cut into session windows (Kafka Streams'
// SessionWindowedKStream): a key's records closer than the inactivity gap
// form one session [first, last]; the aggregations keep one value per key
// and session in a session store (serdes::session_windowed keys: key bytes +
// 8-byte end + 8-byte start), and a record that joins sessions deletes the
// old ones downstream before emitting the merged one.
//
//   builder.stream<std::string, std::string>("clicks")
//       .group_by_key()
//       .windowed_by(eddy::session_windows::of_inactivity_gap_and_grace(5min, 30s))
//       .count(eddy::materialized<std::string, std::int64_t>::as("visits"))
//       .map_values([](std::int64_t n) { return std::optional<std::int64_t>(n); })
//       .to_stream()   // a merged-away session: a tombstone
//       .to("visits", eddy::produced<eddy::windowed<std::string>, std::optional<std::int64_t>>::with(
//           eddy::serdes::session_windowed<std::string>{eddy::serdes::string{}},
//           eddy::serdes::nullable<eddy::serdes::int64>{}));

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "../operators/session_window_aggregate.h"
#include "../core/window.h"
#include "../statestore/stores.h"
#include "internal/aggregations.h"
#include "kgrouped_stream.h"
#include "kstream.h"
#include "ktable.h"

namespace eddy {

// emit_strategy() is dsl::internal::windowed_kstream_base's
// (on_window_close(): only each session's final result, once stream time has
// passed its end plus gap plus grace; merged-away sessions are never emitted).
template<typename K, typename V>
class session_windowed_kstream
    : public dsl::internal::windowed_kstream_base<session_windowed_kstream<K, V>, K, V, session_windows> {
    using base = dsl::internal::windowed_kstream_base<session_windowed_kstream, K, V, session_windows>;

public:
    using base::base;

    // Records per session; merged sessions add their counts.
    ktable<windowed<K>, std::int64_t> count(const materialized<K, std::int64_t>& m = {}, const named& n = {}) const {
        auto init = [] { return std::optional<std::int64_t>(0); };
        auto merge = [](const K&, const std::optional<std::int64_t>& a, const std::int64_t& b) {
            return std::optional<std::int64_t>(a.value_or(0) + b);
        };
        auto fold = [](const K&, const V&, const std::optional<std::int64_t>& c) { return c.value_or(0) + 1; };
        return aggregate_with<std::int64_t>(m, n, init, merge, fold);
    }

    // reducer(aggregate, value) -> V; merged sessions reduce in time order.
    template<reducer<V> F>
    ktable<windowed<K>, V> reduce(F reducer, const materialized<K, V>& m = {}, const named& n = {}) const {
        auto init = [] { return std::optional<V>(); };
        auto merge = [reducer](const K&, const std::optional<V>& a, const V& b) {
            return std::optional<V>(a ? V(reducer(*a, b)) : b);
        };
        auto fold = [reducer](const K&, const V& v, const std::optional<V>& a) { return a ? V(reducer(*a, v)) : v; };
        return aggregate_with<V>(m, n, init, merge, fold);
    }

    // initializer() -> VA, aggregator(key, value, aggregate) -> VA and
    // merger(key, aggregate1, aggregate2) -> VA, which joins two sessions'
    // aggregates (the earlier first).
    template<initializer I, typename F, typename M, typename VA = initializer_result_t<I>>
        requires aggregator<F, K, V, VA> && session_merger<M, K, VA>
    ktable<windowed<K>, VA> aggregate(
        I initializer, F aggregator, M merger, const materialized<K, VA>& m = {}, const named& n = {}) const {
        auto init = [initializer]() mutable { return std::optional<VA>(VA(initializer())); };
        auto merge = [merger](const K& k, const std::optional<VA>& a, const VA& b) mutable {
            return std::optional<VA>(VA(merger(k, *a, b)));
        };
        auto fold = [aggregator](const K& k, const V& v, const std::optional<VA>& a) mutable {
            return VA(aggregator(k, v, *a));
        };
        return aggregate_with<VA>(m, n, init, merge, fold);
    }
    // The same with materialized<> (a store's name and settings, no types).
    template<initializer I, aggregator<K, V, initializer_result_t<I>> F,
        session_merger<K, initializer_result_t<I>> M>
    ktable<windowed<K>, initializer_result_t<I>> aggregate(
        I initializer, F aggregator, M merger, const materialized<>& m, const named& n = {}) const {
        return aggregate(std::move(initializer), std::move(aggregator), std::move(merger),
            materialized<K, initializer_result_t<I>>(m), n);
    }

private:
    template<typename VA, typename Init, typename Merge, typename Fold>
    ktable<windowed<K>, VA> aggregate_with(
        const materialized<K, VA>& m, const named& n, Init init, Merge merge, Fold fold) const {
        const auto& w = this->_windows;
        using session_aggregate = operators::session_window_aggregate_processor<K, V, VA, Init, Merge, Fold>;
        // A session closes once stream time is past its end plus gap plus
        // grace (both ends inclusive): suppress closes at end + this.
        // Merges delete rows, so the table may delete.
        auto table = this->template add_aggregate<VA, VA>(
            m, n, [](const serde_ref<K>& ks) { return serde_ref<windowed<K>>(serdes::session_windowed<K>{ks}); },
            session_aggregate::retention_ms(w), w.inactivity_gap_ms() + w.grace_ms() + 1, true,
            [w, init, merge, fold](const std::string& store) {
                return std::make_unique<session_aggregate>(store, w, init, merge, fold);
            });
        if (!this->_emit_final) {
            return table;
        }
        // Final results never delete: a merged-away session is not emitted.
        auto final_results = table.suppress();
        return ktable<windowed<K>, VA>(
            dsl::internal::access::graph(final_results), final_results.node_name(), "", false);
    }
};

} // namespace eddy
