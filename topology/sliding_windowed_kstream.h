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
#include "../core/window.h"
#include "../statestore/stores.h"
#include "kstream.h"
#include "ktable.h"
#include "internal/aggregations.h"
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
        const auto& w = this->_windows;
        // Both ends are inclusive: a window closes once stream time is past
        // end + grace, one millisecond after a time window of that end would.
        auto table = this->template add_aggregate<VA, timestamped<VA>>(
            m, n,
            [difference = w.time_difference_ms()](const serde_ref<K>& ks) {
                return serde_ref<windowed<K>>(serdes::time_windowed<K>{ks, difference});
            },
            3 * w.time_difference_ms() + w.grace_ms(), w.grace_ms() + 1, false, [w, f](const std::string& store) {
                return std::make_unique<operators::sliding_window_aggregate_processor<K, V, VA, Fold>>(store, w, f);
            });
        return this->_emit_final ? table.suppress() : table;
    }
};

} // namespace eddy
