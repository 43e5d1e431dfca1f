#pragma once

// What a kafka_streams holds, shared by the files that implement it:
// kafka_streams.cc (the lifecycle and the threads), kafka_streams_setup.cc
// (settings resolved and topics made before start) and
// kafka_streams_metadata.cc (health, metrics and the query metadata).

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../embedded_broker.h"
#include "global_stream_thread.h"
#include "health_monitor.h"
#include "instance_directory.h"
#include "standby_thread.h"
#include "stream_thread.h"
#include "../kafka_streams.h"

namespace eddy {

struct kafka_streams::impl {
    topology topo;
    streams_config config;
    std::unique_ptr<embedded_broker> broker;
    std::string bootstrap;
    runtime::internal::thread_settings settings;
    int thread_count = 1;

    mutable std::mutex mutex;
    std::condition_variable changed;
    streams_state state = streams_state::created;
    std::function<void(streams_state, streams_state)> listener;
    std::function<uncaught_response(const std::exception&)> handler;
    std::vector<std::unique_ptr<runtime::internal::stream_thread>> threads;
    std::vector<std::unique_ptr<runtime::internal::stream_thread>> retired;
    // The global tables' thread, when the topology has global tables.
    std::unique_ptr<runtime::internal::global_stream_thread> global;
    // application.server: this instance's address, published with its
    // tasks to <application.id>-instances (docs/adr/0008).
    std::optional<host_info> server;
    std::unique_ptr<runtime::internal::instance_directory> directory;
    // num.standby.replicas: the standby thread keeps copies of other
    // instances' stores (docs/adr/0010); it needs the directory, which then
    // runs without application.server too.
    int standby_replicas = 0;
    std::shared_ptr<runtime::internal::standby_thread> standby;
    std::map<std::string, int> topic_partitions;
    // The dead-letter rate and whatever else makes the app degraded.
    std::shared_ptr<runtime::internal::health_monitor> health;
    // What put the app in ERROR (under `mutex`), for health().
    std::string failure;

    impl(topology t, streams_config c) : topo(std::move(t)), config(std::move(c)) {}

    // Moves the app's state (once shutting down or failed, only the end
    // states follow) and tells the listener.
    void set_state(streams_state s);
    // The app's state from its threads' (REBALANCING while any is).
    void on_thread_state();
    std::unique_ptr<runtime::internal::stream_thread> make_thread(int index);
    // A stream thread died: the uncaught exception handler decides what
    // follows (replace the thread, or shut the client down).
    void on_thread_error(runtime::internal::stream_thread& dead, std::exception_ptr eptr);
    // Puts the app in ERROR for `why` and stops every stream thread.
    void fail(std::string why);
    // The thread settings from the config, checked (kafka_streams_setup.cc).
    void resolve_settings();
    // Source topics exist and are co-partitioned per sub-topology; internal
    // and dead-letter topics are created (kafka_streams_setup.cc).
    void prepare_topics();

    std::string instances_topic() const { return settings.application_id + "-instances"; }
    bool uses_directory() const { return server.has_value() || standby_replicas > 0; }
    // This instance's key in the directory: its application.server, or
    // (standbys without queries) a name that is not host:port, which the
    // query metadata leaves out.
    std::string directory_key() const {
        return server ? server->to_string() : "process:" + settings.process_id;
    }

    int replication_factor() const { return static_cast<int>(config.integer("replication.factor")); }
};

} // namespace eddy
