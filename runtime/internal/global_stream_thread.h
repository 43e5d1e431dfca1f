#pragma once

// The global stream thread (Kafka Streams' GlobalStreamThread): one per
// instance, with a consumer of its own that assigns every partition of the
// global tables' topics (no group). initialize() restores the global stores
// to the end of each partition, on the caller's thread, before any stream
// thread starts; the thread then keeps them up to date, running the records
// through the global tables' nodes, and writes a checkpoint
// (<state.dir>/<application.id>/global/.checkpoint) so that a clean restart
// of a persistent global store restores only the tail. Stream tasks read the
// stores through the map stores() returns; only this thread writes them.

#include <atomic>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "stream_thread.h"
#include "../../statestore/internal/store_handle.h"
#include "../../topology/topology.h"

namespace eddy::runtime::internal {

class global_stream_thread {
public:
    using store_map = std::map<std::string, statestore::internal::store_handle*, std::less<>>;

    // `on_error`: called on the thread with what killed it.
    global_stream_thread(const topology& t, const thread_settings& settings,
        std::function<void(std::exception_ptr)> on_error);
    ~global_stream_thread();
    global_stream_thread(const global_stream_thread&) = delete;
    global_stream_thread& operator=(const global_stream_thread&) = delete;

    // Opens the global stores and brings them up to the end of every
    // partition of their topics; throws config_error for a topic the
    // cluster does not have, kafka_error when the restore fails.
    void initialize();
    // Keeps the stores up to date on a thread of its own.
    void start();
    void request_stop() noexcept { _stop.store(true); }
    // Waits for the thread, which checkpoints and closes on its way out.
    void join();

    const std::string& name() const noexcept { return _name; }
    // The stores by name; valid until this object is destroyed.
    std::shared_ptr<const store_map> stores() const { return _stores; }
    // Records processed after the restore (not those restored).
    std::int64_t processed() const noexcept { return _processed.load(); }

private:
    struct impl;
    void run();

    std::string _name;
    std::unique_ptr<impl> _impl;
    std::shared_ptr<store_map> _stores;
    std::function<void(std::exception_ptr)> _on_error;
    std::atomic<bool> _stop{false};
    std::atomic<std::int64_t> _processed{0};
    std::thread _thread;
};

} // namespace eddy::runtime::internal
