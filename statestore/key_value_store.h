#pragma once

// key_value_store<K, V>: a task's typed view of one key-value store. Keys
// are kept as their serialised bytes, so ranges and iteration follow the
// byte order of the serialised keys (as in Kafka Streams: with the int32 or
// int64 serdes that is numeric order for non-negative keys; with the string
// serde, lexicographic order).
//
//   auto counts = context.get_key_value_store<std::string, std::int64_t>("counts");
//   counts.put("alice", counts.get("alice").value_or(0) + 1);
//   for (const auto& [user, n] : counts.all()) { ... }
//
// range(), all() and the others return a key_value_range, which reads the
// store lazily, a page at a time (key_value_range.h).

#include <cstdint>
#include <any>
#include <functional>
#include <typeinfo>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../core/record.h"
#include "../serde/serde.h"
#include "internal/store_handle.h"
#include "key_value_range.h"
#include "store_error.h"

namespace eddy {

namespace statestore::internal {
[[noreturn]] void throw_store_type_mismatch(
    const std::string& store, std::string_view key_type, std::string_view value_type);

// The serdes `handle`'s store was declared with, if it holds K and V.
template<typename K, typename V>
std::pair<serde_ref<K>, serde_ref<V>> serdes_of(store_handle& handle) {
    const auto* ks = std::any_cast<serde_ref<K>>(&handle.key_serde());
    const auto* vs = std::any_cast<serde_ref<V>>(&handle.value_serde());
    if (vs == nullptr) {
        // A timestamped store asked for its plain values.
        vs = std::any_cast<serde_ref<V>>(&handle.plain_value_serde());
    }
    if (ks == nullptr || vs == nullptr) {
        throw_store_type_mismatch(handle.name(), typeid(K).name(), typeid(V).name());
    }
    return {*ks, *vs};
}
} // namespace statestore::internal

template<typename K, typename V>
class read_only_key_value_store {
public:
    read_only_key_value_store(statestore::internal::store_handle& handle, serde_ref<K> key_serde,
        serde_ref<V> value_serde)
        : _handle(&handle), _key_serde(std::move(key_serde)), _value_serde(std::move(value_serde)) {}

    // A view with the serdes the store was declared with; store_error when
    // the store holds other types.
    static read_only_key_value_store from(statestore::internal::store_handle& handle) {
        auto [ks, vs] = statestore::internal::serdes_of<K, V>(handle);
        return read_only_key_value_store(handle, std::move(ks), std::move(vs));
    }

    const std::string& name() const noexcept { return _handle->name(); }

    std::optional<V> get(const K& key) const {
        auto bytes = _handle->get(_key_serde.serialize(key));
        if (!bytes) {
            return std::nullopt;
        }
        return _value_serde.deserialize(*bytes);
    }
    // from <= key <= to, in key order, read lazily (see key_value_range;
    // to_vector() collects).
    key_value_range<K, V> range(const K& from, const K& to) const {
        return make_range(_key_serde.serialize(from), _key_serde.serialize(to), false);
    }
    key_value_range<K, V> reverse_range(const K& from, const K& to) const {
        return make_range(_key_serde.serialize(from), _key_serde.serialize(to), true);
    }
    key_value_range<K, V> all() const { return make_range(std::nullopt, std::nullopt, false); }
    key_value_range<K, V> reverse_all() const { return make_range(std::nullopt, std::nullopt, true); }
    // Keys whose serialised bytes start with the serialised `prefix` (with the
    // string serde: keys starting with the prefix string).
    key_value_range<K, V> prefix_scan(const K& prefix) const {
        const auto p = _key_serde.serialize(prefix);
        return key_value_range<K, V>(*_handle, _key_serde, _value_serde, p, prefix_end(p), false, p);
    }
    // Visits from <= key <= to (unbounded where empty) without collecting;
    // `visit` returns false to stop.
    void for_each(const std::optional<K>& from, const std::optional<K>& to,
        const std::function<bool(const K&, const V&)>& visit, bool reverse = false) const {
        _handle->scan(bound(from), bound(to), reverse, [&](std::string_view k, std::string_view v) {
            return visit(_key_serde.deserialize(k), _value_serde.deserialize(v));
        });
    }
    std::uint64_t approximate_num_entries() const { return _handle->approximate_num_entries(); }
    // The serdes the store was declared with.
    const serde_ref<K>& key_serde() const noexcept { return _key_serde; }
    const serde_ref<V>& value_serde() const noexcept { return _value_serde; }

protected:
    // The smallest key after every key starting with `p` (none when `p` is
    // all 0xff bytes): the scan's upper bound.
    static std::optional<std::string> prefix_end(std::string p) {
        while (!p.empty() && static_cast<unsigned char>(p.back()) == 0xff) {
            p.pop_back();
        }
        if (p.empty()) {
            return std::nullopt;
        }
        p.back() = static_cast<char>(static_cast<unsigned char>(p.back()) + 1);
        return p;
    }
    std::optional<std::string> bound(const std::optional<K>& k) const {
        return k ? std::optional<std::string>(_key_serde.serialize(*k)) : std::nullopt;
    }
    key_value_range<K, V> make_range(
        std::optional<std::string> from, std::optional<std::string> to, bool reverse) const {
        return key_value_range<K, V>(*_handle, _key_serde, _value_serde, std::move(from), std::move(to), reverse);
    }

    statestore::internal::store_handle* _handle;
    serde_ref<K> _key_serde;
    serde_ref<V> _value_serde;
};

template<typename K, typename V>
class key_value_store : public read_only_key_value_store<K, V> {
public:
    using read_only_key_value_store<K, V>::read_only_key_value_store;

    static key_value_store from(statestore::internal::store_handle& handle) {
        auto [ks, vs] = statestore::internal::serdes_of<K, V>(handle);
        return key_value_store(handle, std::move(ks), std::move(vs));
    }

    void put(const K& key, const V& value) {
        this->_handle->put(this->_key_serde.serialize(key), this->_value_serde.serialize(value));
    }
    // Puts unless the key has a value; returns the value it had.
    std::optional<V> put_if_absent(const K& key, const V& value) {
        auto old = this->get(key);
        if (!old) {
            put(key, value);
        }
        return old;
    }
    void put_all(const std::vector<key_value<K, V>>& entries) {
        for (const auto& e : entries) {
            put(e.key, e.value);
        }
    }
    // Deletes the key; returns the value it had.
    std::optional<V> remove(const K& key) {
        auto old = this->get(key);
        if (old) {
            this->_handle->remove(this->_key_serde.serialize(key));
        }
        return old;
    }
};

} // namespace eddy
