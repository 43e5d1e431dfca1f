#pragma once

// select_key: gives each record a new key computed from its key and value.

#include <utility>

#include "processor.h"

namespace eddy::operators {

template<typename K, typename V, typename K2, typename F>
class select_key_processor final : public processor<K, V, K2, V> {
public:
    explicit select_key_processor(F f) : _f(std::move(f)) {}

    void process(const record<K, V>& r) override {
        this->context().forward(record<K2, V>{_f(r.key, r.value), r.value, r.timestamp, r.headers});
    }

private:
    F _f;
};

} // namespace eddy::operators
