#include "runtime/internal/state_restorer.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "operators/window.h"
#include "runtime/internal/client_config.h"
#include "runtime/internal/log.h"
#include "runtime/kafka_error.h"
#include "statestore/internal/bytes_store.h"

namespace eddy::runtime::internal {
namespace {

constexpr const char* checkpoint_file = ".checkpoint";
// Updates written into a store at once.
constexpr std::size_t batch_size = 10'000;
// A restore that gets no record and no end of partition for this long has
// lost its broker.
constexpr auto restore_stall_limit = std::chrono::seconds(60);

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
        rd_kafka_consumer_close(_consumer);
        rd_kafka_destroy(_consumer);
    }
}

rd_kafka_t* state_restorer::consumer() {
    if (_consumer == nullptr) {
        _consumer = make_client(RD_KAFKA_CONSUMER, _settings);
        rd_kafka_poll_set_consumer(_consumer);
    }
    return _consumer;
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

    struct pending {
        stream_task* task;
        const changelog_partition* log;
        std::int64_t start = 0;
        std::int64_t end = 0;
        std::int64_t restored = 0;
        bool done = false;
        // The consumed records of the batch, owned until it is written.
        std::vector<std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)>> messages;
        std::vector<statestore::internal::bytes_update> batch;
        // Values with the record's timestamp put in front (a table store
        // that keeps them, restored from its source topic).
        std::vector<std::unique_ptr<std::string>> stamped;
    };
    std::vector<pending> work;
    rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(4);
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
                rd_kafka_topic_partition_list_destroy(assignment);
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
            work.push_back({&task, &log, start, high, 0, false, {}, {}, {}});
            rd_kafka_topic_partition_list_add(assignment, log.topic.c_str(), log.partition)->offset = start;
        }
    }
    if (work.empty()) {
        rd_kafka_topic_partition_list_destroy(assignment);
        return result;
    }
    auto err = rd_kafka_assign(c, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw kafka_error(err, fmt::format("cannot assign the changelogs of {} tasks: {}", tasks.size(),
                                   rd_kafka_err2str(err)));
    }

    auto flush = [&](pending& p, std::int64_t last_offset) {
        if (p.batch.empty()) {
            return;
        }
        p.log->store->engine().write_batch(p.batch);
        p.restored += static_cast<std::int64_t>(p.batch.size());
        p.batch.clear();
        p.messages.clear();
        p.stamped.clear();
        if (_listener) {
            _listener->on_batch_restored(p.log->topic, p.log->partition, p.log->store->name(), last_offset, p.restored);
        }
    };
    std::size_t remaining = work.size();
    auto last_progress = std::chrono::steady_clock::now();
    std::int64_t total = 0;
    auto finish = [&](pending& p, std::int64_t up_to) {
        p.done = true;
        --remaining;
        result[{p.log->topic, p.log->partition}] = up_to;
        total += p.restored;
        if (_listener) {
            _listener->on_restore_end(p.log->topic, p.log->partition, p.log->store->name(), p.restored);
        }
        logger()->log(level, "restored task={} store={} records={} up_to={} standby={}", p.task->id().to_string(),
            p.log->store->name(), p.restored, up_to, standby);
    };
    try {
        while (remaining > 0) {
            std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> m(
                rd_kafka_consumer_poll(c, 200), &rd_kafka_message_destroy);
            const auto now = std::chrono::steady_clock::now();
            if (m == nullptr) {
                if (now - last_progress > restore_stall_limit) {
                    throw kafka_error(RD_KAFKA_RESP_ERR__TIMED_OUT,
                        fmt::format("restoring {} tasks made no progress for {} s", tasks.size(),
                            std::chrono::duration_cast<std::chrono::seconds>(restore_stall_limit).count()));
                }
                continue;
            }
            pending* p = nullptr;
            if (m->rkt != nullptr) {
                const char* topic = rd_kafka_topic_name(m->rkt);
                for (auto& w : work) {
                    if (!w.done && w.log->partition == m->partition && w.log->topic == topic) {
                        p = &w;
                        break;
                    }
                }
            }
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (p != nullptr) {
                    flush(*p, m->offset - 1);
                    finish(*p, m->offset);
                }
                last_progress = now;
                continue;
            }
            if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                std::string what = rd_kafka_message_errstr(m.get());
                if (m->err == RD_KAFKA_RESP_ERR__FATAL || m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
                    throw kafka_error(m->err, fmt::format("restoring failed: {}", what));
                }
                logger()->warn("restore consumer error error={}", what);
                continue;
            }
            if (p == nullptr || m->offset >= p->end) {
                continue;
            }
            last_progress = now;
            std::string_view key = m->key != nullptr ? std::string_view(static_cast<const char*>(m->key), m->key_len)
                                                     : std::string_view();
            std::optional<std::string_view> value;
            if (m->payload != nullptr) {
                value.emplace(static_cast<const char*>(m->payload), m->len);
            }
            if (value && p->log->source && p->log->store->timestamps_source_values()) {
                auto& stamped = *p->stamped.emplace_back(std::make_unique<std::string>());
                serdes::internal::put_int64(stamped, rd_kafka_message_timestamp(m.get(), nullptr));
                stamped += *value;
                value = stamped;
            }
            p->batch.emplace_back(key, value);
            const auto offset = m->offset;
            p->messages.push_back(std::move(m));
            if (p->batch.size() >= batch_size) {
                flush(*p, offset);
            }
            if (offset + 1 >= p->end) {
                // Up to the end asked for (a source topic's committed offset,
                // or the high watermark read at the start).
                flush(*p, offset);
                finish(*p, offset + 1);
            }
        }
    } catch (...) {
        rd_kafka_assign(c, nullptr);
        throw;
    }
    rd_kafka_assign(c, nullptr);
    if (restored_records != nullptr) {
        *restored_records = total;
    }
    return result;
}

} // namespace eddy::runtime::internal
