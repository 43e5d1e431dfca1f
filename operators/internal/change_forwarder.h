#pragma once

// How an aggregation hands its table changes downstream, as Kafka Streams'
// record cache does by default: while the aggregation's store has a cache,
// only the latest change of each key since the last flush goes on, when the
// cache flushes (before each commit; after every input on the test driver)
// or evicts that key. The change carries the old value the key had at the
// last flush and the latest new value, timestamp and headers; a key made and
// removed between two flushes sends nothing. With caching off
// (statestore.cache.max.bytes=0) every change goes on at once, as Kafka
// Streams' with caching disabled.
//
// Several operators may write one store (a cogroup's aggregators): the first
// one's forwarder keeps the pending changes of all of them and forwards
// through its own context (their children are the same merge node), so a
// key changed by two of them still goes on once, as with Kafka Streams' one
// flush listener per store.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../change.h"
#include "task_context.h"
#include "../processor.h"
#include "../../serde/serde.h"
#include "../../statestore/internal/store_handle.h"

namespace eddy::operators::internal {

template<typename K, typename V>
class change_forwarder final : public statestore::internal::cache_flush_listener {
public:
    change_forwarder() = default;
    change_forwarder(const change_forwarder&) = delete;
    change_forwarder& operator=(const change_forwarder&) = delete;

    // `store_name` is the operator's store, keyed by `key_serde` (the bytes
    // its cache evicts by).
    void init(processor_context<K, change<V>>& context, std::string_view store_name, serde_ref<K> key_serde) {
        _context = &context;
        auto& task = context_access::task(context);
        auto& handle = task.store(context.node_name(), store_name);
        if (handle.cache() == nullptr) {
            return;
        }
        if (auto* first = dynamic_cast<change_forwarder*>(handle.flush_listener())) {
            _delegate = first;
            _task = &task;
            return;
        }
        _task = &task;
        _key_serde = std::move(key_serde);
        handle.set_flush_listener(this);
        // An aborted transaction: what was pending is processed again.
        task.on_rewind.emplace_back([this] { clear(); });
    }

    void forward(record<K, change<V>> r) {
        if (_task == nullptr) {
            _context->forward(r);
            return;
        }
        if (_delegate != nullptr) {
            _delegate->forward(std::move(r));
            return;
        }
        auto [it, inserted] = _pending.try_emplace(_key_serde.serialize(r.key));
        auto& s = it->second;
        if (inserted) {
            s.r = std::move(r);
        } else {
            // The old value stays the one of the last flush.
            std::optional<V> old = std::move(s.r->value.old_value);
            s.r = std::move(r);
            s.r->value.old_value = std::move(old);
            unlink(s);
        }
        push_back(s);
    }

    std::size_t on_flush() override {
        if (_pending.empty()) {
            return 0;
        }
        // In the order of the keys' latest changes; emitting may come back
        // here (an eviction downstream), so take the pending ones first.
        std::vector<record<K, change<V>>> out;
        out.reserve(_pending.size());
        for (slot* s = _head; s != nullptr; s = s->next) {
            out.push_back(std::move(*s->r));
        }
        clear();
        for (auto& r : out) {
            emit(std::move(r));
        }
        return out.size();
    }

    void on_evict(std::string_view key) override {
        auto it = _pending.find(key);
        if (it == _pending.end()) {
            return;
        }
        auto r = std::move(*it->second.r);
        unlink(it->second);
        _pending.erase(it);
        emit(std::move(r));
    }

private:
    // A key's pending change, linked in the order of the keys' latest
    // changes (the map's nodes do not move: no allocation per update).
    struct slot {
        std::optional<record<K, change<V>>> r;
        slot* prev = nullptr;
        slot* next = nullptr;
    };
    using pending_map = std::map<std::string, slot, std::less<>>;

    void unlink(slot& s) {
        (s.prev != nullptr ? s.prev->next : _head) = s.next;
        (s.next != nullptr ? s.next->prev : _tail) = s.prev;
        s.prev = s.next = nullptr;
    }
    void push_back(slot& s) {
        s.prev = _tail;
        s.next = nullptr;
        (_tail != nullptr ? _tail->next : _head) = &s;
        _tail = &s;
    }
    void clear() {
        _pending.clear();
        _head = _tail = nullptr;
    }

    void emit(record<K, change<V>> r) {
        if (!r.value.new_value && !r.value.old_value) {
            return;
        }
        // Outside the record that may be in flight (an eviction comes amid
        // another record's processing): the change's own time, no source
        // record, as a punctuation's output; the record's context comes back
        // after, however the forward ends.
        struct context_swap {
            task_context& task;
            std::optional<eddy::record_metadata> metadata = std::move(task.metadata);
            source_bytes raw = task.raw;
            std::int64_t timestamp = task.record_timestamp_ms;
            ~context_swap() {
                task.metadata = std::move(metadata);
                task.raw = raw;
                task.record_timestamp_ms = timestamp;
            }
        } saved{*_task};
        _task->metadata.reset();
        _task->raw = nullptr;
        _task->record_timestamp_ms = r.timestamp;
        _context->forward(r);
    }

    processor_context<K, change<V>>* _context = nullptr;
    task_context* _task = nullptr;
    change_forwarder* _delegate = nullptr;
    serde_ref<K> _key_serde;
    pending_map _pending;
    slot* _head = nullptr;
    slot* _tail = nullptr;
};

} // namespace eddy::operators::internal
