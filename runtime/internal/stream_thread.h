#pragma once

// A stream thread: one consumer (in the application's group) and one
// producer, and the tasks of the partitions the group gives it. It polls one
// record at a time (librdkafka 2.0.2's batch consume can skip offsets across
// pause/resume), processes it at once through its task, and commits every
// commit.interval.ms: at-least-once (flush, then commit offsets) or
// exactly-once (offsets sent to the producer's transaction, then commit).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <filesystem>
#include <vector>

#include "operators/error_handlers.h"
#include "runtime/state_restore_listener.h"
#include "statestore/internal/bytes_store.h"
#include "topology/topology.h"

namespace eddy::runtime::internal {

// Hands a task's stores between the standby thread and the stream threads
// of one instance, so that they are open in one place at a time.
class task_handover {
public:
    virtual ~task_handover() = default;
    // Before a stream thread opens the stores of task `id`: closes a standby
    // copy of them first, and keeps it closed until release().
    virtual void acquire(const task_id& id) = 0;
    // After the stream thread closed them.
    virtual void release(const task_id& id) = 0;
};

// The settings a thread runs with, resolved once by kafka_streams::start().
struct thread_settings {
    std::string application_id;
    std::string process_id;
    // This instance's key in the instance directory ("" without one): the
    // consumer's client.id names it (member_client_id()).
    std::string directory_key;
    bool exactly_once = false;
    std::chrono::milliseconds commit_interval{100};
    std::chrono::milliseconds max_task_idle{0};
    std::chrono::milliseconds poll_timeout{100};
    std::chrono::milliseconds transaction_timeout{10'000};
    std::size_t buffered_records_per_partition = 1000;
    std::map<std::string, std::string> consumer_settings;
    std::map<std::string, std::string> producer_settings;
    std::shared_ptr<deserialization_exception_handler> deserialization_handler;
    std::shared_ptr<processing_exception_handler> processing_handler;
    std::shared_ptr<production_exception_handler> production_handler;
    // errors.dead.letter.queue.topic.name
    std::string dead_letter_topic;
    // Told of every dead letter (the app's health); may be null.
    std::function<void(std::int64_t)> on_dead_letter;
    // Where tasks keep their stores, and the memory RocksDB stores share.
    std::filesystem::path state_dir;
    std::shared_ptr<statestore::internal::memory_budget> store_memory;
    std::shared_ptr<state_restore_listener> restore_listener;
    // The global thread's stores, which every task's processors may read.
    std::shared_ptr<const std::map<std::string, statestore::internal::store_handle*, std::less<>>> global_stores;
    // This thread's share of statestore.cache.max.bytes (0: no record cache).
    std::uint64_t cache_max_bytes = 0;
    // The standby thread, with num.standby.replicas > 0.
    std::shared_ptr<task_handover> handover;
    // On the embedded broker: librdkafka's mock cluster accepts a
    // transaction's offsets (TxnOffsetCommit) but keeps none of them, so
    // under exactly-once the offsets are committed again through the
    // consumer once the transaction is committed.
    bool commit_offsets_after_transaction = false;
};

enum class thread_state { created, starting, rebalancing, running, pending_shutdown, dead };

// Counters only their thread writes (a relaxed load and store, no locked
// increment) and anyone may read.
struct thread_counters {
    std::atomic<std::int64_t> consumed{0};
    std::atomic<std::int64_t> produced{0};
    std::atomic<std::int64_t> processed{0};
    // Summed over the sampled records (process_samples of them).
    std::atomic<std::int64_t> process_ns{0};
    std::atomic<std::int64_t> process_samples{0};
    std::atomic<std::int64_t> commits{0};
    std::atomic<std::int64_t> commit_us{0};
    std::atomic<std::int64_t> rebalances{0};
    std::atomic<std::int64_t> aborted_transactions{0};
    std::atomic<std::int64_t> pauses{0};
    // Records handed to the producer and not yet acknowledged (or failed),
    // and their key and value bytes: what it buffers while no broker
    // answers (docs/adr/0015).
    std::atomic<std::int64_t> buffered_records{0};
    std::atomic<std::int64_t> buffered_bytes{0};
    // Transactional calls tried again after a retriable error.
    std::atomic<std::int64_t> transaction_retries{0};
    // Commits put off because the producer could not deliver in time.
    std::atomic<std::int64_t> commits_postponed{0};
};

class stream_thread {
public:
    using state_listener = std::function<void(stream_thread&, thread_state)>;
    using error_listener = std::function<void(stream_thread&, std::exception_ptr)>;

    stream_thread(int index, const topology& t, const thread_settings& settings, state_listener on_state,
        error_listener on_error);
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

private:
    struct impl;
    void run();
    void set_state(thread_state s);

    int _index;
    std::string _name;
    std::unique_ptr<impl> _impl;
    state_listener _on_state;
    error_listener _on_error;
    std::atomic<bool> _stop{false};
    std::atomic<bool> _broker_unreachable{false};
    // When the transactional call in progress began (steady clock, ns since
    // its epoch); 0 when none is.
    std::atomic<std::int64_t> _broker_call_since_ns{0};
    std::atomic<thread_state> _state{thread_state::created};
    thread_counters _counters;
    std::shared_ptr<dead_letter_stats> _dead_letters = std::make_shared<dead_letter_stats>();
    std::thread _thread;
};

} // namespace eddy::runtime::internal
