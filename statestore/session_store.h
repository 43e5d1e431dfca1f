#pragma once

// session_store<K, V>: a task's typed view of a session store, the store of
// a session-windowed aggregation (Kafka Streams' SessionStore). Sessions are
// kept in a key-value store keyed by serdes::session_windowed<K> (key bytes,
// then 8-byte end, then 8-byte start), so a key's sessions sit together in
// order of their end, and the sessions that end at or after a time are one
// range scan.
//
//   auto sessions = eddy::session_store<std::string, std::int64_t>::from(handle);
//   for (const auto& [w, n] : sessions.find_sessions("alice", t - gap, t + gap)) { ... }

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "../core/window.h"
#include "key_value_store.h"

namespace eddy {

template<typename K, typename V>
class read_only_session_store {
public:
    explicit read_only_session_store(read_only_key_value_store<windowed<K>, V> inner) : _inner(std::move(inner)) {}

    static read_only_session_store from(statestore::internal::store_handle& handle) {
        return read_only_session_store(read_only_key_value_store<windowed<K>, V>::from(handle));
    }

    const std::string& name() const noexcept { return _inner.name(); }

    // The sessions of `key` that end at or after `earliest_end` and start at
    // or before `latest_start` (those a record at t touches, with
    // t - gap and t + gap), earliest first.
    std::vector<key_value<windowed<K>, V>> find_sessions(
        const K& key, std::int64_t earliest_end, std::int64_t latest_start) const {
        std::vector<key_value<windowed<K>, V>> out;
        scan(key, std::max<std::int64_t>(0, earliest_end), [&](const windowed<K>& k, const V& v) {
            if (k.window.start_ms <= latest_start) {
                out.push_back({k, v});
            }
            return true;
        });
        return out;
    }
    // Every session of `key`, earliest first.
    std::vector<key_value<windowed<K>, V>> fetch(const K& key) const {
        std::vector<key_value<windowed<K>, V>> out;
        scan(key, 0, [&](const windowed<K>& k, const V& v) {
            out.push_back({k, v});
            return true;
        });
        return out;
    }
    // The session of `key` that is exactly [start, end].
    std::optional<V> fetch_session(const K& key, std::int64_t start_ms, std::int64_t end_ms) const {
        return _inner.get(windowed<K>{key, {start_ms, end_ms}});
    }
    // Every key's sessions, in key order, then by end, read lazily
    // (key_value_range).
    key_value_range<windowed<K>, V> all() const { return _inner.all(); }

protected:
    // The key's sessions that end at or after `earliest_end`. Keys compare
    // as bytes: another key whose bytes extend this key's can fall in the
    // range, so the key is checked.
    template<typename Visit>
    void scan(const K& key, std::int64_t earliest_end, Visit visit) const {
        constexpr auto max = std::numeric_limits<std::int64_t>::max();
        _inner.for_each(windowed<K>{key, {0, earliest_end}}, windowed<K>{key, {max, max}},
            [&](const windowed<K>& k, const V& v) { return k.key == key ? visit(k, v) : true; });
    }

    read_only_key_value_store<windowed<K>, V> _inner;
};

template<typename K, typename V>
class session_store : public read_only_session_store<K, V> {
public:
    explicit session_store(key_value_store<windowed<K>, V> inner)
        : read_only_session_store<K, V>(inner), _writer(std::move(inner)) {}

    static session_store from(statestore::internal::store_handle& handle) {
        return session_store(key_value_store<windowed<K>, V>::from(handle));
    }

    void put(const windowed<K>& session, const V& value) { _writer.put(session, value); }
    void remove(const windowed<K>& session) { _writer.remove(session); }

private:
    key_value_store<windowed<K>, V> _writer;
};

} // namespace eddy
