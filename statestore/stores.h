#pragma once

// Store factories, as Kafka Streams' Stores, and how the DSL materialises
// its state (Materialized).
//
//   // the processor API: declare a store, then name it where it is used
//   builder.add_state_store(eddy::stores::key_value_store_builder(
//       eddy::stores::persistent_key_value_store("seen"), eddy::serdes::string{}, eddy::serdes::int64{}));
//   stream.process(supplier, eddy::named::as("dedup"), {"seen"});
//
//   // the DSL: name the store an aggregation keeps
//   grouped.count(eddy::materialized<>::as("counts-by-user"));

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "../serde/serde.h"
#include "internal/bytes_store.h"
#include "internal/store_handle.h"

namespace eddy {

// Makes the engine of a key-value store, one per task.
class key_value_bytes_store_supplier {
public:
    key_value_bytes_store_supplier() = default;
    key_value_bytes_store_supplier(std::string name, bool persistent)
        : _name(std::move(name)), _persistent(persistent) {}

    const std::string& name() const noexcept { return _name; }
    bool persistent() const noexcept { return _persistent; }
    explicit operator bool() const noexcept { return !_name.empty(); }

    std::unique_ptr<statestore::internal::bytes_store> make() const {
        return _persistent ? statestore::internal::make_rocksdb_store(_name)
                           : statestore::internal::make_in_memory_store(_name);
    }

private:
    std::string _name;
    bool _persistent = true;
};

namespace statestore::internal {
// What the DSL (and tests) read of a store builder and a program cannot:
// the store's spec, which the topology makes each task's store from.
struct builder_access {
    template<typename Builder>
    static store_spec spec(const Builder& builder) {
        return builder.spec();
    }
};
} // namespace statestore::internal

// A key-value store with its serdes and logging choice, ready to add to a
// topology.
template<typename K, typename V>
class key_value_store_builder_t {
public:
    key_value_store_builder_t(key_value_bytes_store_supplier supplier, serde_ref<K> key_serde, serde_ref<V> value_serde)
        : _supplier(std::move(supplier)), _key_serde(std::move(key_serde)), _value_serde(std::move(value_serde)) {}

    // No changelog topic: the store starts empty on every new assignment.
    key_value_store_builder_t with_logging_disabled() const {
        auto b = *this;
        b._logging = false;
        return b;
    }
    // No record cache in front of the store: every write reaches the engine
    // and the changelog at once, and an aggregation into it forwards every
    // change (Kafka Streams' withCachingDisabled).
    key_value_store_builder_t with_caching_disabled() const {
        auto b = *this;
        b._caching = false;
        return b;
    }
    const std::string& name() const noexcept { return _supplier.name(); }

private:
    friend struct statestore::internal::builder_access;

    statestore::internal::store_spec spec() const {
        statestore::internal::store_spec s;
        s.name = _supplier.name();
        s.persistent = _supplier.persistent();
        s.logging = _logging;
        s.make = [supplier = _supplier, ks = _key_serde, vs = _value_serde, logging = _logging, caching = _caching] {
            auto h = std::make_unique<statestore::internal::store_handle>(
                supplier.name(), supplier.make(), logging, std::any(ks), std::any(vs));
            h->set_caching(caching);
            return h;
        };
        return s;
    }

    key_value_bytes_store_supplier _supplier;
    serde_ref<K> _key_serde;
    serde_ref<V> _value_serde;
    bool _logging = true;
    bool _caching = true;
};

namespace stores {

// RocksDB, under state.dir; survives restarts (only the changelog's tail is
// restored after a clean one).
inline key_value_bytes_store_supplier persistent_key_value_store(std::string name) {
    return {std::move(name), true};
}
// A sorted map in memory; restored from the changelog on each assignment.
inline key_value_bytes_store_supplier in_memory_key_value_store(std::string name) {
    return {std::move(name), false};
}

template<typename K, typename V>
key_value_store_builder_t<K, V> key_value_store_builder(
    key_value_bytes_store_supplier supplier, serde_ref<K> key_serde, serde_ref<V> value_serde) {
    return {std::move(supplier), std::move(key_serde), std::move(value_serde)};
}
// The same from serdes as they are: the store's types are theirs.
template<serde_or_ref KS, serde_or_ref VS>
key_value_store_builder_t<serde_value_t<KS>, serde_value_t<VS>> key_value_store_builder(
    key_value_bytes_store_supplier supplier, KS key_serde, VS value_serde) {
    return {std::move(supplier), serde_ref<serde_value_t<KS>>(std::move(key_serde)),
        serde_ref<serde_value_t<VS>>(std::move(value_serde))};
}

} // namespace stores

// How the DSL keeps an operator's state: the store's name (generated when
// not given), engine, serdes (the types' defaults unless given) and logging.
// materialized<> (below) says the same without the types.
template<typename K = void, typename V = void>
class materialized {
public:
    materialized() = default;
    static materialized as(std::string name) {
        materialized m;
        m._supplier = stores::persistent_key_value_store(std::move(name));
        return m;
    }
    static materialized as(key_value_bytes_store_supplier supplier) {
        materialized m;
        m._supplier = std::move(supplier);
        return m;
    }
    static materialized with(serde_ref<K> key_serde, serde_ref<V> value_serde) {
        return materialized().with_key_serde(std::move(key_serde)).with_value_serde(std::move(value_serde));
    }
    materialized with_key_serde(serde_ref<K> s) const {
        auto m = *this;
        m._key_serde = std::move(s);
        return m;
    }
    materialized with_value_serde(serde_ref<V> s) const {
        auto m = *this;
        m._value_serde = std::move(s);
        return m;
    }
    materialized with_logging_disabled() const {
        auto m = *this;
        m._logging = false;
        return m;
    }
    // No record cache for this store: an aggregation forwards every change
    // at once instead of each key's latest per commit (Kafka Streams'
    // withCachingDisabled; statestore.cache.max.bytes=0 does it for all).
    materialized with_caching_disabled() const {
        auto m = *this;
        m._caching = false;
        return m;
    }

    const key_value_bytes_store_supplier& supplier() const noexcept { return _supplier; }
    const serde_ref<K>& key_serde() const noexcept { return _key_serde; }
    const serde_ref<V>& value_serde() const noexcept { return _value_serde; }
    bool logging() const noexcept { return _logging; }
    bool caching() const noexcept { return _caching; }

private:
    key_value_bytes_store_supplier _supplier;
    serde_ref<K> _key_serde = default_serde_ref<K>();
    serde_ref<V> _value_serde = default_serde_ref<V>();
    bool _logging = true;
    bool _caching = true;
};

// materialized<>: a store's name, engine, logging and caching without its
// types; the operator it is given to supplies them (the types' default
// serdes), or with() takes them from the serdes:
//   words.count(eddy::materialized<>::as("word-counts"))
//   tasks.to_table(eddy::materialized<>::with(eddy::serdes::string{}, task_serde{}))
template<>
class materialized<void, void> {
public:
    materialized() = default;
    static materialized as(std::string name) { return as(stores::persistent_key_value_store(std::move(name))); }
    static materialized as(key_value_bytes_store_supplier supplier) {
        materialized m;
        m._supplier = std::move(supplier);
        return m;
    }
    template<serde_or_ref KS, serde_or_ref VS>
    static materialized<serde_value_t<KS>, serde_value_t<VS>> with(KS key_serde, VS value_serde) {
        return materialized<serde_value_t<KS>, serde_value_t<VS>>::with(std::move(key_serde), std::move(value_serde));
    }
    materialized with_logging_disabled() const {
        auto m = *this;
        m._logging = false;
        return m;
    }
    materialized with_caching_disabled() const {
        auto m = *this;
        m._caching = false;
        return m;
    }

    // The typed options, with the types' default serdes.
    template<typename K, typename V>
    operator materialized<K, V>() const { // NOLINT(google-explicit-constructor): what materialized<> is for
        auto m = _supplier ? materialized<K, V>::as(*_supplier) : materialized<K, V>();
        if (!_logging) {
            m = m.with_logging_disabled();
        }
        if (!_caching) {
            m = m.with_caching_disabled();
        }
        return m;
    }

private:
    std::optional<key_value_bytes_store_supplier> _supplier;
    bool _logging = true;
    bool _caching = true;
};

} // namespace eddy
