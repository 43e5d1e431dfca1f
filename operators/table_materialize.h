#pragma once

// A table's filter or map_values kept in a store of its own, as Kafka
// Streams' KTableFilter and KTableMapValues with a queryable store: each
// change's new value is computed and stored (none: the row is deleted), and
// the old value sent downstream is the one the store held. A change that
// leaves the store as it was (a row the result never had, still absent)
// sends nothing.

#include <optional>
#include <string>
#include <utility>

#include "change.h"
#include "processor.h"

namespace eddy::operators {

// F(key, value) -> std::optional<VR>: the result's row for the input's row
// (none: the result has no row for the key).
template<typename K, typename V, typename VR, typename F>
class table_materialize_processor final : public processor<K, change<V>, K, change<VR>> {
public:
    table_materialize_processor(F f, std::string store) : _f(std::move(f)), _store_name(std::move(store)) {}

    void init(processor_context<K, change<VR>>& context) override {
        processor<K, change<V>, K, change<VR>>::init(context);
        _store.emplace(context.template get_key_value_store<K, VR>(_store_name));
    }

    void process(const record<K, change<V>>& r) override {
        change<VR> out;
        if (r.value.new_value) {
            out.new_value = _f(r.key, *r.value.new_value);
        }
        if (out.new_value) {
            out.old_value = _store->get(r.key);
            _store->put(r.key, *out.new_value);
        } else {
            out.old_value = _store->remove(r.key);
            if (!out.old_value) {
                return; // the result had no row for the key and still has none
            }
        }
        this->context().forward(record<K, change<VR>>{r.key, std::move(out), r.timestamp, r.headers});
    }

private:
    F _f;
    std::string _store_name;
    std::optional<key_value_store<K, VR>> _store;
};

} // namespace eddy::operators
