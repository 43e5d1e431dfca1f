#pragma once

// instance_directory: how the instances of one application learn each
// other's application.server and tasks (docs/adr/0008-instance-discovery.md).
// Each instance publishes {server, tasks, time} to the compacted topic
// <application.id>-instances, keyed by its server, whenever its tasks change
// and every heartbeat, and a tombstone when it closes; every instance reads
// the whole topic with a plain assign() consumer. A partition claimed by
// several entries (a SIGKILLed instance's stale one) belongs to the latest
// publication.
//
// Anyone who may write to the topic could claim every task for a host of
// theirs (issue 14, finding 8), so an entry counts only as far as the group
// coordinator backs it: its server must be that of a member of the group
// (each stream thread's consumer names it in its client.id, after '@'), and
// it keeps only the tasks of the partitions assigned to those members. An
// entry's time is the broker's (the topic is created with LogAppendTime),
// never the one it states; entries expire on the broker's clock.

#include <atomic>
#include <chrono>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "rdkafka_handles.h"

namespace eddy::runtime::internal {

// One instance's latest publication.
struct instance_entry {
    std::string server;
    std::set<std::string> tasks; // "<sub-topology>_<partition>"
    // When the broker appended it (LogAppendTime), or, on a topic that keeps
    // the producers' times, when this instance read it: never the time the
    // entry itself states.
    std::int64_t time_ms = 0;
    // The tasks it keeps standby copies of (num.standby.replicas).
    std::set<std::string> standbys;
    // Its offset in the topic (-1: this instance's own, not read back): of
    // two claims at the same time, the one appended later wins.
    std::int64_t offset = -1;
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
// task wins; of claims at the same time the one appended later, then the
// greater server name). Entries older than
// now_ms - expiry_ms are left out; a server whose claims were all
// superseded stays, with no tasks.
std::map<std::string, std::set<std::string>> resolve_owners(
    const std::vector<instance_entry>& entries, std::int64_t now_ms, std::int64_t expiry_ms);

std::string encode_instance(const instance_entry& e);
// Throws std::runtime_error on a value that is not an entry. Its time is the
// one the value states; the directory replaces it with the broker's.
instance_entry decode_instance(std::string_view server, std::string_view value);

// What the group coordinator says of the application's consumer group.
struct group_members {
    // False when the broker cannot describe groups (librdkafka's embedded
    // mock cluster): entries then go unchecked.
    bool checked = true;
    // Per server (named in its members' client.id), the tasks of the
    // partitions assigned to its members.
    std::map<std::string, std::set<std::string>> tasks;
};

// The client.id of a stream thread's consumer: `<thread>-consumer`, and
// `@<directory key>` after it when the instance publishes to the directory.
std::string member_client_id(const std::string& thread_name, const std::string& directory_key);
// The directory key a member's client.id names, or "" for none.
std::string member_server(std::string_view client_id);

// The entries the group backs: this instance's own as it is; another's only
// when its server runs members of the group, with its tasks cut to those
// assigned to them (standby copies are not assigned by the group and are
// kept). Everything passes unchecked when `members.checked` is false.
std::vector<instance_entry> backed_entries(
    std::vector<instance_entry> entries, const group_members& members, const std::string& self);

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
        // The application's consumer group, and the sub-topologies each of
        // its input topics feeds (a partition p of the topic is task s_p).
        // "" leaves entries unchecked (the embedded broker in this process:
        // librdkafka's mock cluster drops a client's connections when it is
        // asked to describe a group, so it is not asked).
        std::string group_id;
        std::map<std::string, std::set<int>> subtopologies_of_topic;
        // The client that asks the group coordinator: a handle of its own,
        // so that nothing it meets touches the publications.
        std::map<std::string, std::string> admin_settings;
        // The group is described again this often, at each change of another
        // instance's entry, and while it rebalances every retry interval.
        std::chrono::milliseconds describe_interval{10'000};
        std::chrono::milliseconds describe_retry{500};
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
    // resolve_owners over what has been read so far and the group backs
    // (this instance's own latest publication included).
    std::map<std::string, std::set<std::string>> owners() const;
    // Per live instance, the tasks it keeps standby copies of.
    std::map<std::string, std::set<std::string>> standbys() const;

    // The time on the broker's clock: the broker's time of this instance's
    // latest publication read back, plus the time since (the local wall
    // clock until one is read).
    std::int64_t now_ms() const;

private:
    void run();
    void publish(const local_tasks& tasks);
    std::vector<instance_entry> entries() const;
    void apply(const rd_kafka_message_t* m);
    // Asks the coordinator for the group's members, when due.
    void describe_group();
    void on_described(rd_kafka_event_t* ev);
    void say_create_time();
    // Learns the cluster's id, waiting up to `wait`: a mock cluster's
    // ("mockCluster...") is never asked to describe a group.
    void recognise_cluster(std::chrono::milliseconds wait);

    options _options;
    std::function<local_tasks()> _local_tasks;
    client_ptr _consumer;
    client_ptr _producer;
    // Asks for the group's descriptions, which arrive on the queue (both
    // null when entries go unchecked; the queue goes first).
    client_ptr _admin;
    queue_ptr _admin_queue;
    mutable std::mutex _mutex;
    std::map<std::string, instance_entry> _entries;
    group_members _members{true, {}};
    // Servers whose entry the group did not back, each logged once; the
    // servers with entries when the group was last asked about.
    std::set<std::string> _rejected;
    std::set<std::string> _asked_about;
    // The last values published in this run: a record under this
    // instance's key that is none of them (someone else's, or a tombstone)
    // is answered by publishing again at once.
    std::deque<std::string> _sent;
    bool _publish_now = false;
    // The last error describing the group, logged when it changes.
    std::string _describe_error;
    // The wall-clock time of this run's first publication.
    std::int64_t _first_publish_ms = 0;
    bool _cluster_known = false;
    bool _describing = false;
    bool _describe_due = true;
    std::chrono::steady_clock::time_point _next_describe{};
    // The group was described (a real cluster); an entry without the
    // broker's time was read; the info line about it was logged.
    bool _described = false;
    bool _saw_create_time = false;
    bool _said_create_time = false;
    // The broker's time of the latest own publication read back, and when.
    std::int64_t _broker_ms = 0;
    std::chrono::steady_clock::time_point _broker_ms_at{};
    local_tasks _published;
    std::chrono::steady_clock::time_point _last_publish{};
    bool _ever_published = false;
    std::atomic<bool> _stop{false};
    std::thread _thread;
};

} // namespace eddy::runtime::internal
