#pragma once

// The record cache of one store: a write-back cache in front of its engine
// (Kafka Streams' NamedCache behind CachingKeyValueStore). Puts and deletes
// land here as dirty entries, so repeated updates of a key between two
// commits reach the engine and the changelog once; reads find the latest
// value here first. The caches of one stream thread share one byte budget
// (statestore.cache.max.bytes split across the threads); a put that takes
// the thread over it evicts this store's least recently used entries, a
// dirty one being written through on its way out. flush() writes every
// dirty entry (the runtime calls it before each commit), in the order the
// keys were last updated, and keeps them as clean entries for later reads.
//
// Threads: the owning stream thread reads and writes; queries from other
// threads read. One mutex guards the entries (uncontended on the stream
// thread's path: a lock and an unlock per call). Only the owning thread
// adds entries or changes the shared budget.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bytes_store.h"

namespace eddy::statestore::internal {

// The bytes the record caches of one stream thread may hold together.
class cache_budget {
public:
    explicit cache_budget(std::uint64_t max_bytes) : _max_bytes(max_bytes) {}
    std::uint64_t max_bytes() const noexcept { return _max_bytes; }
    std::uint64_t used_bytes() const noexcept { return _used; }

private:
    friend class record_cache;
    std::uint64_t _max_bytes;
    // Changed only by the owning thread of the caches (see record_cache).
    std::uint64_t _used = 0;
};

// What the cache counted, for tests and metrics.
struct cache_stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t evictions = 0;
    // Dirty entries written to the engine (by flushes and evictions).
    std::uint64_t written = 0;
};

class record_cache {
public:
    // Writes dirty entries to the engine and the changelog (a delete has
    // no value), in the order given.
    using writer = std::function<void(const std::vector<bytes_update>& updates)>;

    // Told, after the call that evicted it returns its lock, of each dirty
    // entry an eviction wrote out.
    using evicted_listener = std::function<void(std::string_view key)>;

    record_cache(std::shared_ptr<cache_budget> budget, writer write);
    ~record_cache();
    record_cache(const record_cache&) = delete;
    record_cache& operator=(const record_cache&) = delete;

    // The cached value, else the engine's (kept as a clean entry when the
    // owning thread asks).
    std::optional<std::string> get(std::string_view key, const bytes_store& engine);
    void put(std::string_view key, std::string_view value);
    void remove(std::string_view key);
    // The engine's entries in [from, to] merged with the dirty entries
    // (these win; a dirty delete hides the engine's entry), in key order or
    // in reverse. The dirty entries are copied first: `visit` may write.
    void scan(const std::optional<std::string>& from, const std::optional<std::string>& to, bool reverse,
        const bytes_visitor& visit, const bytes_store& engine);
    // The engine's count and the dirty entries it may not hold yet.
    std::uint64_t approximate_num_entries(const bytes_store& engine) const;

    void set_evicted_listener(evicted_listener listener) { _on_evicted = std::move(listener); }

    // Writes every dirty entry through the writer; returns how many.
    std::size_t flush();
    // Forgets every entry, dirty or not (an aborted transaction, a wiped or
    // closed store).
    void clear();

    std::size_t dirty_count() const;
    std::size_t size() const;
    std::uint64_t size_bytes() const;
    cache_stats stats() const;

private:
    struct entry;
    // An intrusive doubly linked list of entries (no allocation per move).
    struct links {
        entry* prev = nullptr;
        entry* next = nullptr;
    };
    struct entry {
        const std::string* key = nullptr;
        // None: a delete the engine has not seen yet.
        std::optional<std::string> value;
        bool dirty = false;
        // The engine holds the key (as far as the cache knows).
        bool in_engine = false;
        links lru;
        links dirty_order;
    };
    struct list {
        entry* head = nullptr;
        entry* tail = nullptr;
    };
    using entry_map = std::map<std::string, entry, std::less<>>;

    static void unlink(list& l, entry& e, links entry::*member);
    static void push_back(list& l, entry& e, links entry::*member);
    static std::uint64_t bytes_of(std::string_view key, const std::optional<std::string>& value);

    // The entry of `key`, or null; the entry found last is checked first
    // (an aggregation's put follows its get of the same key).
    entry* find_locked(std::string_view key);
    std::optional<std::string> get_locked_and_fill(std::string_view key, const bytes_store& engine);
    void write_locked(std::string_view key, std::optional<std::string_view> value);
    void insert_clean_locked(std::string_view key, const std::string& value);
    void evict_locked();
    void erase_locked(entry_map::iterator it);
    void charge(std::uint64_t add, std::uint64_t release);
    // Tells the listener of the dirty entries evicted since the last call;
    // called with the lock released.
    void notify_evicted();

    std::shared_ptr<cache_budget> _budget;
    writer _write;
    std::thread::id _owner;
    mutable std::mutex _mutex;
    entry_map _entries;
    list _lru;
    list _dirty;
    std::size_t _dirty_count = 0;
    entry* _last = nullptr;
    std::uint64_t _bytes = 0;
    cache_stats _stats;
    evicted_listener _on_evicted;
    std::vector<std::string> _evicted_dirty;
};

} // namespace eddy::statestore::internal
