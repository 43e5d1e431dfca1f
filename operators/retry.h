#pragma once

// The retry step: calls a user function that may fail (it calls out), and
// when it throws a retriable error keeps the record in a per-task retry
// queue and calls again at its backoff time, from a wall-clock punctuation.
// Meanwhile it holds the task's input, so the task's later records wait and
// order per key holds; the thread's other tasks go on. After the last
// attempt the record goes to the dead-letter topic and the task moves on.
// kstream's map_values_with_retry and foreach_with_retry add it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "circuit_breaker.h"
#include "internal/task_context.h"
#include "processor.h"
#include "retry_policy.h"

namespace eddy::operators {

namespace retry_internal {
// What the step knows of a failed call, for the log and the dead letter.
struct failure {
    std::string error_class;
    std::string message;
};
failure describe(const std::exception& e);

// The record's source bytes go to the policy's dead-letter topic, else the
// application's; with neither, throws retries_exhausted_error.
void dead_letter(operators::internal::task_context& task, const std::string& node, const retry_policy& policy,
    const failure& why, int attempts);
void log_retry(const operators::internal::task_context& task, const std::string& node, int attempts,
    std::chrono::milliseconds wait, const failure& why);
void log_held(const operators::internal::task_context& task, const std::string& node, bool held);
void log_dropped(const operators::internal::task_context& task, const std::string& node, std::size_t records);
void log_breaker_wait(const operators::internal::task_context& task, const std::string& node,
    const circuit_breaker& breaker, std::chrono::milliseconds wait);
} // namespace retry_internal

// F: (const K&, const V&) -> VOut. Forward: the result goes on (map_values);
// otherwise the stream ends here (foreach) and F may return anything.
template<typename K, typename V, typename VOut, typename F, bool Forward>
class retry_processor final : public processor<K, V, K, VOut> {
public:
    retry_processor(F f, retry_policy policy) : _f(std::move(f)), _policy(std::move(policy)) {}

    void init(processor_context<K, VOut>& context) override {
        processor<K, V, K, VOut>::init(context);
        _task = &internal::context_access::task(context);
        _node = context.node_name();
        _random.seed(std::random_device{}());
        // The queued records come again after a rewind: keeping them too
        // would run (and forward) them twice.
        _task->on_rewind.emplace_back([this] { drop(); });
    }

    void close() override {
        _timer.cancel();
        if (!_queue.empty()) {
            release();
        }
    }

    void process(const record<K, V>& r) override {
        if (!_queue.empty()) {
            // Behind the record that waits: order holds.
            enqueue(r, 0, now());
            return;
        }
        int attempts = 0;
        const auto wait = attempt(r, attempts);
        if (wait) {
            enqueue(r, attempts, now() + wait->count());
            hold();
            arm(*wait);
        }
    }

private:
    struct entry {
        record<K, V> rec;
        std::optional<record_metadata> metadata;
        std::optional<raw_record> raw;
        std::int64_t timestamp_ms;
        int attempts;
        std::int64_t next_ms;
    };

    std::int64_t now() const { return _task->wall_clock_ms(); }

    void enqueue(const record<K, V>& r, int attempts, std::int64_t next_ms) {
        _queue.push_back({r, _task->metadata,
            _task->raw != nullptr ? std::optional<raw_record>(*_task->raw) : std::nullopt,
            _task->record_timestamp_ms, attempts, next_ms});
    }

    void drop() {
        _timer.cancel();
        if (!_queue.empty()) {
            retry_internal::log_dropped(*_task, _node, _queue.size());
            _queue.clear();
            release();
        }
    }

    void hold() {
        ++_task->holds;
        retry_internal::log_held(*_task, _node, true);
    }
    void release() {
        --_task->holds;
        retry_internal::log_held(*_task, _node, false);
    }

    // A one-shot wall-clock punctuation `wait` from now.
    void arm(std::chrono::milliseconds wait) {
        _timer.cancel();
        _timer = this->context().schedule(std::max(wait, std::chrono::milliseconds(1)),
            punctuation_type::wall_clock_time, [this](std::int64_t t) { on_timer(t); });
    }

    // One call of the function for `r` (the breaker permitting). Returns
    // empty when the record is done (forwarded or dead-lettered), else how
    // long it waits for its next try.
    std::optional<std::chrono::milliseconds> attempt(const record<K, V>& r, int& attempts) {
        const auto& breaker = _policy.breaker();
        if (breaker && !breaker->try_acquire()) {
            // An open breaker: no call, no attempt spent; look again when it
            // lets a probe through (another task may hold the probe slot).
            const auto open_for = breaker->remaining_open_time();
            const auto wait = open_for.count() > 0 ? open_for : _policy.initial_backoff();
            retry_internal::log_breaker_wait(*_task, _node, *breaker, wait);
            return wait;
        }
        ++attempts;
        const auto start = std::chrono::steady_clock::now();
        std::optional<result_type> out;
        try {
            if constexpr (Forward) {
                out.emplace(_f(r.key, r.value));
            } else {
                _f(r.key, r.value);
                out.emplace();
            }
        } catch (const std::exception& e) {
            const auto took = std::chrono::steady_clock::now() - start;
            const bool retriable = _policy.retriable(e);
            if (breaker) {
                retriable ? breaker->on_failure(took) : breaker->on_ignored();
            }
            const auto why = retry_internal::describe(e);
            if (!retriable || attempts >= _policy.max_attempts()) {
                retry_internal::dead_letter(*_task, _node, _policy, why, attempts);
                return std::nullopt;
            }
            const auto wait = _policy.backoff(attempts, std::uniform_real_distribution<double>(0.0, 1.0)(_random));
            retry_internal::log_retry(*_task, _node, attempts, wait, why);
            return wait;
        }
        if (breaker) {
            breaker->on_success(std::chrono::steady_clock::now() - start);
        }
        // Outside the try: what the children throw is theirs, not a failed
        // call to retry.
        if constexpr (Forward) {
            this->context().forward(record<K, VOut>{r.key, std::move(*out), r.timestamp, r.headers});
        }
        return std::nullopt;
    }

    // Retries the records that are due, oldest first; lets the task go once
    // the queue is empty.
    void on_timer(std::int64_t t) {
        _timer.cancel();
        // The records run as they first did: with their metadata, source
        // bytes and timestamp; the punctuation's own (none) come back after.
        struct restore {
            operators::internal::task_context* task;
            ~restore() {
                task->metadata.reset();
                task->raw = nullptr;
                task->record_timestamp_ms = -1;
            }
        } guard{_task};
        while (!_queue.empty()) {
            auto& e = _queue.front();
            if (t < e.next_ms) {
                break;
            }
            _task->metadata = e.metadata;
            _task->raw = e.raw ? &*e.raw : nullptr;
            _task->record_timestamp_ms = e.timestamp_ms;
            const auto wait = attempt(e.rec, e.attempts);
            if (wait) {
                e.next_ms = t + wait->count();
                break;
            }
            _queue.pop_front();
        }
        if (_queue.empty()) {
            release();
        } else {
            arm(std::chrono::milliseconds(std::max<std::int64_t>(1, _queue.front().next_ms - t)));
        }
    }

    struct nothing {};
    using result_type = std::conditional_t<Forward, VOut, nothing>;

    F _f;
    retry_policy _policy;
    operators::internal::task_context* _task = nullptr;
    std::string _node;
    std::deque<entry> _queue;
    cancellable _timer;
    std::minstd_rand _random;
};

} // namespace eddy::operators
