#include "runtime/internal/stream_thread.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <stdexcept>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "runtime/internal/client_config.h"
#include "runtime/internal/instance_directory.h"
#include "runtime/internal/log.h"
#include "runtime/internal/state_restorer.h"
#include "runtime/internal/stream_task.h"
#include "runtime/kafka_error.h"

namespace eddy::runtime::internal {
namespace {

using clock = std::chrono::steady_clock;
using topic_partition = std::pair<std::string, std::int32_t>;

std::int64_t wall_clock_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Copies a consumed message into `r`, reusing the storage `r` already has
// (the hot path keeps one raw_record per thread: no allocation per record
// once its buffers have grown).
void fill_raw_record(const rd_kafka_message_t* m, raw_record& r) {
    const char* topic = rd_kafka_topic_name(m->rkt);
    if (r.topic != topic) {
        r.topic.assign(topic);
    }
    r.partition = m->partition;
    r.offset = m->offset;
    rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    r.timestamp = rd_kafka_message_timestamp(m, &type);
    auto assign = [](std::optional<std::string>& to, const void* bytes, std::size_t size) {
        if (bytes == nullptr) {
            to.reset();
        } else if (to) {
            to->assign(static_cast<const char*>(bytes), size);
        } else {
            to.emplace(static_cast<const char*>(bytes), size);
        }
    };
    assign(r.key, m->key, m->key_len);
    assign(r.value, m->payload, m->len);
    r.headers = {};
    // Returns NOENT without allocating when the message has no headers.
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        for (std::size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
            r.headers.add(name,
                value == nullptr ? std::nullopt
                                 : std::optional<std::string>(std::string(static_cast<const char*>(value), size)));
        }
    }
}

// A partition list owned here.
struct partition_list {
    rd_kafka_topic_partition_list_t* list;
    partition_list() : list(rd_kafka_topic_partition_list_new(8)) {}
    ~partition_list() { rd_kafka_topic_partition_list_destroy(list); }
    partition_list(const partition_list&) = delete;
    partition_list& operator=(const partition_list&) = delete;
    void add(const std::string& topic, std::int32_t partition, std::int64_t offset) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = offset;
    }
};

// Adds to a counter only this thread writes (others only read it): a plain
// load and store, no locked read-modify-write on the per-record path.
std::int64_t bump(std::atomic<std::int64_t>& counter, std::int64_t by = 1) {
    const auto before = counter.load(std::memory_order_relaxed);
    counter.store(before + by, std::memory_order_relaxed);
    return before;
}

// A delivery error of this record alone (the broker refused it: too large
// for the topic, invalid for it), which the other records do not share.
bool refused_for_itself(rd_kafka_resp_err_t err) {
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
        return true;
    default:
        return false;
    }
}

// Passes what a production handler sends on, noting that it sent one.
class noting_collector final : public record_collector {
public:
    explicit noting_collector(record_collector& inner) : _inner(&inner) {}
    void send(const raw_record& r) override {
        _inner->send(r);
        ++sent;
        topic = r.topic;
    }
    int sent = 0;
    std::string topic;

private:
    record_collector* _inner;
};

[[noreturn]] void throw_kafka(rd_kafka_error_t* error, const std::string& what) {
    auto code = rd_kafka_error_code(error);
    std::string msg = fmt::format("{}: {}", what, rd_kafka_error_string(error));
    bool retriable = rd_kafka_error_is_retriable(error) != 0;
    rd_kafka_error_destroy(error);
    throw kafka_error(code, msg).set_retriable(retriable);
}

} // namespace

// One input partition of a task.
struct partition_state {
    // The task's source node reading this partition's topic.
    operators::internal::raw_node* source = nullptr;
    std::deque<raw_record> buffer;
    // The offset to commit: the last processed one plus one; -1 before.
    std::int64_t next_offset = -1;
    bool paused = false;
};

// A task and the partitions that feed it.
struct active_task {
    std::unique_ptr<stream_task> task;
    std::map<topic_partition, partition_state> partitions;
    std::optional<clock::time_point> waiting_since;
    // The partition and offset of the record a retry step holds the task
    // for: its offset is not committed past until the step lets go.
    std::optional<topic_partition> held_at;
    std::int64_t held_offset = -1;
    std::shared_ptr<std::atomic<std::int64_t>> processed = std::make_shared<std::atomic<std::int64_t>>(0);
};

struct stream_thread::impl : record_collector {
    stream_thread* self = nullptr;
    const topology* topo = nullptr;
    thread_settings settings;
    rd_kafka_t* consumer = nullptr;
    rd_kafka_t* producer = nullptr;
    std::map<task_id, active_task> tasks;
    // Held while `tasks` changes or stores are rebuilt, and by queries from
    // other threads while they read stores: the stream thread itself reads
    // `tasks` without it (only it changes them).
    mutable std::mutex tasks_mutex;
    std::map<topic_partition, task_id> task_of;
    // Per (topic handle, partition): where its records go. Filled on first
    // use, emptied whenever the assignment changes; spares the per-record
    // topic-name lookups.
    struct route_entry {
        active_task* task;
        partition_state* partition;
        const topic_partition* key;
    };
    std::unordered_map<std::uint64_t, route_entry> routes;
    // The record being processed on the single-input path, reused.
    raw_record scratch;
    // The topology's changelog topics; what the producer has written to
    // them (next offset per partition, from delivery reports and restores),
    // for the checkpoints.
    std::set<std::string> changelog_topics;
    changelog_offsets changelog_written;
    std::unique_ptr<state_restorer> restorer;
    bool has_stores = false;
    // What the record caches of this thread's stores share.
    std::shared_ptr<statestore::internal::cache_budget> cache;
    // Every sub-topology reads one topic and the guarantee is at-least-once:
    // no partition is ever paused, resumed or rewound, so the thread may
    // consume in batches (librdkafka 2.0.2's batch call can skip offsets
    // only across pause/resume and seeks).
    bool batch_consume = false;
    // Tags a changelog record's delivery report.
    static inline char changelog_tag = 0;
    // Tag a windowed key whose last 8 (time window) or 16 (session) bytes
    // the partitioner leaves out.
    static inline char time_windowed_tag = 0;
    static inline char session_windowed_tag = 0;
    clock::time_point last_housekeeping = clock::now();
    static constexpr std::int64_t latency_sample_every = 16;
    bool transaction_open = false;
    clock::time_point transaction_began;
    // A sub-topology has a retry step, which may hold its task's input.
    bool may_hold = false;
    bool offsets_after_transaction_pending = false;
    // Whether the group has assigned this member partitions (possibly none)
    // yet.
    bool assigned_once = false;
    bool dirty = false; // processed something since the last commit
    std::optional<kafka_error> delivery_error;
    // Records the broker refused one by one, from delivery reports under
    // at-least-once: the production handler decides on each before the
    // next offset commit. (Under exactly-once such a refusal aborts the
    // transaction, as before.)
    struct refused_delivery {
        raw_record record;
        std::string message;
    };
    std::vector<refused_delivery> refused;
    // An exception caught in a librdkafka callback, rethrown by the loop.
    std::exception_ptr callback_error;
    // The thread is dying of an error: commit nothing more.
    bool failed = false;
    clock::time_point last_commit = clock::now();
    mutable std::mutex stats_mutex;
    std::map<std::string, std::int64_t> lag;
    std::map<std::string, std::shared_ptr<std::atomic<std::int64_t>>> processed_by_task;
    // Since when no broker answers this thread's clients (docs/adr/0015);
    // unset while one does. Only the stream thread changes it: every
    // librdkafka callback is served by its polls.
    std::optional<clock::time_point> unreachable_since;
    clock::time_point last_buffer_log = clock::now();
    bool queue_full_logged = false;

    // --- record_collector ---
    void send(const raw_record& r) override {
        begin_transaction_if_needed();
        rd_kafka_headers_t* hdrs = nullptr;
        if (!r.headers.empty()) {
            hdrs = rd_kafka_headers_new(r.headers.size());
            for (const auto& h : r.headers) {
                rd_kafka_header_add(hdrs, h.key.data(), static_cast<ssize_t>(h.key.size()),
                    h.value ? h.value->data() : nullptr, h.value ? static_cast<ssize_t>(h.value->size()) : 0);
            }
        }
        const std::int32_t partition = r.partition < 0 ? RD_KAFKA_PARTITION_UA : r.partition;
        void* tag = !changelog_topics.empty() && changelog_topics.contains(r.topic) ? &changelog_tag : nullptr;
        if (tag == nullptr && partition == RD_KAFKA_PARTITION_UA && r.key_window_bytes != 0) {
            tag = r.key_window_bytes == 16 ? &session_windowed_tag : &time_windowed_tag;
        }
        // The librdkafka macros cast their arguments without parentheses.
        const char* key = r.key ? r.key->data() : nullptr;
        const std::size_t key_size = r.key ? r.key->size() : 0;
        // RD_KAFKA_V_VALUE wants a void*; with RD_KAFKA_MSG_F_COPY the bytes
        // are only read.
        char* value = r.value ? const_cast<char*>(r.value->data()) : nullptr;
        const std::size_t value_size = r.value ? r.value->size() : 0;
        std::optional<clock::time_point> full_since;
        for (;;) {
            auto err = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(r.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(tag),
                RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_VALUE(value, value_size),
                RD_KAFKA_V_TIMESTAMP(r.timestamp), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                bump(self->_counters.buffered_records);
                bump(self->_counters.buffered_bytes, static_cast<std::int64_t>(key_size + value_size));
                return;
            }
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                // The producer's queue is full (the bound of what it buffers
                // while no broker answers): serve delivery reports until
                // there is room, the record and the thread wait meanwhile.
                const auto now = clock::now();
                if (!full_since) {
                    full_since = now;
                }
                if (!queue_full_logged) {
                    queue_full_logged = true;
                    logger()->warn("producer queue full, processing waits thread={} buffered_records={} "
                                   "buffered_bytes={} broker_unreachable={}",
                        self->name(), self->_counters.buffered_records.load(std::memory_order_relaxed),
                        self->_counters.buffered_bytes.load(std::memory_order_relaxed), unreachable_since.has_value());
                }
                if (self->_stop.load(std::memory_order_relaxed) && now - *full_since > settings.transaction_timeout) {
                    // Closing while no broker takes records: give up on this
                    // one; its input is not committed, so it is processed
                    // again by whoever owns the partition next.
                    if (hdrs != nullptr) {
                        rd_kafka_headers_destroy(hdrs);
                    }
                    throw kafka_error(err, fmt::format("stopping with the producer's queue full ({} records): "
                                                       "no broker takes them",
                                               self->_counters.buffered_records.load(std::memory_order_relaxed)));
                }
                rd_kafka_poll(producer, 10);
                continue;
            }
            if (hdrs != nullptr) {
                rd_kafka_headers_destroy(hdrs);
            }
            if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                // This record only (larger than the producer's
                // message.max.bytes): the sink's production handler decides.
                throw record_rejected(fmt::format("{} ({} bytes of key and value)", rd_kafka_err2str(err),
                    key_size + value_size));
            }
            throw kafka_error(err, fmt::format("cannot produce to topic {}: {}", r.topic, rd_kafka_err2str(err)));
        }
    }

    // The producer's partitioner: murmur2 of the key as Java's default
    // (a record without a key: a random partition), of the plain key for a
    // windowed one (tagged by send()), as Kafka Streams'
    // WindowedStreamPartitioner.
    static std::int32_t partition(const rd_kafka_topic_t* rkt, const void* key, std::size_t key_size,
        std::int32_t partition_count, void* topic_opaque, void* message_opaque) {
        std::size_t window_bytes = 0;
        if (message_opaque == &time_windowed_tag) {
            window_bytes = 8;
        } else if (message_opaque == &session_windowed_tag) {
            window_bytes = 16;
        }
        if (key != nullptr && key_size >= window_bytes) {
            key_size -= window_bytes;
        }
        return rd_kafka_msg_partitioner_murmur2_random(
            rkt, key, key_size, partition_count, topic_opaque, message_opaque);
    }

    static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
        auto* me = static_cast<impl*>(opaque);
        bump(me->self->_counters.buffered_records, -1);
        bump(me->self->_counters.buffered_bytes, -static_cast<std::int64_t>(m->key_len + m->len));
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            // A changelog record refused would leave the store and its
            // changelog apart: that one still fails the thread.
            if (!me->settings.exactly_once && m->_private != &changelog_tag && refused_for_itself(m->err)) {
                auto& r = me->refused.emplace_back();
                fill_raw_record(m, r.record);
                r.record.offset = -1;
                r.message = fmt::format("delivery to topic {} partition {} failed: {}", rd_kafka_topic_name(m->rkt),
                    m->partition, rd_kafka_err2str(m->err));
                return;
            }
            if (!me->delivery_error) {
                me->delivery_error.emplace(m->err,
                    fmt::format("delivery to topic {} partition {} failed: {}", rd_kafka_topic_name(m->rkt),
                        m->partition, rd_kafka_err2str(m->err)));
            }
            return;
        }
        bump(me->self->_counters.produced);
        if (me->unreachable_since) {
            me->mark_reachable("producer");
        }
        if (m->_private == &changelog_tag) {
            auto& next = me->changelog_written[{rd_kafka_topic_name(m->rkt), m->partition}];
            next = std::max(next, m->offset + 1);
        }
    }

    static int on_statistics(rd_kafka_t*, char* json, std::size_t json_len, void* opaque) {
        auto* me = static_cast<impl*>(opaque);
        try {
            auto stats = nlohmann::json::parse(json, json + json_len);
            me->reachability_from_statistics(stats, "consumer");
            std::map<std::string, std::int64_t> lag;
            if (stats.contains("topics")) {
                for (const auto& [topic, t] : stats["topics"].items()) {
                    for (const auto& [p, part] : t["partitions"].items()) {
                        if (p == "-1" || !part.contains("consumer_lag")) {
                            continue;
                        }
                        auto value = part["consumer_lag"].get<std::int64_t>();
                        if (value >= 0) {
                            lag[topic + "-" + p] = value;
                        }
                    }
                }
            }
            std::scoped_lock lock(me->stats_mutex);
            me->lag = std::move(lag);
        } catch (const std::exception& e) {
            logger()->debug("statistics not parsed thread={} error={}", me->self->name(), e.what());
        }
        return 0;
    }

    // The producer's statistics: only whether a broker answers.
    static int on_producer_statistics(rd_kafka_t*, char* json, std::size_t json_len, void* opaque) {
        auto* me = static_cast<impl*>(opaque);
        try {
            me->reachability_from_statistics(nlohmann::json::parse(json, json + json_len), "producer");
        } catch (const std::exception& e) {
            logger()->debug("statistics not parsed thread={} error={}", me->self->name(), e.what());
        }
        return 0;
    }

    // A broker in state UP answers. (No broker UP does not mean none
    // answers: librdkafka connects only to the brokers it needs.)
    void reachability_from_statistics(const nlohmann::json& stats, const char* client) {
        if (!unreachable_since || !stats.contains("brokers")) {
            return;
        }
        for (const auto& [name, b] : stats["brokers"].items()) {
            if (b.value("state", "") == "UP") {
                mark_reachable(client);
                return;
            }
        }
    }

    // librdkafka's error callback, for both clients: _ALL_BROKERS_DOWN
    // says no broker answers; transport errors come by the dozen during an
    // outage and say nothing more.
    static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
        auto* me = static_cast<impl*>(opaque);
        const char* client = rd_kafka_type(rk) == RD_KAFKA_PRODUCER ? "producer" : "consumer";
        const auto code = static_cast<rd_kafka_resp_err_t>(err);
        if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
            me->mark_unreachable(client, reason);
        } else if (code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__RESOLVE) {
            logger()->debug("client error thread={} client={} error={} reason=\"{}\"", me->self->name(), client,
                rd_kafka_err2name(code), reason);
        } else {
            logger()->warn("client error thread={} client={} error={} reason=\"{}\"", me->self->name(), client,
                rd_kafka_err2name(code), reason);
        }
    }

    void mark_unreachable(const char* client, const char* reason) {
        if (unreachable_since) {
            return;
        }
        unreachable_since = clock::now();
        last_buffer_log = *unreachable_since;
        self->_broker_unreachable.store(true, std::memory_order_relaxed);
        logger()->warn("broker unreachable thread={} client={} buffered_records={} buffered_bytes={} reason=\"{}\"",
            self->name(), client, self->_counters.buffered_records.load(std::memory_order_relaxed),
            self->_counters.buffered_bytes.load(std::memory_order_relaxed), reason);
    }

    void mark_reachable(const char* client) {
        if (!unreachable_since) {
            return;
        }
        logger()->info("broker reachable again thread={} client={} unreachable_ms={} buffered_records={} "
                       "buffered_bytes={}",
            self->name(), client,
            std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - *unreachable_since).count(),
            self->_counters.buffered_records.load(std::memory_order_relaxed),
            self->_counters.buffered_bytes.load(std::memory_order_relaxed));
        unreachable_since.reset();
        self->_broker_unreachable.store(false, std::memory_order_relaxed);
        queue_full_logged = false;
    }

    // While no broker answers: what the producer holds, every 5 s.
    void log_buffering(clock::time_point now) {
        if (!unreachable_since || now - last_buffer_log < std::chrono::seconds(5)) {
            return;
        }
        last_buffer_log = now;
        logger()->warn("producer buffering while the broker is unreachable thread={} buffered_records={} "
                       "buffered_bytes={} unreachable_ms={}",
            self->name(), self->_counters.buffered_records.load(std::memory_order_relaxed),
            self->_counters.buffered_bytes.load(std::memory_order_relaxed),
            std::chrono::duration_cast<std::chrono::milliseconds>(now - *unreachable_since).count());
    }

    // A transactional call, made again while librdkafka says its error is
    // retriable (a coordinator moved, loading or unreachable; a timeout):
    // the transaction stays open and nothing is lost while it waits.
    // `call(timeout_ms)` gets transaction.timeout.ms a try: librdkafka's own
    // retries within a call (a coordinator moved) end with the call's
    // timeout, so shorter tries turned retriable errors into aborts. The
    // producer's callbacks (whether a broker answers) are served between
    // tries. Returns the error that ends the tries (nullptr: it succeeded);
    // once a stop is requested, after transaction.timeout.ms more.
    template<typename Call>
    rd_kafka_error_t* retrying(const char* what, Call&& call) {
        const int timeout_ms = static_cast<int>(settings.transaction_timeout.count());
        std::optional<clock::time_point> stop_seen;
        for (int attempt = 1;; ++attempt) {
            self->_broker_call_since_ns.store(clock::now().time_since_epoch().count(), std::memory_order_relaxed);
            rd_kafka_error_t* e = call(timeout_ms);
            self->_broker_call_since_ns.store(0, std::memory_order_relaxed);
            if (e == nullptr || rd_kafka_error_is_retriable(e) == 0 || rd_kafka_error_is_fatal(e) != 0
                || rd_kafka_error_txn_requires_abort(e) != 0) {
                return e;
            }
            if (self->_stop.load(std::memory_order_relaxed)) {
                if (!stop_seen) {
                    stop_seen = clock::now();
                } else if (clock::now() - *stop_seen > settings.transaction_timeout) {
                    return e;
                }
            }
            bump(self->_counters.transaction_retries);
            // A call that got no answer for transaction.timeout.ms: the
            // broker is unreachable, though the error callbacks that would
            // say so wait for the thread to poll (the statistics say when a
            // broker is up again).
            if (const auto code = rd_kafka_error_code(e);
                code == RD_KAFKA_RESP_ERR__TIMED_OUT || code == RD_KAFKA_RESP_ERR__TRANSPORT
                || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
                mark_unreachable("producer", rd_kafka_error_string(e));
            }
            logger()->warn("transaction call retried thread={} call={} attempt={} broker_unreachable={} error=\"{}\"",
                self->name(), what, attempt, unreachable_since.has_value(), rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            rd_kafka_poll(producer, attempt == 1 ? 0 : 100);
        }
    }

    static void on_rebalance(
        rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
        auto* me = static_cast<impl*>(opaque);
        // Nothing may throw through librdkafka: keep the error for the loop.
        try {
            me->rebalance(rk, err, parts);
        } catch (...) {
            me->callback_error = std::current_exception();
            rd_kafka_assign(rk, nullptr);
        }
    }

    void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
        auto* me = this;
        const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
        me->self->set_state(thread_state::rebalancing);
        bump(me->self->_counters.rebalances);
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
            me->assigned_once = true;
            me->assigned(parts);
            if (cooperative) {
                if (auto* e = rd_kafka_incremental_assign(rk, parts)) {
                    logger()->error("incremental assign failed thread={} error={}", me->self->name(),
                        rd_kafka_error_string(e));
                    rd_kafka_error_destroy(e);
                }
            } else {
                rd_kafka_assign(rk, parts);
            }
        } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
            me->revoked(parts, rd_kafka_assignment_lost(rk) != 0);
            if (cooperative) {
                if (auto* e = rd_kafka_incremental_unassign(rk, parts)) {
                    rd_kafka_error_destroy(e);
                }
            } else {
                rd_kafka_assign(rk, nullptr);
            }
        } else {
            logger()->error("rebalance failed thread={} error={}", me->self->name(), rd_kafka_err2str(err));
            rd_kafka_assign(rk, nullptr);
        }
    }

    void assigned(rd_kafka_topic_partition_list_t* parts) {
        // The new tasks first, restored together (their changelogs read in
        // one pass) before queries or the loop can see them.
        std::map<task_id, std::unique_ptr<stream_task>> fresh;
        for (int i = 0; i < parts->cnt; ++i) {
            auto sub = topo->subtopology_of(parts->elems[i].topic, settings.application_id);
            task_id id{sub.value_or(-1), parts->elems[i].partition};
            if (sub && !tasks.contains(id) && !fresh.contains(id)) {
                if (settings.handover) {
                    // A standby copy of its stores closes first.
                    settings.handover->acquire(id);
                }
                auto task = std::make_unique<stream_task>(*topo, id, settings.application_id, *this,
                    wall_clock_now_ms, settings.deserialization_handler,
                    task_storage{settings.state_dir / settings.application_id, settings.store_memory,
                        settings.global_stores, cache});
                task->set_error_handling({settings.processing_handler, settings.production_handler,
                    settings.dead_letter_topic, self->_dead_letters});
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
                std::scoped_lock lock(tasks_mutex);
                tasks[id].task = std::move(task);
            }
            std::scoped_lock lock(stats_mutex);
            processed_by_task[id.to_string()] = tasks[id].processed;
            logger()->info("task created thread={} task={}", self->name(), id.to_string());
        }
        for (int i = 0; i < parts->cnt; ++i) {
            std::string topic = parts->elems[i].topic;
            const std::int32_t partition = parts->elems[i].partition;
            auto sub = topo->subtopology_of(topic, settings.application_id);
            if (!sub) {
                logger()->warn("assigned a topic no source reads thread={} topic={}", self->name(), topic);
                continue;
            }
            task_id id{*sub, partition};
            auto it = tasks.find(id);
            auto& state = it->second.partitions[{topic, partition}];
            state.source = it->second.task->source_of(topic);
            if (state.source == nullptr) {
                throw std::logic_error(fmt::format("task {} has no source for topic {}", id.to_string(), topic));
            }
            task_of[{topic, partition}] = id;
        }
        routes.clear();
        // A partition paused before it was revoked stays paused in librdkafka:
        // start every assigned partition resumed (batch consumption never
        // pauses, and must not resume: see batch_consume).
        if (!batch_consume) {
            rd_kafka_resume_partitions(consumer, parts);
        }
    }

    // Catches the task's stores up with their changelogs before it
    // processes. Under exactly-once the checkpoint goes once the task runs:
    // a crash must not leave one describing uncommitted store contents.
    void restore(const std::vector<stream_task*>& all) {
        std::vector<stream_task*> with_logs;
        for (auto* t : all) {
            if (!t->changelogs().empty()) {
                with_logs.push_back(t);
            }
        }
        if (with_logs.empty()) {
            return;
        }
        if (!restorer) {
            restorer = std::make_unique<state_restorer>(
                settings.consumer_settings, self->name() + "-restore-consumer", settings.restore_listener);
        }
        // A table read from a source topic restores up to the group's
        // committed offset of that topic.
        changelog_offsets committed;
        partition_list sources;
        for (auto* task : with_logs) {
            for (const auto& log : task->changelogs()) {
                if (log.source) {
                    sources.add(log.topic, log.partition, RD_KAFKA_OFFSET_INVALID);
                }
            }
        }
        if (sources.list->cnt > 0) {
            auto err = rd_kafka_committed(consumer, sources.list, static_cast<int>(settings.transaction_timeout.count()));
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw kafka_error(err, fmt::format("cannot read the committed offsets of the tables' source topics: {}",
                                           rd_kafka_err2str(err)));
            }
            for (int i = 0; i < sources.list->cnt; ++i) {
                const auto& e = sources.list->elems[i];
                if (e.offset >= 0) {
                    committed[{e.topic, e.partition}] = e.offset;
                }
            }
        }
        for (const auto& [tp, offset] : restorer->restore(with_logs, committed)) {
            changelog_written[tp] = offset;
        }
        if (settings.exactly_once) {
            for (auto* task : with_logs) {
                delete_checkpoint(task->directory());
            }
        }
    }

    // Writes the checkpoint of a task whose stores hold what was committed.
    void checkpoint(active_task& t) {
        auto& task = *t.task;
        if (task.stores().empty()) {
            return;
        }
        task.flush_stores();
        changelog_offsets offsets;
        for (const auto& log : task.changelogs()) {
            topic_partition tp{log.topic, log.partition};
            if (auto p = t.partitions.find(tp); log.source && p != t.partitions.end() && p->second.next_offset >= 0) {
                // A source topic: the store holds what was processed.
                offsets[tp] = p->second.next_offset;
            } else if (auto it = changelog_written.find(tp); it != changelog_written.end()) {
                offsets.insert(*it);
            }
        }
        write_checkpoint(task.directory(), offsets);
    }

    void revoked(rd_kafka_topic_partition_list_t* parts, bool lost) {
        bool clean = false;
        if (lost || failed) {
            // Another member owns these now: whatever was not committed is
            // theirs to process again; nothing may be committed from here.
            abort_after_loss();
        } else {
            commit(true);
            clean = !dirty && !transaction_open;
        }
        if (!batch_consume) {
            rd_kafka_resume_partitions(consumer, parts);
        }
        routes.clear();
        for (int i = 0; i < parts->cnt; ++i) {
            topic_partition tp{parts->elems[i].topic, parts->elems[i].partition};
            auto it = task_of.find(tp);
            if (it == task_of.end()) {
                continue;
            }
            auto id = it->second;
            task_of.erase(it);
            auto& t = tasks.at(id);
            t.partitions.erase(tp);
            if (t.partitions.empty()) {
                if (clean) {
                    checkpoint(t);
                }
                std::scoped_lock tasks_lock(tasks_mutex);
                t.task->close();
                tasks.erase(id);
                if (settings.handover) {
                    settings.handover->release(id);
                }
                std::scoped_lock lock(stats_mutex);
                processed_by_task.erase(id.to_string());
                logger()->info("task closed thread={} task={} lost={}", self->name(), id.to_string(), lost);
            }
        }
    }

    void begin_transaction_if_needed() {
        if (!settings.exactly_once || transaction_open) {
            return;
        }
        if (auto* e = rd_kafka_begin_transaction(producer)) {
            throw_kafka(e, "cannot begin a transaction");
        }
        transaction_open = true;
        transaction_began = clock::now();
    }

    const route_entry* find_route(rd_kafka_message_t* m) {
        const auto key = (static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m->rkt)) << 16)
            ^ static_cast<std::uint64_t>(static_cast<std::uint32_t>(m->partition));
        if (auto it = routes.find(key); it != routes.end()) {
            return &it->second;
        }
        auto owner = task_of.find(topic_partition{rd_kafka_topic_name(m->rkt), m->partition});
        if (owner == task_of.end()) {
            return nullptr;
        }
        auto& t = tasks.at(owner->second);
        auto state = t.partitions.find(owner->first);
        return &routes.emplace(key, route_entry{&t, &state->second, &state->first}).first->second;
    }

    void route(rd_kafka_message_t* m) {
        if (self->_broker_unreachable.load(std::memory_order_relaxed)) {
            mark_reachable("consumer");
        }
        const auto* route = find_route(m);
        if (route == nullptr) {
            // A record fetched before its partition was revoked.
            return;
        }
        bump(self->_counters.consumed);
        auto& t = *route->task;
        if (t.partitions.size() == 1 && route->partition->buffer.empty() && !t.task->held()) {
            // One input and nothing waiting: no ordering to decide.
            fill_raw_record(m, scratch);
            process_one(t, *route->partition, scratch);
            return;
        }
        auto& state = *route->partition;
        fill_raw_record(m, state.buffer.emplace_back());
        if (state.buffer.size() > settings.buffered_records_per_partition && !state.paused) {
            partition_list pl;
            pl.add(route->key->first, route->key->second, RD_KAFKA_OFFSET_INVALID);
            rd_kafka_pause_partitions(consumer, pl.list);
            state.paused = true;
            bump(self->_counters.pauses);
            logger()->debug("partition paused thread={} topic={} partition={} buffered={}", self->name(),
                route->key->first, route->key->second, state.buffer.size());
        }
        process_ready(t);
    }

    // Processes the task's buffered records in timestamp order across its
    // partitions; waits up to max.task.idle.ms for an empty partition.
    void process_ready(active_task& t) {
        for (;;) {
            if (t.task->held()) {
                // A retry step waits on a record: the rest waits behind it
                // (buffered; the partition pauses when its buffer fills).
                return;
            }
            partition_state* next = nullptr;
            const topic_partition* next_key = nullptr;
            bool some_empty = false;
            for (auto& [tp, state] : t.partitions) {
                if (state.buffer.empty()) {
                    some_empty = true;
                } else if (next == nullptr || state.buffer.front().timestamp < next->buffer.front().timestamp) {
                    next = &state;
                    next_key = &tp;
                }
            }
            if (next == nullptr) {
                // Keep waiting_since: once max.task.idle.ms has passed, the
                // task goes on without the empty partition until it has
                // records again (Kafka Streams' enforced processing).
                return;
            }
            if (!some_empty) {
                t.waiting_since.reset();
            } else if (settings.max_task_idle.count() > 0) {
                // A partition ran dry: wait for it up to max.task.idle.ms, then
                // go on without it until it has records again.
                const auto now = clock::now();
                if (!t.waiting_since) {
                    t.waiting_since = now;
                }
                if (now - *t.waiting_since < settings.max_task_idle) {
                    logger()->trace("task waits thread={} task={} for={}ms", self->name(), t.task->id().to_string(),
                        std::chrono::duration_cast<std::chrono::milliseconds>(now - *t.waiting_since).count());
                    return;
                }
            }
            raw_record r = std::move(next->buffer.front());
            next->buffer.pop_front();
            process_one(t, *next, r);
            if (next->paused && next->buffer.size() <= settings.buffered_records_per_partition / 2) {
                partition_list pl;
                pl.add(next_key->first, next_key->second, RD_KAFKA_OFFSET_INVALID);
                rd_kafka_resume_partitions(consumer, pl.list);
                next->paused = false;
                logger()->debug("partition resumed thread={} topic={} partition={}", self->name(), next_key->first,
                    next_key->second);
            }
        }
    }

    void process_one(active_task& t, partition_state& partition, const raw_record& r) {
        begin_transaction_if_needed();
        // The process latency is sampled (one record in 16): reading the
        // clock twice per record costs more than the operators do.
        const auto processed = bump(self->_counters.processed);
        if (processed % latency_sample_every == 0) {
            const auto start = clock::now();
            t.task->process(*partition.source, r);
            self->_counters.process_ns.fetch_add(
                std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count(),
                std::memory_order_relaxed);
            bump(self->_counters.process_samples);
        } else {
            t.task->process(*partition.source, r);
        }
        bump(*t.processed);
        if (t.task->held()) {
            // The record waits in a retry queue: a crash must read it again,
            // so its offset is what gets committed until it is done.
            partition.next_offset = r.offset;
            t.held_at.emplace(r.topic, r.partition);
            t.held_offset = r.offset;
        } else {
            partition.next_offset = r.offset + 1;
        }
        dirty = true;
    }

    bool any_held() const {
        if (!may_hold) {
            return false;
        }
        for (const auto& [id, t] : tasks) {
            if (t.task->held()) {
                return true;
            }
        }
        return false;
    }

    // A retry step let go of the task: the held record is done (processed
    // or dead-lettered), its offset may be committed, and the records that
    // waited go on.
    void released(active_task& t) {
        if (t.held_at) {
            if (auto p = t.partitions.find(*t.held_at); p != t.partitions.end() && p->second.next_offset <= t.held_offset) {
                p->second.next_offset = t.held_offset + 1;
            }
            t.held_at.reset();
        }
        dirty = true;
        process_ready(t);
    }

    // The source record of a refused delivery is gone by now: the handler
    // gets the refused record itself (its topic and partition, offset -1),
    // under the node name "producer".
    void handle_refused() {
        auto batch = std::exchange(refused, {});
        for (const auto& f : batch) {
            const auto now = wall_clock_now_ms();
            const error_context ctx{settings.application_id, "producer", "eddy::record_rejected", f.message, f.record,
                now, error_kind::production, false, settings.dead_letter_topic};
            noting_collector collector(*this);
            const auto response = settings.production_handler
                ? settings.production_handler->handle(ctx, collector)
                : handlers::log_and_fail()->handle(ctx, collector);
            if (collector.sent > 0) {
                logger()->warn("record dead-lettered kind=production handler={} node=producer dlq={} topic={} "
                               "partition={} error=\"{}\"",
                    settings.production_handler ? settings.production_handler->name() : "log_and_fail",
                    collector.topic, f.record.topic, f.record.partition, f.message);
                self->_dead_letters->by_kind[static_cast<std::size_t>(error_kind::production)].fetch_add(
                    1, std::memory_order_relaxed);
                if (self->_dead_letters->on_dead_letter) {
                    self->_dead_letters->on_dead_letter(now);
                }
            }
            if (response == handler_response::fail) {
                throw production_error("producer", f.message);
            }
        }
    }

    void check_delivery() {
        if (delivery_error) {
            auto e = *delivery_error;
            delivery_error.reset();
            throw e;
        }
    }

    void fill_offsets(partition_list& pl) const {
        for (const auto& [id, t] : tasks) {
            for (const auto& [tp, state] : t.partitions) {
                if (state.next_offset >= 0) {
                    pl.add(tp.first, tp.second, state.next_offset);
                }
            }
        }
    }

    // The embedded broker keeps no transaction's offsets: they are
    // committed through the consumer as well (thread_settings).
    void commit_offsets_after_transaction(partition_list& pl) {
        offsets_after_transaction_pending = false;
        if (pl.list->cnt == 0) {
            return;
        }
        if (auto err = rd_kafka_commit(consumer, pl.list, 0); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            offsets_after_transaction_pending = true;
            logger()->warn("offset commit after the transaction failed thread={} error={}", self->name(),
                rd_kafka_err2str(err));
        }
    }

    // librdkafka 2.0.2's cooperative-sticky assignor asserts
    // (rd_kafka_sticky_assignor_state_destroy) when a consumer closes before
    // its first assignment: a thread stopped that early waits for it (its
    // records are not processed, nor their offsets committed), for at most
    // 30 s.
    void await_first_assignment() {
        const auto deadline = clock::now() + std::chrono::seconds(30);
        while (!assigned_once && consumer != nullptr && clock::now() < deadline) {
            if (auto* m = rd_kafka_consumer_poll(consumer, 100)) {
                rd_kafka_message_destroy(m);
            }
        }
        if (!assigned_once) {
            logger()->warn("thread closes before its first assignment thread={}", self->name());
        }
    }

    // Commits what was processed; `final` when partitions are about to go.
    void commit(bool final) {
        // Under exactly-once a held record may already have written part of
        // its output (another branch, a store upstream of the retry step)
        // into the open transaction: committing now would commit that part
        // with an offset that makes a restart process the record again. The
        // thread's commit waits for the hold to end, up to half the
        // transaction timeout (then it commits, the held offset unpassed).
        if (!final && settings.exactly_once && transaction_open && any_held()
            && clock::now() - transaction_began < settings.transaction_timeout / 2) {
            return;
        }
        // The record caches write what they collapsed to the stores and the
        // changelogs first: under exactly-once into the open transaction,
        // under at-least-once before the producer flush, so the changelog
        // and the checkpoints hold what the committed output implies.
        if (has_stores && cache) {
            for (auto& [id, t] : tasks) {
                if (t.task->flush_caches() > 0) {
                    dirty = true;
                }
            }
        }
        if (!dirty && !transaction_open) {
            if (offsets_after_transaction_pending) {
                // The embedded broker's copy of the last transaction's
                // offsets failed (a rebalance): again, until it is kept.
                partition_list pl;
                fill_offsets(pl);
                commit_offsets_after_transaction(pl);
            }
            last_commit = clock::now();
            return;
        }
        const auto start = clock::now();
        partition_list pl;
        fill_offsets(pl);
        if (settings.exactly_once) {
            begin_transaction_if_needed();
            if (pl.list->cnt > 0) {
                auto* group = rd_kafka_consumer_group_metadata(consumer);
                auto* e = retrying("send_offsets_to_transaction", [&](int timeout_ms) {
                    return rd_kafka_send_offsets_to_transaction(producer, pl.list, group, timeout_ms);
                });
                rd_kafka_consumer_group_metadata_destroy(group);
                if (e != nullptr) {
                    handle_transaction_error(e, "cannot send offsets to the transaction");
                    return;
                }
            }
            if (auto* e = retrying("commit_transaction",
                    [&](int timeout_ms) { return rd_kafka_commit_transaction(producer, timeout_ms); })) {
                handle_transaction_error(e, "cannot commit the transaction");
                return;
            }
            check_delivery();
            transaction_open = false;
            if (settings.commit_offsets_after_transaction) {
                commit_offsets_after_transaction(pl);
            }
        } else {
            auto err = rd_kafka_flush(producer, static_cast<int>(settings.transaction_timeout.count()));
            if (err == RD_KAFKA_RESP_ERR__TIMED_OUT && !failed) {
                // No broker took the records in time (an outage): the
                // offsets wait for them, the records stay buffered (no
                // message timeout under at-least-once, docs/adr/0015) and
                // processing goes on until the producer's queue is full.
                bump(self->_counters.commits_postponed);
                logger()->warn("commit postponed, the producer could not deliver thread={} final={} outstanding={} "
                               "broker_unreachable={}",
                    self->name(), final, rd_kafka_outq_len(producer), unreachable_since.has_value());
                last_commit = clock::now();
                return;
            }
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw kafka_error(err, fmt::format("cannot flush the producer before committing: {} records outstanding",
                                           rd_kafka_outq_len(producer)));
            }
            // The records the broker refused go to the production handler;
            // what it dead-letters is flushed before the offsets go.
            while (!refused.empty()) {
                handle_refused();
                err = rd_kafka_flush(producer, static_cast<int>(settings.transaction_timeout.count()));
                if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                    throw kafka_error(err, fmt::format("cannot flush the producer before committing: {} records outstanding",
                                               rd_kafka_outq_len(producer)));
                }
            }
            check_delivery();
            logger()->trace("flushed thread={} took_us={}", self->name(),
                std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start).count());
            if (pl.list->cnt > 0) {
                err = rd_kafka_commit(consumer, pl.list, 0);
                if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                    // Stays dirty: the next commit (at the latest the one
                    // before the partitions are revoked) retries these
                    // offsets. If none succeeds, the next owner processes
                    // the records again: at-least-once allows that.
                    logger()->warn("offset commit failed thread={} final={} error={}", self->name(), final,
                        rd_kafka_err2str(err));
                    last_commit = clock::now();
                    return;
                }
            }
        }
        dirty = false;
        if (!settings.exactly_once && has_stores) {
            // At-least-once: the changelog writes are flushed; the stores
            // may say so.
            for (auto& [id, t] : tasks) {
                checkpoint(t);
            }
        }
        logger()->debug("committed thread={} partitions={} final={} took_us={}", self->name(), pl.list->cnt, final,
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start).count());
        bump(self->_counters.commits);
        self->_counters.commit_us.fetch_add(
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start).count(),
            std::memory_order_relaxed);
        last_commit = clock::now();
    }

    void handle_transaction_error(rd_kafka_error_t* e, const std::string& what) {
        if (rd_kafka_error_txn_requires_abort(e) != 0) {
            logger()->warn("aborting transaction thread={} reason=\"{}: {}\"", self->name(), what,
                rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            abort_and_rewind();
            return;
        }
        throw_kafka(e, what);
    }

    // Aborts the open transaction and rewinds every partition to its
    // committed offset, so the aborted records are processed again.
    void abort_and_rewind() {
        if (transaction_open) {
            if (auto* e = retrying("abort_transaction",
                    [&](int timeout_ms) { return rd_kafka_abort_transaction(producer, timeout_ms); })) {
                throw_kafka(e, "cannot abort the transaction");
            }
            transaction_open = false;
            bump(self->_counters.aborted_transactions);
        }
        delivery_error.reset();
        partition_list pl;
        for (const auto& [tp, id] : task_of) {
            pl.add(tp.first, tp.second, RD_KAFKA_OFFSET_INVALID);
        }
        if (pl.list->cnt > 0) {
            // Without the committed offsets there is nowhere to rewind to
            // (taking the beginning would commit everything again): wait for
            // the group coordinator.
            for (int attempt = 1;; ++attempt) {
                auto err = rd_kafka_committed(consumer, pl.list, static_cast<int>(settings.transaction_timeout.count()));
                for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < pl.list->cnt; ++i) {
                    err = pl.list->elems[i].err;
                }
                if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                    break;
                }
                if (self->_stop.load(std::memory_order_relaxed)) {
                    throw kafka_error(err, fmt::format("cannot read the committed offsets to rewind to: {}",
                                               rd_kafka_err2str(err)));
                }
                logger()->warn("committed offsets not read, trying again thread={} attempt={} error={}", self->name(),
                    attempt, rd_kafka_err2str(err));
                for (int i = 0; i < pl.list->cnt; ++i) {
                    pl.list->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
                    pl.list->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
                }
                rd_kafka_poll(producer, 100);
            }
            for (int i = 0; i < pl.list->cnt; ++i) {
                if (pl.list->elems[i].offset < 0) {
                    pl.list->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
                }
            }
            if (auto* e = rd_kafka_seek_partitions(consumer, pl.list, static_cast<int>(settings.transaction_timeout.count()))) {
                throw_kafka(e, "cannot rewind after an aborted transaction");
            }
        }
        partition_list paused;
        for (auto& [id, t] : tasks) {
            for (auto& [tp, state] : t.partitions) {
                state.buffer.clear();
                state.next_offset = -1;
                // Paused for a full buffer that is now empty: nothing else
                // would resume it.
                if (state.paused) {
                    paused.add(tp.first, tp.second, RD_KAFKA_OFFSET_INVALID);
                    state.paused = false;
                }
            }
            // A held record, and those queued behind it, come again from
            // the committed offset: the retry queues forget them.
            t.task->rewind();
            t.held_at.reset();
        }
        if (paused.list->cnt > 0) {
            rd_kafka_resume_partitions(consumer, paused.list);
        }
        dirty = false;
        // The stores hold the aborted transaction's writes: rebuild them
        // from what the changelogs committed.
        std::scoped_lock lock(tasks_mutex);
        for (auto& [id, t] : tasks) {
            if (!t.task->changelogs().empty()) {
                for (const auto& [name, store] : t.task->stores()) {
                    t.task->reset_store(*store);
                }
                restore({t.task.get()});
            }
        }
    }

    void abort_after_loss() {
        if (settings.exactly_once && transaction_open) {
            // Again while retriable: the next transaction cannot begin
            // before this one is aborted.
            if (auto* e = retrying("abort_transaction",
                    [&](int timeout_ms) { return rd_kafka_abort_transaction(producer, timeout_ms); })) {
                logger()->error("abort after a lost assignment failed thread={} error={}", self->name(),
                    rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
            transaction_open = false;
        }
        dirty = false;
    }

    // Wall-clock punctuations and delivery reports; the loop calls this at
    // most once per millisecond.
    void punctuate() {
        const auto now = wall_clock_now_ms();
        rd_kafka_poll(producer, 0);
        if (unreachable_since) {
            log_buffering(clock::now());
        }
        for (auto& [id, t] : tasks) {
            const bool was_held = t.task->held();
            if (t.task->punctuate_wall_clock(now) > 0) {
                dirty = true;
            }
            if (was_held && !t.task->held()) {
                released(t);
            }
        }
    }

    void close_clients() {
        if (consumer != nullptr) {
            rd_kafka_consumer_close(consumer);
            {
                std::scoped_lock lock(tasks_mutex);
                for (auto& [id, t] : tasks) {
                    t.task->close();
                    if (settings.handover) {
                        settings.handover->release(id);
                    }
                }
                tasks.clear();
            }
            task_of.clear();
            rd_kafka_destroy(consumer);
            consumer = nullptr;
        }
        if (producer != nullptr) {
            rd_kafka_flush(producer, static_cast<int>(settings.transaction_timeout.count()));
            rd_kafka_destroy(producer);
            producer = nullptr;
        }
    }
};

stream_thread::stream_thread(int index, const topology& t, const thread_settings& settings, state_listener on_state,
    error_listener on_error)
    : _index(index)
    , _name(fmt::format("{}-{}-StreamThread-{}", settings.application_id, settings.process_id, index + 1))
    , _impl(std::make_unique<impl>())
    , _on_state(std::move(on_state))
    , _on_error(std::move(on_error)) {
    _impl->self = this;
    _impl->topo = &t;
    _impl->settings = settings;
    _impl->cache = std::make_shared<statestore::internal::cache_budget>(settings.cache_max_bytes);
    _dead_letters->on_dead_letter = settings.on_dead_letter;
    for (const auto& log : t.changelog_topics(settings.application_id)) {
        _impl->changelog_topics.insert(log.name);
    }
    // A retry step pauses and resumes partitions: no batches (see
    // batch_consume).
    _impl->may_hold = t.holds_input();
    _impl->batch_consume = !settings.exactly_once && settings.max_task_idle.count() == 0 && !_impl->may_hold;
    for (std::size_t s = 0; s < t.subtopology_count(); ++s) {
        _impl->has_stores = _impl->has_stores || !t.stores_of(static_cast<int>(s)).empty();
        // A global sub-topology reads nothing here (the global thread does).
        _impl->batch_consume = _impl->batch_consume
            && (t.is_global(static_cast<int>(s)) || t.source_topics(static_cast<int>(s)).size() == 1);
    }

    auto producer_settings = settings.producer_settings;
    producer_settings["client.id"] = _name + "-producer";
    if (settings.exactly_once) {
        producer_settings["transactional.id"] =
            fmt::format("{}-{}-{}", settings.application_id, settings.process_id, index + 1);
        producer_settings["transaction.timeout.ms"] = std::to_string(settings.transaction_timeout.count());
    }
    rd_kafka_conf_t* pconf = rd_kafka_conf_new();
    rd_kafka_conf_set_opaque(pconf, _impl.get());
    // eddy's partitioner (murmur2_random, windowed keys by their plain key),
    // unless the settings name another.
    if (auto p = producer_settings.find("partitioner");
        p == producer_settings.end() || p->second == "murmur2_random") {
        if (p != producer_settings.end()) {
            producer_settings.erase(p);
        }
        rd_kafka_topic_conf_t* tconf = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set_partitioner_cb(tconf, &impl::partition);
        rd_kafka_conf_set_default_topic_conf(pconf, tconf);
    }
    rd_kafka_conf_set_dr_msg_cb(pconf, &impl::on_delivery);
    rd_kafka_conf_set_error_cb(pconf, &impl::on_error);
    rd_kafka_conf_set_stats_cb(pconf, &impl::on_producer_statistics);
    _impl->producer = make_client(RD_KAFKA_PRODUCER, producer_settings, pconf);

    auto consumer_settings = settings.consumer_settings;
    consumer_settings["client.id"] = member_client_id(_name, settings.directory_key);
    rd_kafka_conf_t* cconf = rd_kafka_conf_new();
    rd_kafka_conf_set_opaque(cconf, _impl.get());
    rd_kafka_conf_set_rebalance_cb(cconf, &impl::on_rebalance);
    rd_kafka_conf_set_stats_cb(cconf, &impl::on_statistics);
    rd_kafka_conf_set_error_cb(cconf, &impl::on_error);
    try {
        _impl->consumer = make_client(RD_KAFKA_CONSUMER, consumer_settings, cconf);
    } catch (...) {
        rd_kafka_destroy(_impl->producer);
        throw;
    }
    rd_kafka_poll_set_consumer(_impl->consumer);
}

stream_thread::~stream_thread() {
    request_stop();
    join();
    _impl->close_clients();
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
    std::scoped_lock lock(_impl->stats_mutex);
    std::map<std::string, std::int64_t> out;
    for (const auto& [id, n] : _impl->processed_by_task) {
        out[id] = n->load();
    }
    return out;
}

void stream_thread::for_each_store(
    const std::string& name, const std::function<void(statestore::internal::store_handle&)>& fn) const {
    std::scoped_lock lock(_impl->tasks_mutex);
    for (const auto& [id, t] : _impl->tasks) {
        if (auto it = t.task->stores().find(name); it != t.task->stores().end()) {
            fn(*it->second);
        }
    }
}

std::int64_t stream_thread::dropped_records() const {
    std::scoped_lock lock(_impl->tasks_mutex);
    std::int64_t n = 0;
    for (const auto& [id, t] : _impl->tasks) {
        n += t.task->dropped_records();
    }
    return n;
}

bool stream_thread::broker_unreachable() const noexcept {
    if (_broker_unreachable.load(std::memory_order_relaxed)) {
        return true;
    }
    const auto since = _broker_call_since_ns.load(std::memory_order_relaxed);
    return since != 0 && clock::now() - clock::time_point(clock::duration(since)) > broker_call_stall;
}

std::int64_t stream_thread::deduplicated_records() const {
    std::scoped_lock lock(_impl->tasks_mutex);
    std::int64_t n = 0;
    for (const auto& [id, t] : _impl->tasks) {
        n += t.task->deduplicated_records();
    }
    return n;
}

std::map<std::string, std::int64_t> stream_thread::lag() const {
    std::scoped_lock lock(_impl->stats_mutex);
    return _impl->lag;
}

void stream_thread::run() {
    auto& me = *_impl;
    try {
        if (me.settings.exactly_once) {
            if (auto* e = me.retrying("init_transactions",
                    [&](int timeout_ms) { return rd_kafka_init_transactions(me.producer, timeout_ms); })) {
                throw_kafka(e, "cannot initialise transactions (is the cluster reachable and transactional?)");
            }
        }
        // Learn the sink topics' leaders now, so the first commit does not
        // wait for the producer's first metadata round trips.
        // The changelogs too: with record caches their first records come
        // all at once, in the first commit.
        std::set<std::string> written = me.topo->sink_topics();
        written.insert(me.changelog_topics.begin(), me.changelog_topics.end());
        for (const auto& sink : written) {
            rd_kafka_topic_t* rkt = rd_kafka_topic_new(me.producer, sink.c_str(), nullptr);
            const rd_kafka_metadata_t* md = nullptr;
            if (rd_kafka_metadata(me.producer, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                rd_kafka_metadata_destroy(md);
            }
            rd_kafka_topic_destroy(rkt);
        }
        std::set<std::string> topics;
        for (std::size_t s = 0; s < me.topo->subtopology_count(); ++s) {
            for (const auto& t : me.topo->source_topics(static_cast<int>(s), me.settings.application_id)) {
                topics.insert(t);
            }
        }
        partition_list subscription;
        for (const auto& t : topics) {
            subscription.add(t, RD_KAFKA_PARTITION_UA, RD_KAFKA_OFFSET_INVALID);
        }
        if (auto err = rd_kafka_subscribe(me.consumer, subscription.list); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw kafka_error(err, fmt::format("cannot subscribe: {}", rd_kafka_err2str(err)));
        }
        logger()->info("thread started thread={} topics={} guarantee={}", _name, topics.size(),
            me.settings.exactly_once ? "exactly_once_v2" : "at_least_once");
        rd_kafka_queue_t* queue = me.batch_consume ? rd_kafka_queue_get_consumer(me.consumer) : nullptr;
        std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue_owner(queue, [](rd_kafka_queue_t* q) {
            if (q != nullptr) {
                rd_kafka_queue_destroy(q);
            }
        });
        std::vector<rd_kafka_message_t*> batch(me.batch_consume ? 512 : 0);
        auto handle = [&](rd_kafka_message_t* raw) {
            // Owned: librdkafka cannot destroy a consumer while a message of
            // its lives, so an exception must not leak one.
            std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> m(raw, &rd_kafka_message_destroy);
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                me.route(m.get());
            } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                std::string what = rd_kafka_message_errstr(m.get());
                // An unknown topic is not fatal: a topic just created may
                // not be in every broker's metadata yet.
                if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
                    throw kafka_error(m->err, fmt::format("consumer failed: {}", what));
                }
                logger()->warn("consumer error thread={} error={}", _name, what);
            }
        };
        while (!_stop.load(std::memory_order_relaxed)) {
            // Blocks for the first record (or the poll timeout), then, when
            // batching, takes whatever else is already fetched without
            // waiting: a batch never holds a record back to fill itself.
            // While a retry step holds a task its next try is a wall-clock
            // punctuation: poll briefly so it runs on time with no input.
            const auto poll_ms = me.any_held() ? std::min<std::int64_t>(me.settings.poll_timeout.count(), 5)
                                               : me.settings.poll_timeout.count();
            rd_kafka_message_t* first = rd_kafka_consumer_poll(me.consumer, static_cast<int>(poll_ms));
            ssize_t n = 0;
            if (first != nullptr && queue != nullptr && !me.callback_error) {
                n = rd_kafka_consume_batch_queue(queue, 0, batch.data(), batch.size());
            }
            auto drop_from = [&](ssize_t from) {
                for (ssize_t j = from; j < n; ++j) {
                    rd_kafka_message_destroy(batch[static_cast<std::size_t>(j)]);
                }
            };
            if (me.callback_error) {
                if (first != nullptr) {
                    rd_kafka_message_destroy(first);
                }
                drop_from(0);
                std::rethrow_exception(std::exchange(me.callback_error, nullptr));
            }
            if (state() == thread_state::rebalancing) {
                set_state(thread_state::running);
            }
            if (first != nullptr) {
                try {
                    handle(first);
                } catch (...) {
                    drop_from(0);
                    throw;
                }
            }
            for (ssize_t i = 0; i < n; ++i) {
                try {
                    handle(batch[static_cast<std::size_t>(i)]);
                } catch (...) {
                    drop_from(i + 1);
                    throw;
                }
            }
            // Partitions waiting for max.task.idle.ms.
            if (me.settings.max_task_idle.count() > 0) {
                for (auto& [id, t] : me.tasks) {
                    if (t.waiting_since) {
                        me.process_ready(t);
                    }
                }
            }
            // One clock read per poll decides the millisecond chores and the
            // commit.
            const auto now = clock::now();
            if (now - me.last_housekeeping >= std::chrono::milliseconds(1)) {
                me.last_housekeeping = now;
                me.punctuate();
            }
            if (now - me.last_commit >= me.settings.commit_interval) {
                me.commit(false);
            }
        }
        set_state(thread_state::pending_shutdown);
        me.await_first_assignment();
        me.commit(true);
        me.close_clients();
        logger()->info("thread stopped thread={}", _name);
        set_state(thread_state::dead);
    } catch (...) {
        try {
            throw;
        } catch (const std::exception& e) {
            logger()->error("thread died thread={} error=\"{}\"", _name, e.what());
        } catch (...) {
            logger()->error("thread died thread={}", _name);
        }
        me.failed = true;
        try {
            if (me.settings.exactly_once && me.transaction_open) {
                me.abort_after_loss();
            }
            me.close_clients();
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
