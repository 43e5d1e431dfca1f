#include "runtime/internal/stream_thread.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "runtime/internal/instance_directory.h"
#include "runtime/internal/log.h"
#include "runtime/internal/rdkafka_clients.h"

namespace eddy::runtime::internal {

namespace {

std::string thread_name(const thread_settings& settings, int index) {
    return fmt::format("{}-{}-StreamThread-{}", settings.application_id, settings.process_id, index + 1);
}

// Every sub-topology reads one topic and the guarantee is at-least-once: no
// partition is ever paused, resumed or rewound, so the thread may consume in
// batches (librdkafka 2.0.2's batch call can skip offsets only across
// pause/resume and seeks).
bool may_consume_in_batches(const topology& t, const thread_settings& settings) {
    if (settings.exactly_once || settings.max_task_idle.count() != 0 || t.holds_input()) {
        return false;
    }
    for (std::size_t s = 0; s < t.subtopology_count(); ++s) {
        // A global sub-topology reads nothing here (the global thread does).
        if (!t.is_global(static_cast<int>(s)) && t.source_topics(static_cast<int>(s)).size() != 1) {
            return false;
        }
    }
    return true;
}

thread_clients rdkafka_clients(const topology& t, const thread_settings& settings, int index) {
    const auto name = thread_name(settings, index);
    auto producer_settings = settings.producer_settings;
    producer_settings["client.id"] = name + "-producer";
    if (settings.exactly_once) {
        producer_settings["transactional.id"] =
            fmt::format("{}-{}-{}", settings.application_id, settings.process_id, index + 1);
        producer_settings["transaction.timeout.ms"] = std::to_string(settings.transaction_timeout.count());
    }
    auto consumer_settings = settings.consumer_settings;
    consumer_settings["client.id"] = member_client_id(name, settings.directory_key);
    thread_clients clients;
    clients.producer = make_rdkafka_producer(std::move(producer_settings), name);
    clients.consumer = make_rdkafka_consumer(consumer_settings, may_consume_in_batches(t, settings), name);
    return clients;
}

} // namespace

stream_thread::stream_thread(int index, const topology& t, const thread_settings& settings, state_listener on_state,
    error_listener on_error)
    : stream_thread(index, t, settings, std::move(on_state), std::move(on_error), rdkafka_clients(t, settings, index),
          thread_clock::system()) {}

stream_thread::stream_thread(int index, const topology& t, const thread_settings& settings, state_listener on_state,
    error_listener on_error, thread_clients clients, const thread_clock& clock, restore_function restore)
    : _index(index)
    , _name(thread_name(settings, index))
    , _topology(&t)
    , _settings(settings)
    , _clock(&clock)
    , _on_state(std::move(on_state))
    , _on_error(std::move(on_error))
    , _clients(std::move(clients))
    , _last_housekeeping(clock.now()) {
    _dead_letters->on_dead_letter = settings.on_dead_letter;
    for (const auto& log : t.changelog_topics(settings.application_id)) {
        _changelog_topics.insert(log.name);
    }
    _watch = std::make_unique<broker_watch>(_name, _counters, clock);
    _collector = std::make_unique<kafka_record_collector>(*_clients.producer, *_clients.consumer, _settings,
        _counters, *_dead_letters, *_watch, _stop, clock, _name);
    _tasks = std::make_unique<task_manager>(task_manager::parts{t, _settings, *_clients.consumer, *_clients.producer,
        *_collector, *_watch, _counters, _dead_letters, clock, _stop, _name,
        [this] {
            // Leaving the group on the way out is no rebalance to report.
            if (state() != thread_state::pending_shutdown) {
                set_state(thread_state::rebalancing);
            }
            bump(_counters.rebalances);
        },
        std::move(restore)});
    _clients.producer->set_listener(*_collector, *_watch);
    _clients.consumer->set_listener(*_tasks, *_watch);
}

stream_thread::~stream_thread() {
    request_stop();
    join();
    try {
        close_clients();
    } catch (const std::exception& e) {
        // A thread driven by its steps (tests) that failed: the final
        // commit of the revocation fails the same way.
        logger()->error("closing failed thread={} error=\"{}\"", _name, e.what());
    }
}

void stream_thread::start() {
    set_state(thread_state::starting);
    _thread = std::thread([this] { run(); });
}

void stream_thread::join() {
    if (_thread.joinable()) {
        _thread.join();
    }
}

void stream_thread::set_state(thread_state s) {
    if (_state.exchange(s) != s && _on_state) {
        _on_state(*this, s);
    }
}

std::map<std::string, std::int64_t> stream_thread::task_processed() const {
    return _tasks->task_processed();
}

void stream_thread::for_each_store(
    const std::string& name, const std::function<void(statestore::internal::store_handle&)>& fn) const {
    _tasks->for_each_store(name, fn);
}

std::int64_t stream_thread::dropped_records() const {
    return _tasks->dropped_records();
}

std::int64_t stream_thread::deduplicated_records() const {
    return _tasks->deduplicated_records();
}

bool stream_thread::broker_unreachable() const noexcept {
    return _watch->looks_unreachable(broker_call_stall);
}

std::map<std::string, std::int64_t> stream_thread::lag() const {
    return _watch->lag();
}

void stream_thread::begin() {
    if (_settings.exactly_once) {
        _collector->init_transactions();
    }
    // Learn the sink topics' leaders now, so the first commit does not wait
    // for the producer's first metadata round trips; the changelogs' too:
    // with record caches their first records come all at once, in the first
    // commit.
    std::set<std::string> written = _topology->sink_topics();
    written.insert(_changelog_topics.begin(), _changelog_topics.end());
    _clients.producer->warm_up(written);
    std::set<std::string> topics;
    for (std::size_t s = 0; s < _topology->subtopology_count(); ++s) {
        for (const auto& t : _topology->source_topics(static_cast<int>(s), _settings.application_id)) {
            topics.insert(t);
        }
    }
    _clients.consumer->subscribe(topics);
    logger()->info("thread started thread={} topics={} guarantee={}", _name, topics.size(),
        _settings.exactly_once ? "exactly_once_v2" : "at_least_once");
}

void stream_thread::step() {
    // While a retry step holds a task its next try is a wall-clock
    // punctuation: poll briefly so it runs on time with no input.
    const auto poll = _tasks->any_held() ? std::min(_settings.poll_timeout, std::chrono::milliseconds(5))
                                         : _settings.poll_timeout;
    _clients.consumer->poll(poll);
    if (state() == thread_state::rebalancing) {
        set_state(thread_state::running);
    }
    // Partitions waiting for max.task.idle.ms.
    _tasks->process_waiting();
    // One clock read per poll decides the millisecond chores and the commit.
    const auto now = _clock->now();
    if (now - _last_housekeeping >= std::chrono::milliseconds(1)) {
        _last_housekeeping = now;
        // Delivery reports, and the wall-clock punctuations.
        _clients.producer->poll(std::chrono::milliseconds(0));
        _watch->log_buffering();
        _tasks->punctuate();
    }
    if (now - _tasks->last_commit() >= _settings.commit_interval) {
        _tasks->commit(false);
    }
}

void stream_thread::finish() {
    set_state(thread_state::pending_shutdown);
    await_first_assignment();
    _tasks->commit(true);
    close_clients();
    logger()->info("thread stopped thread={}", _name);
}

void stream_thread::await_first_assignment() {
    // Its records are not processed, nor their offsets committed.
    const auto deadline = _clock->now() + std::chrono::seconds(30);
    while (!_tasks->assigned_once() && _clients.consumer && _clock->now() < deadline) {
        _clients.consumer->poll(std::chrono::milliseconds(100), false);
    }
    if (!_tasks->assigned_once()) {
        logger()->warn("thread closes before its first assignment thread={}", _name);
    }
}

void stream_thread::close_clients() {
    if (_clients.consumer) {
        _clients.consumer->close();
        _tasks->close_all();
        _clients.consumer.reset();
    }
    if (_clients.producer) {
        _clients.producer->flush(_settings.transaction_timeout);
        _clients.producer.reset();
    }
}

void stream_thread::run() {
    try {
        begin();
        while (!_stop.load(std::memory_order_relaxed)) {
            step();
        }
        finish();
        set_state(thread_state::dead);
    } catch (...) {
        try {
            throw;
        } catch (const std::exception& e) {
            logger()->error("thread died thread={} error=\"{}\"", _name, e.what());
        } catch (...) {
            logger()->error("thread died thread={}", _name);
        }
        _tasks->fail();
        try {
            _tasks->abort_after_loss();
            close_clients();
        } catch (...) {
            logger()->error("closing after an error failed thread={}", _name);
        }
        set_state(thread_state::dead);
        if (_on_error) {
            _on_error(*this, std::current_exception());
        }
    }
}

} // namespace eddy::runtime::internal
