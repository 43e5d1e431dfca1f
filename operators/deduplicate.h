#pragma once

// deduplicate: passes the first record of each id and drops the records with
// the same id that follow within the retention, as KIP-655 proposes for
// Kafka Streams (which has no such operator). The id is what the extractor
// returns for a record; the store maps each id to the event time of the
// record that passed with it, and goes to a changelog like any store, so a
// duplicate that arrives after a restart, a rebalance or on a fresh machine
// is still dropped.
//
// A record at event time t whose id the store holds with time t0 is a
// duplicate when
//   - stream time (the task's largest event time, this record included)
//     has not passed t0 + retention: the id is still remembered, and
//   - t >= t0 - retention: an out-of-order record no more than the
//     retention before the one that passed.
// A duplicate is dropped, logged at debug and counted (dropped-records and
// deduplicated-records); the store keeps t0. Any other record passes and
// the store keeps the later of its time and t0, so an id seen again after
// the retention passes again (and is remembered from then). A record with
// no id (the extractor returns an empty optional) passes and is not
// remembered.
//
// A stream-time punctuator removes, once per retention of stream time, the
// ids that stream time has passed t0 + retention for, so the store holds
// at most the ids of the last two retention periods.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "processor.h"
#include "../core/record.h"

namespace eddy::operators {

namespace internal {
void log_duplicate(const std::string& node, const std::optional<record_metadata>& where, std::int64_t timestamp,
    std::int64_t first_seen, std::int64_t stream_time);
void log_deduplicate_purge(const std::string& node, std::size_t purged, std::int64_t stream_time);

// The id type of an extractor's result R: R, or T for std::optional<T>.
template<typename R>
struct deduplicate_id {
    using type = R;
};
template<typename T>
struct deduplicate_id<std::optional<T>> {
    using type = T;
};
template<typename R>
using deduplicate_id_t = typename deduplicate_id<std::remove_cvref_t<R>>::type;

// a + b, held at the int64 bounds (a retention of centuries must not wrap).
inline std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b) {
        return std::numeric_limits<std::int64_t>::max();
    }
    if (b < 0 && a < std::numeric_limits<std::int64_t>::min() - b) {
        return std::numeric_limits<std::int64_t>::min();
    }
    return a + b;
}
} // namespace internal

// Extractor(key, value) -> ID or std::optional<ID>. The store `store` maps
// ID to the event time (ms) of the record that passed with it.
template<typename K, typename V, typename ID, typename Extractor>
class deduplicate_processor final : public processor<K, V, K, V> {
public:
    deduplicate_processor(std::string store, std::int64_t retention_ms, Extractor extractor)
        : _store_name(std::move(store)), _retention(retention_ms), _extractor(std::move(extractor)) {}

    void init(processor_context<K, V>& context) override {
        processor<K, V, K, V>::init(context);
        _store.emplace(context.template get_key_value_store<ID, std::int64_t>(_store_name));
        _deduplicated = internal::context_access::task(context).deduplicated_records;
        context.schedule(std::chrono::milliseconds(_retention), punctuation_type::stream_time,
            [this](std::int64_t stream_time) { purge(stream_time); });
    }

    void process(const record<K, V>& r) override {
        auto& ctx = this->context();
        const std::optional<ID> id = _extractor(r.key, r.value);
        if (!id) {
            ctx.forward(r);
            return;
        }
        const std::int64_t stream_time = ctx.current_stream_time_ms();
        const std::optional<std::int64_t> first = _store->get(*id);
        if (first && is_duplicate(*first, r.timestamp, stream_time)) {
            internal::log_duplicate(ctx.node_name(), ctx.record_metadata(), r.timestamp, *first, stream_time);
            ctx.record_dropped();
            _deduplicated->fetch_add(1, std::memory_order_relaxed);
            return;
        }
        // Forwarded first: should a node downstream throw, the id is not
        // remembered, and the record passes when it is processed again.
        ctx.forward(r);
        _store->put(*id, first ? std::max(*first, r.timestamp) : r.timestamp);
    }

private:
    bool is_duplicate(std::int64_t first_seen, std::int64_t timestamp, std::int64_t stream_time) const {
        return stream_time <= internal::saturating_add(first_seen, _retention)
            && timestamp >= internal::saturating_add(first_seen, -_retention);
    }

    // Forgets the ids stream time has passed the retention of.
    void purge(std::int64_t stream_time) {
        std::vector<ID> gone;
        _store->for_each(std::nullopt, std::nullopt, [&](const ID& id, const std::int64_t& first_seen) {
            if (internal::saturating_add(first_seen, _retention) < stream_time) {
                gone.push_back(id);
            }
            return true;
        });
        for (const auto& id : gone) {
            _store->remove(id);
        }
        if (!gone.empty()) {
            internal::log_deduplicate_purge(this->context().node_name(), gone.size(), stream_time);
        }
    }

    std::string _store_name;
    std::int64_t _retention;
    Extractor _extractor;
    std::optional<key_value_store<ID, std::int64_t>> _store;
    std::shared_ptr<std::atomic<std::int64_t>> _deduplicated;
};

} // namespace eddy::operators
