#include "runtime/internal/global_stream_thread.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include "runtime/internal/changelog_reader.h"
#include "runtime/internal/client_config.h"
#include "runtime/internal/log.h"
#include "runtime/internal/rdkafka_clients.h"
#include "runtime/internal/state_restorer.h"
#include "runtime/internal/stream_task.h"
#include "runtime/kafka_error.h"
#include "runtime/streams_config.h"

namespace eddy::runtime::internal {
namespace {

using clock = std::chrono::steady_clock;


// The global tables' nodes write nothing: a record sent here (by a
// dead-letter handler, say) is logged and dropped.
class no_output_collector final : public record_collector {
public:
    void send(const raw_record& r) override {
        logger()->error("the global thread writes no records, record dropped topic={} partition={}", r.topic,
            r.partition);
    }
};

} // namespace

struct global_stream_thread::impl {
    const topology* topo = nullptr;
    thread_settings settings;
    no_output_collector collector;
    client_ptr consumer;
    std::unique_ptr<stream_task> task;
    // Per global topic: its store and the source node that reads it.
    struct table {
        statestore::internal::store_handle* store = nullptr;
        operators::internal::raw_node* source = nullptr;
    };
    std::map<std::string, table, std::less<>> tables;
    // The next offset to read per partition: what the stores hold.
    changelog_offsets positions;
    bool unsaved = false;
    clock::time_point last_checkpoint = clock::now();

    ~impl() { close(); }

    void checkpoint() {
        task->flush_stores();
        write_checkpoint(task->directory(), positions);
        unsaved = false;
        last_checkpoint = clock::now();
    }

    void close() {
        if (task) {
            task->close();
            task.reset();
        }
        if (consumer != nullptr) {
            rd_kafka_consumer_close(consumer.get());
            consumer.reset();
        }
    }

    int partition_count(const std::string& topic, const std::string& store) const {
        const rdkafka_ptr<rd_kafka_topic_t> rkt(rd_kafka_topic_new(consumer.get(), topic.c_str(), nullptr));
        const rd_kafka_metadata_t* md = nullptr;
        auto err = rd_kafka_metadata(consumer.get(), 0, rkt.get(), &md, 10'000);
        const metadata_ptr owned(md);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw kafka_error(err, fmt::format("cannot read the metadata of topic {} (global store {}): {}", topic,
                                       store, rd_kafka_err2str(err)));
        }
        int n = 0;
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            n = md->topics[0].partition_cnt;
        }
        if (n == 0) {
            throw config_error(fmt::format(
                "source topic {} of global store {} does not exist; create it first", topic, store));
        }
        return n;
    }

    // Reads every partition from its start to the end found at the start,
    // writing the bytes straight into the stores (Kafka Streams' global
    // restore: the store keeps what the topic has).
    void restore() {
        std::vector<changelog_range> ranges;
        const auto saved = read_checkpoint(task->directory());
        const auto& listener = settings.restore_listener;
        for (const auto& g : topo->global_stores()) {
            auto& store = *tables.at(g.topic).store;
            const int partitions = partition_count(g.topic, g.store);
            std::vector<std::pair<std::int64_t, std::int64_t>> marks(static_cast<std::size_t>(partitions));
            // A checkpoint counts only for the files it was written with.
            bool trusted = store.engine().persistent() && !store.engine().opened_empty();
            bool had_checkpoint = false;
            for (std::int32_t p = 0; p < partitions; ++p) {
                auto& [low, high] = marks[static_cast<std::size_t>(p)];
                auto err = rd_kafka_query_watermark_offsets(consumer.get(), g.topic.c_str(), p, &low, &high, 10'000);
                if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                    throw kafka_error(err, fmt::format("cannot read the offsets of topic {} partition {} (global "
                                                       "store {}): {}",
                                               g.topic, p, g.store, rd_kafka_err2str(err)));
                }
                auto it = saved.find({g.topic, p});
                had_checkpoint = had_checkpoint || it != saved.end();
                trusted = trusted && it != saved.end() && it->second >= low && it->second <= high;
            }
            if (store.engine().persistent() && !trusted) {
                // A partition without a checkpoint, or with one the topic does
                // not have: what the store holds cannot be trusted.
                if (had_checkpoint && store.engine().opened_empty()) {
                    logger()->warn("checkpoint of a global store that is no longer on disk ignored, restoring from "
                                   "the topic's start store={} topic={}",
                        g.store, g.topic);
                } else if (had_checkpoint) {
                    logger()->warn("global checkpoint outside the topic, store wiped store={} topic={}", g.store,
                        g.topic);
                }
                task->reset_store(store);
            }
            for (std::int32_t p = 0; p < partitions; ++p) {
                const auto [low, high] = marks[static_cast<std::size_t>(p)];
                const std::int64_t start = trusted ? saved.at({g.topic, p}) : low;
                logger()->info("global restore store={} topic={} partition={} from={} to={}", g.store, g.topic, p,
                    start, high);
                if (listener) {
                    listener->on_restore_start(g.topic, p, g.store, start, high);
                }
                positions[{g.topic, p}] = start;
                if (start >= high) {
                    if (listener) {
                        listener->on_restore_end(g.topic, p, g.store, 0);
                    }
                    continue;
                }
                ranges.push_back({g.topic, p, start, high, &store, false});
            }
        }
        changelog_read_events events;
        events.on_batch = [&](const changelog_range& r, std::int64_t last_offset, std::int64_t restored) {
            positions[{r.topic, r.partition}] = last_offset + 1;
            if (listener) {
                listener->on_batch_restored(r.topic, r.partition, r.store->name(), last_offset, restored);
            }
        };
        events.on_end = [&](const changelog_range& r, std::int64_t up_to, std::int64_t restored) {
            positions[{r.topic, r.partition}] = up_to;
            if (listener) {
                listener->on_restore_end(r.topic, r.partition, r.store->name(), restored);
            }
            logger()->info("global restored store={} topic={} partition={} records={} up_to={}", r.store->name(),
                r.topic, r.partition, restored, up_to);
        };
        read_changelogs(consumer.get(), ranges, events, "restoring the global stores");
    }

    // From here on the thread reads on from what the stores hold (records
    // fetched past a partition's end while restoring were not kept).
    void assign_positions() {
        partition_list from;
        for (const auto& [tp, offset] : positions) {
            from.add(tp.first, tp.second, offset);
        }
        if (auto err = rd_kafka_assign(consumer.get(), from.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw kafka_error(err, fmt::format("cannot assign the global topics: {}", rd_kafka_err2str(err)));
        }
    }
};

global_stream_thread::global_stream_thread(
    const topology& t, const thread_settings& settings, std::function<void(std::exception_ptr)> on_error)
    : _name(fmt::format("{}-{}-GlobalStreamThread", settings.application_id, settings.process_id))
    , _impl(std::make_unique<impl>())
    , _stores(std::make_shared<store_map>())
    , _on_error(std::move(on_error)) {
    _impl->topo = &t;
    _impl->settings = settings;
}

global_stream_thread::~global_stream_thread() {
    request_stop();
    join();
}

void global_stream_thread::initialize() {
    auto& me = *_impl;
    // It assigns partitions itself and commits nothing; librdkafka's poll
    // still wants a group id, which it never joins.
    auto settings = me.settings.consumer_settings;
    settings["group.id"] = me.settings.application_id + "-global";
    settings["client.id"] = _name + "-consumer";
    settings["enable.partition.eof"] = "true";
    settings["enable.auto.commit"] = "false";
    settings["auto.offset.reset"] = "earliest";
    settings.erase("partition.assignment.strategy");
    settings.erase("statistics.interval.ms");
    me.consumer.reset(make_client(RD_KAFKA_CONSUMER, settings));
    rd_kafka_poll_set_consumer(me.consumer.get());

    const auto globals = me.topo->global_stores();
    me.task = std::make_unique<stream_task>(me.topo->create_global_task_nodes(), task_id{globals.at(0).subtopology, -1},
        me.settings.application_id, me.collector, [] { return thread_clock::system().wall_ms(); },
        me.settings.deserialization_handler,
        task_storage{me.settings.state_dir / me.settings.application_id, me.settings.store_memory, nullptr, nullptr}, "global");
    for (const auto& g : globals) {
        auto* store = me.task->stores().at(g.store);
        auto* source = me.task->source_of(g.topic);
        if (source == nullptr) {
            throw std::logic_error(fmt::format("the global task has no source for topic {}", g.topic));
        }
        me.tables[g.topic] = {store, source};
        _stores->emplace(g.store, store);
    }
    const auto start = clock::now();
    me.restore();
    me.assign_positions();
    me.checkpoint();
    logger()->info("global stores restored thread={} stores={} took_ms={}", _name, globals.size(),
        std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start).count());
}

void global_stream_thread::start() {
    _thread = std::thread([this] { run(); });
}

void global_stream_thread::join() {
    if (_thread.joinable()) {
        _thread.join();
    }
}

void global_stream_thread::run() {
    auto& me = *_impl;
    try {
        raw_record r;
        while (!_stop.load(std::memory_order_relaxed)) {
            message_ptr m(rd_kafka_consumer_poll(me.consumer.get(), static_cast<int>(me.settings.poll_timeout.count())));
            if (m != nullptr && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                read_message(m.get(), r);
                if (auto it = me.tables.find(r.topic); it != me.tables.end()) {
                    me.task->process(*it->second.source, r);
                    me.positions[{r.topic, r.partition}] = r.offset + 1;
                    me.unsaved = true;
                    _processed.fetch_add(1, std::memory_order_relaxed);
                }
            } else if (m != nullptr && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                std::string what = rd_kafka_message_errstr(m.get());
                if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
                    throw kafka_error(m->err, fmt::format("global consumer failed: {}", what));
                }
                logger()->warn("global consumer error thread={} error={}", _name, what);
            }
            if (me.unsaved && clock::now() - me.last_checkpoint >= me.settings.commit_interval) {
                me.checkpoint();
            }
        }
        if (me.unsaved) {
            me.checkpoint();
        }
        logger()->info("global thread stopped thread={} processed={}", _name, _processed.load());
    } catch (...) {
        try {
            throw;
        } catch (const std::exception& e) {
            logger()->error("global thread died thread={} error=\"{}\"", _name, e.what());
        } catch (...) {
            logger()->error("global thread died thread={}", _name);
        }
        if (_on_error) {
            _on_error(std::current_exception());
        }
    }
}

} // namespace eddy::runtime::internal
