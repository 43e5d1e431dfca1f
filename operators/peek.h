#pragma once

// peek and foreach: call an action on each record; peek forwards it
// unchanged, foreach ends the stream.

#include <utility>

#include "processor.h"

namespace eddy::operators {

template<typename K, typename V, typename F>
class peek_processor final : public processor<K, V, K, V> {
public:
    peek_processor(F f, bool forward) : _f(std::move(f)), _forward(forward) {}

    void process(const record<K, V>& r) override {
        _f(r.key, r.value);
        if (_forward) {
            this->context().forward(r);
        }
    }

private:
    F _f;
    bool _forward;
};

} // namespace eddy::operators
