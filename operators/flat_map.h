#pragma once

// flat_map: turns each record into zero or more records with new keys and
// values.

#include <utility>

#include "processor.h"

namespace eddy::operators {

template<typename K, typename V, typename K2, typename V2, typename F>
class flat_map_processor final : public processor<K, V, K2, V2> {
public:
    explicit flat_map_processor(F f) : _f(std::move(f)) {}

    void process(const record<K, V>& r) override {
        for (auto&& [k, v] : _f(r.key, r.value)) {
            this->context().forward(record<K2, V2>{std::move(k), std::move(v), r.timestamp, r.headers});
        }
    }

private:
    F _f;
};

} // namespace eddy::operators
