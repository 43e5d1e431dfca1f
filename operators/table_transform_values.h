#pragma once

// ktable::transform_values: a value transformer applied to a table's
// changes, as Kafka Streams' KTableTransformValues. Not materialised, both
// the new and the old value of a change are transformed (a stateful
// transformer sees each old value again); materialised, the old value is the
// one the store kept, the new one is stored, and a delete removes the row.

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "change.h"
#include "processor.h"
#include "value_transformer.h"

namespace eddy::operators {

template<typename K, typename V, typename VR>
class table_transform_values_processor final : public processor<K, change<V>, K, change<VR>> {
public:
    // `store`: where the results are kept; empty: not materialised.
    table_transform_values_processor(std::unique_ptr<value_transformer_with_key<K, V, VR>> transformer, std::string store)
        : _transformer(std::move(transformer)), _store_name(std::move(store)) {}

    void init(processor_context<K, change<VR>>& context) override {
        processor<K, change<V>, K, change<VR>>::init(context);
        _context.emplace(internal::context_access::task(context), context.node_name());
        if (!_store_name.empty()) {
            _store.emplace(context.template get_key_value_store<K, VR>(_store_name));
        }
        _transformer->init(*_context);
    }

    void process(const record<K, change<V>>& r) override {
        change<VR> out;
        if (r.value.new_value) {
            out.new_value = _transformer->transform(r.key, *r.value.new_value);
        }
        if (_store) {
            out.old_value = _store->get(r.key);
            if (out.new_value) {
                _store->put(r.key, *out.new_value);
            } else if (out.old_value) {
                _store->remove(r.key);
            } else {
                return; // a delete of a row the table never had
            }
        } else if (r.value.old_value) {
            out.old_value = _transformer->transform(r.key, *r.value.old_value);
        }
        this->context().forward(record<K, change<VR>>{r.key, std::move(out), r.timestamp, r.headers});
    }

    void close() override { _transformer->close(); }

private:
    std::unique_ptr<value_transformer_with_key<K, V, VR>> _transformer;
    std::string _store_name;
    std::optional<value_transformer_context> _context;
    std::optional<key_value_store<K, VR>> _store;
};

} // namespace eddy::operators
