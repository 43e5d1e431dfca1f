#pragma once

// aggregate: folds a grouped stream's records into one value per key, kept
// in a key-value store, and passes each new aggregate downstream as a table
// change. count and reduce are aggregates too.
//
// As in Kafka Streams, a record with a null key or a null value (an empty
// std::optional) does not change the aggregate: it is dropped and logged at
// debug level.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "change.h"
#include "internal/change_forwarder.h"
#include "../core/log.h"
#include "processor.h"
#include "../core/window.h"
#include "../serde/serde.h"

namespace eddy::operators {

namespace internal {
// Logs a dropped record of an aggregation (null key or value).
void log_aggregate_skip(const std::string& node, const char* why, const std::optional<record_metadata>& where);

// True (after logging and counting it) when the record has a null key or a
// null value, which no aggregation takes.
template<typename K, typename V, typename Context>
bool drop_if_null(const record<K, V>& r, Context& context) {
    const char* why = nullptr;
    if constexpr (is_optional_v<K>) {
        why = r.key ? why : "null key";
    }
    if constexpr (is_optional_v<V>) {
        why = why != nullptr || r.value ? why : "null value";
    }
    if (why == nullptr) {
        return false;
    }
    log_aggregate_skip(context.node_name(), why, context.record_metadata());
    context.record_dropped();
    return true;
}
} // namespace internal

// The aggregation of a grouped stream (Kafka Streams' KStreamAggregate and
// KStreamReduce): Fold(key, value, const std::optional<VA>& aggregate) -> VA,
// where an empty aggregate is a key's first record (count, reduce and
// aggregate are folds: topology/internal/folds.h). The time and sliding
// window aggregations take the same folds.
template<typename K, typename V, typename VA, typename Fold>
class aggregate_processor final : public processor<K, V, K, change<VA>> {
public:
    aggregate_processor(std::string store, Fold fold) : _store_name(std::move(store)), _fold(std::move(fold)) {}

    void init(processor_context<K, change<VA>>& context) override {
        processor<K, V, K, change<VA>>::init(context);
        _store.emplace(context.template get_key_value_store<K, timestamped<VA>>(_store_name));
        _forwarder.init(context, _store_name, _store->key_serde());
    }

    // The update is stamped with the larger of the record's and the
    // aggregate's timestamps.
    void process(const record<K, V>& r) override {
        if (internal::drop_if_null(r, this->context())) {
            return;
        }
        auto [old, ts] = internal::stored_aggregate(*_store, r.key, r.timestamp);
        VA next = _fold(r.key, r.value, old);
        _store->put(r.key, timestamped<VA>{next, ts});
        _forwarder.forward(record<K, change<VA>>{r.key, change<VA>{std::move(next), std::move(old)}, ts, r.headers});
    }

private:
    std::string _store_name;
    Fold _fold;
    std::optional<key_value_store<K, timestamped<VA>>> _store;
    internal::change_forwarder<K, VA> _forwarder;
};

// ktable::to_stream: each change's new value goes on as a stream record.
// A delete (no new value) goes on as a tombstone where V is optional.
template<typename K, typename V>
class table_to_stream_processor final : public processor<K, change<V>, K, V> {
public:
    void process(const record<K, change<V>>& r) override {
        if (r.value.new_value) {
            this->context().forward(record<K, V>{r.key, *r.value.new_value, r.timestamp, r.headers});
        } else if constexpr (is_optional_v<V>) {
            this->context().forward(record<K, V>{r.key, V{}, r.timestamp, r.headers});
        }
    }
};

} // namespace eddy::operators
