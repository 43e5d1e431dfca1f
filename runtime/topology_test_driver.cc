#include "runtime/topology_test_driver.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "runtime/internal/health_monitor.h"
#include "runtime/internal/stream_task.h"

namespace eddy {

// Captures what sinks write; a record for a topic the topology reads is
// queued to be processed again, as on a broker. A sink writes one topic
// record after record: the collector keeps where the last one went.
class topology_test_driver::collector final : public record_collector {
public:
    explicit collector(topology_test_driver& driver) : _driver(&driver) {}
    void send(const raw_record& sent) override {
        if (_output == nullptr || _topic != sent.topic) {
            _topic = sent.topic;
            _output = &_driver->_outputs[_topic];
            _next_offset = &_driver->_next_offset[_topic];
            _read = _driver->_task_of_topic.contains(_topic);
        }
        auto& r = _output->records.emplace_back(sent);
        r.partition = 0;
        r.offset = (*_next_offset)++;
        if (_read) {
            _driver->_pending.push_back(r);
        }
    }

private:
    topology_test_driver* _driver;
    // The last record's topic, its queue and offsets (map nodes stay put),
    // and whether a source reads it.
    std::string _topic;
    unread_records* _output = nullptr;
    std::int64_t* _next_offset = nullptr;
    bool _read = false;
};

topology_test_driver::topology_test_driver(const topology& t, const streams_config& config,
    std::int64_t initial_wall_clock_ms)
    : _wall_clock_ms(initial_wall_clock_ms), _collector(std::make_unique<collector>(*this)) {
    // It names a folder under state.dir: checked as kafka_streams checks it.
    auto application_id = config.get(streams_config::application_id) ? config.application_id_checked()
                                                                      : std::string("topology-test-driver");
    auto handler = config.make_deserialization_handler();
    _health = std::make_shared<runtime::internal::health_monitor>(
        config.integer(streams_config::dead_letter_degraded_rate));
    _dead_letters = std::make_shared<dead_letter_stats>();
    _dead_letters->on_dead_letter = [monitor = _health](std::int64_t now_ms) { monitor->record_dead_letter(now_ms); };
    const runtime::internal::task_error_handling errors{config.make_processing_handler(),
        config.make_production_handler(), config.get_or(streams_config::dead_letter_topic, ""), _dead_letters};
    runtime::internal::task_storage storage;
    if (auto dir = config.get_or("state.dir", ""); !dir.empty()) {
        storage.state_dir = std::filesystem::path(dir) / application_id;
    } else {
        std::string pattern = (std::filesystem::temp_directory_path() / "eddy-test-driver-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error(fmt::format("cannot make a state directory {}: {}", pattern, std::strerror(errno)));
        }
        _temporary_state_dir = pattern;
        storage.state_dir = pattern;
    }
    storage.memory = statestore::internal::make_memory_budget(64ULL << 20);
    const auto cache_bytes = config.integer("statestore.cache.max.bytes");
    storage.cache = std::make_shared<statestore::internal::cache_budget>(static_cast<std::uint64_t>(cache_bytes));
    if (auto globals = t.global_stores(); !globals.empty()) {
        // The global tables' nodes as one task (its stores under "global"),
        // made first: the other tasks' processors may read its stores.
        _tasks.push_back(std::make_unique<runtime::internal::stream_task>(t.create_global_task_nodes(),
            task_id{globals.front().subtopology, 0}, application_id, *_collector, [this] { return _wall_clock_ms; },
            handler, storage, "global"));
        _tasks.back()->set_error_handling(errors);
        auto shared = std::make_shared<std::map<std::string, statestore::internal::store_handle*, std::less<>>>();
        for (const auto& g : globals) {
            shared->emplace(g.store, _tasks.back()->stores().at(g.store));
            _task_of_topic.emplace(g.topic, _tasks.back().get());
        }
        storage.global_stores = std::move(shared);
    }
    for (std::size_t s = 0; s < t.subtopology_count(); ++s) {
        const int id = static_cast<int>(s);
        if (t.is_global(id)) {
            continue;
        }
        _tasks.push_back(std::make_unique<runtime::internal::stream_task>(t, task_id{id, 0}, application_id,
            *_collector, [this] { return _wall_clock_ms; }, handler, storage));
        _tasks.back()->set_error_handling(errors);
        for (const auto& topic : t.source_topics(id, application_id)) {
            _task_of_topic.emplace(topic, _tasks.back().get());
        }
    }
}

topology_test_driver::~topology_test_driver() {
    // Last made, first closed: the global task's stores outlive the tasks
    // that read them.
    while (!_tasks.empty()) {
        _tasks.pop_back();
    }
    if (!_temporary_state_dir.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(_temporary_state_dir, ignored);
    }
}

statestore::internal::store_handle& topology_test_driver::store_handle(const std::string& name) {
    for (auto& task : _tasks) {
        if (auto it = task->stores().find(name); it != task->stores().end()) {
            return *it->second;
        }
    }
    throw store_error(fmt::format("the topology has no store {}", name));
}

std::int64_t topology_test_driver::dropped_records() const {
    std::int64_t n = 0;
    for (const auto& task : _tasks) {
        n += task->dropped_records();
    }
    return n;
}

std::int64_t topology_test_driver::deduplicated_records() const {
    std::int64_t n = 0;
    for (const auto& task : _tasks) {
        n += task->deduplicated_records();
    }
    return n;
}

std::int64_t topology_test_driver::dead_letter_records() const {
    return _dead_letters->total();
}

std::int64_t topology_test_driver::dead_letter_records(error_kind kind) const {
    return _dead_letters->by_kind[static_cast<std::size_t>(kind)].load();
}

health_report topology_test_driver::health() const {
    return _health->report(_wall_clock_ms);
}

std::set<std::string> topology_test_driver::store_names() const {
    std::set<std::string> out;
    for (const auto& task : _tasks) {
        for (const auto& [name, store] : task->stores()) {
            out.insert(name);
        }
    }
    return out;
}

void topology_test_driver::require_serdes(const std::string& topic, bool key, bool value) const {
    if (!key || !value) {
        throw std::invalid_argument(fmt::format(
            "test topic {}: no {} serde for its type; pass one", topic, key ? "value" : "key"));
    }
}

void topology_test_driver::advance_wall_clock_time(std::chrono::milliseconds by) {
    if (by.count() < 0) {
        throw std::invalid_argument("advance_wall_clock_time: the clock cannot go back");
    }
    _wall_clock_ms += by.count();
    for (auto& task : _tasks) {
        task->punctuate_wall_clock(_wall_clock_ms);
    }
    process_pending();
    commit();
}

void topology_test_driver::pipe_raw(const raw_record& r) {
    if (_input.task == nullptr || _input.topic != r.topic) {
        auto reader = _task_of_topic.find(r.topic);
        if (reader == _task_of_topic.end()) {
            throw std::invalid_argument(fmt::format("unknown topic {}: no source of the topology reads it", r.topic));
        }
        _input = {r.topic, reader->second, reader->second->source_of(r.topic), &_next_offset[r.topic]};
    }
    if (_processing) {
        // Piped from inside processing: after the record being processed.
        auto& queued = _pending.emplace_back(r);
        queued.partition = 0;
        queued.offset = (*_input.next_offset)++;
        commit();
        return;
    }
    _scratch = r;
    _scratch.partition = 0;
    _scratch.offset = (*_input.next_offset)++;
    process_pending(&_scratch, _input.task, _input.source);
    commit();
}

void topology_test_driver::commit() {
    // As Kafka Streams' TopologyTestDriver, a commit after every input: the
    // record caches write through, so the changelogs show every update, and
    // the aggregations forward their latest changes; what those write to a
    // topic the topology reads is processed, and committed, in turn.
    for (;;) {
        for (auto& task : _tasks) {
            task->flush_caches();
        }
        if (_pending.empty() || _processing) {
            return;
        }
        process_pending();
    }
}

void topology_test_driver::route(
    runtime::internal::stream_task& task, operators::internal::raw_node* source, raw_record& r) {
    if (auto w = _waiting.find(&task); task.held() || (w != _waiting.end() && !w->second.empty())) {
        // Behind the held record, as the runtime buffers them.
        _waiting[&task].push_back(std::move(r));
    } else if (source != nullptr) {
        task.process(*source, r);
    } else {
        task.process(r);
    }
}

void topology_test_driver::process_pending(
    raw_record* first, runtime::internal::stream_task* reader, operators::internal::raw_node* source) {
    // A record written to a source topic while processing is processed after
    // the record that wrote it, not inside it.
    if (_processing || (first != nullptr && !_pending.empty())) {
        if (first != nullptr) {
            _pending.push_back(std::move(*first));
        }
        if (_processing) {
            return;
        }
        first = nullptr;
    }
    _processing = true;
    try {
        if (first != nullptr) {
            route(*reader, source, *first);
        }
        for (;;) {
            if (!_pending.empty()) {
                auto r = std::move(_pending.front());
                _pending.pop_front();
                route(*_task_of_topic.at(r.topic), nullptr, r);
                continue;
            }
            // A task let go: its waiting records go on, one at a time (each
            // may hold it again).
            bool ran = false;
            for (auto& [task, waiting] : _waiting) {
                if (!task->held() && !waiting.empty()) {
                    auto r = std::move(waiting.front());
                    waiting.pop_front();
                    task->process(r);
                    ran = true;
                    break;
                }
            }
            if (!ran) {
                break;
            }
        }
    } catch (...) {
        _pending.clear();
        _processing = false;
        throw;
    }
    _processing = false;
}

raw_record topology_test_driver::read_raw(const std::string& topic) {
    auto it = _outputs.find(topic);
    if (it == _outputs.end()) {
        throw std::out_of_range(fmt::format("empty topic {}: nothing was written to it", topic));
    }
    if (it->second.empty()) {
        throw std::out_of_range(fmt::format("empty topic {}: every record was read", topic));
    }
    auto& unread = it->second;
    auto r = std::move(unread.records[unread.head++]);
    if (unread.empty()) {
        unread.records.clear();
        unread.head = 0;
    }
    return r;
}

std::size_t topology_test_driver::queue_size(const std::string& topic) const {
    auto it = _outputs.find(topic);
    return it == _outputs.end() ? 0 : it->second.size();
}

std::size_t topology_test_driver::waiting_records() const {
    std::size_t n = 0;
    for (const auto& [task, waiting] : _waiting) {
        n += waiting.size();
    }
    return n;
}

std::set<std::string> topology_test_driver::produced_topic_names() const {
    std::set<std::string> out;
    for (const auto& [topic, q] : _outputs) {
        out.insert(topic);
    }
    return out;
}

} // namespace eddy
