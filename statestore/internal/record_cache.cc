#include "statestore/internal/record_cache.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace eddy::statestore::internal {

record_cache::record_cache(std::shared_ptr<cache_budget> budget, writer write)
    : _budget(std::move(budget)), _write(std::move(write)), _owner(std::this_thread::get_id()) {
    if (!_budget) {
        throw std::invalid_argument("record_cache: no budget");
    }
}

record_cache::~record_cache() {
    charge(0, _bytes);
}

void record_cache::unlink(list& l, entry& e, links entry::*member) {
    auto& ln = e.*member;
    if (ln.prev != nullptr) {
        (ln.prev->*member).next = ln.next;
    } else {
        l.head = ln.next;
    }
    if (ln.next != nullptr) {
        (ln.next->*member).prev = ln.prev;
    } else {
        l.tail = ln.prev;
    }
    ln.prev = ln.next = nullptr;
}

void record_cache::push_back(list& l, entry& e, links entry::*member) {
    auto& ln = e.*member;
    ln.prev = l.tail;
    ln.next = nullptr;
    if (l.tail != nullptr) {
        (l.tail->*member).next = &e;
    } else {
        l.head = &e;
    }
    l.tail = &e;
}

std::uint64_t record_cache::bytes_of(std::string_view key, const std::optional<std::string>& value) {
    // The key and value bytes and what the map node and entry cost around
    // them (an estimate, as Kafka Streams' LRUCacheEntry.size() is).
    constexpr std::uint64_t overhead = sizeof(entry_map::value_type) + 32;
    return key.size() + (value ? value->size() : 0) + overhead;
}

void record_cache::charge(std::uint64_t add, std::uint64_t release) {
    _bytes = _bytes + add - release;
    _budget->_used = _budget->_used + add - release;
}

record_cache::entry* record_cache::find_locked(std::string_view key) {
    if (_last != nullptr && *_last->key == key) {
        return _last;
    }
    auto it = _entries.find(key);
    if (it == _entries.end()) {
        return nullptr;
    }
    _last = &it->second;
    return _last;
}

std::optional<std::string> record_cache::get_locked_and_fill(std::string_view key, const bytes_store& engine) {
    std::scoped_lock lock(_mutex);
    if (auto* e = find_locked(key)) {
        ++_stats.hits;
        unlink(_lru, *e, &entry::lru);
        push_back(_lru, *e, &entry::lru);
        return e->value;
    }
    ++_stats.misses;
    auto value = engine.get(key);
    // A query from another thread reads through without filling the cache:
    // the stream thread's budget is its own.
    if (value && std::this_thread::get_id() == _owner) {
        insert_clean_locked(key, *value);
        evict_locked();
    }
    return value;
}

std::optional<std::string> record_cache::get(std::string_view key, const bytes_store& engine) {
    auto value = get_locked_and_fill(key, engine);
    notify_evicted();
    return value;
}

void record_cache::notify_evicted() {
    // Only the owning thread evicts (and reads this list).
    if (std::this_thread::get_id() != _owner || _evicted_dirty.empty()) {
        return;
    }
    std::vector<std::string> keys;
    {
        std::scoped_lock lock(_mutex);
        keys.swap(_evicted_dirty);
    }
    if (_on_evicted) {
        for (const auto& k : keys) {
            _on_evicted(k);
        }
    }
}

void record_cache::insert_clean_locked(std::string_view key, const std::string& value) {
    auto [it, inserted] = _entries.try_emplace(std::string(key));
    auto& e = it->second;
    e.key = &it->first;
    e.value = value;
    e.in_engine = true;
    push_back(_lru, e, &entry::lru);
    charge(bytes_of(key, e.value), 0);
    _last = &e;
}

void record_cache::put(std::string_view key, std::string_view value) {
    {
        std::scoped_lock lock(_mutex);
        write_locked(key, value);
        evict_locked();
    }
    notify_evicted();
}

void record_cache::remove(std::string_view key) {
    {
        std::scoped_lock lock(_mutex);
        write_locked(key, std::nullopt);
        evict_locked();
    }
    notify_evicted();
}

void record_cache::write_locked(std::string_view key, std::optional<std::string_view> value) {
    entry* found = find_locked(key);
    if (found == nullptr) {
        auto it = _entries.try_emplace(std::string(key)).first;
        auto& e = it->second;
        e.key = &it->first;
        if (value) {
            e.value.emplace(*value);
        }
        charge(bytes_of(key, e.value), 0);
        push_back(_lru, e, &entry::lru);
        found = &e;
        _last = found;
    } else {
        auto& e = *found;
        const auto before = bytes_of(key, e.value);
        if (value) {
            if (e.value) {
                e.value->assign(*value);
            } else {
                e.value.emplace(*value);
            }
        } else {
            e.value.reset();
        }
        charge(bytes_of(key, e.value), before);
        unlink(_lru, e, &entry::lru);
        push_back(_lru, e, &entry::lru);
        if (e.dirty) {
            unlink(_dirty, e, &entry::dirty_order);
        }
    }
    auto& e = *found;
    if (!e.dirty) {
        e.dirty = true;
        ++_dirty_count;
    }
    // Flushes go in the order of the keys' latest updates.
    push_back(_dirty, e, &entry::dirty_order);
}

void record_cache::evict_locked() {
    // As Kafka Streams' ThreadCache: the store being written gives up its
    // least recently used entries until the thread is within its budget
    // (the entry just written too, if it must).
    while (_budget->_used > _budget->_max_bytes && _lru.head != nullptr) {
        entry& e = *_lru.head;
        if (e.dirty) {
            std::vector<bytes_update> one;
            one.emplace_back(*e.key, e.value ? std::optional<std::string_view>(*e.value) : std::nullopt);
            _write(one);
            ++_stats.written;
            if (_on_evicted) {
                _evicted_dirty.push_back(*e.key);
            }
        }
        ++_stats.evictions;
        erase_locked(_entries.find(*e.key));
    }
}

void record_cache::erase_locked(entry_map::iterator it) {
    auto& e = it->second;
    if (_last == &e) {
        _last = nullptr;
    }
    unlink(_lru, e, &entry::lru);
    if (e.dirty) {
        unlink(_dirty, e, &entry::dirty_order);
        --_dirty_count;
    }
    charge(0, bytes_of(it->first, e.value));
    _entries.erase(it);
}

void record_cache::scan(const std::optional<std::string>& from, const std::optional<std::string>& to, bool reverse,
    const bytes_visitor& visit, const bytes_store& engine) {
    if (from && to && *from > *to) {
        return;
    }
    std::vector<std::pair<std::string, std::optional<std::string>>> dirty;
    {
        std::scoped_lock lock(_mutex);
        if (_dirty_count > 0) {
            auto first = from ? _entries.lower_bound(*from) : _entries.begin();
            auto last = to ? _entries.upper_bound(*to) : _entries.end();
            for (auto it = first; it != last; ++it) {
                if (it->second.dirty) {
                    dirty.emplace_back(it->first, it->second.value);
                }
            }
        }
    }
    if (reverse) {
        std::reverse(dirty.begin(), dirty.end());
    }
    auto before = [reverse](std::string_view a, std::string_view b) { return reverse ? b < a : a < b; };
    std::size_t i = 0;
    bool stopped = false;
    engine.scan(from, to, reverse, [&](std::string_view k, std::string_view v) {
        // The dirty entries that come before the engine's next key.
        for (; i < dirty.size() && before(dirty[i].first, k); ++i) {
            if (dirty[i].second && !visit(dirty[i].first, *dirty[i].second)) {
                stopped = true;
                return false;
            }
        }
        if (i < dirty.size() && dirty[i].first == k) {
            const auto& d = dirty[i++];
            if (d.second && !visit(d.first, *d.second)) {
                stopped = true;
                return false;
            }
            return true;
        }
        if (!visit(k, v)) {
            stopped = true;
            return false;
        }
        return true;
    });
    for (; !stopped && i < dirty.size(); ++i) {
        if (dirty[i].second && !visit(dirty[i].first, *dirty[i].second)) {
            return;
        }
    }
}

std::uint64_t record_cache::approximate_num_entries(const bytes_store& engine) const {
    std::int64_t n = static_cast<std::int64_t>(engine.approximate_num_entries());
    std::scoped_lock lock(_mutex);
    for (const entry* e = _dirty.head; e != nullptr; e = e->dirty_order.next) {
        if (e->value && !e->in_engine) {
            ++n;
        } else if (!e->value && e->in_engine) {
            --n;
        }
    }
    return static_cast<std::uint64_t>(std::max<std::int64_t>(n, 0));
}

std::size_t record_cache::flush() {
    std::scoped_lock lock(_mutex);
    if (_dirty_count == 0) {
        return 0;
    }
    std::vector<bytes_update> batch;
    batch.reserve(_dirty_count);
    for (const entry* e = _dirty.head; e != nullptr; e = e->dirty_order.next) {
        batch.emplace_back(*e->key, e->value ? std::optional<std::string_view>(*e->value) : std::nullopt);
    }
    _write(batch);
    const std::size_t n = batch.size();
    _stats.written += n;
    for (entry* e = _dirty.head; e != nullptr;) {
        entry* next = e->dirty_order.next;
        e->dirty_order = {};
        e->dirty = false;
        if (e->value) {
            e->in_engine = true;
        } else {
            // A written delete: the key is simply absent now.
            auto it = _entries.find(*e->key);
            if (_last == e) {
                _last = nullptr;
            }
            unlink(_lru, it->second, &entry::lru);
            charge(0, bytes_of(it->first, it->second.value));
            _entries.erase(it);
        }
        e = next;
    }
    _dirty = {};
    _dirty_count = 0;
    return n;
}

void record_cache::clear() {
    std::scoped_lock lock(_mutex);
    charge(0, _bytes);
    _last = nullptr;
    _entries.clear();
    _lru = {};
    _dirty = {};
    _dirty_count = 0;
}

std::size_t record_cache::dirty_count() const {
    std::scoped_lock lock(_mutex);
    return _dirty_count;
}

std::size_t record_cache::size() const {
    std::scoped_lock lock(_mutex);
    return _entries.size();
}

std::uint64_t record_cache::size_bytes() const {
    std::scoped_lock lock(_mutex);
    return _bytes;
}

cache_stats record_cache::stats() const {
    std::scoped_lock lock(_mutex);
    return _stats;
}

} // namespace eddy::statestore::internal
