#pragma once

// A stream thread: one consumer (in the application's group) and one
// producer, and the tasks of the partitions the group gives it. It polls one
// record at a time (librdkafka 2.0.2's batch consume can skip offsets across
// pause/resume), processes it at once through its task, and commits every
// commit.interval.ms: at-least-once (flush, then commit offsets) or
// exactly-once (offsets sent to the producer's transaction, then commit).
//
// This file is the loop and the thread's lifecycle; its parts are
// kafka_clients.h (the clients, librdkafka's in rdkafka_clients.h),
// record_collector.h (sending, deliveries, transactions, whether a broker
// answers), task_manager.h (tasks, routing, processing, commit, rewind) and
// partition_group.h (a task's input partitions).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <set>
#include <thread>
#include <vector>

#include "kafka_clients.h"
#include "record_collector.h"
#include "task_manager.h"
#include "thread_settings.h"

namespace eddy::runtime::internal {

// A thread's two clients.
struct thread_clients {
    std::unique_ptr<consumer_client> consumer;
    std::unique_ptr<producer_client> producer;
};

class stream_thread {
public:
    using state_listener = std::function<void(stream_thread&, thread_state)>;
    using error_listener = std::function<void(stream_thread&, std::exception_ptr)>;

    // On librdkafka clients made from `settings`.
    stream_thread(int index, const topology& t, const thread_settings& settings, state_listener on_state,
        error_listener on_error);
    // On the clients and the clocks given (tests give fakes); `restore`
    // null: a state_restorer reads the changelogs.
    stream_thread(int index, const topology& t, const thread_settings& settings, state_listener on_state,
        error_listener on_error, thread_clients clients, const thread_clock& clock, restore_function restore = {});
    ~stream_thread();
    stream_thread(const stream_thread&) = delete;
    stream_thread& operator=(const stream_thread&) = delete;

    void start();
    void request_stop() noexcept { _stop.store(true); }
    void join();

    int index() const noexcept { return _index; }
    const std::string& name() const noexcept { return _name; }
    thread_state state() const noexcept { return _state.load(); }
    const thread_counters& counters() const noexcept { return _counters; }
    // Processed records per task.
    std::map<std::string, std::int64_t> task_processed() const;
    // Calls fn with each store named `name` of this thread's tasks, while no
    // task can be created or closed (for queries from other threads).
    void for_each_store(const std::string& name,
        const std::function<void(statestore::internal::store_handle&)>& fn) const;
    // Records the tasks of this thread dropped, summed.
    std::int64_t dropped_records() const;
    // Of those, the duplicates deduplicate() nodes dropped, summed.
    std::int64_t deduplicated_records() const;
    // The records this thread's tasks dead-lettered, per handler kind.
    const dead_letter_stats& dead_letters() const noexcept { return *_dead_letters; }
    // Consumer lag per "topic-partition", from librdkafka's statistics.
    std::map<std::string, std::int64_t> lag() const;
    // Whether this thread's clients last heard that no broker answers
    // (librdkafka's _ALL_BROKERS_DOWN, a transactional call that timed
    // out) and nothing since said otherwise, or a transactional call has
    // been waiting on the broker for longer than broker_call_stall: the
    // error callbacks that would say so wait for that call to return.
    bool broker_unreachable() const noexcept;
    static constexpr std::chrono::milliseconds broker_call_stall{3000};

    // The loop's steps, which run() takes on its thread, for tests that
    // drive a thread without starting it: begin() (transactions, metadata,
    // the subscription), step() (one poll, what it fetched processed, the
    // punctuations and the commit when due), finish() (the final commit,
    // the group left, the clients closed). They throw what run() dies of.
    void begin();
    void step();
    void finish();
    // The thread's tasks (tests read them between steps).
    const task_manager& tasks() const noexcept { return *_tasks; }

private:
    void run();
    void set_state(thread_state s);
    void close_clients();
    // librdkafka 2.0.2's cooperative-sticky assignor asserts when a consumer
    // closes before its first assignment: a thread stopped that early waits
    // for it, for at most 30 s.
    void await_first_assignment();

    int _index;
    std::string _name;
    const topology* _topology;
    thread_settings _settings;
    const thread_clock* _clock;
    state_listener _on_state;
    error_listener _on_error;
    std::atomic<bool> _stop{false};
    std::atomic<thread_state> _state{thread_state::created};
    thread_counters _counters;
    std::shared_ptr<dead_letter_stats> _dead_letters = std::make_shared<dead_letter_stats>();
    std::set<std::string> _changelog_topics;
    thread_clients _clients;
    std::unique_ptr<broker_watch> _watch;
    std::unique_ptr<kafka_record_collector> _collector;
    std::unique_ptr<task_manager> _tasks;
    std::chrono::steady_clock::time_point _last_housekeeping;
    std::thread _thread;
};

} // namespace eddy::runtime::internal
