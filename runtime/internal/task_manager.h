#pragma once

// The tasks of a stream thread: made when the group assigns their
// partitions (their stores restored first), closed when it takes them
// back; the records the consumer fetched routed to them and processed, in
// timestamp order across a task's partitions; the commit (caches, output,
// offsets, checkpoints) and, after an aborted transaction, the rewind to
// the committed offsets.
//
// Owns: the tasks, their partition groups, the routes from partitions to
// tasks, the checkpoints. Talks to the consumer and the collector, which
// the stream thread owns.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kafka_clients.h"
#include "partition_group.h"
#include "record_collector.h"
#include "state_restorer.h"
#include "stream_task.h"
#include "thread_settings.h"

namespace eddy::runtime::internal {

// Brings the stores of new tasks up to their changelogs (a source-topic
// changelog up to the group's committed offset in `committed`); returns
// the offset each changelog partition was restored up to.
using restore_function =
    std::function<changelog_offsets(const std::vector<stream_task*>& tasks, const changelog_offsets& committed)>;

struct active_task {
    std::unique_ptr<stream_task> task;
    partition_group input;
    // The partition and offset of the record a retry step holds the task
    // for: its offset is not committed past until the step lets go.
    std::optional<topic_partition> held_at;
    std::int64_t held_offset = -1;
    std::shared_ptr<std::atomic<std::int64_t>> processed = std::make_shared<std::atomic<std::int64_t>>(0);
};

class task_manager final : public consumer_listener {
public:
    struct parts {
        const topology& topo;
        const thread_settings& settings;
        consumer_client& consumer;
        producer_client& producer;
        kafka_record_collector& collector;
        broker_watch& watch;
        thread_counters& counters;
        std::shared_ptr<dead_letter_stats> dead_letters;
        const thread_clock& clock;
        // The thread is asked to stop.
        const std::atomic<bool>& stop;
        std::string thread_name;
        // Called as a rebalance begins.
        std::function<void()> on_rebalance;
        // Null: a state_restorer with the thread's consumer settings.
        restore_function restore;
    };
    explicit task_manager(parts p);
    ~task_manager() override;

    // --- consumer_listener ---
    void on_assigned(const std::vector<topic_partition>& partitions) override;
    void on_revoked(const std::vector<topic_partition>& partitions, bool lost) override;
    void on_record(const client_record& record) override;

    // Whether the group has assigned this member partitions (possibly
    // none) yet.
    bool assigned_once() const noexcept { return _assigned_once; }
    // Whether a retry step holds a task's input.
    bool any_held() const;
    // The tasks waiting for an empty partition try again.
    void process_waiting();
    // Wall-clock punctuations (a held record's next try among them).
    void punctuate();
    // Commits what was processed; `final` when partitions are about to go.
    void commit(bool final);
    std::chrono::steady_clock::time_point last_commit() const noexcept { return _last_commit; }
    // The thread is dying of an error: commit nothing more.
    void fail() noexcept { _failed = true; }
    // Aborts an open transaction, logging what fails.
    void abort_after_loss();
    // Closes every task (the consumer has left the group).
    void close_all();

    // For other threads (under the tasks' lock).
    std::map<std::string, std::int64_t> task_processed() const;
    void for_each_store(const std::string& name,
        const std::function<void(statestore::internal::store_handle&)>& fn) const;
    std::int64_t dropped_records() const;
    std::int64_t deduplicated_records() const;
    // The tasks, for tests (only the stream thread may call it).
    const std::map<task_id, active_task>& tasks() const noexcept { return _tasks; }

private:
    struct route_entry {
        active_task* task;
        partition_state* partition;
        const topic_partition* key;
    };
    const route_entry* find_route(const client_record& record);
    void process_ready(active_task& t);
    // Record: a raw_record (buffered) or a client_record (read in place).
    template<typename Record>
    void process_one(active_task& t, partition_state& partition, const Record& r);
    void released(active_task& t);
    void restore(const std::vector<stream_task*>& tasks);
    void checkpoint(active_task& t);
    partition_offsets offsets() const;
    // A count summed over the tasks, under their lock.
    std::int64_t sum(std::int64_t (stream_task::*count)() const noexcept) const;
    // Aborts the open transaction and rewinds every partition to its
    // committed offset, so the aborted records are processed again.
    void abort_and_rewind();

    parts _p;
    std::map<task_id, active_task> _tasks;
    // Held while `_tasks` changes or stores are rebuilt, and by queries from
    // other threads while they read stores: the stream thread itself reads
    // `_tasks` without it (only it changes them).
    mutable std::mutex _tasks_mutex;
    std::map<topic_partition, task_id> _task_of;
    // Per (topic key, partition): where its records go. Filled on first use,
    // emptied whenever the assignment changes.
    std::unordered_map<std::uint64_t, route_entry> _routes;
    std::unique_ptr<state_restorer> _restorer;
    bool _has_stores = false;
    // A sub-topology has a retry step, which may hold its task's input.
    bool _may_hold = false;
    // What the record caches of this thread's stores share.
    std::shared_ptr<statestore::internal::cache_budget> _cache;
    bool _assigned_once = false;
    bool _dirty = false; // processed something since the last commit
    bool _failed = false;
    std::chrono::steady_clock::time_point _last_commit;
    mutable std::mutex _stats_mutex;
    std::map<std::string, std::shared_ptr<std::atomic<std::int64_t>>> _processed_by_task;
};

} // namespace eddy::runtime::internal
