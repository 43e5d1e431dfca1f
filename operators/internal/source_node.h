#pragma once

// The source node: turns a topic's bytes into typed records with the source's
// serdes and hands them to its children. Bytes that do not deserialize go to
// the deserialization exception handler, never on as default values.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../error_handlers.h"
#include "node.h"
#include "../../serde/serde.h"

namespace eddy::operators::internal {

// Logs a record whose event time came out negative (it is dropped).
void log_invalid_timestamp(const std::string& node, const raw_record& r, std::int64_t timestamp);

void handle_deserialization_failure(task_context& task, deserialization_exception_handler& handler,
    const std::string& node, const raw_record& r, std::string_view error_class, std::string_view message);

// Bytes to T; a Kafka null becomes std::nullopt when T is optional, an
// error otherwise.
template<typename T, typename Bytes>
T decode(const serde_ref<T>& serde, const std::optional<Bytes>& bytes, const char* what) {
    if (!bytes) {
        if constexpr (is_optional_v<T>) {
            return std::nullopt;
        } else {
            throw serde_error(std::string("null ") + what + " where a " + what + " is needed");
        }
    }
    return serde.deserialize(*bytes);
}

// T to bytes; an empty optional becomes a Kafka null.
template<typename T>
std::optional<std::string> encode(const serde_ref<T>& serde, const T& v) {
    if constexpr (is_optional_v<T>) {
        if (!v) {
            return std::nullopt;
        }
    }
    return serde.serialize(v);
}

// encode() into `out`, reusing its storage.
template<typename T>
void encode_into(const serde_ref<T>& serde, const T& v, std::optional<std::string>& out) {
    if constexpr (is_optional_v<T>) {
        if (!v) {
            out.reset();
            return;
        }
    }
    if (!out) {
        out.emplace();
    }
    serde.serialize_into(v, *out);
}

template<typename K, typename V>
class source_node final : public raw_node {
public:
    // `extractor`: the record's event time from its key and value (none:
    // its timestamp); `wall_clock`: the task's wall clock instead.
    source_node(std::string name, serde_ref<K> key_serde, serde_ref<V> value_serde,
        std::shared_ptr<deserialization_exception_handler> handler,
        std::function<std::int64_t(const K&, const V&, std::int64_t)> extractor = {}, bool wall_clock = false)
        : raw_node(std::move(name))
        , _key_serde(std::move(key_serde))
        , _value_serde(std::move(value_serde))
        , _handler(std::move(handler))
        , _extractor(std::move(extractor))
        , _wall_clock(wall_clock) {}

    void init(task_context& task) override {
        _task = &task;
        if (!_handler) {
            _handler = task.deserialization_handler;
        }
    }
    void add_child(node_instance& child) override {
        _children.push_back(&as_typed_child<K, V>(name(), child));
    }

    void process_raw(const raw_record& r) override {
        std::optional<record<K, V>> rec;
        try {
            rec.emplace(decode(_key_serde, r.key, "key"), decode(_value_serde, r.value, "value"), r.timestamp, r.headers);
        } catch (const serde_error& e) {
            handle_deserialization_failure(*_task, *_handler, name(), r, "eddy::serde_error", e.what());
            return;
        }
        forward(*rec, r.timestamp, [&]() -> const raw_record& { return r; });
    }

    void process_consumed(const consumed_record& r) override {
        const std::int64_t timestamp = r.timestamp();
        std::optional<record<K, V>> rec;
        try {
            rec.emplace(decode(_key_serde, r.key(), "key"), decode(_value_serde, r.value(), "value"), timestamp,
                r.headers());
        } catch (const serde_error& e) {
            r.read(_failed);
            handle_deserialization_failure(*_task, *_handler, name(), _failed, "eddy::serde_error", e.what());
            return;
        }
        forward(*rec, timestamp, [&]() -> const raw_record& {
            r.read(_failed);
            return _failed;
        });
    }

private:
    // Sets the record's event time, then hands it to the children;
    // `bytes()` gives the raw record for the log of a dropped one.
    template<typename Bytes>
    void forward(record<K, V>& rec, std::int64_t timestamp, Bytes bytes) {
        if (_wall_clock) {
            rec.timestamp = _task->wall_clock_ms();
        } else if (_extractor) {
            rec.timestamp = _extractor(rec.key, rec.value, timestamp);
        }
        if (rec.timestamp < 0) {
            log_invalid_timestamp(name(), bytes(), rec.timestamp);
            _task->dropped_records->fetch_add(1, std::memory_order_relaxed);
            return;
        }
        // Stream time follows the event time the source settled on.
        _task->record_timestamp_ms = rec.timestamp;
        _task->stream_time_ms = std::max(_task->stream_time_ms, rec.timestamp);
        for (auto* child : _children) {
            child->process(rec);
        }
    }

    serde_ref<K> _key_serde;
    serde_ref<V> _value_serde;
    std::shared_ptr<deserialization_exception_handler> _handler;
    std::function<std::int64_t(const K&, const V&, std::int64_t)> _extractor;
    bool _wall_clock = false;
    task_context* _task = nullptr;
    std::vector<typed_node<K, V>*> _children;
    // A consumed record's bytes, copied for a failure.
    raw_record _failed;
};

} // namespace eddy::operators::internal
