#pragma once

// The per-task environment every node of a task shares: where the current
// record came from, the task's clocks, its punctuation schedule and its
// record collector. The Kafka runtime and the topology test driver each fill
// one in; the nodes cannot tell which.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../../core/record.h"
#include "../../core/task.h"
#include "../../statestore/internal/store_handle.h"

namespace eddy {

enum class punctuation_type { stream_time, wall_clock_time };

// A handle on a scheduled punctuation.
class cancellable {
public:
    cancellable() = default;
    explicit cancellable(std::shared_ptr<bool> cancelled) : _cancelled(std::move(cancelled)) {}
    void cancel() {
        if (_cancelled) {
            *_cancelled = true;
        }
    }

private:
    std::shared_ptr<bool> _cancelled;
};

// A record as the consumer holds it, read in place: the Kafka runtime hands
// a task's source this when nothing is buffered, so the key and value are
// deserialised straight from the consumer's buffer, and copied into a
// raw_record only when something keeps them (a dead letter, a retry).
// Valid only during the call that gives it.
class consumed_record {
public:
    virtual ~consumed_record() = default;
    virtual std::string_view topic() const = 0;
    virtual std::int32_t partition() const noexcept = 0;
    virtual std::int64_t offset() const noexcept = 0;
    virtual std::int64_t timestamp() const noexcept = 0;
    // Empty: a Kafka null.
    virtual std::optional<std::string_view> key() const noexcept = 0;
    virtual std::optional<std::string_view> value() const noexcept = 0;
    virtual eddy::headers headers() const = 0;
    // Copies the whole record into `into`, reusing what storage it has.
    virtual void read(raw_record& into) const = 0;
};

namespace operators::internal {
// The record in flight as its bytes: a raw_record, or a consumed_record
// copied into `scratch` (the task's) the first time someone asks. Copies
// are cheap (three pointers): saving and restoring it around a nested
// forward copies nothing of the record.
class source_bytes {
public:
    source_bytes() = default;
    source_bytes(const raw_record* r) noexcept : _record(r) {} // NOLINT(google-explicit-constructor)
    source_bytes(const consumed_record& c, raw_record& scratch) noexcept : _consumed(&c), _scratch(&scratch) {}

    // The bytes; null when there is no record (a punctuation).
    const raw_record* get() const {
        if (_record == nullptr && _consumed != nullptr) {
            _consumed->read(*_scratch);
            _record = _scratch;
        }
        return _record;
    }
    const raw_record& operator*() const { return *get(); }
    const raw_record* operator->() const { return get(); }
    explicit operator bool() const noexcept { return _record != nullptr || _consumed != nullptr; }
    friend bool operator==(const source_bytes& s, std::nullptr_t) noexcept { return !s; }

private:
    mutable const raw_record* _record = nullptr;
    const consumed_record* _consumed = nullptr;
    raw_record* _scratch = nullptr;
};
} // namespace operators::internal

// Where sinks write: the Kafka producer, or the test driver's topics.
class record_collector {
public:
    virtual ~record_collector() = default;
    // `r.partition` < 0 lets the collector choose the partition from the key.
    // The collector copies what it keeps: the caller may reuse `r`.
    // Throws record_rejected for a record the producer refuses for itself
    // (too large, say), anything else for what stops every record.
    virtual void send(const raw_record& r) = 0;
};

// A record the collector refuses for itself while others still go (larger
// than message.max.bytes, say): the sink hands it to the production handler.
class record_rejected : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The dead letters of the tasks of one stream thread (or of the test
// driver): counted per handler kind (dead-letter-records-total) and told to
// whoever watches their rate (the app's health).
struct dead_letter_stats {
    // Indexed by eddy::error_kind: deserialization, processing, production.
    std::array<std::atomic<std::int64_t>, 3> by_kind{};
    // Called with the wall-clock time of each dead letter; set before the
    // tasks run.
    std::function<void(std::int64_t)> on_dead_letter;

    std::int64_t total() const noexcept {
        return by_kind[0].load(std::memory_order_relaxed) + by_kind[1].load(std::memory_order_relaxed)
            + by_kind[2].load(std::memory_order_relaxed);
    }
};

class deserialization_exception_handler;
class processing_exception_handler;
class production_exception_handler;

namespace operators::internal {

[[noreturn]] void throw_unknown_child(std::string_view node, std::string_view child);

struct punctuation {
    std::string node;
    std::chrono::milliseconds interval;
    punctuation_type type;
    std::function<void(std::int64_t)> fn;
    std::int64_t next_ms;
    std::shared_ptr<bool> cancelled;
};

class task_context {
public:
    std::string application_id;
    eddy::task_id id;
    // The record in flight, or empty (inside a punctuation).
    std::optional<eddy::record_metadata> metadata;
    // The record in flight as its source read it (what a dead letter keeps);
    // null inside a punctuation. Set by stream_task::process.
    source_bytes raw;
    // Where `raw` copies a consumed_record when it is asked for its bytes.
    raw_record consumed_bytes;
    // errors.dead.letter.queue.topic.name; empty when unset.
    std::string dead_letter_topic;
    // Largest record timestamp the task has seen; -1 before the first.
    std::int64_t stream_time_ms = -1;
    // The timestamp of the record in flight (what changelog records carry).
    std::int64_t record_timestamp_ms = -1;
    // Records operators dropped (late for their window, say): Kafka
    // Streams' dropped-records-total of the task; read by other threads.
    std::shared_ptr<std::atomic<std::int64_t>> dropped_records = std::make_shared<std::atomic<std::int64_t>>(0);
    // Of those, the duplicates a deduplicate() node dropped (the
    // deduplicated-records-total metric).
    std::shared_ptr<std::atomic<std::int64_t>> deduplicated_records = std::make_shared<std::atomic<std::int64_t>>(0);
    // The task's stores by name.
    std::map<std::string, statestore::internal::store_handle*, std::less<>> stores;
    // The instance's global stores (global tables), shared by every task and
    // written only by the global thread; null when there are none.
    std::shared_ptr<const std::map<std::string, statestore::internal::store_handle*, std::less<>>> global_stores;

    // The store `node` asked for; store_error naming both when the task has
    // no such store.
    statestore::internal::store_handle& store(std::string_view node, std::string_view name) const;
    std::function<std::int64_t()> wall_clock_ms;
    record_collector* collector = nullptr;
    std::shared_ptr<deserialization_exception_handler> deserialization_handler;
    // How many nodes hold the task's input: a retry step waiting to call
    // again for a record. While it is above 0 the Kafka runtime and the test
    // driver keep the task's records back (buffered, the partition paused
    // when the buffer is full) so that order per key holds; other tasks go
    // on.
    int holds = 0;
    // Told when the runtime rewinds the task's input to its committed
    // offsets (after an aborted transaction): a node that keeps records past
    // their process() call (a retry step's queue) drops them, for they are
    // read and processed again. rewind() calls them; holds is 0 after it.
    std::vector<std::function<void()>> on_rewind;
    void rewind();
    // Null: log_and_fail.
    std::shared_ptr<processing_exception_handler> processing_handler;
    std::shared_ptr<production_exception_handler> production_handler;
    // Null: dead letters are not counted (a task outside a stream thread).
    std::shared_ptr<dead_letter_stats> dead_letters;

    cancellable schedule(std::string node, std::chrono::milliseconds interval, punctuation_type type,
        std::function<void(std::int64_t)> fn);

    // Runs the punctuations of `type` that are due at `now_ms`; returns how
    // many ran. Each runs with no record metadata and no raw record; one
    // that throws goes to the processing handler under its node's name.
    int punctuate(punctuation_type type, std::int64_t now_ms);

private:
    std::vector<punctuation> _punctuations;
};

} // namespace operators::internal
} // namespace eddy
