#pragma once

// A grouped stream cut into sliding windows (Kafka Streams'
// TimeWindowedKStream over SlidingWindows): windows [start, start + difference]
// where records are, one value per key and window, in a store keyed by
// windowed<K> (key bytes + 8-byte start, serdes::time_windowed with the
// difference as size).
//
//   builder.stream<std::string, std::string>("clicks")
//       .group_by_key()
//       .windowed_by(eddy::sliding_windows::of_time_difference_and_grace(10s, 2s))
//       .count(eddy::materialized<std::string, std::int64_t>::as("clicks-in-10s"));

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "../operators/sliding_window_aggregate.h"
#include "../operators/window.h"
#include "../statestore/stores.h"
#include "kstream.h"
#include "ktable.h"
#include "internal/windowed.h"
#include "kgrouped_stream.h"

namespace eddy {

template<typename K, typename V>
class sliding_windowed_kstream {
public:
    sliding_windowed_kstream(kstream<K, V> stream, sliding_windows windows)
        : _stream(std::move(stream)), _windows(windows) {}

    // on_window_close(): only each window's final result, once stream time
    // has passed its end plus the grace period.
    sliding_windowed_kstream emit_strategy(const eddy::emit_strategy& s) const {
        auto w = *this;
        w._emit_final = s.on_close();
        return w;
    }

    ktable<windowed<K>, std::int64_t> count(const materialized<K, std::int64_t>& m = {}, const named& n = {}) const {
        return aggregate_with<std::int64_t>(m, n, [](const K&, const V&, const std::optional<std::int64_t>& c) {
            return c.value_or(0) + 1;
        });
    }

    template<reducer<V> F>
    ktable<windowed<K>, V> reduce(F reducer, const materialized<K, V>& m = {}, const named& n = {}) const {
        return aggregate_with<V>(m, n, [reducer](const K&, const V& v, const std::optional<V>& agg) {
            return agg ? V(reducer(*agg, v)) : v;
        });
    }

    template<initializer I, typename F, typename VA = initializer_result_t<I>>
        requires aggregator<F, K, V, VA>
    ktable<windowed<K>, VA> aggregate(
        I initializer, F aggregator, const materialized<K, VA>& m = {}, const named& n = {}) const {
        return aggregate_with<VA>(m, n, [initializer, aggregator](const K& k, const V& v, const std::optional<VA>& agg) {
            return VA(aggregator(k, v, agg ? *agg : initializer()));
        });
    }
    // The same with materialized<> (a store's name and settings, no types).
    template<initializer I, aggregator<K, V, initializer_result_t<I>> F>
    ktable<windowed<K>, initializer_result_t<I>> aggregate(
        I initializer, F aggregator, const materialized<>& m, const named& n = {}) const {
        return aggregate(std::move(initializer), std::move(aggregator), materialized<K, initializer_result_t<I>>(m), n);
    }

    const sliding_windows& windows() const noexcept { return _windows; }

private:
    template<typename VA, typename Fold>
    ktable<windowed<K>, VA> aggregate_with(const materialized<K, VA>& m, const named& n, Fold fold) const {
        auto& g = *_stream.graph();
        const std::string prefix = "KSTREAM-AGGREGATE-";
        const auto store = dsl::internal::store_name(m, [&] { return g.new_name(prefix + "STATE-STORE-"); });
        serde_ref<windowed<K>> key_serde;
        if (m.key_serde()) {
            key_serde = serdes::time_windowed<K>{m.key_serde(), _windows.time_difference_ms()};
        }
        serde_ref<timestamped<VA>> value_serde;
        if (m.value_serde()) {
            value_serde = serdes::value_and_timestamp<VA>{m.value_serde()};
        }
        auto store_m = materialized<windowed<K>, timestamped<VA>>::as(
            m.supplier() ? m.supplier() : stores::persistent_key_value_store(store))
                           .with_key_serde(key_serde)
                           .with_value_serde(value_serde);
        if (!m.logging()) {
            store_m = store_m.with_logging_disabled();
        }
        if (!m.caching()) {
            store_m = store_m.with_caching_disabled();
        }
        const auto windows = _windows;
        auto name = dsl::internal::add_stateful<windowed<K>, timestamped<VA>, K, V, windowed<K>, change<VA>>(
            g, _stream.node_name(), store, store_m, n, prefix.c_str(), [store, windows, fold] {
                return std::make_unique<operators::sliding_window_aggregate_processor<K, V, VA, Fold>>(
                    store, windows, fold);
            });
        dsl::internal::set_window_retention(g, store, 3 * _windows.time_difference_ms() + _windows.grace_ms());
        // Both ends are inclusive: a window closes once stream time is past
        // end + grace, one millisecond after a time window of that end would.
        auto table = ktable<windowed<K>, VA>(_stream.graph(), name, store)
                         .with_window_grace(_windows.grace_ms() + 1)
                         .with_buffer_spec(dsl::internal::windowed_buffer_spec<K, VA>(key_serde, m.value_serde()));
        return _emit_final ? table.suppress() : table;
    }

    kstream<K, V> _stream;
    sliding_windows _windows;
    bool _emit_final = false;
};

} // namespace eddy
