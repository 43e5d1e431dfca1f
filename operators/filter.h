#pragma once

// filter / filter_not: forwards a record when the predicate holds (or, for
// filter_not, when it does not), and drops it otherwise.

#include <utility>

#include "processor.h"

namespace eddy::operators {

template<typename K, typename V, typename P>
class filter_processor final : public processor<K, V, K, V> {
public:
    filter_processor(P predicate, bool negate) : _predicate(std::move(predicate)), _negate(negate) {}

    void process(const record<K, V>& r) override {
        if (static_cast<bool>(_predicate(r.key, r.value)) != _negate) {
            this->context().forward(r);
        }
    }

private:
    P _predicate;
    bool _negate;
};

} // namespace eddy::operators
