#pragma once

// queryable_window_store<K, V>: a read-only view of a windowed aggregation's
// store across this instance's tasks (kafka_streams::window_store<K, V>),
// for window fetches from any thread.
//
//   auto per_minute = app.window_store<std::string, std::int64_t>("clicks-per-minute");
//   for (const auto& [w, n] : per_minute.fetch("alice", from_ms, to_ms)) { ... }

#include <cstdint>
#include <utility>
#include <vector>

#include "../core/window.h"
#include "../statestore/queryable_store.h"

namespace eddy {

template<typename K, typename V>
class queryable_window_store {
public:
    explicit queryable_window_store(queryable_key_value_store<windowed<K>, timestamped<V>> inner)
        : _inner(std::move(inner)) {}

    // The windows of `key` that start in [from_ms, to_ms], earliest first.
    std::vector<std::pair<window, V>> fetch(const K& key, std::int64_t from_ms, std::int64_t to_ms) const {
        std::vector<std::pair<window, V>> out;
        if (from_ms > to_ms) {
            return out;
        }
        for (auto& [k, v] : _inner.range(windowed<K>{key, {from_ms, from_ms}}, windowed<K>{key, {to_ms, to_ms}})) {
            // Keys are compared as bytes: a longer key sharing the prefix is
            // not this key.
            if (k.key == key && k.window.start_ms >= from_ms && k.window.start_ms <= to_ms) {
                out.emplace_back(k.window, std::move(v.value));
            }
        }
        return out;
    }
    // Every key's windows that start in [from_ms, to_ms].
    std::vector<std::pair<windowed<K>, V>> fetch_all(std::int64_t from_ms, std::int64_t to_ms) const {
        std::vector<std::pair<windowed<K>, V>> out;
        for (auto& [k, v] : _inner.all()) {
            if (k.window.start_ms >= from_ms && k.window.start_ms <= to_ms) {
                out.emplace_back(k, std::move(v.value));
            }
        }
        return out;
    }

private:
    queryable_key_value_store<windowed<K>, timestamped<V>> _inner;
};

} // namespace eddy
