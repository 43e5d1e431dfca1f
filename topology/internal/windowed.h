#pragma once

// What the windowed aggregations (time, sliding, session) share when they
// add themselves to the graph: the suppress buffer's store and the window
// retention their store's changelog is created with.

#include <cstdint>
#include <functional>
#include <string>

#include "../../core/window.h"
#include "../../statestore/stores.h"
#include "graph.h"
#include "timestamped_store.h"

namespace eddy::dsl::internal {

// The store of suppress(until_window_closes)'s buffer after a windowed
// aggregation keyed by `key_serde`'s layout.
template<typename K, typename VA>
std::function<statestore::internal::store_spec(const std::string&)> windowed_buffer_spec(
    serde_ref<windowed<K>> key_serde, serde_ref<VA> plain_value) {
    return [key_serde, plain_value](const std::string& buffer) {
        return statestore::internal::builder_access::spec(stores::key_value_store_builder<windowed<K>, timestamped<VA>>(
            stores::in_memory_key_value_store(buffer), key_serde, timestamped_serde(plain_value)));
    };
}

// Marks `store` as a window store kept `retention_ms` past stream time.
inline void set_window_retention(graph& g, const std::string& store, std::int64_t retention_ms) {
    if (auto* spec = g.find_store(store)) {
        spec->window_retention_ms = retention_ms;
    }
}

} // namespace eddy::dsl::internal
