#include "runtime/internal/task_manager.h"

#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <fmt/format.h>

#include "runtime/internal/log.h"

namespace eddy::runtime::internal {

namespace {

using clock = std::chrono::steady_clock;

std::int64_t us_since(clock::time_point start, clock::time_point now) {
    return std::chrono::duration_cast<std::chrono::microseconds>(now - start).count();
}

constexpr std::int64_t latency_sample_every = 16;

} // namespace

task_manager::task_manager(parts p) : _p(std::move(p)) {
    _cache = std::make_shared<statestore::internal::cache_budget>(_p.settings.cache_max_bytes);
    _may_hold = _p.topo.holds_input();
    for (std::size_t s = 0; s < _p.topo.subtopology_count(); ++s) {
        _has_stores = _has_stores || !_p.topo.stores_of(static_cast<int>(s)).empty();
    }
    _last_commit = _p.clock.now();
}

task_manager::~task_manager() = default;

void task_manager::on_assigned(const std::vector<topic_partition>& partitions) {
    _p.on_rebalance();
    _assigned_once = true;
    const auto& settings = _p.settings;
    // The new tasks first, restored together (their changelogs read in one
    // pass) before queries or the loop can see them.
    std::map<task_id, std::unique_ptr<stream_task>> fresh;
    for (const auto& [topic, partition] : partitions) {
        auto sub = _p.topo.subtopology_of(topic, settings.application_id);
        task_id id{sub.value_or(-1), partition};
        if (sub && !_tasks.contains(id) && !fresh.contains(id)) {
            if (settings.handover) {
                // A standby copy of its stores closes first.
                settings.handover->acquire(id);
            }
            auto task = std::make_unique<stream_task>(_p.topo, id, settings.application_id, _p.collector,
                [clock = &_p.clock] { return clock->wall_ms(); }, settings.deserialization_handler,
                task_storage{settings.state_dir / settings.application_id, settings.store_memory,
                    settings.global_stores, _cache});
            task->set_error_handling(
                {settings.processing_handler, settings.production_handler, settings.dead_letter_topic, _p.dead_letters});
            fresh.emplace(id, std::move(task));
        }
    }
    std::vector<stream_task*> made;
    for (auto& [id, task] : fresh) {
        made.push_back(task.get());
    }
    restore(made);
    for (auto& [id, task] : fresh) {
        {
            std::scoped_lock lock(_tasks_mutex);
            _tasks[id].task = std::move(task);
        }
        std::scoped_lock lock(_stats_mutex);
        _processed_by_task[id.to_string()] = _tasks[id].processed;
        logger()->info("task created thread={} task={}", _p.thread_name, id.to_string());
    }
    for (const auto& tp : partitions) {
        auto sub = _p.topo.subtopology_of(tp.first, settings.application_id);
        if (!sub) {
            logger()->warn("assigned a topic no source reads thread={} topic={}", _p.thread_name, tp.first);
            continue;
        }
        task_id id{*sub, tp.second};
        auto& t = _tasks.at(id);
        auto* source = t.task->source_of(tp.first);
        if (source == nullptr) {
            throw std::logic_error(fmt::format("task {} has no source for topic {}", id.to_string(), tp.first));
        }
        t.input.add(tp, *source);
        _task_of[tp] = id;
    }
    _routes.clear();
    // A partition paused before it was revoked stays paused in librdkafka:
    // every assigned partition starts resumed.
    _p.consumer.resume(partitions);
}

void task_manager::on_revoked(const std::vector<topic_partition>& partitions, bool lost) {
    _p.on_rebalance();
    bool clean = false;
    if (lost || _failed) {
        // Another member owns these now: whatever was not committed is
        // theirs to process again; nothing may be committed from here.
        abort_after_loss();
    } else {
        commit(true);
        clean = !_dirty && !_p.collector.transaction_open();
    }
    _p.consumer.resume(partitions);
    _routes.clear();
    for (const auto& tp : partitions) {
        auto it = _task_of.find(tp);
        if (it == _task_of.end()) {
            continue;
        }
        auto id = it->second;
        _task_of.erase(it);
        auto& t = _tasks.at(id);
        if (!t.input.remove(tp)) {
            continue;
        }
        if (clean) {
            checkpoint(t);
        }
        std::scoped_lock tasks_lock(_tasks_mutex);
        t.task->close();
        _tasks.erase(id);
        if (_p.settings.handover) {
            _p.settings.handover->release(id);
        }
        std::scoped_lock lock(_stats_mutex);
        _processed_by_task.erase(id.to_string());
        logger()->info("task closed thread={} task={} lost={}", _p.thread_name, id.to_string(), lost);
    }
}

// Catches the tasks' stores up with their changelogs before they process.
// Under exactly-once the checkpoint goes once the task runs: a crash must
// not leave one describing uncommitted store contents.
void task_manager::restore(const std::vector<stream_task*>& all) {
    std::vector<stream_task*> with_logs;
    for (auto* t : all) {
        if (!t->changelogs().empty()) {
            with_logs.push_back(t);
        }
    }
    if (with_logs.empty()) {
        return;
    }
    if (!_p.restore) {
        _p.restore = [this](const std::vector<stream_task*>& tasks, const changelog_offsets& committed) {
            if (!_restorer) {
                _restorer = std::make_unique<state_restorer>(_p.settings.consumer_settings,
                    _p.thread_name + "-restore-consumer", _p.settings.restore_listener);
            }
            return _restorer->restore(tasks, committed);
        };
    }
    // A table read from a source topic restores up to the group's committed
    // offset of that topic.
    partition_offsets committed;
    for (auto* task : with_logs) {
        for (const auto& log : task->changelogs()) {
            if (log.source) {
                committed[{log.topic, log.partition}] = RD_KAFKA_OFFSET_INVALID;
            }
        }
    }
    if (!committed.empty()) {
        if (auto err = _p.consumer.committed(committed, _p.settings.transaction_timeout);
            err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw kafka_error(err, fmt::format("cannot read the committed offsets of the tables' source topics: {}",
                                       rd_kafka_err2str(err)));
        }
        std::erase_if(committed, [](const auto& entry) { return entry.second < 0; });
    }
    for (const auto& [tp, offset] : _p.restore(with_logs, committed)) {
        _p.collector.changelog_written()[tp] = offset;
    }
    if (_p.settings.exactly_once) {
        for (auto* task : with_logs) {
            delete_checkpoint(task->directory());
        }
    }
}

// Writes the checkpoint of a task whose stores hold what was committed.
void task_manager::checkpoint(active_task& t) {
    auto& task = *t.task;
    if (task.stores().empty()) {
        return;
    }
    task.flush_stores();
    const auto& written = _p.collector.changelog_written();
    changelog_offsets offsets;
    for (const auto& log : task.changelogs()) {
        topic_partition tp{log.topic, log.partition};
        if (auto* p = t.input.find(tp); log.source && p != nullptr && p->next_offset >= 0) {
            // A source topic: the store holds what was processed.
            offsets[tp] = p->next_offset;
        } else if (auto it = written.find(tp); it != written.end()) {
            offsets.insert(*it);
        }
    }
    write_checkpoint(task.directory(), offsets);
}

const task_manager::route_entry* task_manager::find_route(const client_record& record) {
    const auto key = (static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(record.topic_key())) << 16)
        ^ static_cast<std::uint64_t>(static_cast<std::uint32_t>(record.partition()));
    if (auto it = _routes.find(key); it != _routes.end()) {
        return &it->second;
    }
    auto owner = _task_of.find(topic_partition{std::string(record.topic()), record.partition()});
    if (owner == _task_of.end()) {
        return nullptr;
    }
    auto& t = _tasks.at(owner->second);
    return &_routes.emplace(key, route_entry{&t, t.input.find(owner->first), &owner->first}).first->second;
}

void task_manager::on_record(const client_record& record) {
    if (_p.watch.unreachable()) {
        _p.watch.on_broker_up("consumer");
    }
    const auto* route = find_route(record);
    if (route == nullptr) {
        // A record fetched before its partition was revoked.
        return;
    }
    bump(_p.counters.consumed);
    auto& t = *route->task;
    auto& state = *route->partition;
    if (t.input.size() == 1 && state.buffer.empty() && !t.task->held()) {
        // One input and nothing waiting: no ordering to decide, and nothing
        // to keep: the source reads the record where the consumer holds it.
        process_one(t, state, record);
        return;
    }
    record.read(state.buffer.emplace_back());
    if (state.buffer.size() > _p.settings.buffered_records_per_partition && !state.paused) {
        _p.consumer.pause({*route->key});
        state.paused = true;
        bump(_p.counters.pauses);
        logger()->debug("partition paused thread={} topic={} partition={} buffered={}", _p.thread_name,
            route->key->first, route->key->second, state.buffer.size());
    }
    process_ready(t);
}

// Processes the task's buffered records in timestamp order across its
// partitions.
void task_manager::process_ready(active_task& t) {
    // A retry step that waits on a record holds the rest behind it
    // (buffered; the partition pauses when its buffer fills).
    while (!t.task->held()) {
        auto [key, next] = t.input.next(_p.clock, _p.settings.max_task_idle);
        if (next == nullptr) {
            return;
        }
        raw_record r = std::move(next->buffer.front());
        next->buffer.pop_front();
        process_one(t, *next, r);
        if (next->paused && next->buffer.size() <= _p.settings.buffered_records_per_partition / 2) {
            _p.consumer.resume({*key});
            next->paused = false;
            logger()->debug(
                "partition resumed thread={} topic={} partition={}", _p.thread_name, key->first, key->second);
        }
    }
}

template<typename Record>
void task_manager::process_one(active_task& t, partition_state& partition, const Record& r) {
    _p.collector.begin_transaction_if_needed();
    // The process latency is sampled (one record in 16): reading the clock
    // twice per record costs more than the operators do.
    if (bump(_p.counters.processed) % latency_sample_every == 0) {
        const auto start = _p.clock.now();
        t.task->process(*partition.source, r);
        _p.counters.process_ns.fetch_add(
            std::chrono::duration_cast<std::chrono::nanoseconds>(_p.clock.now() - start).count(),
            std::memory_order_relaxed);
        bump(_p.counters.process_samples);
    } else {
        t.task->process(*partition.source, r);
    }
    bump(*t.processed);
    std::int64_t offset = 0;
    if constexpr (std::is_same_v<Record, raw_record>) {
        offset = r.offset;
    } else {
        offset = r.offset();
    }
    if (t.task->held()) {
        // The record waits in a retry queue: a crash must read it again, so
        // its offset is what gets committed until it is done.
        partition.next_offset = offset;
        if constexpr (std::is_same_v<Record, raw_record>) {
            t.held_at.emplace(r.topic, r.partition);
        } else {
            t.held_at.emplace(std::string(r.topic()), r.partition());
        }
        t.held_offset = offset;
    } else {
        partition.next_offset = offset + 1;
    }
    _dirty = true;
}

bool task_manager::any_held() const {
    if (!_may_hold) {
        return false;
    }
    for (const auto& [id, t] : _tasks) {
        if (t.task->held()) {
            return true;
        }
    }
    return false;
}

// A retry step let go of the task: the held record is done (processed or
// dead-lettered), its offset may be committed, and the records that waited
// go on.
void task_manager::released(active_task& t) {
    if (t.held_at) {
        if (auto* p = t.input.find(*t.held_at); p != nullptr && p->next_offset <= t.held_offset) {
            p->next_offset = t.held_offset + 1;
        }
        t.held_at.reset();
    }
    _dirty = true;
    process_ready(t);
}

void task_manager::process_waiting() {
    if (_p.settings.max_task_idle.count() == 0) {
        return;
    }
    for (auto& [id, t] : _tasks) {
        if (t.input.waiting()) {
            process_ready(t);
        }
    }
}

void task_manager::punctuate() {
    const auto now = _p.clock.wall_ms();
    for (auto& [id, t] : _tasks) {
        const bool was_held = t.task->held();
        if (t.task->punctuate_wall_clock(now) > 0) {
            _dirty = true;
        }
        if (was_held && !t.task->held()) {
            released(t);
        }
    }
}

partition_offsets task_manager::offsets() const {
    partition_offsets out;
    for (const auto& [id, t] : _tasks) {
        t.input.offsets(out);
    }
    return out;
}

void task_manager::commit(bool final) {
    const auto& settings = _p.settings;
    auto& collector = _p.collector;
    // Under exactly-once a held record may already have written part of its
    // output (another branch, a store upstream of the retry step) into the
    // open transaction: committing now would commit that part with an
    // offset that makes a restart process the record again. The commit
    // waits for the hold to end, up to half the transaction timeout (then it
    // commits, the held offset unpassed).
    if (!final && settings.exactly_once && collector.transaction_open() && any_held()
        && _p.clock.now() - collector.transaction_began() < settings.transaction_timeout / 2) {
        return;
    }
    // The record caches write what they collapsed to the stores and the
    // changelogs first: under exactly-once into the open transaction, under
    // at-least-once before the producer flush, so the changelog and the
    // checkpoints hold what the committed output implies.
    if (_has_stores && _cache) {
        for (auto& [id, t] : _tasks) {
            if (t.task->flush_caches() > 0) {
                _dirty = true;
            }
        }
    }
    if (!_dirty && !collector.transaction_open()) {
        if (collector.offsets_after_transaction_pending()) {
            // The embedded broker's copy of the last transaction's offsets
            // failed (a rebalance): again, until it is kept.
            collector.commit_offsets_after_transaction(offsets());
        }
        _last_commit = _p.clock.now();
        return;
    }
    const auto start = _p.clock.now();
    const auto to_commit = offsets();
    switch (collector.commit(to_commit, final, _failed)) {
    case commit_outcome::must_abort:
        abort_and_rewind();
        return;
    case commit_outcome::postponed:
        _last_commit = _p.clock.now();
        return;
    case commit_outcome::committed:
        break;
    }
    _dirty = false;
    if (!settings.exactly_once && _has_stores) {
        // At-least-once: the changelog writes are flushed; the stores may
        // say so.
        for (auto& [id, t] : _tasks) {
            checkpoint(t);
        }
    }
    const auto now = _p.clock.now();
    logger()->debug("committed thread={} partitions={} final={} took_us={}", _p.thread_name, to_commit.size(), final,
        us_since(start, now));
    bump(_p.counters.commits);
    _p.counters.commit_us.fetch_add(us_since(start, now), std::memory_order_relaxed);
    _last_commit = now;
}

void task_manager::abort_and_rewind() {
    _p.collector.abort_transaction();
    partition_offsets committed;
    for (const auto& [tp, id] : _task_of) {
        committed[tp] = RD_KAFKA_OFFSET_INVALID;
    }
    if (!committed.empty()) {
        // Without the committed offsets there is nowhere to rewind to
        // (taking the beginning would commit everything again): wait for
        // the group coordinator.
        for (int attempt = 1;; ++attempt) {
            const auto err = _p.consumer.committed(committed, _p.settings.transaction_timeout);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                break;
            }
            if (_p.stop.load(std::memory_order_relaxed)) {
                throw kafka_error(
                    err, fmt::format("cannot read the committed offsets to rewind to: {}", rd_kafka_err2str(err)));
            }
            logger()->warn("committed offsets not read, trying again thread={} attempt={} error={}", _p.thread_name,
                attempt, rd_kafka_err2str(err));
            for (auto& [tp, offset] : committed) {
                offset = RD_KAFKA_OFFSET_INVALID;
            }
            _p.producer.poll(std::chrono::milliseconds(100));
        }
        for (auto& [tp, offset] : committed) {
            if (offset < 0) {
                offset = RD_KAFKA_OFFSET_BEGINNING;
            }
        }
        _p.consumer.seek(committed, _p.settings.transaction_timeout);
    }
    std::vector<topic_partition> paused;
    for (auto& [id, t] : _tasks) {
        auto more = t.input.rewind();
        paused.insert(paused.end(), more.begin(), more.end());
        // A held record, and those queued behind it, come again from the
        // committed offset: the retry queues forget them.
        t.task->rewind();
        t.held_at.reset();
    }
    if (!paused.empty()) {
        _p.consumer.resume(paused);
    }
    _dirty = false;
    // The stores hold the aborted transaction's writes: rebuild them from
    // what the changelogs committed.
    std::scoped_lock lock(_tasks_mutex);
    for (auto& [id, t] : _tasks) {
        if (!t.task->changelogs().empty()) {
            for (const auto& [name, store] : t.task->stores()) {
                t.task->reset_store(*store);
            }
            restore({t.task.get()});
        }
    }
}

void task_manager::abort_after_loss() {
    _p.collector.abort_after_loss();
    _dirty = false;
}

void task_manager::close_all() {
    {
        std::scoped_lock lock(_tasks_mutex);
        for (auto& [id, t] : _tasks) {
            t.task->close();
            if (_p.settings.handover) {
                _p.settings.handover->release(id);
            }
        }
        _tasks.clear();
    }
    _task_of.clear();
    _routes.clear();
}

std::map<std::string, std::int64_t> task_manager::task_processed() const {
    std::scoped_lock lock(_stats_mutex);
    std::map<std::string, std::int64_t> out;
    for (const auto& [id, n] : _processed_by_task) {
        out[id] = n->load();
    }
    return out;
}

void task_manager::for_each_store(
    const std::string& name, const std::function<void(statestore::internal::store_handle&)>& fn) const {
    std::scoped_lock lock(_tasks_mutex);
    for (const auto& [id, t] : _tasks) {
        if (auto it = t.task->stores().find(name); it != t.task->stores().end()) {
            fn(*it->second);
        }
    }
}

std::int64_t task_manager::sum(std::int64_t (stream_task::*count)() const noexcept) const {
    std::scoped_lock lock(_tasks_mutex);
    std::int64_t n = 0;
    for (const auto& [id, t] : _tasks) {
        n += ((*t.task).*count)();
    }
    return n;
}

std::int64_t task_manager::dropped_records() const {
    return sum(&stream_task::dropped_records);
}

std::int64_t task_manager::deduplicated_records() const {
    return sum(&stream_task::deduplicated_records);
}

} // namespace eddy::runtime::internal
