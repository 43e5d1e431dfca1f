#pragma once

// The table operators: a table from a topic or a stream (the latest value
// per key, a null value deleting the key), filter and map_values over a
// table's changes, and the regrouping a table's group_by does for
// aggregations that retract (the old value subtracted, the new one added).

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "change.h"
#include "processor.h"
#include "../core/window.h"
#include "../serde/serde.h"

namespace eddy {

// What a table's input carries per record: V when V may already be null
// (std::optional), std::optional<V> otherwise; empty means "delete the key".
template<typename V>
using nullable_t = std::conditional_t<is_optional_v<V>, V, std::optional<V>>;

namespace serdes {
// The serde of nullable_t<V> made from V's serde: a null is Kafka's null.
template<typename V>
struct nullable_of {
    using value_type = std::optional<V>;
    static constexpr std::string_view name = "nullable";
    serde_ref<V> inner;

    std::string serialize(const std::optional<V>& v) const { return inner.serialize(*v); }
    std::optional<V> deserialize(std::string_view bytes) const { return inner.deserialize(bytes); }
};

// A table change on a repartition topic: one byte (0: an added value, 1: a
// subtracted one) and the value's bytes.
template<typename V>
struct change_of {
    using value_type = change<V>;
    static constexpr std::string_view name = "change";
    serde_ref<V> inner;

    std::string serialize(const change<V>& c) const {
        if (c.new_value) {
            return std::string(1, '\0') + inner.serialize(*c.new_value);
        }
        return std::string(1, '\1') + inner.serialize(*c.old_value);
    }
    change<V> deserialize(std::string_view bytes) const {
        if (bytes.empty() || (bytes[0] != '\0' && bytes[0] != '\1')) {
            throw serde_error("change: expected a flag byte 0 or 1 before the value");
        }
        change<V> c;
        (bytes[0] == '\0' ? c.new_value : c.old_value) = inner.deserialize(bytes.substr(1));
        return c;
    }
};
} // namespace serdes

template<typename V>
serde_ref<nullable_t<V>> nullable_serde_of(const serde_ref<V>& s) {
    if constexpr (is_optional_v<V>) {
        return s;
    } else {
        return s ? serde_ref<std::optional<V>>(serdes::nullable_of<V>{s}) : serde_ref<std::optional<V>>();
    }
}

namespace operators {

// Materialises records into a table: a value replaces the key's, a null
// (an empty VIn, where VIn is optional) deletes it; each effective change
// goes downstream with the old value. Timestamped: the store keeps each
// value with its record's timestamp (Kafka Streams' TimestampedKeyValueStore
// of a table read from a topic), which joins use to stamp their results.
template<typename K, typename V, typename VIn = nullable_t<V>, bool Timestamped = false>
class table_source_processor final : public processor<K, VIn, K, change<V>> {
public:
    explicit table_source_processor(std::string store) : _store_name(std::move(store)) {}

    void init(processor_context<K, change<V>>& context) override {
        processor<K, VIn, K, change<V>>::init(context);
        _store.emplace(context.template get_key_value_store<K, stored_type>(_store_name));
    }

    void process(const record<K, VIn>& r) override {
        if constexpr (is_optional_v<K>) {
            if (!r.key) {
                return; // a table has no row for a null key
            }
        }
        std::optional<V> old;
        if (auto s = _store->get(r.key)) {
            if constexpr (Timestamped) {
                old = std::move(s->value);
            } else {
                old = std::move(*s);
            }
        }
        if (!present(r.value)) {
            if (!old) {
                return; // deleting what is not there changes nothing
            }
            _store->remove(r.key);
            this->context().forward(record<K, change<V>>{r.key, change<V>{std::nullopt, std::move(old)}, r.timestamp, r.headers});
            return;
        }
        V next = stored(r.value);
        if constexpr (Timestamped) {
            _store->put(r.key, timestamped<V>{next, r.timestamp});
        } else {
            _store->put(r.key, next);
        }
        this->context().forward(record<K, change<V>>{r.key, change<V>{std::move(next), std::move(old)}, r.timestamp, r.headers});
    }

private:
    using stored_type = std::conditional_t<Timestamped, timestamped<V>, V>;

    static bool present(const VIn& v) {
        if constexpr (is_optional_v<VIn>) {
            return v.has_value();
        } else {
            return true;
        }
    }
    static V stored(const VIn& v) {
        if constexpr (std::is_same_v<VIn, V>) {
            return v;
        } else {
            return *v;
        }
    }

    std::string _store_name;
    std::optional<key_value_store<K, stored_type>> _store;
};

// Keeps the values P(key, value) holds for (negated: those it rejects); a
// value that stops passing becomes a delete.
template<typename K, typename V, typename P>
class table_filter_processor final : public processor<K, change<V>, K, change<V>> {
public:
    table_filter_processor(P predicate, bool negate) : _predicate(std::move(predicate)), _negate(negate) {}

    void process(const record<K, change<V>>& r) override {
        change<V> out{keep(r.key, r.value.new_value), keep(r.key, r.value.old_value)};
        if (!out.new_value && !out.old_value) {
            return; // neither was in the filtered table
        }
        this->context().forward(record<K, change<V>>{r.key, std::move(out), r.timestamp, r.headers});
    }

private:
    std::optional<V> keep(const K& k, const std::optional<V>& v) {
        if (v && static_cast<bool>(_predicate(k, *v)) != _negate) {
            return v;
        }
        return std::nullopt;
    }

    P _predicate;
    bool _negate;
};

// F(key, value) -> V2, applied to both sides of each change.
template<typename K, typename V, typename V2, typename F>
class table_map_values_processor final : public processor<K, change<V>, K, change<V2>> {
public:
    explicit table_map_values_processor(F f) : _f(std::move(f)) {}

    void process(const record<K, change<V>>& r) override {
        change<V2> out;
        if (r.value.new_value) {
            out.new_value = _f(r.key, *r.value.new_value);
        }
        if (r.value.old_value) {
            out.old_value = _f(r.key, *r.value.old_value);
        }
        this->context().forward(record<K, change<V2>>{r.key, std::move(out), r.timestamp, r.headers});
    }

private:
    F _f;
};

// A table's group_by: each change becomes a subtraction of the old row under
// its old group key, then an addition of the new row under its new one.
// S(key, value) -> key_value<KR, VR>.
template<typename K, typename V, typename KR, typename VR, typename S>
class table_regroup_processor final : public processor<K, change<V>, KR, change<VR>> {
public:
    explicit table_regroup_processor(S selector) : _selector(std::move(selector)) {}

    void process(const record<K, change<V>>& r) override {
        if (r.value.old_value) {
            auto kv = _selector(r.key, *r.value.old_value);
            this->context().forward(record<KR, change<VR>>{std::move(kv.key), change<VR>{std::nullopt, std::move(kv.value)}, r.timestamp, r.headers});
        }
        if (r.value.new_value) {
            auto kv = _selector(r.key, *r.value.new_value);
            this->context().forward(record<KR, change<VR>>{std::move(kv.key), change<VR>{std::move(kv.value), std::nullopt}, r.timestamp, r.headers});
        }
    }

private:
    S _selector;
};

// A grouped table's aggregation (Kafka Streams' KTableAggregate and
// KTableReduce): a retraction folds in with Sub(key, old value, const
// std::optional<VA>& aggregate) -> VA or std::optional<VA>, an addition with
// Add(key, new value, const std::optional<VA>& aggregate) -> VA; an empty
// aggregate is a key's first (topology/internal/aggregations.h's
// table folds). A retraction that leaves no aggregate (a reduce's key never
// added) changes nothing. Stamped with the larger of the record's and the
// aggregate's timestamps.
template<typename K, typename V, typename VA, typename Add, typename Sub>
class table_aggregate_processor final : public processor<K, change<V>, K, change<VA>> {
public:
    table_aggregate_processor(std::string store, Add add, Sub sub)
        : _store_name(std::move(store)), _add(std::move(add)), _sub(std::move(sub)) {}

    void init(processor_context<K, change<VA>>& context) override {
        processor<K, change<V>, K, change<VA>>::init(context);
        _store.emplace(context.template get_key_value_store<K, timestamped<VA>>(_store_name));
    }

    void process(const record<K, change<V>>& r) override {
        auto [old, ts] = internal::stored_aggregate(*_store, r.key, r.timestamp);
        std::optional<VA> agg = old;
        if (r.value.old_value) {
            agg = _sub(r.key, *r.value.old_value, agg);
        }
        if (r.value.new_value) {
            agg = _add(r.key, *r.value.new_value, agg);
        }
        if (!agg) {
            return;
        }
        _store->put(r.key, timestamped<VA>{*agg, ts});
        this->context().forward(record<K, change<VA>>{r.key, change<VA>{std::move(agg), std::move(old)}, ts, r.headers});
    }

private:
    std::string _store_name;
    Add _add;
    Sub _sub;
    std::optional<key_value_store<K, timestamped<VA>>> _store;
};

} // namespace operators
} // namespace eddy
