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
#include "window.h"

namespace eddy::operators {

namespace internal {
void log_expired_window(const std::string& node, const std::optional<record_metadata>& where, std::int64_t timestamp,
    const window& w, std::int64_t expiration, std::int64_t stream_time, bool end_inclusive = false);
} // namespace internal

// Fold(key, value, const std::optional<VA>& aggregate) -> VA.
template<typename K, typename V, typename VA, typename Fold>
class window_aggregate_processor final : public processor<K, V, windowed<K>, change<VA>> {
public:
    window_aggregate_processor(std::string store, time_windows windows, Fold fold)
        : _store_name(std::move(store)), _windows(windows), _fold(std::move(fold)) {}

    void init(processor_context<windowed<K>, change<VA>>& context) override {
        processor<K, V, windowed<K>, change<VA>>::init(context);
        _store.emplace(context.template get_key_value_store<windowed<K>, timestamped<VA>>(_store_name));
        _forwarder.init(context, _store_name, _store->key_serde());
    }

    void process(const record<K, V>& r) override {
        auto& ctx = this->context();
        if (internal::drop_if_null(r, ctx)) {
            return;
        }
        _observed = std::max(_observed, r.timestamp);
        const std::int64_t close = _observed - _windows.grace_ms();
        for (const auto& w : _windows.windows_for(r.timestamp)) {
            if (w.end_ms <= close) {
                internal::log_expired_window(
                    ctx.node_name(), ctx.record_metadata(), r.timestamp, w, w.end_ms + _windows.grace_ms(), _observed);
                ctx.record_dropped();
                continue;
            }
            const windowed<K> key{r.key, w};
            std::optional<timestamped<VA>> old = _store->get(key);
            std::optional<VA> old_value;
            if (old) {
                old_value = old->value;
            }
            timestamped<VA> next{_fold(r.key, r.value, old_value),
                old ? std::max(old->timestamp_ms, r.timestamp) : r.timestamp};
            _store->put(key, next);
            _forwarder.forward(record<windowed<K>, change<VA>>{
                key, change<VA>{next.value, std::move(old_value)}, next.timestamp_ms, r.headers});
        }
        expire();
    }

private:
    // Drops windows that ended more than the retention before stream time,
    // once per retention period of stream time.
    void expire() {
        const std::int64_t retention = _windows.size_ms() + _windows.grace_ms();
        if (_observed - _last_expiry < retention) {
            return;
        }
        _last_expiry = _observed;
        std::vector<windowed<K>> gone;
        _store->for_each(std::nullopt, std::nullopt, [&](const windowed<K>& k, const timestamped<VA>&) {
            if (k.window.end_ms + retention <= _observed) {
                gone.push_back(k);
            }
            return true;
        });
        for (const auto& k : gone) {
            _store->remove(k);
        }
    }

    std::string _store_name;
    time_windows _windows;
    Fold _fold;
    std::optional<key_value_store<windowed<K>, timestamped<VA>>> _store;
    internal::change_forwarder<windowed<K>, VA> _forwarder;
    std::int64_t _observed = -1;
    std::int64_t _last_expiry = 0;
};

} // namespace eddy::operators
