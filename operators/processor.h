#pragma once

// The processor API, as Kafka Streams' new one: a processor receives typed
// records through process(), forwards typed records through its context, and
// may schedule punctuations. The DSL's own operators are processors too, so a
// user processor runs exactly as filter or map_values do.
//
//   struct upper : eddy::processor<std::string, std::string, std::string, std::string> {
//       void process(const eddy::record<std::string, std::string>& r) override {
//           context().forward(r.with_value(to_upper(r.value)));
//       }
//   };
//   stream.process([] { return std::make_unique<upper>(); });

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operators/internal/task_context.h"
#include "operators/record.h"
#include "statestore/key_value_store.h"

namespace eddy {

namespace operators::internal {
template<typename K, typename V>
class typed_node;
} // namespace operators::internal

// The context of one processor instance in one task: forwards records to
// the node's children and tells where the current record came from.
template<typename KOut, typename VOut>
class processor_context {
public:
    using child = std::pair<std::string, operators::internal::typed_node<KOut, VOut>*>;

    processor_context(operators::internal::task_context& task, std::string node_name)
        : _task(&task), _node_name(std::move(node_name)) {}

    // Forwards to every child.
    void forward(const record<KOut, VOut>& r) const {
        for (const auto& c : _children) {
            c.second->process(r);
        }
    }

    // Forwards to the child with this node name only; an unknown name is a
    // programming error and throws std::invalid_argument naming both nodes.
    void forward(const record<KOut, VOut>& r, std::string_view child_name) const {
        for (const auto& c : _children) {
            if (c.first == child_name) {
                c.second->process(r);
                return;
            }
        }
        operators::internal::throw_unknown_child(_node_name, child_name);
    }

    // Where the record being processed came from; empty inside a punctuation.
    const std::optional<eddy::record_metadata>& record_metadata() const noexcept {
        return _task->metadata;
    }
    const std::string& application_id() const noexcept { return _task->application_id; }
    const eddy::task_id& task_id() const noexcept { return _task->id; }
    const std::string& node_name() const noexcept { return _node_name; }
    std::int64_t current_stream_time_ms() const noexcept { return _task->stream_time_ms; }
    std::int64_t current_system_time_ms() const { return _task->wall_clock_ms(); }

    // Counts a record this node drops (Kafka Streams' dropped-records metric
    // of the task).
    void record_dropped() const { _task->dropped_records->fetch_add(1, std::memory_order_relaxed); }

    // A key-value store of this task, by name, typed as it was declared;
    // eddy::store_error when there is no such store or its types differ.
    template<typename K, typename V>
    key_value_store<K, V> get_key_value_store(std::string_view name) const {
        return key_value_store<K, V>::from(_task->store(_node_name, name));
    }

    // Calls `fn(timestamp_ms)` every `interval` of stream time (driven by
    // record timestamps) or of wall-clock time. Cancel through the handle.
    cancellable schedule(std::chrono::milliseconds interval, punctuation_type type,
        std::function<void(std::int64_t)> fn) const {
        return _task->schedule(_node_name, interval, type, std::move(fn));
    }

    // The task this context belongs to, for operators that hand a context
    // of their own to user code (a table's value transformer).
    operators::internal::task_context& task_internals() const noexcept { return *_task; }

    // Wiring, done once when a task is created.
    void add_child(std::string name, operators::internal::typed_node<KOut, VOut>* node) {
        _children.emplace_back(std::move(name), node);
    }

private:
    operators::internal::task_context* _task;
    std::string _node_name;
    std::vector<child> _children;
};

// A processor: one instance per task, created by the supplier given to
// kstream::process().
template<typename KIn, typename VIn, typename KOut, typename VOut>
class processor {
public:
    using key_in = KIn;
    using value_in = VIn;
    using key_out = KOut;
    using value_out = VOut;

    virtual ~processor() = default;

    // Called once before the first record; keep what you need of `context`.
    virtual void init(processor_context<KOut, VOut>& context) { _context = &context; }
    virtual void process(const record<KIn, VIn>& r) = 0;
    virtual void close() {}

protected:
    processor_context<KOut, VOut>& context() const { return *_context; }

private:
    processor_context<KOut, VOut>* _context = nullptr;
};

// A record whose key cannot change: what process_values() hands its
// processors, so the stream keeps its partitioning (no repartition needed).
template<typename K, typename V>
class fixed_key_record {
public:
    explicit fixed_key_record(const record<K, V>& r)
        : _key(r.key), _value(r.value), _timestamp(r.timestamp), _headers(r.headers) {}

    const K& key() const noexcept { return _key; }
    const V& value() const noexcept { return _value; }
    std::int64_t timestamp() const noexcept { return _timestamp; }
    const eddy::headers& headers() const noexcept { return _headers; }

    template<typename V2>
    fixed_key_record<K, V2> with_value(V2 v) const {
        return fixed_key_record<K, V2>(_key, std::move(v), _timestamp, _headers);
    }
    fixed_key_record with_timestamp(std::int64_t ts) const {
        return fixed_key_record(_key, _value, ts, _headers);
    }
    fixed_key_record with_headers(eddy::headers hs) const {
        return fixed_key_record(_key, _value, _timestamp, std::move(hs));
    }

    record<K, V> to_record() const { return {_key, _value, _timestamp, _headers}; }

private:
    template<typename, typename>
    friend class fixed_key_record;

    fixed_key_record(K k, V v, std::int64_t ts, eddy::headers hs)
        : _key(std::move(k)), _value(std::move(v)), _timestamp(ts), _headers(std::move(hs)) {}

    K _key;
    V _value;
    std::int64_t _timestamp;
    eddy::headers _headers;
};

// The context of a fixed-key processor: it forwards fixed_key_records only.
template<typename K, typename VOut>
class fixed_key_processor_context {
public:
    explicit fixed_key_processor_context(processor_context<K, VOut>& inner) : _inner(&inner) {}

    void forward(const fixed_key_record<K, VOut>& r) const { _inner->forward(r.to_record()); }
    void forward(const fixed_key_record<K, VOut>& r, std::string_view child_name) const {
        _inner->forward(r.to_record(), child_name);
    }
    const std::optional<eddy::record_metadata>& record_metadata() const noexcept {
        return _inner->record_metadata();
    }
    const std::string& application_id() const noexcept { return _inner->application_id(); }
    const eddy::task_id& task_id() const noexcept { return _inner->task_id(); }
    std::int64_t current_stream_time_ms() const noexcept { return _inner->current_stream_time_ms(); }
    std::int64_t current_system_time_ms() const { return _inner->current_system_time_ms(); }
    cancellable schedule(std::chrono::milliseconds interval, punctuation_type type,
        std::function<void(std::int64_t)> fn) const {
        return _inner->schedule(interval, type, std::move(fn));
    }
    template<typename KS, typename VS>
    key_value_store<KS, VS> get_key_value_store(std::string_view name) const {
        return _inner->template get_key_value_store<KS, VS>(name);
    }

private:
    processor_context<K, VOut>* _inner;
};

// A processor that may change values but never keys.
template<typename K, typename VIn, typename VOut>
class fixed_key_processor {
public:
    using key_in = K;
    using value_in = VIn;
    using value_out = VOut;

    virtual ~fixed_key_processor() = default;

    virtual void init(fixed_key_processor_context<K, VOut>& context) { _context = &context; }
    virtual void process(const fixed_key_record<K, VIn>& r) = 0;
    virtual void close() {}

protected:
    fixed_key_processor_context<K, VOut>& context() const { return *_context; }

private:
    fixed_key_processor_context<K, VOut>* _context = nullptr;
};

} // namespace eddy
