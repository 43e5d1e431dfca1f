#pragma once

// Stream-table joins (Kafka Streams' KStreamKTableJoin and the stream-
// global-table join): each stream record looks its key (or the key a
// selector picks from it) up in the table's store and, when the table has
// a row, or always for a left join, goes on as joiner(value, table value)
// with the stream record's key and timestamp. The table's updates never
// produce output. A left join's joiner gets the table value as
// std::optional (empty: no row).
//
// Records dropped, logged at warn and counted in dropped-records (as
// Kafka Streams'): a null stream value, a null key (an inner join's; a
// left join joins it with no row, as Kafka Streams 3.7), a null key from
// the selector of a global join.

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "processor.h"
#include "../core/window.h"
#include "../serde/serde.h"
#include "../statestore/key_value_store.h"

namespace eddy::operators {

namespace internal {
// Logs a record a join skips (null key or value), at warn.
void log_join_skip(const std::string& node, const std::optional<record_metadata>& where);

// Whether `v` is a null (an empty optional; other types never are).
template<typename T>
bool is_null(const T& v) {
    if constexpr (is_optional_v<T>) {
        return !v.has_value();
    } else {
        return false;
    }
}
} // namespace internal

// Reads a table's rows from its store, with the time of their last update
// when the store keeps one (an aggregation's, a table's from a topic, a
// join's result); -1 otherwise.
template<typename K, typename V>
class table_value_getter {
public:
    template<typename Context>
    void init(Context& context, const std::string& store) {
        auto& handle = internal::context_access::task(context).store(context.node_name(), store);
        if (handle.plain_value_serde().has_value()) {
            _timestamped.emplace(key_value_store<K, timestamped<V>>::from(handle));
        } else {
            _plain.emplace(key_value_store<K, V>::from(handle));
        }
    }

    std::optional<timestamped<V>> get(const K& key) const {
        if (_timestamped) {
            return _timestamped->get(key);
        }
        auto v = _plain->get(key);
        if (!v) {
            return std::nullopt;
        }
        return timestamped<V>{std::move(*v), -1};
    }

private:
    std::optional<key_value_store<K, timestamped<V>>> _timestamped;
    std::optional<key_value_store<K, V>> _plain;
};

// Select(key, value) -> the table key (TK, or std::optional<TK>: empty is no
// key); for a stream-table join, the record's key. J(key, value, table
// value) with the table value as std::optional<VT> when Left.
template<typename K, typename V, typename TK, typename VT, typename VR, typename Select, typename J, bool Left>
class stream_table_join_processor final : public processor<K, V, K, VR> {
public:
    stream_table_join_processor(std::string store, Select select, J joiner)
        : _store_name(std::move(store)), _select(std::move(select)), _joiner(std::move(joiner)) {}

    void init(processor_context<K, VR>& context) override {
        processor<K, V, K, VR>::init(context);
        _table.init(context, _store_name);
    }

    void process(const record<K, V>& r) override {
        if (internal::is_null(r.value)) {
            return skip();
        }
        std::optional<VT> other;
        const auto table_key = _select(r.key, r.value);
        if (internal::is_null(table_key)) {
            // Kafka Streams 3.7 (KIP-962): a left join keeps a null-key
            // record, which then matches no row.
            if (!Left || !internal::is_null(r.key)) {
                return skip();
            }
        } else {
            std::optional<timestamped<VT>> row;
            if constexpr (std::is_same_v<std::decay_t<decltype(table_key)>, TK>) {
                row = _table.get(table_key);
            } else {
                row = _table.get(*table_key); // an optional TK the selector filled
            }
            if (row) {
                other = std::move(row->value);
            }
        }
        if constexpr (Left) {
            this->context().forward(record<K, VR>{r.key, VR(_joiner(r.key, r.value, other)), r.timestamp, r.headers});
        } else {
            if (other) {
                this->context().forward(
                    record<K, VR>{r.key, VR(_joiner(r.key, r.value, *other)), r.timestamp, r.headers});
            }
        }
    }

private:
    void skip() {
        internal::log_join_skip(this->context().node_name(), this->context().record_metadata());
        this->context().record_dropped();
    }

    std::string _store_name;
    Select _select;
    J _joiner;
    table_value_getter<TK, VT> _table;
};

} // namespace eddy::operators
