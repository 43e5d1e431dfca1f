#pragma once

// The sliding-window aggregation of a grouped stream, as Kafka Streams'
// KStreamSlidingWindowAggregate: windows [start, start + difference], both
// ends inclusive, exist only where records are. A record at t updates every
// existing window it falls in, creates its left window [t - difference, t]
// (seeded with the aggregate of the window that ends just before it, when the
// previous record is within the difference), creates its right window
// [t + 1, t + 1 + difference] when a later record falls there, and the
// previous record's right window when t falls in it. Records before the
// first difference of time (t < difference) share the window [0, difference].
// A window whose end is more than the grace period before stream time takes
// no more records: the record is dropped for it, logged and counted.
//
// The store is keyed by time-windowed keys (key bytes + 8-byte start), so a
// key's windows in a range of starts are one range scan.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "aggregate.h"
#include "change.h"
#include "processor.h"
#include "../core/window.h"
#include "window_aggregate.h"

namespace eddy::operators {

// Fold(key, value, const std::optional<VA>& aggregate) -> VA; an empty
// aggregate means a new window (the initializer's value, or a reduce's first
// value).
template<typename K, typename V, typename VA, typename Fold>
class sliding_window_aggregate_processor final
    : public internal::window_fold<K, V, VA, Fold, sliding_windows> {
    using base = internal::window_fold<K, V, VA, Fold, sliding_windows>;
    using base::_windows;

public:
    sliding_window_aggregate_processor(std::string store, sliding_windows windows, Fold fold)
        : base(std::move(store), windows, std::move(fold)) {}

    void process(const record<K, V>& r) override {
        const auto observed = this->observe(r);
        if (!observed) {
            return;
        }
        const std::int64_t close = *observed;
        const std::int64_t t = r.timestamp;
        const std::int64_t d = _windows.time_difference_ms();
        if (t + d < close) {
            // Even the record's right window is closed.
            dropped(r, window{t, t + d}, close);
        } else if (t < d) {
            process_early(r, close);
        } else {
            process_in_order(r, close);
        }
        // Windows no record can reach any more: a record is taken down to
        // stream time - grace - difference and reads windows starting from
        // its time - 2 * difference.
        const std::int64_t reach = 3 * _windows.time_difference_ms() + _windows.grace_ms();
        this->expire(reach, [&](const window& w) { return w.start_ms + reach < this->_observed; });
    }

private:
    using entry = key_value<windowed<K>, timestamped<VA>>;

    // The key's windows starting in [from, to], in order of start.
    std::vector<entry> windows_starting(const K& key, std::int64_t from, std::int64_t to) const {
        std::vector<entry> out;
        this->_store->for_each(windowed<K>{key, {from, from}}, windowed<K>{key, {to, to}},
            [&](const windowed<K>& k, const timestamped<VA>& v) {
                if (k.key == key && k.window.start_ms >= from && k.window.start_ms <= to) {
                    out.push_back({k, v});
                }
                return true;
            });
        return out;
    }

    void process_in_order(const record<K, V>& r, std::int64_t close) {
        const std::int64_t t = r.timestamp;
        const std::int64_t d = _windows.time_difference_ms();
        std::set<std::int64_t> starts;
        std::optional<timestamped<VA>> left_aggregate;
        std::optional<timestamped<VA>> right_aggregate;
        bool left_exists = false;
        bool right_exists = false;
        std::optional<std::int64_t> previous;
        // Up to t + 1: the record's right window, if it exists already.
        for (auto& [k, v] : windows_starting(r.key, std::max<std::int64_t>(0, t - 2 * d), t + 1)) {
            const std::int64_t start = k.window.start_ms;
            const std::int64_t end = start + d;
            starts.insert(start);
            if (end < t) {
                left_aggregate = v;
                previous = v.timestamp_ms;
            } else if (end == t) {
                left_exists = true;
                if (v.timestamp_ms < t) {
                    previous = v.timestamp_ms;
                }
                update(r, k.window, v.value, v.timestamp_ms, true, close);
            } else if (start <= t) {
                right_aggregate = v;
                update(r, k.window, v.value, v.timestamp_ms, true, close);
            } else if (start == t + 1) {
                right_exists = true;
            } else {
                throw std::logic_error("sliding window aggregate " + this->context().node_name()
                    + ": unexpected window starting at " + std::to_string(start) + " for a record at "
                    + std::to_string(t));
            }
        }
        // The previous record's right window, when this record is its first.
        if (previous) {
            const std::int64_t start = *previous + 1;
            if (!starts.contains(start) && start + d >= t) {
                update(r, window{start, start + d}, std::nullopt, t, false, close);
            }
        }
        if (!left_exists) {
            const bool previous_within = previous && left_aggregate && t - d <= *previous;
            update(r, window{t - d, t}, previous_within ? std::optional<VA>(left_aggregate->value) : std::nullopt, t,
                false, close);
        }
        if (!right_exists && right_aggregate && right_aggregate->timestamp_ms > t) {
            create_right_window(r, *right_aggregate);
        }
    }

    // 0 <= t < difference: the record's left window would start before 0;
    // such records share [0, difference] instead.
    void process_early(const record<K, V>& r, std::int64_t close) {
        const std::int64_t t = r.timestamp;
        const std::int64_t d = _windows.time_difference_ms();
        std::optional<entry> combined;
        std::optional<timestamped<VA>> right_aggregate;
        bool right_exists = false;
        std::set<std::int64_t> starts;
        std::optional<std::int64_t> previous;
        for (auto& e : windows_starting(r.key, 0, t + 1)) {
            const std::int64_t start = e.key.window.start_ms;
            starts.insert(start);
            if (start == 0) {
                if (e.value.timestamp_ms < t) {
                    previous = e.value.timestamp_ms;
                }
                combined = e;
            } else if (start <= t) {
                right_aggregate = e.value;
                update(r, e.key.window, e.value.value, e.value.timestamp_ms, true, close);
            } else if (start == t + 1) {
                right_exists = true;
            } else {
                throw std::logic_error("sliding window aggregate " + this->context().node_name()
                    + ": unexpected window starting at " + std::to_string(start) + " for an early record at "
                    + std::to_string(t));
            }
        }
        // Without a right window found, the combined window holds exactly the
        // records after t (when it holds any).
        if (!right_aggregate && combined && combined->value.timestamp_ms > t) {
            right_aggregate = combined->value;
        }
        if (!right_exists && right_aggregate && right_aggregate->timestamp_ms > t) {
            create_right_window(r, *right_aggregate);
        }
        if (previous && !starts.contains(*previous + 1)) {
            update(r, window{*previous + 1, *previous + 1 + d}, std::nullopt, t, false, close);
        }
        if (combined) {
            update(r, combined->key.window, combined->value.value, combined->value.timestamp_ms, true, close);
        } else {
            update(r, window{0, d}, std::nullopt, t, false, close);
        }
    }

    // Folds the record into window w, whose aggregate is `aggregate` (none:
    // a new window from the initializer), unless w has closed.
    void update(const record<K, V>& r, const window& w, std::optional<VA> aggregate, std::int64_t aggregate_ts,
        bool exists, std::int64_t close) {
        if (w.end_ms < close) {
            dropped(r, w, close);
            return;
        }
        this->fold_into(r, w, std::move(aggregate), aggregate_ts, exists);
    }

    // The record's right window starts just after it and holds what the
    // window it came from holds after t: that aggregate, unchanged.
    void create_right_window(const record<K, V>& r, const timestamped<VA>& aggregate) {
        const std::int64_t start = r.timestamp + 1;
        const windowed<K> key{r.key, {start, start + _windows.time_difference_ms()}};
        this->_store->put(key, aggregate);
        this->_forwarder.forward(record<windowed<K>, change<VA>>{
            key, change<VA>{aggregate.value, std::nullopt}, aggregate.timestamp_ms, r.headers});
    }

    void dropped(const record<K, V>& r, const window& w, std::int64_t close) {
        auto& ctx = this->context();
        internal::log_expired_window(
            ctx.node_name(), ctx.record_metadata(), r.timestamp, w, close, this->_observed, true);
        ctx.record_dropped();
    }

};

} // namespace eddy::operators
