#pragma once

// queryable_key_value_store<K, V>: a read-only view of one store across the
// tasks this instance runs, for interactive queries from any thread
// (kafka_streams::store<K, V>(name)). Each call reads the partitions the
// instance owns at that moment; a key owned by another instance is not found
// here (ask query_metadata_for_key where it lives).
//
//   auto counts = app.store<std::string, std::int64_t>("clicks-per-user");
//   std::optional<std::int64_t> alice = counts.get("alice");
//   for (const auto& [user, n] : counts.all()) { ... }

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "key_value_store.h"

namespace eddy {

template<typename K, typename V>
class queryable_key_value_store {
public:
    // Calls its argument with each local store of the name, while they
    // cannot be closed.
    using store_visitor =
        std::function<void(const std::function<void(statestore::internal::store_handle&)>&)>;

    queryable_key_value_store(std::string name, store_visitor visit)
        : _name(std::move(name)), _visit(std::move(visit)) {}

    const std::string& name() const noexcept { return _name; }

    std::optional<V> get(const K& key) const {
        std::optional<V> found;
        _visit([&](statestore::internal::store_handle& h) {
            if (!found) {
                found = read_only_key_value_store<K, V>::from(h).get(key);
            }
        });
        return found;
    }
    // from <= key <= to over every local partition, in the order of the
    // serialised keys. Collected, unlike a task's key_value_range: a local
    // store may be read only inside the visit, under the lock that keeps
    // its task from being closed, so nothing can hold it between pages.
    std::vector<key_value<K, V>> range(const K& from, const K& to) const {
        return collect([&](const read_only_key_value_store<K, V>& s, auto& out) {
            s.for_each(from, to, [&](const K& k, const V& v) {
                out.push_back({k, v});
                return true;
            });
        });
    }
    std::vector<key_value<K, V>> all() const {
        return collect([&](const read_only_key_value_store<K, V>& s, auto& out) {
            s.for_each(std::nullopt, std::nullopt, [&](const K& k, const V& v) {
                out.push_back({k, v});
                return true;
            });
        });
    }
    std::uint64_t approximate_num_entries() const {
        std::uint64_t n = 0;
        _visit([&](statestore::internal::store_handle& h) { n += h.approximate_num_entries(); });
        return n;
    }

private:
    template<typename Read>
    std::vector<key_value<K, V>> collect(Read read) const {
        std::vector<key_value<K, V>> out;
        serde_ref<K> key_serde;
        _visit([&](statestore::internal::store_handle& h) {
            auto view = read_only_key_value_store<K, V>::from(h);
            key_serde = statestore::internal::serdes_of<K, V>(h).first;
            read(view, out);
        });
        if (key_serde) {
            // Each partition's entries are sorted; across partitions, order
            // by the serialised keys as one store would.
            std::vector<std::pair<std::string, std::size_t>> order;
            for (std::size_t i = 0; i < out.size(); ++i) {
                order.emplace_back(key_serde.serialize(out[i].key), i);
            }
            std::sort(order.begin(), order.end());
            std::vector<key_value<K, V>> sorted;
            sorted.reserve(out.size());
            for (const auto& [bytes, i] : order) {
                sorted.push_back(std::move(out[i]));
            }
            out = std::move(sorted);
        }
        return out;
    }

    std::string _name;
    store_visitor _visit;
};

} // namespace eddy
