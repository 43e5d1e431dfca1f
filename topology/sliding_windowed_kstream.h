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
#include "internal/aggregations.h"
#include "internal/timestamped_store.h"
#include "internal/windowed.h"
#include "kgrouped_stream.h"

namespace eddy {

// count(), reduce() and aggregate() are dsl::internal::fold_aggregations';
// emit_strategy() (on_window_close(): only each window's final result, once
// stream time has passed its end plus the grace period) is
// dsl::internal::windowed_kstream_base's.
template<typename K, typename V>
class sliding_windowed_kstream
    : public dsl::internal::windowed_kstream_base<sliding_windowed_kstream<K, V>, K, V, sliding_windows>,
      public dsl::internal::fold_aggregations<sliding_windowed_kstream<K, V>, K, V, windowed<K>> {
    using base = dsl::internal::windowed_kstream_base<sliding_windowed_kstream, K, V, sliding_windows>;

public:
    using base::base;

private:
    friend class dsl::internal::fold_aggregations<sliding_windowed_kstream, K, V, windowed<K>>;

    template<typename VA, typename Fold>
    ktable<windowed<K>, VA> fold(dsl::internal::fold_kind, const materialized<K, VA>& m, const named& n, Fold f) const {
        const auto& windows = this->_windows;
        const auto& stream = this->_stream;
        using dsl::internal::access;
        auto& g = *access::graph(stream);
        const std::string prefix = "KSTREAM-AGGREGATE-";
        const auto store = dsl::internal::store_name(m, [&] { return g.new_name(prefix + "STATE-STORE-"); });
        serde_ref<windowed<K>> key_serde;
        if (m.key_serde()) {
            key_serde = serdes::time_windowed<K>{m.key_serde(), windows.time_difference_ms()};
        }
        auto name = dsl::internal::add_stateful<windowed<K>, timestamped<VA>, K, V, windowed<K>, change<VA>>(g,
            stream.node_name(), store,
            dsl::internal::store_materialized(store, m, key_serde, dsl::internal::timestamped_serde(m.value_serde())),
            n, prefix.c_str(), [store, windows, f] {
                return std::make_unique<operators::sliding_window_aggregate_processor<K, V, VA, Fold>>(
                    store, windows, f);
            });
        dsl::internal::set_window_retention(g, store, 3 * windows.time_difference_ms() + windows.grace_ms());
        // Both ends are inclusive: a window closes once stream time is past
        // end + grace, one millisecond after a time window of that end would.
        auto table = access::with_buffer_spec(
            access::with_window_grace(
                ktable<windowed<K>, VA>(access::graph(stream), name, store), windows.grace_ms() + 1),
            dsl::internal::windowed_buffer_spec<K, VA>(key_serde, m.value_serde()));
        return this->_emit_final ? table.suppress() : table;
    }
};

} // namespace eddy
