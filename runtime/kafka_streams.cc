// kafka_streams: the lifecycle (start, close, the state) and the threads;
// the setup before start is in kafka_streams_setup.cc, health, metrics and
// the query metadata in kafka_streams_metadata.cc.

#include "runtime/kafka_streams.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/admin.h"
#include "runtime/internal/client_config.h"
#include "runtime/internal/kafka_streams_impl.h"
#include "runtime/internal/log.h"
#include "runtime/kafka_error.h"

namespace eddy {
namespace {

using runtime::internal::logger;
using runtime::internal::stream_thread;
using runtime::internal::thread_state;

} // namespace

std::string_view to_string(streams_state s) noexcept {
    switch (s) {
    case streams_state::created:
        return "CREATED";
    case streams_state::rebalancing:
        return "REBALANCING";
    case streams_state::running:
        return "RUNNING";
    case streams_state::pending_shutdown:
        return "PENDING_SHUTDOWN";
    case streams_state::not_running:
        return "NOT_RUNNING";
    case streams_state::error:
        break;
    }
    return "ERROR";
}

void kafka_streams::impl::set_state(streams_state s) {
    std::function<void(streams_state, streams_state)> l;
    streams_state before;
    {
        std::scoped_lock lock(mutex);
        if (state == s) {
            return;
        }
        // Once shutting down or failed, only the end states follow.
        if ((state == streams_state::pending_shutdown || state == streams_state::error)
            && s != streams_state::not_running && s != streams_state::error) {
            return;
        }
        before = state;
        state = s;
        l = listener;
    }
    changed.notify_all();
    logger()->info("state changed from={} to={}", to_string(before), to_string(s));
    if (l) {
        l(s, before);
    }
}

void kafka_streams::impl::on_thread_state() {
    bool rebalancing = false;
    bool all_running = true;
    {
        std::scoped_lock lock(mutex);
        for (const auto& t : threads) {
            auto s = t->state();
            rebalancing = rebalancing || s == thread_state::starting || s == thread_state::rebalancing;
            all_running = all_running && s == thread_state::running;
        }
    }
    if (rebalancing) {
        set_state(streams_state::rebalancing);
    } else if (all_running) {
        set_state(streams_state::running);
    }
}

std::unique_ptr<stream_thread> kafka_streams::impl::make_thread(int index) {
    return std::make_unique<stream_thread>(
        index, topo, settings, [this](stream_thread&, thread_state) { on_thread_state(); },
        [this](stream_thread& t, std::exception_ptr e) { on_thread_error(t, e); });
}

void kafka_streams::impl::on_thread_error(stream_thread& dead, std::exception_ptr eptr) {
    std::string what = "unknown error";
    auto response = uncaught_response::shutdown_client;
    try {
        std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
        what = e.what();
        std::function<uncaught_response(const std::exception&)> h;
        {
            std::scoped_lock lock(mutex);
            h = handler;
        }
        if (h) {
            response = h(e);
        }
    } catch (...) {
    }
    logger()->error("stream thread failed thread={} error=\"{}\" response={}", dead.name(), what,
        response == uncaught_response::replace_thread ? "replace_thread" : "shutdown_client");
    if (response == uncaught_response::replace_thread) {
        stream_thread* replacement = nullptr;
        {
            std::scoped_lock lock(mutex);
            if (state == streams_state::pending_shutdown || state == streams_state::not_running) {
                return;
            }
            for (auto& t : threads) {
                if (t.get() == &dead) {
                    retired.push_back(std::exchange(t, make_thread(dead.index())));
                    replacement = t.get();
                    break;
                }
            }
        }
        if (replacement != nullptr) {
            replacement->start();
        }
        return;
    }
    fail(fmt::format("stream thread {} failed: {}", dead.name(), what));
}

void kafka_streams::impl::fail(std::string why) {
    {
        std::scoped_lock lock(mutex);
        if (failure.empty()) {
            failure = std::move(why);
        }
    }
    set_state(streams_state::error);
    std::scoped_lock lock(mutex);
    for (auto& t : threads) {
        t->request_stop();
    }
}

kafka_streams::kafka_streams(topology t, streams_config config)
    : _impl(std::make_unique<impl>(std::move(t), std::move(config))) {
    _impl->resolve_settings();
}

kafka_streams::~kafka_streams() {
    close();
}

void kafka_streams::start() {
    {
        std::scoped_lock lock(_impl->mutex);
        if (_impl->state != streams_state::created) {
            throw std::logic_error(fmt::format("kafka_streams::start: the app is {}, not CREATED", to_string(_impl->state)));
        }
    }
    _impl->prepare_topics();
    _impl->set_state(streams_state::rebalancing);
    if (!_impl->topo.global_stores().empty()) {
        // The global stores are whole before any stream thread processes.
        auto global = std::make_unique<runtime::internal::global_stream_thread>(
            _impl->topo, _impl->settings, [this](std::exception_ptr e) {
                std::string what = "unknown error";
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    what = x.what();
                } catch (...) {
                }
                _impl->fail("the global stream thread failed: " + what);
            });
        try {
            global->initialize();
        } catch (...) {
            _impl->set_state(streams_state::error);
            throw;
        }
        _impl->settings.global_stores = global->stores();
        global->start();
        std::scoped_lock lock(_impl->mutex);
        _impl->global = std::move(global);
    }
    if (_impl->standby_replicas > 0) {
        runtime::internal::standby_thread::options o;
        o.replicas = _impl->standby_replicas;
        o.self = _impl->directory_key();
        for (std::size_t s = 0; s < _impl->topo.subtopology_count(); ++s) {
            const auto sources = _impl->topo.source_topics(static_cast<int>(s), _impl->settings.application_id);
            if (!sources.empty()) {
                if (auto it = _impl->topic_partitions.find(sources.front()); it != _impl->topic_partitions.end()) {
                    o.partitions[static_cast<int>(s)] = it->second;
                }
            }
        }
        auto* me = _impl.get();
        _impl->standby = std::make_shared<runtime::internal::standby_thread>(
            _impl->topo, _impl->settings, std::move(o), [me] {
                return me->directory ? me->directory->owners() : std::map<std::string, std::set<std::string>>{};
            });
        // Every stream thread hands its tasks' stores over through it.
        _impl->settings.handover = _impl->standby;
    }
    if (_impl->uses_directory()) {
        // Each thread's consumer names this instance in its client.id, so
        // that the others find it among the group's members (ADR 0019).
        _impl->settings.directory_key = _impl->directory_key();
    }
    std::vector<stream_thread*> started;
    {
        std::scoped_lock lock(_impl->mutex);
        for (int i = 0; i < _impl->thread_count; ++i) {
            _impl->threads.push_back(_impl->make_thread(i));
            started.push_back(_impl->threads.back().get());
        }
    }
    // Outside the lock: a thread's state listener takes it.
    for (auto* t : started) {
        t->start();
    }
    if (_impl->uses_directory()) {
        runtime::internal::instance_directory::options o;
        o.topic = _impl->instances_topic();
        o.server = _impl->directory_key();
        o.consumer_settings = _impl->settings.consumer_settings;
        o.producer_settings = _impl->settings.producer_settings;
        // The group the stream threads join (consumer.group.id may name it);
        // not asked of an embedded broker in this process (ADR 0019).
        if (!_impl->broker && embedded_broker::find(_impl->bootstrap) == nullptr) {
            o.group_id = _impl->settings.consumer_settings.at("group.id");
        }
        o.admin_settings = runtime::internal::client_settings(_impl->config, "admin.");
        for (std::size_t s = 0; s < _impl->topo.subtopology_count(); ++s) {
            for (const auto& topic : _impl->topo.source_topics(static_cast<int>(s), _impl->settings.application_id)) {
                o.subtopologies_of_topic[topic].insert(static_cast<int>(s));
            }
        }
        auto* me = _impl.get();
        // A task shows once created, i.e. after its stores restored.
        _impl->directory = std::make_unique<runtime::internal::instance_directory>(std::move(o), [me] {
            runtime::internal::local_tasks tasks;
            if (me->standby) {
                tasks.standby = me->standby->tasks();
            }
            std::scoped_lock lock(me->mutex);
            for (const auto& t : me->threads) {
                for (const auto& [task, n] : t->task_processed()) {
                    tasks.active.insert(task);
                }
            }
            return tasks;
        });
        _impl->directory->start();
    }
    if (_impl->standby) {
        _impl->standby->start();
    }
}

bool kafka_streams::close(std::chrono::milliseconds timeout) {
    {
        std::scoped_lock lock(_impl->mutex);
        if (_impl->state == streams_state::not_running) {
            return true;
        }
        if (_impl->state == streams_state::created) {
            _impl->state = streams_state::not_running;
            return true;
        }
    }
    const bool failed = state() == streams_state::error;
    if (_impl->directory) {
        // The tombstone first: the others stop sending queries here.
        _impl->directory->stop();
    }
    if (_impl->standby) {
        // Its copies checkpoint and close; the stream threads' hand-overs
        // find nothing to wait for from here on.
        _impl->standby->stop();
    }
    _impl->set_state(streams_state::pending_shutdown);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::unique_ptr<stream_thread>> threads;
    {
        std::scoped_lock lock(_impl->mutex);
        for (auto& t : _impl->threads) {
            t->request_stop();
        }
        threads = std::move(_impl->threads);
        for (auto& t : _impl->retired) {
            threads.push_back(std::move(t));
        }
        _impl->retired.clear();
    }
    for (auto& t : threads) {
        t->join();
    }
    threads.clear();
    // After the stream threads: their tasks read the global stores.
    std::unique_ptr<runtime::internal::global_stream_thread> global;
    {
        std::scoped_lock lock(_impl->mutex);
        global = std::move(_impl->global);
    }
    if (global) {
        global->request_stop();
        global->join();
        global.reset();
    }
    {
        std::scoped_lock lock(_impl->mutex);
        _impl->state = failed ? streams_state::error : streams_state::pending_shutdown;
    }
    _impl->set_state(failed ? streams_state::error : streams_state::not_running);
    return std::chrono::steady_clock::now() <= deadline;
}

streams_state kafka_streams::state() const {
    std::scoped_lock lock(_impl->mutex);
    return _impl->state;
}

void kafka_streams::set_state_listener(std::function<void(streams_state, streams_state)> listener) {
    std::scoped_lock lock(_impl->mutex);
    _impl->listener = std::move(listener);
}

void kafka_streams::check_store(const std::string& name) const {
    for (std::size_t s = 0; s < _impl->topo.subtopology_count(); ++s) {
        for (const auto& store : _impl->topo.stores_of(static_cast<int>(s))) {
            if (store == name) {
                return;
            }
        }
    }
    throw store_error(fmt::format("the topology has no store {}", name));
}

void kafka_streams::for_each_local_store(
    const std::string& name, const std::function<void(statestore::internal::store_handle&)>& fn) const {
    std::scoped_lock lock(_impl->mutex);
    if (_impl->global) {
        // A global store: this instance holds all of it, once.
        if (auto it = _impl->global->stores()->find(name); it != _impl->global->stores()->end()) {
            fn(*it->second);
            return;
        }
    }
    for (const auto& t : _impl->threads) {
        t->for_each_store(name, fn);
    }
}

void kafka_streams::set_global_state_restore_listener(std::shared_ptr<state_restore_listener> listener) {
    std::scoped_lock lock(_impl->mutex);
    if (!_impl->threads.empty()) {
        throw std::logic_error("set_global_state_restore_listener must be called before start()");
    }
    _impl->settings.restore_listener = std::move(listener);
}

void kafka_streams::set_uncaught_exception_handler(std::function<uncaught_response(const std::exception&)> handler) {
    std::scoped_lock lock(_impl->mutex);
    _impl->handler = std::move(handler);
}

std::string kafka_streams::bootstrap_servers() const {
    return _impl->bootstrap;
}

embedded_broker* kafka_streams::embedded() const {
    return _impl->broker.get();
}

} // namespace eddy
