#pragma once

// stream_joined<K, V1, V2>: the serdes, store names and node names of a
// stream-stream join, as Kafka Streams' StreamJoined; and the shapes of the
// joiners kstream::join, left_join and outer_join take.
//
//   auto sj = eddy::stream_joined<std::string, Order, Payment>::with(keys, orders, payments)
//                 .with_store_name("order-payments")   // order-payments-this-join-store, ...
//                 .with_name("match-payments");        // match-payments-this-join, ...

#include <concepts>
#include <optional>
#include <string>
#include <utility>

#include "../serde/serde.h"
#include "../serde/serdes.h" // the default serdes

namespace eddy {

template<typename K = void, typename V1 = void, typename V2 = void>
class stream_joined {
public:
    stream_joined() = default;

    static stream_joined with(serde_ref<K> key_serde, serde_ref<V1> value_serde, serde_ref<V2> other_value_serde) {
        stream_joined s;
        s._key_serde = std::move(key_serde);
        s._value_serde = std::move(value_serde);
        s._other_value_serde = std::move(other_value_serde);
        return s;
    }
    static stream_joined as(std::string store_name) { return stream_joined().with_store_name(std::move(store_name)); }

    // The base of the stores' names: "<name>-this-join-store",
    // "<name>-other-join-store" (with "-outer-" before "this"/"other" for
    // the sides an outer join emits unmatched), and the waiting records'
    // "<name>-left-shared-join-store" or "<name>-outer-shared-join-store".
    // Their changelogs are "<application.id>-<store>-changelog".
    stream_joined with_store_name(std::string name) const {
        auto s = *this;
        s._store_name = std::move(name);
        return s;
    }
    // The base of the nodes' names: "<name>-this-windowed",
    // "<name>-other-windowed", "<name>-this-join", "<name>-other-join",
    // "<name>-merge"; and of repartition topics ("<name>-left",
    // "<name>-right") when a side's keys changed.
    stream_joined with_name(std::string name) const {
        auto s = *this;
        s._name = std::move(name);
        return s;
    }
    stream_joined with_key_serde(serde_ref<K> serde) const {
        auto s = *this;
        s._key_serde = std::move(serde);
        return s;
    }
    stream_joined with_value_serde(serde_ref<V1> serde) const {
        auto s = *this;
        s._value_serde = std::move(serde);
        return s;
    }
    stream_joined with_other_value_serde(serde_ref<V2> serde) const {
        auto s = *this;
        s._other_value_serde = std::move(serde);
        return s;
    }
    // In-memory stores (restored from their changelogs on each assignment)
    // instead of RocksDB.
    stream_joined with_in_memory_stores() const {
        auto s = *this;
        s._persistent = false;
        return s;
    }
    // No changelogs: the stores start empty on every new assignment.
    stream_joined with_logging_disabled() const {
        auto s = *this;
        s._logging = false;
        return s;
    }

    const serde_ref<K>& key_serde() const noexcept { return _key_serde; }
    const serde_ref<V1>& value_serde() const noexcept { return _value_serde; }
    const serde_ref<V2>& other_value_serde() const noexcept { return _other_value_serde; }
    const std::string& store_name() const noexcept { return _store_name; }
    const std::string& name() const noexcept { return _name; }
    bool persistent() const noexcept { return _persistent; }
    bool logging() const noexcept { return _logging; }

private:
    serde_ref<K> _key_serde = default_serde_ref<K>();
    serde_ref<V1> _value_serde = default_serde_ref<V1>();
    serde_ref<V2> _other_value_serde = default_serde_ref<V2>();
    std::string _store_name;
    std::string _name;
    bool _persistent = true;
    bool _logging = true;
};

// joiner(left, right) or joiner(key, left, right) -> VR: join.
// stream_joined<>: the stores' base name (as) or the nodes' (with_name)
// without the types (the two streams'), or with() taking them from the
// serdes: clicks.join(views, joiner, windows, eddy::stream_joined<>::as("clicks-views")).
template<>
class stream_joined<void, void, void> {
public:
    template<serde_or_ref KS, serde_or_ref VS, serde_or_ref V2S>
    static stream_joined<serde_value_t<KS>, serde_value_t<VS>, serde_value_t<V2S>> with(
        KS key_serde, VS value_serde, V2S other_value_serde) {
        return stream_joined<serde_value_t<KS>, serde_value_t<VS>, serde_value_t<V2S>>::with(
            std::move(key_serde), std::move(value_serde), std::move(other_value_serde));
    }
    static stream_joined as(std::string store_name) { return stream_joined().with_store_name(std::move(store_name)); }
    stream_joined with_store_name(std::string name) const {
        auto s = *this;
        s._store_name = std::move(name);
        return s;
    }
    stream_joined with_name(std::string name) const {
        auto s = *this;
        s._name = std::move(name);
        return s;
    }

    template<typename K, typename V1, typename V2>
    operator stream_joined<K, V1, V2>() const { // NOLINT(google-explicit-constructor): what it is for
        auto s = stream_joined<K, V1, V2>();
        if (!_store_name.empty()) {
            s = s.with_store_name(_store_name);
        }
        return _name.empty() ? s : s.with_name(_name);
    }

private:
    std::string _store_name;
    std::string _name;
};

template<typename F, typename K, typename V1, typename V2>
concept inner_value_joiner = std::invocable<F&, const V1&, const V2&> || std::invocable<F&, const K&, const V1&, const V2&>;
// joiner(left, right) or joiner(key, left, right), right a
// std::optional<V2> (empty: no match): left_join.
template<typename F, typename K, typename V1, typename V2>
concept left_value_joiner = std::invocable<F&, const V1&, const std::optional<V2>&>
    || std::invocable<F&, const K&, const V1&, const std::optional<V2>&>;
// joiner(left, right) or joiner(key, left, right), both std::optional (one
// of them empty when unmatched): outer_join.
template<typename F, typename K, typename V1, typename V2>
concept outer_value_joiner = std::invocable<F&, const std::optional<V1>&, const std::optional<V2>&>
    || std::invocable<F&, const K&, const std::optional<V1>&, const std::optional<V2>&>;

} // namespace eddy
