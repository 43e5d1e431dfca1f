#pragma once

// Table-table joins (Kafka Streams' KTableKTableInnerJoin, LeftJoin,
// OuterJoin and their "other side" processors): each side's change looks
// the key up in the other side's store and passes on the joined new and
// old values, so that a delete (or a row that stops joining) reaches
// downstream as a change with no new value and a regrouping retracts the
// old result. The result is stamped with the later of the change's time
// and the other row's last update (when the other store keeps times).
//
// Which pairs join: both rows for an inner join; a left join also the left
// row alone (the joiner gets an empty optional for the right); an outer
// join either row alone (the joiner gets optionals on both sides).

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "change.h"
#include "processor.h"
#include "stream_table_join.h"
#include "../core/window.h"
#include "../serde/serde.h"
#include "../statestore/key_value_store.h"

namespace eddy::operators {

// One side of the join: the changes of this side's table, joined with the
// other side's rows. ThisOuter / OtherOuter: whether a row of this / the
// other side joins without a partner (the joiner then gets an optional for
// the missing one). ThisIsLeft: this side's values go first to the joiner,
// J(key, left, right).
template<typename K, typename VThis, typename VOther, typename VR, typename J, bool ThisOuter, bool OtherOuter,
    bool ThisIsLeft>
class table_table_join_processor final : public processor<K, change<VThis>, K, change<VR>> {
public:
    table_table_join_processor(std::string other_store, J joiner)
        : _other_store(std::move(other_store)), _joiner(std::move(joiner)) {}

    void init(processor_context<K, change<VR>>& context) override {
        processor<K, change<VThis>, K, change<VR>>::init(context);
        _other.init(context, _other_store);
    }

    void process(const record<K, change<VThis>>& r) override {
        if (internal::is_null(r.key)) {
            internal::log_join_skip(this->context().node_name(), this->context().record_metadata());
            this->context().record_dropped();
            return;
        }
        auto row = _other.get(r.key);
        if (!row && !OtherOuter) {
            return; // nothing joins, before or after
        }
        std::int64_t ts = r.timestamp;
        std::optional<VOther> other;
        if (row) {
            ts = std::max(ts, row->timestamp_ms);
            other = std::move(row->value);
        }
        change<VR> out{join(r.key, r.value.new_value, other), join(r.key, r.value.old_value, other)};
        if (!out.new_value && !out.old_value) {
            return;
        }
        this->context().forward(record<K, change<VR>>{r.key, std::move(out), ts, r.headers});
    }

private:
    std::optional<VR> join(const K& key, const std::optional<VThis>& mine, const std::optional<VOther>& other) {
        if ((!mine && !ThisOuter) || (!other && !OtherOuter) || (!mine && !other)) {
            return std::nullopt;
        }
        if constexpr (ThisIsLeft) {
            return VR(_joiner(key, arg<ThisOuter>(mine), arg<OtherOuter>(other)));
        } else {
            return VR(_joiner(key, arg<OtherOuter>(other), arg<ThisOuter>(mine)));
        }
    }

    // What the joiner gets for a side: the optional for an outer side, the
    // value (present here) otherwise.
    template<bool Outer, typename T>
    static decltype(auto) arg(const std::optional<T>& v) {
        if constexpr (Outer) {
            return (v);
        } else {
            return (*v);
        }
    }

    std::string _other_store;
    J _joiner;
    table_value_getter<K, VOther> _other;
};

// Keeps a table's rows in a store of its own (timestamped: value and the
// time of the row's last change) and passes each change on with the old
// value the store had: the result of a materialised join (Kafka Streams'
// KTableKTableJoinMerger), or a table a join must look rows up in.
template<typename K, typename V>
class table_row_keeper final : public processor<K, change<V>, K, change<V>> {
public:
    explicit table_row_keeper(std::string store) : _store_name(std::move(store)) {}

    void init(processor_context<K, change<V>>& context) override {
        processor<K, change<V>, K, change<V>>::init(context);
        _store.emplace(context.template get_key_value_store<K, timestamped<V>>(_store_name));
    }

    void process(const record<K, change<V>>& r) override {
        if (internal::is_null(r.key)) {
            return; // a table has no row for a null key
        }
        auto stored = _store->get(r.key);
        std::optional<V> old;
        if (stored) {
            old = std::move(stored->value);
        }
        if (r.value.new_value) {
            _store->put(r.key, timestamped<V>{*r.value.new_value, r.timestamp});
        } else if (old) {
            _store->remove(r.key);
        } else {
            return; // deleting what is not there changes nothing
        }
        this->context().forward(
            record<K, change<V>>{r.key, change<V>{r.value.new_value, std::move(old)}, r.timestamp, r.headers});
    }

private:
    std::string _store_name;
    std::optional<key_value_store<K, timestamped<V>>> _store;
};

} // namespace eddy::operators
