#pragma once

// queryable_session_store<K, V>: a read-only view of a session-windowed
// aggregation's store across this instance's tasks
// (kafka_streams::session_store<K, V>(name)), for session fetches from any
// thread. The store is keyed key bytes + end + start, so a key's sessions
// are one range of it.
//
//   auto visits = app.session_store<std::string, std::int64_t>("visits");
//   for (const auto& [w, n] : visits.fetch("alice")) { ... }   // w.window.start_ms, end_ms

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "../core/window.h"
#include "../statestore/queryable_store.h"

namespace eddy {

template<typename K, typename V>
class queryable_session_store {
public:
    explicit queryable_session_store(queryable_key_value_store<windowed<K>, V> inner) : _inner(std::move(inner)) {}

    // Every session of `key`, earliest first.
    std::vector<key_value<windowed<K>, V>> fetch(const K& key) const {
        return find_sessions(key, 0, std::numeric_limits<std::int64_t>::max());
    }
    // The sessions of `key` that end at or after `earliest_end` and start at
    // or before `latest_start`, earliest first.
    std::vector<key_value<windowed<K>, V>> find_sessions(
        const K& key, std::int64_t earliest_end, std::int64_t latest_start) const {
        constexpr auto max = std::numeric_limits<std::int64_t>::max();
        std::vector<key_value<windowed<K>, V>> out;
        // Keys compare as bytes: another key extending this key's bytes can
        // fall in the range.
        for (auto& kv : _inner.range(windowed<K>{key, {0, std::max<std::int64_t>(0, earliest_end)}},
                 windowed<K>{key, {max, max}})) {
            if (kv.key.key == key && kv.key.window.end_ms >= earliest_end && kv.key.window.start_ms <= latest_start) {
                out.push_back(std::move(kv));
            }
        }
        return out;
    }

private:
    queryable_key_value_store<windowed<K>, V> _inner;
};

} // namespace eddy
