#pragma once

// map_values: turns each record's value into a new value; the key stays.

#include <utility>

#include "processor.h"

namespace eddy::operators {

// F takes (key, value); the DSL adapts value-only lambdas.
template<typename K, typename V, typename V2, typename F>
class map_values_processor final : public processor<K, V, K, V2> {
public:
    explicit map_values_processor(F f) : _f(std::move(f)) {}

    void process(const record<K, V>& r) override {
        this->context().forward(record<K, V2>{r.key, _f(r.key, r.value), r.timestamp, r.headers});
    }

private:
    F _f;
};

} // namespace eddy::operators
