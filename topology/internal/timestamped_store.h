#pragma once

// The store of a non-windowed aggregation, as Kafka Streams keeps it (a
// TimestampedKeyValueStore): each value with the timestamp of its latest
// update, in the ValueAndTimestamp layout (serdes::value_and_timestamp),
// which is also what its changelog holds. The store reads as plain values
// too: queries, the test driver and processors asking for K, VA get the
// value without its timestamp.

#include <any>
#include <string>
#include <utility>

#include "../../core/window.h"
#include "../../statestore/stores.h"
#include "graph.h"

namespace eddy::dsl::internal {

// The options of a store holding SK -> SV with the serdes given, that `m`
// describes otherwise: its supplier (or a persistent store named `store`),
// logging and caching.
template<typename SK, typename SV, typename K, typename VA>
materialized<SK, SV> store_materialized(
    const std::string& store, const materialized<K, VA>& m, serde_ref<SK> key_serde, serde_ref<SV> value_serde) {
    auto out = materialized<SK, SV>::as(m.supplier() ? m.supplier() : stores::persistent_key_value_store(store))
                   .with_key_serde(std::move(key_serde))
                   .with_value_serde(std::move(value_serde));
    out = m.logging() ? out : out.with_logging_disabled();
    return m.caching() ? out : out.with_caching_disabled();
}

// `plain` with each value's timestamp (serdes::value_and_timestamp); none
// without `plain`.
template<typename VA>
serde_ref<timestamped<VA>> timestamped_serde(const serde_ref<VA>& plain) {
    serde_ref<timestamped<VA>> values;
    if (plain) {
        values = serdes::value_and_timestamp<VA>{plain};
    }
    return values;
}

// What materialises the timestamped store of an aggregation that `m`
// describes (name, engine, logging as `m`; values wrapped with timestamps).
template<typename K, typename VA>
materialized<K, timestamped<VA>> timestamped_materialized(const std::string& store, const materialized<K, VA>& m) {
    return store_materialized(store, m, m.key_serde(), timestamped_serde(m.value_serde()));
}

// Lets the declared timestamped store `store` also be read as plain VA.
template<typename VA>
void add_plain_view(graph& g, const std::string& store, const serde_ref<VA>& value_serde) {
    auto* spec = g.find_store(store);
    if (spec == nullptr || !value_serde) {
        return; // no store (build() says so), or no serde (build() says so)
    }
    spec->make = [make = spec->make, plain = serde_ref<VA>(serdes::value_without_timestamp<VA>{value_serde})] {
        auto handle = make();
        handle->set_plain_value_serde(std::any(plain));
        return handle;
    };
}

} // namespace eddy::dsl::internal
