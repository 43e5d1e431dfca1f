#pragma once

// One store of one task: its engine, the changelogging layer in front of it,
// and, when the task enables it, the record cache in front of both. Typed
// views (key_value_store<K, V>) read and write through the handle, which
// tells the task of every change that reaches the engine so that it lands in
// the changelog topic in the same commit as the task's output. With a cache,
// a change reaches the engine (and the changelog) when the cache is flushed
// before a commit or evicts the key.

#include <any>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bytes_store.h"
#include "record_cache.h"

namespace eddy::statestore::internal {

// Told when a store's record cache writes dirty entries out: the DSL's
// aggregations forward their latest change per key then, as Kafka Streams'
// cache flush listeners do.
class cache_flush_listener {
public:
    virtual ~cache_flush_listener() = default;
    // Every dirty entry is about to be written (a flush before a commit);
    // returns how many changes it forwarded.
    virtual std::size_t on_flush() = 0;
    // The dirty entry of `key` was written by an eviction.
    virtual void on_evict(std::string_view key) = 0;
};

class store_handle {
public:
    // Called with each change (no value: a delete) when the store logs.
    using change_listener = std::function<void(std::string_view key, std::optional<std::string_view> value)>;

    store_handle(std::string name, std::unique_ptr<bytes_store> engine, bool logging, std::any key_serde,
        std::any value_serde)
        : _name(std::move(name))
        , _engine(std::move(engine))
        , _logging(logging)
        , _key_serde(std::move(key_serde))
        , _value_serde(std::move(value_serde)) {}

    const std::string& name() const noexcept { return _name; }
    bytes_store& engine() noexcept { return *_engine; }
    const bytes_store& engine() const noexcept { return *_engine; }
    bool logging() const noexcept { return _logging; }
    // The serde_ref<K> and serde_ref<V> the store was declared with.
    const std::any& key_serde() const noexcept { return _key_serde; }
    const std::any& value_serde() const noexcept { return _value_serde; }

    void set_change_listener(change_listener listener) { _on_change = std::move(listener); }

    // Whether the task may put a record cache in front of it (off: the
    // topology said with_caching_disabled).
    bool caching() const noexcept { return _caching; }
    void set_caching(bool on) { _caching = on; }

    // A timestamped store (an aggregation's: value and timestamp) also reads
    // as a store of plain values through this serde_ref<V>, which skips the
    // timestamp; empty for other stores.
    const std::any& plain_value_serde() const noexcept { return _plain_value_serde; }
    void set_plain_value_serde(std::any serde) { _plain_value_serde = std::move(serde); }

    // A store that is the materialisation of a source topic (a table read
    // with streams_builder::table) needs no changelog of its own: it
    // restores from that topic, up to the committed offset.
    const std::string& source_topic() const noexcept { return _source_topic; }
    void set_source_topic(std::string topic) { _source_topic = std::move(topic); }
    // The store keeps the source topic's values behind their record's
    // timestamp (the ValueAndTimestamp layout): restoring from the topic
    // puts each record's timestamp in front of its value.
    bool timestamps_source_values() const noexcept { return _timestamps_source_values; }
    void set_timestamps_source_values(bool on) { _timestamps_source_values = on; }

    // Puts a record cache in front of the engine, sharing `budget` with the
    // other caches of the calling (stream) thread.
    void enable_cache(std::shared_ptr<cache_budget> budget) {
        _cache = std::make_unique<record_cache>(
            std::move(budget), [this](const std::vector<bytes_update>& updates) { write_through(updates); });
        _cache->set_evicted_listener([this](std::string_view key) {
            if (_flush_listener != nullptr) {
                _flush_listener->on_evict(key);
            }
        });
    }
    // The operator that forwards on this store's flushes and evictions
    // (null: none). The task owns both, so neither outlives the other.
    void set_flush_listener(cache_flush_listener* listener) { _flush_listener = listener; }
    cache_flush_listener* flush_listener() const noexcept { return _flush_listener; }
    // The cache, or null when caching is off.
    record_cache* cache() noexcept { return _cache.get(); }
    const record_cache* cache() const noexcept { return _cache.get(); }
    // Writes the cache's dirty entries to the engine and the changelog;
    // returns how many.
    // Also counts the changes the flush listener forwarded (which may have
    // made other stores dirty).
    std::size_t flush_cache() {
        if (!_cache) {
            return 0;
        }
        // The listener first, even with nothing dirty here: a change whose
        // entry an eviction already wrote may still wait in it.
        const std::size_t forwarded = _flush_listener != nullptr ? _flush_listener->on_flush() : 0;
        return _cache->flush() + forwarded;
    }
    // Forgets what the cache holds, written or not (the store is wiped,
    // rebuilt or closed).
    void drop_cache() {
        if (_cache) {
            _cache->clear();
        }
    }

    std::optional<std::string> get(std::string_view key) const {
        return _cache ? _cache->get(key, *_engine) : _engine->get(key);
    }
    void scan(const std::optional<std::string>& from, const std::optional<std::string>& to, bool reverse,
        const bytes_visitor& visit) const {
        if (_cache) {
            _cache->scan(from, to, reverse, visit, *_engine);
        } else {
            _engine->scan(from, to, reverse, visit);
        }
    }
    std::uint64_t approximate_num_entries() const {
        return _cache ? _cache->approximate_num_entries(*_engine) : _engine->approximate_num_entries();
    }

    void put(std::string_view key, std::string_view value) {
        if (_cache) {
            _cache->put(key, value);
            return;
        }
        _engine->put(key, value);
        if (_on_change) {
            _on_change(key, value);
        }
    }
    void remove(std::string_view key) {
        if (_cache) {
            _cache->remove(key);
            return;
        }
        _engine->remove(key);
        if (_on_change) {
            _on_change(key, std::nullopt);
        }
    }

private:
    // What the cache flushes or evicts: one engine batch, then the
    // changelog, in the cache's order.
    void write_through(const std::vector<bytes_update>& updates) {
        _engine->write_batch(updates);
        if (_on_change) {
            for (const auto& [key, value] : updates) {
                _on_change(key, value);
            }
        }
    }

    std::string _name;
    std::unique_ptr<bytes_store> _engine;
    bool _logging;
    std::any _key_serde;
    std::any _value_serde;
    change_listener _on_change;
    std::string _source_topic;
    bool _timestamps_source_values = false;
    std::any _plain_value_serde;
    // A const read may fill it (the pointer's constness does not reach it).
    std::unique_ptr<record_cache> _cache;
    cache_flush_listener* _flush_listener = nullptr;
    bool _caching = true;
};

// How a topology makes one store for each of its tasks.
struct store_spec {
    std::string name;
    bool persistent = false;
    bool logging = true;
    // Restores from this source topic instead of a changelog (logging off).
    std::string source_topic;
    // A window store's retention (how long its windows are kept after stream
    // time passes them), or -1 for a key-value store: the changelog is then
    // created compact,delete with this retention plus
    // windowstore.changelog.additional.retention.ms.
    std::int64_t window_retention_ms = -1;
    // A global table's store: one per instance, holding every partition of
    // source_topic, which processors of every task may read.
    bool global = false;
    std::function<std::unique_ptr<store_handle>()> make;
};

} // namespace eddy::statestore::internal
