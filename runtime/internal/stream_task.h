#pragma once

// A stream task: the nodes of one sub-topology working on one partition. It
// takes raw records from its source topics, runs them through its nodes and
// runs its punctuations. The Kafka runtime and the test driver both drive
// tasks through this class.

#include <cstdint>
#include <filesystem>
#include <map>
#include <vector>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "../../operators/internal/task_context.h"
#include "../../topology/topology.h"

namespace eddy::runtime::internal {

// Where a task keeps its stores: under `state_dir`/<task id>, persistent
// stores sharing `memory`; with a `cache`, every store gets a record cache
// drawing on it (the budget of the thread that runs the task).
struct task_storage {
    std::filesystem::path state_dir;
    std::shared_ptr<statestore::internal::memory_budget> memory;
    // The instance's global stores, which the task's processors may read.
    std::shared_ptr<const std::map<std::string, statestore::internal::store_handle*, std::less<>>> global_stores;
    std::shared_ptr<statestore::internal::cache_budget> cache;
};

// One store's changelog partition in a task.
struct changelog_partition {
    std::string topic;
    std::int32_t partition = 0;
    statestore::internal::store_handle* store = nullptr;
    // The topic is the task's own source topic (a table's): restore stops at
    // the committed offset, the rest is processed.
    bool source = false;
};

// What a task's nodes do with processing and production failures (the
// deserialization handler is a constructor argument: sources take it when
// they are made).
struct task_error_handling {
    std::shared_ptr<processing_exception_handler> processing;
    std::shared_ptr<production_exception_handler> production;
    // errors.dead.letter.queue.topic.name
    std::string dead_letter_topic;
    std::shared_ptr<dead_letter_stats> dead_letters;
};

class stream_task {
public:
    // Opens the task's stores (empty, or as a persistent store left them);
    // the runtime restores them from their changelogs before the first
    // record.
    stream_task(const topology& t, task_id id, std::string application_id, record_collector& collector,
        std::function<std::int64_t()> wall_clock_ms,
        std::shared_ptr<deserialization_exception_handler> deserialization_handler, task_storage storage = {});
    // A task of nodes made elsewhere (the global tables'), its stores under
    // `state_dir`/`directory_name`.
    stream_task(task_nodes nodes, task_id id, std::string application_id, record_collector& collector,
        std::function<std::int64_t()> wall_clock_ms,
        std::shared_ptr<deserialization_exception_handler> deserialization_handler, task_storage storage,
        const std::string& directory_name);
    ~stream_task();
    stream_task(const stream_task&) = delete;
    stream_task& operator=(const stream_task&) = delete;

    const task_id& id() const noexcept { return _context.id; }
    std::int64_t stream_time_ms() const noexcept { return _context.stream_time_ms; }

    // Processes one record of one of this task's source topics, then runs
    // the stream-time punctuations it made due.
    void process(const raw_record& r);
    // The source node reading `topic`, or null; with the overload below it
    // spares the per-record lookup by topic name.
    operators::internal::raw_node* source_of(std::string_view topic) const;
    void process(operators::internal::raw_node& source, const raw_record& r);
    // The same, read in place from the consumer's buffer (copied only if a
    // node keeps its bytes).
    void process(operators::internal::raw_node& source, const consumed_record& r);
    // Before the first record.
    void set_error_handling(task_error_handling h);
    // Runs the wall-clock punctuations due at `now_ms`.
    int punctuate_wall_clock(std::int64_t now_ms);
    // Whether a node (a retry step) holds the task's input: its records
    // must wait, unprocessed, until it lets go (in a wall-clock punctuation).
    bool held() const noexcept { return _context.holds > 0; }
    // The task's input goes back to its committed offsets (an aborted
    // transaction): what its retry steps queued is dropped and the task is
    // no longer held, for those records are read again.
    void rewind() { _context.rewind(); }
    // Where nodes dead-letter records when they name no topic of their own.
    void set_dead_letter_topic(std::string topic) { _context.dead_letter_topic = std::move(topic); }
    void close();

    // The task's directory under state.dir.
    const std::filesystem::path& directory() const noexcept { return _directory; }
    // The changelog partitions of the task's logged stores.
    const std::vector<changelog_partition>& changelogs() const noexcept { return _changelogs; }
    // Every store of the task, by name.
    const std::map<std::string, statestore::internal::store_handle*, std::less<>>& stores() const noexcept {
        return _context.stores;
    }
    // Records the task's operators dropped (late for their window, a null
    // key where one is needed).
    std::int64_t dropped_records() const noexcept { return _context.dropped_records->load(); }
    // Of those, the duplicates deduplicate() nodes dropped.
    std::int64_t deduplicated_records() const noexcept { return _context.deduplicated_records->load(); }
    // Makes the persistent stores' writes durable (before a checkpoint).
    void flush_stores();
    // Writes what the stores' record caches hold dirty to the stores and
    // their changelogs (before every commit); returns how many entries.
    std::size_t flush_caches();
    // Empties a store (deletes its files and opens it again), before a full
    // restore.
    void reset_store(statestore::internal::store_handle& store);

private:
    // Opens a store; one whose files are damaged is wiped and opened empty
    // when a changelog can restore it.
    void open_store(statestore::internal::store_handle& store);
    // What both process() overloads do around the source's call.
    template<typename Record>
    void process_with(operators::internal::raw_node& source, const Record& r,
        const operators::internal::source_bytes& bytes, std::string_view topic, std::int32_t partition,
        std::int64_t offset, std::int64_t timestamp);

    operators::internal::task_context _context;
    task_nodes _nodes;
    std::filesystem::path _directory;
    task_storage _storage;
    std::vector<changelog_partition> _changelogs;
    bool _closed = false;
};

} // namespace eddy::runtime::internal
