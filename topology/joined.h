#pragma once

// joined<K, V, VT>: how a stream-table join names its node and, when the
// stream's keys changed upstream (map, select_key), with which serdes and
// under which name it repartitions the stream first, as Kafka Streams'
// Joined.
//
//   orders.join(customers, [](const Order& o, const Customer& c) { return enrich(o, c); },
//       eddy::joined<std::string, Order, Customer>::with(eddy::serdes::string{}, order_serde, customer_serde)
//           .with_name("orders-with-customers"));

#include <concepts>
#include <string>
#include <utility>

#include "../serde/serde.h"

namespace eddy {

// A join's joiner: joiner(a, b) or joiner(key, a, b) (Kafka Streams'
// ValueJoiner and ValueJoinerWithKey), a and b the two sides' values (an
// optional for a side that may be missing).
template<typename J, typename K, typename A, typename B>
concept value_joiner = std::invocable<J&, const A&, const B&> || std::invocable<J&, const K&, const A&, const B&>;

template<typename K = void, typename V = void, typename VT = void>
class joined {
public:
    joined() = default;

    // The stream's key and value serdes (for the repartition topic) and the
    // table's value serde (kept for symmetry with Kafka Streams; the table's
    // store has its own).
    static joined with(serde_ref<K> key_serde, serde_ref<V> value_serde, serde_ref<VT> other_value_serde) {
        joined j;
        j._key_serde = std::move(key_serde);
        j._value_serde = std::move(value_serde);
        j._other_value_serde = std::move(other_value_serde);
        return j;
    }
    static joined as(std::string name) { return joined().with_name(std::move(name)); }

    // The join node's name; a repartition before it is "<name>-repartition".
    joined with_name(std::string name) const {
        joined j(*this);
        j._name = std::move(name);
        return j;
    }

    const serde_ref<K>& key_serde() const noexcept { return _key_serde; }
    const serde_ref<V>& value_serde() const noexcept { return _value_serde; }
    const serde_ref<VT>& other_value_serde() const noexcept { return _other_value_serde; }
    const std::string& name() const noexcept { return _name; }

private:
    serde_ref<K> _key_serde = default_serde_ref<K>();
    serde_ref<V> _value_serde = default_serde_ref<V>();
    serde_ref<VT> _other_value_serde = default_serde_ref<VT>();
    std::string _name;
};

// joined<>: a stream-table join's node name without its types (the
// stream's and the table's), or with() taking them from the serdes:
//   orders.join(customers, joiner, eddy::joined<>::as("orders-with-customers"))
template<>
class joined<void, void, void> {
public:
    template<serde_or_ref KS, serde_or_ref VS, serde_or_ref VTS>
    static joined<serde_value_t<KS>, serde_value_t<VS>, serde_value_t<VTS>> with(
        KS key_serde, VS value_serde, VTS other_value_serde) {
        return joined<serde_value_t<KS>, serde_value_t<VS>, serde_value_t<VTS>>::with(
            std::move(key_serde), std::move(value_serde), std::move(other_value_serde));
    }
    static joined as(std::string name) {
        joined j;
        j._name = std::move(name);
        return j;
    }

    template<typename K, typename V, typename VT>
    operator joined<K, V, VT>() const { // NOLINT(google-explicit-constructor): what it is for
        return joined<K, V, VT>::as(_name);
    }

private:
    std::string _name;
};

} // namespace eddy
