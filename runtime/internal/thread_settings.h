#pragma once

// What a stream thread runs with (resolved once by kafka_streams::start())
// and what it counts; shared by the thread's parts.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "../../operators/error_handlers.h"
#include "../state_restore_listener.h"
#include "../../statestore/internal/bytes_store.h"
#include "../../topology/topology.h"

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

// Adds to a counter only its thread writes (others only read it): a plain
// load and store, no locked read-modify-write on the per-record path.
// Returns the value before.
inline std::int64_t bump(std::atomic<std::int64_t>& counter, std::int64_t by = 1) {
    const auto before = counter.load(std::memory_order_relaxed);
    counter.store(before + by, std::memory_order_relaxed);
    return before;
}

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

} // namespace eddy::runtime::internal
