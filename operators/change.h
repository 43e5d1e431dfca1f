#pragma once

// change<V>: what a table node passes downstream for one key: the new value
// and the one it replaces (either absent: an insert or a delete), as Kafka
// Streams' Change. Table operators that retract (a table's group_by with a
// subtractor) need the old value.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace eddy {

template<typename V>
struct change {
    std::optional<V> new_value;
    std::optional<V> old_value;

    friend bool operator==(const change&, const change&) = default;
};

namespace operators::internal {
// What an aggregation's store holds for `key` (a timestamped<VA> store),
// and the timestamp its update gets: the larger of `timestamp` and the
// stored one's (Kafka Streams' KStreamAggregate and KTableAggregate).
template<typename Store, typename K>
auto stored_aggregate(const Store& store, const K& key, std::int64_t timestamp) {
    auto stored = store.get(key);
    using VA = std::remove_cvref_t<decltype(stored->value)>;
    if (!stored) {
        return std::pair<std::optional<VA>, std::int64_t>(std::nullopt, timestamp);
    }
    return std::pair<std::optional<VA>, std::int64_t>(
        std::move(stored->value), std::max(timestamp, stored->timestamp_ms));
}
} // namespace operators::internal

} // namespace eddy
