#include "runtime/internal/standby_thread.h"

#include <cstdio>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "runtime/internal/instance_directory.h"
#include "runtime/internal/log.h"
#include "runtime/internal/stream_task.h"

namespace eddy::runtime::internal {
namespace {

// A standby task runs no record through its nodes, so it sends nothing.
class no_output final : public record_collector {
public:
    void send(const raw_record& r) override {
        throw std::logic_error(fmt::format("a standby task sent a record to {}", r.topic));
    }
};

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

struct standby_thread::copy {
    std::unique_ptr<stream_task> task;
    // Where each of its changelog partitions is up to.
    changelog_offsets positions;
    changelog_offsets checkpointed;
    std::chrono::steady_clock::time_point last_checkpoint = std::chrono::steady_clock::now();
};

standby_thread::standby_thread(const topology& t, const thread_settings& settings, options o, owners_fn owners)
    : _topology(t)
    , _settings(settings)
    , _options(std::move(o))
    , _owners(std::move(owners))
    , _collector(std::make_unique<no_output>()) {
    for (const auto& log : t.changelog_topics(settings.application_id)) {
        _logged_subtopologies.insert(log.subtopology);
    }
    // The restore consumer reads what the stream threads' consumers read
    // (read_committed under exactly-once); its restores are not the user's
    // restore listener's business.
    _restorer = std::make_unique<state_restorer>(settings.consumer_settings,
        fmt::format("{}-{}-StandbyThread", settings.application_id, settings.process_id), nullptr);
}

standby_thread::~standby_thread() {
    stop();
}

void standby_thread::start() {
    _thread = std::thread([this] { run(); });
}

void standby_thread::stop() {
    {
        std::scoped_lock lock(_mutex);
        _stop = true;
    }
    _changed.notify_all();
    if (_thread.joinable()) {
        _thread.join();
    }
}

void standby_thread::acquire(const task_id& id) {
    std::unique_lock lock(_mutex);
    _active.insert(id);
    _changed.notify_all();
    // The standby thread closes the copy at its next look (after the round
    // it may be in the middle of).
    _changed.wait(lock, [&] { return !_copies.contains(id); });
}

void standby_thread::release(const task_id& id) {
    std::scoped_lock lock(_mutex);
    _active.erase(id);
}

std::set<std::string> standby_thread::tasks() const {
    std::set<std::string> out;
    std::scoped_lock lock(_mutex);
    for (const auto& [id, c] : _copies) {
        out.insert(id.to_string());
    }
    return out;
}

std::map<std::string, changelog_offsets> standby_thread::positions() const {
    std::map<std::string, changelog_offsets> out;
    std::scoped_lock lock(_mutex);
    for (const auto& [id, c] : _copies) {
        if (c) { // null while it closes
            out[id.to_string()] = c->positions;
        }
    }
    return out;
}

void standby_thread::run() {
    logger()->info("standby thread started replicas={} instance={}", _options.replicas, _options.self);
    auto retry_at = std::chrono::steady_clock::now();
    for (;;) {
        {
            std::unique_lock lock(_mutex);
            _changed.wait_until(lock, std::chrono::steady_clock::now() + _options.interval, [&] {
                if (_stop) {
                    return true;
                }
                for (const auto& id : _active) {
                    if (_copies.contains(id)) {
                        return true;
                    }
                }
                return false;
            });
            if (_stop) {
                break;
            }
        }
        if (std::chrono::steady_clock::now() < retry_at) {
            continue;
        }
        try {
            step();
        } catch (const std::exception& e) {
            // A copy is a cache: an error leaves it behind until the next try.
            logger()->warn("standby round failed instance={} error=\"{}\"", _options.self, e.what());
            retry_at = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        }
    }
    std::vector<task_id> open;
    {
        std::scoped_lock lock(_mutex);
        for (const auto& [id, c] : _copies) {
            open.push_back(id);
        }
    }
    for (const auto& id : open) {
        try {
            close(id);
        } catch (const std::exception& e) {
            logger()->warn("standby copy not closed cleanly task={} error=\"{}\"", id.to_string(), e.what());
        }
    }
    _changed.notify_all();
    logger()->info("standby thread stopped instance={}", _options.self);
}

void standby_thread::step() {
    std::set<task_id> wanted;
    for (const auto& name : standby_assignment(_owners(), _options.self, _options.replicas)) {
        task_id id;
        if (std::sscanf(name.c_str(), "%d_%d", &id.subtopology, &id.partition) != 2) {
            continue;
        }
        auto p = _options.partitions.find(id.subtopology);
        if (_logged_subtopologies.contains(id.subtopology) && p != _options.partitions.end()
            && id.partition < p->second && !_nothing_to_keep.contains(id)) {
            wanted.insert(id);
        }
    }
    std::vector<task_id> to_close;
    {
        std::scoped_lock lock(_mutex);
        for (const auto& [id, c] : _copies) {
            if (!wanted.contains(id) || _active.contains(id)) {
                to_close.push_back(id);
            }
        }
    }
    for (const auto& id : to_close) {
        close(id);
    }
    for (const auto& id : wanted) {
        open(id);
    }
    std::vector<stream_task*> tasks;
    changelog_offsets positions;
    {
        std::scoped_lock lock(_mutex);
        for (auto& [id, c] : _copies) {
            tasks.push_back(c->task.get());
            positions.insert(c->positions.begin(), c->positions.end());
        }
    }
    if (tasks.empty()) {
        return;
    }
    // Only this thread changes the copies: the tasks stay valid unlocked.
    _restored.fetch_add(_restorer->catch_up(tasks, positions), std::memory_order_relaxed);
    std::scoped_lock lock(_mutex);
    const auto now = std::chrono::steady_clock::now();
    for (auto& [id, c] : _copies) {
        for (const auto& log : c->task->changelogs()) {
            if (auto it = positions.find({log.topic, log.partition}); it != positions.end()) {
                c->positions[it->first] = it->second;
            }
        }
        if (c->positions != c->checkpointed && now - c->last_checkpoint >= _options.checkpoint_interval) {
            checkpoint(*c);
        }
    }
}

void standby_thread::open(const task_id& id) {
    // Under the lock: acquire() either finds the copy (and waits for its
    // close) or has marked the task active before it is opened here.
    std::scoped_lock lock(_mutex);
    if (_copies.contains(id) || _active.contains(id)) {
        return;
    }
    auto c = std::make_unique<copy>();
    c->task = std::make_unique<stream_task>(_topology, id, _settings.application_id, *_collector, wall_ms,
        _settings.deserialization_handler,
        task_storage{_settings.state_dir / _settings.application_id, _settings.store_memory, _settings.global_stores,
            nullptr});
    bool keeps = false;
    for (const auto& log : c->task->changelogs()) {
        keeps = keeps || (!log.source && log.store->engine().persistent());
    }
    if (!keeps) {
        // Nothing that would still be there when the task moves here.
        c->task->close();
        _nothing_to_keep.insert(id);
        logger()->info("no standby copy for a task without persistent logged stores task={}", id.to_string());
        return;
    }
    logger()->info("standby copy opened task={}", id.to_string());
    _copies.emplace(id, std::move(c));
}

void standby_thread::close(const task_id& id) {
    std::unique_ptr<copy> c;
    {
        std::scoped_lock lock(_mutex);
        auto it = _copies.find(id);
        if (it == _copies.end()) {
            return;
        }
        c = std::move(it->second);
    }
    try {
        checkpoint(*c);
    } catch (const std::exception& e) {
        logger()->warn("standby checkpoint not written task={} error=\"{}\"", id.to_string(), e.what());
    }
    c->task->close();
    {
        std::scoped_lock lock(_mutex);
        _copies.erase(id);
    }
    _changed.notify_all();
    logger()->info("standby copy closed task={}", id.to_string());
}

void standby_thread::checkpoint(copy& c) {
    if (c.positions.empty()) {
        return;
    }
    // The stores' writes reach disk before the checkpoint names them.
    c.task->flush_stores();
    write_checkpoint(c.task->directory(), c.positions);
    c.checkpointed = c.positions;
    c.last_checkpoint = std::chrono::steady_clock::now();
}

} // namespace eddy::runtime::internal
