#pragma once

// change<V>: what a table node passes downstream for one key: the new value
// and the one it replaces (either absent: an insert or a delete), as Kafka
// Streams' Change. Table operators that retract (a table's group_by with a
// subtractor) need the old value.

#include <optional>

namespace eddy {

template<typename V>
struct change {
    std::optional<V> new_value;
    std::optional<V> old_value;

    friend bool operator==(const change&, const change&) = default;
};

} // namespace eddy
