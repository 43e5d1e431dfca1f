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

#include "internal/task_context.h"
#include "../core/record.h"
#include "../statestore/key_value_store.h"

namespace eddy {

namespace operators::internal {
template<typename K, typename V>
class typed_node;

// What the engine's own operators and nodes reach inside a
// processor_context and user processors cannot: the task behind it, and the
// wiring of its children.
struct context_access {
    // The task the context belongs to (its stores, metrics, clock).
    template<typename Context>
    static task_context& task(const Context& context) noexcept {
        return *context._task;
    }
    template<typename Context, typename Node>
    static void add_child(Context& context, std::string name, Node* node) {
        context._children.emplace_back(std::move(name), node);
    }
};
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

private:
    friend struct operators::internal::context_access;

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
// The one a processor is handed lends the stream's record (no copy); a
// copy of it owns its own, so a processor may keep one.
template<typename K, typename V>
class fixed_key_record {
public:
    explicit fixed_key_record(const record<K, V>& r) : _owned(r), _r(&*_owned) {}
    explicit fixed_key_record(record<K, V>&& r) : _owned(std::move(r)), _r(&*_owned) {}
    fixed_key_record(const fixed_key_record& other) : _owned(*other._r), _r(&*_owned) {}
    // A lent record is copied (so not noexcept).
    fixed_key_record(fixed_key_record&& other)
        : _owned(other._owned ? std::move(other._owned) : std::optional<record<K, V>>(*other._r)), _r(&*_owned) {}
    fixed_key_record& operator=(const fixed_key_record& other) {
        if (this != &other) {
            _owned = *other._r;
            _r = &*_owned;
        }
        return *this;
    }
    fixed_key_record& operator=(fixed_key_record&& other) {
        if (this != &other) {
            _owned = other._owned ? std::move(other._owned) : std::optional<record<K, V>>(*other._r);
            _r = &*_owned;
        }
        return *this;
    }
    ~fixed_key_record() = default;

    // A view of `r`, for as long as `r` lives (the processor node's call).
    static fixed_key_record lend(const record<K, V>& r) { return fixed_key_record(r, lent{}); }

    const K& key() const noexcept { return _r->key; }
    const V& value() const noexcept { return _r->value; }
    std::int64_t timestamp() const noexcept { return _r->timestamp; }
    const eddy::headers& headers() const noexcept { return _r->headers; }

    template<typename V2>
    fixed_key_record<K, V2> with_value(V2 v) const {
        return fixed_key_record<K, V2>(
            record<K, V2>{_r->key, std::move(v), _r->timestamp, _r->headers}, typename fixed_key_record<K, V2>::owned{});
    }
    fixed_key_record with_timestamp(std::int64_t ts) const {
        return fixed_key_record(record<K, V>{_r->key, _r->value, ts, _r->headers}, owned{});
    }
    fixed_key_record with_headers(eddy::headers hs) const {
        return fixed_key_record(record<K, V>{_r->key, _r->value, _r->timestamp, std::move(hs)}, owned{});
    }

    const record<K, V>& to_record() const noexcept { return *_r; }

private:
    template<typename, typename>
    friend class fixed_key_record;
    struct lent {};
    struct owned {};

    fixed_key_record(const record<K, V>& r, lent) : _r(&r) {}
    fixed_key_record(record<K, V>&& r, owned) : _owned(std::move(r)), _r(&*_owned) {}

    std::optional<record<K, V>> _owned;
    const record<K, V>* _r;
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
