#pragma once

// The windowed aggregation of a grouped stream: each record folds into every
// time window it falls in, unless stream time has passed that window's end
// plus the grace period: then the record is dropped for that window, logged
// and counted (Kafka Streams' dropped-records). Aggregates keep the
// timestamp of their latest update; each update goes downstream as a table
// change keyed by windowed<K>, stamped with the larger of the record's and
// the aggregate's timestamps. Windows older than the retention (size +
// grace) are removed from the store as stream time passes.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aggregate.h"
#include "change.h"
#include "processor.h"
#include "../core/window.h"

namespace eddy::operators {

namespace internal {
void log_expired_window(const std::string& node, const std::optional<record_metadata>& where, std::int64_t timestamp,
    const window& w, std::int64_t expiration, std::int64_t stream_time, bool end_inclusive = false);
} // namespace internal

namespace internal {
// What the time and sliding window aggregations share: their windows, a
// store of timestamped aggregates keyed by windowed<K>, the fold (as
// aggregate_processor's), stream time, and the expiry of old windows.
template<typename K, typename V, typename VA, typename Fold, typename Windows>
class window_fold : public processor<K, V, windowed<K>, change<VA>> {
public:
    void init(processor_context<windowed<K>, change<VA>>& context) override {
        processor<K, V, windowed<K>, change<VA>>::init(context);
        _store.emplace(context.template get_key_value_store<windowed<K>, timestamped<VA>>(_store_name));
        _forwarder.init(context, _store_name, _store->key_serde());
    }

protected:
    window_fold(std::string store, Windows windows, Fold fold)
        : _store_name(std::move(store)), _windows(windows), _fold(std::move(fold)) {}

    // Stream time after `r`, less the grace period: windows ending at or
    // before it take no more records. None when no aggregation takes `r`
    // (a null key or value: dropped, logged and counted).
    std::optional<std::int64_t> observe(const record<K, V>& r) {
        if (drop_if_null(r, this->context())) {
            return std::nullopt;
        }
        _observed = std::max(_observed, r.timestamp);
        return _observed - _windows.grace_ms();
    }

    // Folds `r` into window `w`, whose aggregate is `aggregate` (none: a new
    // window), stamped with the larger of the record's and the aggregate's
    // timestamps; stores it and forwards the change (with the old value when
    // `exists`: the window was in the store).
    void fold_into(const record<K, V>& r, const window& w, std::optional<VA> aggregate, std::int64_t aggregate_ts,
        bool exists) {
        const bool had = aggregate.has_value();
        timestamped<VA> next{_fold(r.key, r.value, aggregate), had ? std::max(r.timestamp, aggregate_ts) : r.timestamp};
        const windowed<K> key{r.key, w};
        _store->put(key, next);
        _forwarder.forward(record<windowed<K>, change<VA>>{
            key, change<VA>{next.value, exists ? std::move(aggregate) : std::nullopt}, next.timestamp_ms, r.headers});
    }

    // Removes the windows `gone(window)` says no record reaches any more,
    // once per `every` milliseconds of stream time.
    template<typename Gone>
    void expire(std::int64_t every, Gone gone) {
        if (_observed - _last_expiry < every) {
            return;
        }
        _last_expiry = _observed;
        std::vector<windowed<K>> expired;
        _store->for_each(std::nullopt, std::nullopt, [&](const windowed<K>& k, const timestamped<VA>&) {
            if (gone(k.window)) {
                expired.push_back(k);
            }
            return true;
        });
        for (const auto& k : expired) {
            _store->remove(k);
        }
    }

    std::string _store_name;
    Windows _windows;
    Fold _fold;
    std::optional<key_value_store<windowed<K>, timestamped<VA>>> _store;
    change_forwarder<windowed<K>, VA> _forwarder;
    std::int64_t _observed = -1;
    std::int64_t _last_expiry = 0;
};
} // namespace internal

// Fold(key, value, const std::optional<VA>& aggregate) -> VA.
template<typename K, typename V, typename VA, typename Fold>
class window_aggregate_processor final : public internal::window_fold<K, V, VA, Fold, time_windows> {
    using base = internal::window_fold<K, V, VA, Fold, time_windows>;

public:
    window_aggregate_processor(std::string store, time_windows windows, Fold fold)
        : base(std::move(store), windows, std::move(fold)) {}

    void process(const record<K, V>& r) override {
        const auto close = this->observe(r);
        if (!close) {
            return;
        }
        const auto& windows = this->_windows;
        auto& ctx = this->context();
        for (const auto& w : windows.windows_for(r.timestamp)) {
            if (w.end_ms <= *close) {
                internal::log_expired_window(ctx.node_name(), ctx.record_metadata(), r.timestamp, w,
                    w.end_ms + windows.grace_ms(), this->_observed);
                ctx.record_dropped();
                continue;
            }
            std::optional<timestamped<VA>> old = this->_store->get(windowed<K>{r.key, w});
            std::optional<VA> aggregate;
            std::int64_t aggregate_ts = r.timestamp;
            if (old) {
                aggregate = std::move(old->value);
                aggregate_ts = old->timestamp_ms;
            }
            this->fold_into(r, w, std::move(aggregate), aggregate_ts, old.has_value());
        }
        // Windows that ended more than the retention before stream time.
        const std::int64_t retention = windows.size_ms() + windows.grace_ms();
        this->expire(retention, [&](const window& w) { return w.end_ms + retention <= this->_observed; });
    }
};

} // namespace eddy::operators
