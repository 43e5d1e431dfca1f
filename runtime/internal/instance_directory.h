#pragma once

// instance_directory: how the instances of one application learn each
// other's application.server and tasks (docs/adr/0008-instance-discovery.md).
// Each instance publishes {server, tasks, time} to the compacted topic
// <application.id>-instances, keyed by its server, whenever its tasks change
// and every heartbeat, and a tombstone when it closes; every instance reads
// the whole topic with a plain assign() consumer. A partition claimed by
// several entries (a SIGKILLed instance's stale one) belongs to the latest
// publication.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

namespace eddy::runtime::internal {

// One instance's latest publication.
struct instance_entry {
    std::string server;
    std::set<std::string> tasks; // "<sub-topology>_<partition>"
    std::int64_t time_ms = 0;    // the publisher's wall clock
    // The tasks it keeps standby copies of (num.standby.replicas).
    std::set<std::string> standbys;
};

// What an instance publishes about itself.
struct local_tasks {
    std::set<std::string> active;
    std::set<std::string> standby;
    friend bool operator==(const local_tasks&, const local_tasks&) = default;
};

// The instances that hold standby copies of a task: every live entry whose
// standbys name it.
std::map<std::string, std::set<std::string>> resolve_standbys(
    const std::vector<instance_entry>& entries, std::int64_t now_ms, std::int64_t expiry_ms);

// The tasks that `self` should keep standby copies of, given who owns what
// (every live instance, those without tasks included): each instance's
// tasks go to the `replicas` instances that follow it in the order of their
// names (wrapping around), never to itself; so with replicas + 1 instances
// or fewer every instance keeps a copy of every task it does not own.
std::set<std::string> standby_assignment(
    const std::map<std::string, std::set<std::string>>& owners, const std::string& self, int replicas);

// Who owns what: each server with the tasks it wins (the latest claim of a
// task wins; ties go to the greater server name). Entries older than
// now_ms - expiry_ms are left out; a server whose claims were all
// superseded stays, with no tasks.
std::map<std::string, std::set<std::string>> resolve_owners(
    const std::vector<instance_entry>& entries, std::int64_t now_ms, std::int64_t expiry_ms);

std::string encode_instance(const instance_entry& e);
// Throws std::runtime_error on a value that is not an entry.
instance_entry decode_instance(std::string_view server, std::string_view value);

class instance_directory {
public:
    struct options {
        std::string topic;
        std::string server;
        std::map<std::string, std::string> consumer_settings;
        std::map<std::string, std::string> producer_settings;
        std::chrono::milliseconds heartbeat{10'000};
        std::chrono::milliseconds expiry{60'000};
        // Checked this often for changes of the local tasks.
        std::chrono::milliseconds poll{100};
    };

    // `local` is called from the directory's thread. `options::server` is
    // the entry's key: application.server, or, for an instance without
    // one that publishes only for its standbys, a name that does not parse
    // as host:port.
    instance_directory(options o, std::function<local_tasks()> local);
    ~instance_directory();
    instance_directory(const instance_directory&) = delete;
    instance_directory& operator=(const instance_directory&) = delete;

    void start();
    // Publishes the tombstone (when `tombstone`), flushes and stops the thread.
    void stop(bool tombstone = true);

    const std::string& server() const noexcept { return _options.server; }
    // resolve_owners over what has been read so far (this instance's own
    // latest publication included).
    std::map<std::string, std::set<std::string>> owners() const;
    // Per live instance, the tasks it keeps standby copies of.
    std::map<std::string, std::set<std::string>> standbys() const;

private:
    void run();
    void publish(const local_tasks& tasks);
    std::vector<instance_entry> entries() const;
    void apply(const rd_kafka_message_t* m);

    options _options;
    std::function<local_tasks()> _local_tasks;
    rd_kafka_t* _consumer = nullptr;
    rd_kafka_t* _producer = nullptr;
    mutable std::mutex _mutex;
    std::map<std::string, instance_entry> _entries;
    local_tasks _published;
    std::chrono::steady_clock::time_point _last_publish{};
    bool _ever_published = false;
    std::atomic<bool> _stop{false};
    std::thread _thread;
};

} // namespace eddy::runtime::internal
