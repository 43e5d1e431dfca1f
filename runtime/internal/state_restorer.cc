#include "runtime/internal/state_restorer.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "core/window.h"
#include "runtime/internal/changelog_reader.h"
#include "runtime/internal/client_config.h"
#include "runtime/internal/log.h"
#include "runtime/kafka_error.h"
#include "statestore/internal/bytes_store.h"

namespace eddy::runtime::internal {
namespace {

constexpr const char* checkpoint_file = ".checkpoint";

} // namespace

changelog_offsets read_checkpoint(const std::filesystem::path& task_dir) {
    changelog_offsets out;
    std::ifstream in(task_dir / checkpoint_file);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string topic;
        std::int32_t partition = 0;
        std::int64_t offset = 0;
        if (fields >> topic >> partition >> offset) {
            out[{topic, partition}] = offset;
        } else {
            logger()->warn("checkpoint line ignored dir={} line=\"{}\"", task_dir.string(), line);
        }
    }
    return out;
}

void write_checkpoint(const std::filesystem::path& task_dir, const changelog_offsets& offsets) {
    const auto tmp = task_dir / (std::string(checkpoint_file) + ".tmp");
    {
        std::ofstream out(tmp, std::ios::trunc);
        for (const auto& [tp, offset] : offsets) {
            out << tp.first << ' ' << tp.second << ' ' << offset << '\n';
        }
        out.flush();
        if (!out) {
            throw std::runtime_error(fmt::format("cannot write the checkpoint {}", tmp.string()));
        }
    }
    std::filesystem::rename(tmp, task_dir / checkpoint_file);
}

void delete_checkpoint(const std::filesystem::path& task_dir) {
    std::error_code ignored;
    std::filesystem::remove(task_dir / checkpoint_file, ignored);
}

state_restorer::state_restorer(std::map<std::string, std::string> consumer_settings, std::string client_id,
    std::shared_ptr<state_restore_listener> listener)
    : _settings(std::move(consumer_settings)), _listener(std::move(listener)) {
    // It assigns partitions itself and commits nothing; librdkafka's poll
    // still wants a group id, which it never joins.
    _settings["group.id"] = _settings["group.id"] + "-restore";
    _settings["client.id"] = std::move(client_id);
    _settings["enable.partition.eof"] = "true";
    _settings["enable.auto.commit"] = "false";
    _settings["auto.offset.reset"] = "earliest";
    _settings.erase("partition.assignment.strategy");
    _settings.erase("statistics.interval.ms");
}

state_restorer::~state_restorer() {
    if (_consumer != nullptr) {
        rd_kafka_consumer_close(_consumer.get());
    }
}

rd_kafka_t* state_restorer::consumer() {
    if (_consumer == nullptr) {
        _consumer.reset(make_client(RD_KAFKA_CONSUMER, _settings));
        rd_kafka_poll_set_consumer(_consumer.get());
    }
    return _consumer.get();
}

changelog_offsets state_restorer::restore(
    const std::vector<stream_task*>& tasks, const changelog_offsets& committed, std::int64_t* restored_records) {
    return run(tasks, committed, nullptr, restored_records);
}

std::int64_t state_restorer::catch_up(const std::vector<stream_task*>& tasks, changelog_offsets& positions) {
    std::int64_t written = 0;
    for (const auto& [tp, offset] : run(tasks, {}, &positions, &written)) {
        positions[tp] = offset;
    }
    return written;
}

changelog_offsets state_restorer::run(const std::vector<stream_task*>& tasks, const changelog_offsets& committed,
    const changelog_offsets* positions, std::int64_t* restored_records) {
    const bool standby = positions != nullptr;
    const auto level = standby ? spdlog::level::debug : spdlog::level::info;
    changelog_offsets result;
    auto* c = consumer();

    // The ranges to read, and the task of each.
    std::vector<changelog_range> ranges;
    std::vector<const stream_task*> task_of;
    for (auto* each : tasks) {
        auto& task = *each;
        const auto checkpoint = read_checkpoint(task.directory());
        for (const auto& log : task.changelogs()) {
            if (standby && log.source) {
                continue;
            }
            std::int64_t low = 0;
            std::int64_t high = 0;
            auto err = rd_kafka_query_watermark_offsets(c, log.topic.c_str(), log.partition, &low, &high, 10'000);
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw kafka_error(err, fmt::format("cannot read the offsets of changelog {} partition {} (store {}): {}",
                                           log.topic, log.partition, log.store->name(), rd_kafka_err2str(err)));
            }
            if (log.source) {
                // A source topic is restored up to the committed offset; what
                // follows is the task's to process.
                auto limit = committed.find({log.topic, log.partition});
                high = limit == committed.end() ? low : std::clamp(limit->second, low, high);
            }
            auto& store = *log.store;
            std::int64_t start = low;
            auto saved = checkpoint.find({log.topic, log.partition});
            const auto* last_round = standby ? positions : nullptr;
            auto resumed = last_round ? last_round->find({log.topic, log.partition}) : changelog_offsets::const_iterator{};
            if (last_round && resumed != last_round->end() && resumed->second >= low && resumed->second <= high) {
                // A standby's next round: the store holds what the last one
                // wrote, whatever its engine.
                start = resumed->second;
            } else if (store.engine().persistent() && saved != checkpoint.end() && saved->second >= low
                && saved->second <= high && !store.engine().opened_empty()) {
                start = saved->second;
            } else if (store.engine().persistent()) {
                // No checkpoint, one the log does not have (ahead of it, or
                // truncated away), or one written for files that are gone
                // (the store's folder deleted, or wiped as damaged): what the
                // store holds cannot be trusted.
                if (saved != checkpoint.end() && store.engine().opened_empty()) {
                    logger()->warn("checkpoint of a store that is no longer on disk ignored, restoring from the "
                                   "changelog's start task={} store={} checkpoint={} low={} high={}",
                        task.id().to_string(), store.name(), saved->second, low, high);
                } else if (saved != checkpoint.end()) {
                    logger()->warn("checkpoint outside the changelog, store wiped task={} store={} checkpoint={} "
                                   "low={} high={}",
                        task.id().to_string(), store.name(), saved->second, low, high);
                }
                task.reset_store(store);
            }
            logger()->log(level, "restore task={} store={} changelog={}-{} from={} to={} standby={}",
                task.id().to_string(), store.name(), log.topic, log.partition, start, high, standby);
            if (_listener) {
                _listener->on_restore_start(log.topic, log.partition, store.name(), start, high);
            }
            if (start >= high) {
                result[{log.topic, log.partition}] = high;
                if (_listener) {
                    _listener->on_restore_end(log.topic, log.partition, store.name(), 0);
                }
                continue;
            }
            ranges.push_back(
                {log.topic, log.partition, start, high, log.store, log.source && store.timestamps_source_values()});
            task_of.push_back(&task);
        }
    }
    std::int64_t total = 0;
    changelog_read_events events;
    events.on_batch = [&](const changelog_range& r, std::int64_t last_offset, std::int64_t restored) {
        if (_listener) {
            _listener->on_batch_restored(r.topic, r.partition, r.store->name(), last_offset, restored);
        }
    };
    events.on_end = [&](const changelog_range& r, std::int64_t up_to, std::int64_t restored) {
        result[{r.topic, r.partition}] = up_to;
        total += restored;
        if (_listener) {
            _listener->on_restore_end(r.topic, r.partition, r.store->name(), restored);
        }
        const auto* task = task_of[static_cast<std::size_t>(&r - ranges.data())];
        logger()->log(level, "restored task={} store={} records={} up_to={} standby={}", task->id().to_string(),
            r.store->name(), restored, up_to, standby);
    };
    read_changelogs(c, ranges, events, fmt::format("restoring {} tasks", tasks.size()));
    if (restored_records != nullptr) {
        *restored_records = total;
    }
    return result;
}

} // namespace eddy::runtime::internal
