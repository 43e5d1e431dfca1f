#pragma once

// flat_map_values: turns each record's value into zero or more values, each
// forwarded with the record's key.

#include <utility>

#include "processor.h"

namespace eddy::operators {

// F takes (key, value); the DSL adapts value-only lambdas.
template<typename K, typename V, typename V2, typename F>
class flat_map_values_processor final : public processor<K, V, K, V2> {
public:
    explicit flat_map_values_processor(F f) : _f(std::move(f)) {}

    void process(const record<K, V>& r) override {
        for (auto&& v : _f(r.key, r.value)) {
            this->context().forward(record<K, V2>{r.key, std::move(v), r.timestamp, r.headers});
        }
    }

private:
    F _f;
};

} // namespace eddy::operators
