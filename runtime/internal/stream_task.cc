#include "runtime/internal/stream_task.h"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>

#include "runtime/internal/log.h"
#include "statestore/store_error.h"

namespace eddy::runtime::internal {

stream_task::stream_task(const topology& t, task_id id, std::string application_id, record_collector& collector,
    std::function<std::int64_t()> wall_clock_ms,
    std::shared_ptr<deserialization_exception_handler> deserialization_handler, task_storage storage)
    : stream_task(t.create_task_nodes(id.subtopology, application_id), id, application_id, collector,
          std::move(wall_clock_ms), std::move(deserialization_handler), std::move(storage), id.to_string()) {}

stream_task::stream_task(task_nodes nodes, task_id id, std::string application_id, record_collector& collector,
    std::function<std::int64_t()> wall_clock_ms,
    std::shared_ptr<deserialization_exception_handler> deserialization_handler, task_storage storage,
    const std::string& directory_name)
    : _nodes(std::move(nodes)) {
    _context.application_id = std::move(application_id);
    _context.id = id;
    _context.collector = &collector;
    _context.wall_clock_ms = std::move(wall_clock_ms);
    _context.deserialization_handler = std::move(deserialization_handler);
    _context.global_stores = storage.global_stores;
    if (!_nodes.stores.empty()) {
        if (storage.state_dir.empty()) {
            throw std::invalid_argument(fmt::format("task {} keeps stores but has no state directory", id.to_string()));
        }
        _directory = storage.state_dir / directory_name;
        std::filesystem::create_directories(_directory);
    }
    _storage = storage;
    const bool caching = storage.cache && storage.cache->max_bytes() > 0;
    for (auto& store : _nodes.stores) {
        open_store(*store);
        if (caching && store->caching()) {
            store->enable_cache(storage.cache);
        }
        _context.stores.emplace(store->name(), store.get());
        if (!store->source_topic().empty()) {
            _changelogs.push_back({store->source_topic(), id.partition, store.get(), true});
            continue;
        }
        if (!store->logging()) {
            continue;
        }
        changelog_partition log{fmt::format("{}-{}-changelog", _context.application_id, store->name()), id.partition,
            store.get()};
        // Each change goes to the changelog through the task's collector, in
        // the same commit (or transaction) as the task's output.
        raw_record change;
        change.topic = log.topic;
        change.partition = log.partition;
        change.changelog = true;
        store->set_change_listener([this, scratch = std::move(change)](
                                       std::string_view key, std::optional<std::string_view> value) mutable {
            scratch.timestamp = _context.record_timestamp_ms >= 0 ? _context.record_timestamp_ms
                                                                   : _context.stream_time_ms;
            // The scratch record's strings are reused from change to change.
            if (scratch.key) {
                scratch.key->assign(key);
            } else {
                scratch.key.emplace(key);
            }
            if (!value) {
                scratch.value.reset();
            } else if (scratch.value) {
                scratch.value->assign(*value);
            } else {
                scratch.value.emplace(*value);
            }
            _context.collector->send(scratch);
        });
        _changelogs.push_back(std::move(log));
    }
    for (auto& node : _nodes.nodes) {
        node->init(_context);
    }
}

stream_task::~stream_task() {
    close();
}

void stream_task::close() {
    if (_closed) {
        return;
    }
    _closed = true;
    for (auto& node : _nodes.nodes) {
        node->close();
    }
    // What a cache still holds dirty was not committed: it goes with the
    // task (a clean close flushed it in its last commit).
    for (auto& store : _nodes.stores) {
        store->drop_cache();
        store->engine().close();
    }
}

void stream_task::open_store(statestore::internal::store_handle& store) {
    try {
        store.engine().open(_directory, _storage.memory);
    } catch (const store_corrupted& e) {
        // Kafka Streams treats a store it cannot read as a corrupted task:
        // with a changelog (or a source topic) to restore it from, the
        // files go and the restore starts at the log's beginning; without
        // one there is nothing to rebuild it from.
        if (!store.logging() && store.source_topic().empty()) {
            throw store_error(fmt::format("task {}: {}; the store has no changelog to restore it from, so its "
                                          "folder is left as it is (delete it to start the store empty)",
                _context.id.to_string(), e.what()));
        }
        logger()->warn("store cannot be opened, wiped to restore it from its changelog's start task={} store={} "
                       "error=\"{}\"",
            _context.id.to_string(), store.name(), e.what());
        store.engine().wipe(_directory);
        store.engine().open(_directory, _storage.memory);
    }
}

void stream_task::reset_store(statestore::internal::store_handle& store) {
    store.drop_cache();
    store.engine().wipe(_directory);
    store.engine().open(_directory, _storage.memory);
}

void stream_task::flush_stores() {
    for (auto& store : _nodes.stores) {
        store->engine().flush();
    }
}

std::size_t stream_task::flush_caches() {
    // A flush forwards the aggregations' latest changes, which may fill the
    // caches of stores downstream: again until every cache is clean (a
    // sub-topology is acyclic, so each pass reaches one store further).
    std::size_t n = 0;
    for (std::size_t pass = 0; pass <= _nodes.stores.size(); ++pass) {
        std::size_t flushed = 0;
        for (auto& store : _nodes.stores) {
            flushed += store->flush_cache();
        }
        n += flushed;
        if (flushed == 0) {
            break;
        }
    }
    return n;
}

void stream_task::process(const raw_record& r) {
    auto source = _nodes.sources.find(r.topic);
    if (source == _nodes.sources.end()) {
        throw std::invalid_argument(fmt::format("task {} reads no topic {}", _context.id.to_string(), r.topic));
    }
    process(*source->second, r);
}

operators::internal::raw_node* stream_task::source_of(std::string_view topic) const {
    auto source = _nodes.sources.find(topic);
    return source == _nodes.sources.end() ? nullptr : source->second;
}

template<typename Record>
void stream_task::process_with(operators::internal::raw_node& source, const Record& r,
    const operators::internal::source_bytes& bytes, std::string_view topic, std::int32_t partition,
    std::int64_t offset, std::int64_t timestamp) {
    // Assigning into the metadata kept from the last record reuses its topic
    // string; a punctuation clears it (punctuations see no metadata).
    if (!_context.metadata) {
        _context.metadata.emplace();
    }
    _context.metadata->topic.assign(topic);
    _context.metadata->partition = partition;
    _context.metadata->offset = offset;
    // The source sets the record's event time and advances stream time
    // (a timestamp extractor may pick another time than the record's).
    _context.record_timestamp_ms = timestamp;
    // The bytes a dead letter keeps, for as long as the record is in flight
    // (a punctuation after it sees none, nor does one after a failure).
    _context.raw = bytes;
    struct clear_raw {
        operators::internal::task_context& context;
        ~clear_raw() { context.raw = nullptr; }
    } guard{_context};
    if constexpr (std::is_same_v<Record, raw_record>) {
        source.process_raw(r);
    } else {
        source.process_consumed(r);
    }
    _context.record_timestamp_ms = -1;
    _context.punctuate(punctuation_type::stream_time, _context.stream_time_ms);
}

void stream_task::process(operators::internal::raw_node& source, const raw_record& r) {
    process_with(source, r, &r, r.topic, r.partition, r.offset, r.timestamp);
}

void stream_task::process(operators::internal::raw_node& source, const consumed_record& r) {
    process_with(source, r, operators::internal::source_bytes(r, _context.consumed_bytes), r.topic(), r.partition(),
        r.offset(), r.timestamp());
}

void stream_task::set_error_handling(task_error_handling h) {
    _context.processing_handler = std::move(h.processing);
    _context.production_handler = std::move(h.production);
    _context.dead_letter_topic = std::move(h.dead_letter_topic);
    _context.dead_letters = std::move(h.dead_letters);
}

int stream_task::punctuate_wall_clock(std::int64_t now_ms) {
    return _context.punctuate(punctuation_type::wall_clock_time, now_ms);
}

} // namespace eddy::runtime::internal
