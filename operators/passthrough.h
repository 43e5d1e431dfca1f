#pragma once

// passthrough: forwards every record unchanged; the node merge() and each
// branch of split() are made of.

#include "processor.h"

namespace eddy::operators {

template<typename K, typename V>
class passthrough_processor final : public processor<K, V, K, V> {
public:
    void process(const record<K, V>& r) override { this->context().forward(r); }
};

} // namespace eddy::operators
