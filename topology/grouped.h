#pragma once

// The options of a repartition: grouped (how group_by and group_by_key
// repartition when they must, Kafka Streams' Grouped) and repartitioned
// (how repartition() writes and reads its topic, Kafka Streams'
// Repartitioned).

#include <string>
#include <utility>

#include "../serde/serde.h"
#include "named.h"

namespace eddy {

// How group_by/group_by_key repartition when they must: the serdes (the
// types' defaults unless given) and the name of the repartition topic, as
// Kafka Streams' Grouped.
template<typename K = void, typename V = void>
class grouped {
public:
    grouped() = default;
    static grouped with(serde_ref<K> key_serde, serde_ref<V> value_serde) {
        grouped g;
        g._key_serde = std::move(key_serde);
        g._value_serde = std::move(value_serde);
        return g;
    }
    static grouped as(std::string name) {
        grouped g;
        g._name = std::move(name);
        return g;
    }
    grouped with_name(std::string name) const {
        auto g = *this;
        g._name = std::move(name);
        return g;
    }
    const serde_ref<K>& key_serde() const noexcept { return _key_serde; }
    const serde_ref<V>& value_serde() const noexcept { return _value_serde; }
    const std::string& name() const noexcept { return _name; }

private:
    serde_ref<K> _key_serde = default_serde_ref<K>();
    serde_ref<V> _value_serde = default_serde_ref<V>();
    std::string _name;
};

// How repartition() writes and reads its internal topic, as Kafka Streams'
// Repartitioned: serdes (the types' defaults unless given), the name (the
// topic is "<application.id>-<name>-repartition"), the partition count.
template<typename K = void, typename V = void>
class repartitioned {
public:
    repartitioned() = default;
    static repartitioned with(serde_ref<K> key_serde, serde_ref<V> value_serde) {
        repartitioned r;
        r._key_serde = std::move(key_serde);
        r._value_serde = std::move(value_serde);
        return r;
    }
    static repartitioned as(std::string name) { return repartitioned().with_name(std::move(name)); }
    repartitioned with_name(std::string name) const {
        repartitioned r(*this);
        r._name = std::move(name);
        return r;
    }
    // 0 (the default): as many partitions as the upstream source topics.
    repartitioned with_number_of_partitions(int n) const {
        repartitioned r(*this);
        r._partitions = n;
        return r;
    }

    const serde_ref<K>& key_serde() const noexcept { return _key_serde; }
    const serde_ref<V>& value_serde() const noexcept { return _value_serde; }
    const std::string& name() const noexcept { return _name; }
    int partitions() const noexcept { return _partitions; }

private:
    serde_ref<K> _key_serde = default_serde_ref<K>();
    serde_ref<V> _value_serde = default_serde_ref<V>();
    std::string _name;
    int _partitions = 0;
};

// grouped<> and repartitioned<>: a name alone (the types from the stream),
// or with() taking the types from the serdes (untyped_options):
//   words.group_by_key(eddy::grouped<>::as("by-word"))
template<>
class grouped<void, void> : public untyped_options<grouped> {};
template<>
class repartitioned<void, void> : public untyped_options<repartitioned> {};

} // namespace eddy
