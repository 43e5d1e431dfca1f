#pragma once

// suppress(until_window_closes): holds back a windowed table's updates and
// emits each window's final value once, when stream time has passed the
// window's end plus its grace period (Kafka Streams'
// Suppressed.untilWindowCloses). The buffer is a store with a changelog, so
// a restart neither loses nor repeats a final result; an in-memory index by
// window end (rebuilt from the store on start) finds the closed windows.
//
// Windows that close together come out as Kafka Streams' emit-final gives
// them (its time-first window and session key schemas): ordered by window
// end, then start, then the key's serialized bytes; for time windows of one
// size that is (start, key).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "change.h"
#include "processor.h"
#include "../core/window.h"

namespace eddy::operators {

template<typename K, typename V>
class suppress_processor final : public processor<windowed<K>, change<V>, windowed<K>, change<V>> {
public:
    suppress_processor(std::string buffer_store, std::int64_t grace_ms)
        : _store_name(std::move(buffer_store)), _grace(grace_ms) {}

    void init(processor_context<windowed<K>, change<V>>& context) override {
        processor<windowed<K>, change<V>, windowed<K>, change<V>>::init(context);
        _buffer.emplace(context.template get_key_value_store<windowed<K>, timestamped<V>>(_store_name));
        // After a restore the buffer holds what was pending.
        _buffer->for_each(std::nullopt, std::nullopt, [&](const windowed<K>& k, const timestamped<V>& v) {
            _by_end.emplace(order_of(k), k);
            _observed = std::max(_observed, v.timestamp_ms);
            return true;
        });
    }

    void process(const record<windowed<K>, change<V>>& r) override {
        _observed = std::max(_observed, r.timestamp);
        if (!r.value.new_value) {
            // A delete (a session merged into another): nothing to emit for
            // that window any more. A window already emitted cannot be taken
            // back; its delete is no late record either.
            if (_buffer->get(r.key)) {
                _buffer->remove(r.key);
            }
        } else if (r.key.window.end_ms + _grace <= _observed) {
            // Already closed (a late update the aggregation still let
            // through): Kafka Streams drops it too.
            this->context().record_dropped();
        } else {
            if (!_buffer->get(r.key)) {
                _by_end.emplace(order_of(r.key), r.key);
            }
            _buffer->put(r.key, timestamped<V>{*r.value.new_value, r.timestamp});
        }
        emit_closed();
    }

private:
    // (end, start, the key's bytes): the windowed key's serialized bytes
    // less the window suffix its serde appends (8 bytes of start for time
    // windows, 16 of end and start for sessions).
    using order = std::tuple<std::int64_t, std::int64_t, std::string>;
    order order_of(const windowed<K>& k) const {
        std::string bytes = _buffer->key_serde().serialize(k);
        const std::size_t suffix = window_suffix_bytes(_buffer->key_serde().name());
        bytes.resize(bytes.size() >= suffix ? bytes.size() - suffix : bytes.size());
        return {k.window.end_ms, k.window.start_ms, std::move(bytes)};
    }

    void emit_closed() {
        while (!_by_end.empty() && std::get<0>(_by_end.begin()->first) + _grace <= _observed) {
            auto node = _by_end.extract(_by_end.begin());
            const auto& key = node.mapped();
            if (auto v = _buffer->get(key)) {
                _buffer->remove(key);
                this->context().forward(
                    record<windowed<K>, change<V>>{key, change<V>{std::move(v->value), std::nullopt}, v->timestamp_ms, {}});
            }
        }
    }

    std::string _store_name;
    std::int64_t _grace;
    std::optional<key_value_store<windowed<K>, timestamped<V>>> _buffer;
    std::map<order, windowed<K>> _by_end;
    std::int64_t _observed = -1;
};

} // namespace eddy::operators
