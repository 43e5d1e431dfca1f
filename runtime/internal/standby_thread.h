#pragma once

// Standby replicas (num.standby.replicas): warm copies of other instances'
// stores, so that a task moving here after a failure restores only the
// changelog's tail (docs/adr/0010-standby-replicas.md).
//
// One standby thread per instance. Every `interval` it works out, from the
// instance directory (who owns which task), which tasks this instance keeps
// copies of (standby_assignment), opens those tasks' stores under state.dir
// exactly where an active task would (never processing a record), and
// brings them up to the end of their changelogs with a restore consumer of
// its own, one round at a time. Checkpoints are written as an active task
// writes them (after a flush), every `checkpoint_interval` and when a copy
// is closed; so when the task becomes active here the stream thread's
// restore starts from the checkpoint.
//
// A task's stores are open in one place at a time: a stream thread calls
// acquire() before it opens a task's stores (the standby copy is closed
// first, the call waits for that) and release() after it closed them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "state_restorer.h"
#include "stream_thread.h"
#include "../../topology/topology.h"

namespace eddy::runtime::internal {

class standby_thread final : public task_handover {
public:
    struct options {
        int replicas = 1;
        // This instance's key in the directory.
        std::string self;
        // Partitions per sub-topology (of its source topics).
        std::map<int, int> partitions;
        std::chrono::milliseconds interval{200};
        std::chrono::milliseconds checkpoint_interval{5'000};
    };
    // Who owns which task: the instance directory's owners().
    using owners_fn = std::function<std::map<std::string, std::set<std::string>>()>;

    standby_thread(const topology& t, const thread_settings& settings, options o, owners_fn owners);
    ~standby_thread() override;
    standby_thread(const standby_thread&) = delete;
    standby_thread& operator=(const standby_thread&) = delete;

    void start();
    // Checkpoints and closes every copy, then stops the thread.
    void stop();

    void acquire(const task_id& id) override;
    void release(const task_id& id) override;

    // The tasks it keeps copies of now ("<sub-topology>_<partition>").
    std::set<std::string> tasks() const;
    // Per task, per changelog partition, the offset its copy is up to.
    std::map<std::string, changelog_offsets> positions() const;
    // Changelog records written into the copies.
    std::int64_t records_restored() const noexcept { return _restored.load(); }

private:
    struct copy;
    void run();
    void step();
    void open(const task_id& id);
    void close(const task_id& id);
    void checkpoint(copy& c);

    const topology& _topology;
    thread_settings _settings;
    options _options;
    owners_fn _owners;
    std::set<int> _logged_subtopologies;
    // Tasks whose stores have nothing a standby keeps (in memory only, or
    // a table's source topic): not tried again.
    std::set<task_id> _nothing_to_keep;
    std::unique_ptr<state_restorer> _restorer;
    std::unique_ptr<record_collector> _collector;

    mutable std::mutex _mutex;
    std::condition_variable _changed;
    std::map<task_id, std::unique_ptr<copy>> _copies;
    // Tasks a stream thread of this instance has open (or is opening).
    std::set<task_id> _active;
    bool _stop = false;
    std::atomic<std::int64_t> _restored{0};
    std::thread _thread;
};

} // namespace eddy::runtime::internal
