#include "runtime/kafka_streams.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/admin.h"
#include "runtime/embedded_broker.h"
#include "runtime/internal/changelog_config.h"
#include "runtime/internal/client_config.h"
#include "runtime/internal/global_stream_thread.h"
#include "runtime/internal/health_monitor.h"
#include "runtime/internal/instance_directory.h"
#include "runtime/internal/standby_thread.h"
#include "runtime/internal/log.h"
#include "runtime/internal/stream_thread.h"
#include "runtime/kafka_error.h"

namespace eddy {
namespace {

using runtime::internal::logger;
using runtime::internal::stream_thread;
using runtime::internal::thread_settings;
using runtime::internal::thread_state;

std::string random_process_id() {
    std::random_device rd;
    return fmt::format("{:08x}{:08x}", rd(), rd());
}

// The largest record the producers send (message.max.bytes) and the
// dead-letter topic takes (max.message.bytes): a 1 MiB record dead-lettered
// with its headers fits (docs/adr/0015).
constexpr std::int64_t dead_letter_max_bytes = 8LL << 20;

// Defaults first; what the user set under the prefix wins.
std::map<std::string, std::string> with_defaults(
    std::map<std::string, std::string> defaults, const std::map<std::string, std::string>& user) {
    for (const auto& [k, v] : user) {
        defaults[k] = v;
    }
    return defaults;
}

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

struct kafka_streams::impl {
    topology topo;
    streams_config config;
    std::unique_ptr<embedded_broker> broker;
    std::string bootstrap;
    thread_settings settings;
    int thread_count = 1;

    mutable std::mutex mutex;
    std::condition_variable changed;
    streams_state state = streams_state::created;
    std::function<void(streams_state, streams_state)> listener;
    std::function<uncaught_response(const std::exception&)> handler;
    std::vector<std::unique_ptr<stream_thread>> threads;
    std::vector<std::unique_ptr<stream_thread>> retired;
    // The global tables' thread, when the topology has global tables.
    std::unique_ptr<runtime::internal::global_stream_thread> global;
    // application.server: this instance's address, published with its
    // tasks to <application.id>-instances (docs/adr/0008).
    std::optional<host_info> server;
    std::unique_ptr<runtime::internal::instance_directory> directory;
    // num.standby.replicas: the standby thread keeps copies of other
    // instances' stores (docs/adr/0010); it needs the directory, which then
    // runs without application.server too.
    int standby_replicas = 0;
    std::shared_ptr<runtime::internal::standby_thread> standby;
    std::map<std::string, int> topic_partitions;
    // The dead-letter rate and whatever else makes the app degraded.
    std::shared_ptr<runtime::internal::health_monitor> health;
    // What put the app in ERROR (under `mutex`), for health().
    std::string failure;

    impl(topology t, streams_config c) : topo(std::move(t)), config(std::move(c)) {}

    void set_state(streams_state s) {
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

    void on_thread_state() {
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

    std::unique_ptr<stream_thread> make_thread(int index) {
        return std::make_unique<stream_thread>(
            index, topo, settings, [this](stream_thread&, thread_state) { on_thread_state(); },
            [this](stream_thread& t, std::exception_ptr e) { on_thread_error(t, e); });
    }

    void on_thread_error(stream_thread& dead, std::exception_ptr eptr) {
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

    // Puts the app in ERROR for `why` and stops every stream thread.
    void fail(std::string why) {
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

    void resolve_settings() {
        config.check_known();
        settings.application_id = config.application_id_checked();
        auto guarantee = config.get_or("processing.guarantee", "at_least_once");
        if (guarantee != "at_least_once" && guarantee != "exactly_once_v2") {
            throw config_error(fmt::format(
                "setting processing.guarantee={} is not one of at_least_once, exactly_once_v2", guarantee));
        }
        settings.exactly_once = guarantee == "exactly_once_v2";
        // Each setting within its spec's range (streams_config::specs()):
        // each thread holds a producer and a consumer of its own, so past a
        // few hundred the process ran out of memory before it said why; a
        // negative interval ran as if it were 0.
        thread_count = static_cast<int>(config.integer("num.stream.threads"));
        settings.commit_interval
            = std::chrono::milliseconds(config.integer("commit.interval.ms", settings.exactly_once ? 100 : 30'000));
        settings.max_task_idle = std::chrono::milliseconds(config.integer("max.task.idle.ms"));
        settings.poll_timeout = std::chrono::milliseconds(config.integer("poll.ms"));
        settings.transaction_timeout = std::chrono::milliseconds(config.integer("transaction.timeout.ms"));
        settings.buffered_records_per_partition
            = static_cast<std::size_t>(config.integer("buffered.records.per.partition"));
        settings.deserialization_handler = config.make_deserialization_handler();
        settings.processing_handler = config.make_processing_handler();
        settings.production_handler = config.make_production_handler();
        settings.dead_letter_topic = config.get_or(streams_config::dead_letter_topic, "");
        health = std::make_shared<runtime::internal::health_monitor>(
            config.integer(streams_config::dead_letter_degraded_rate));
        settings.on_dead_letter = [monitor = health](std::int64_t now_ms) { monitor->record_dead_letter(now_ms); };
        settings.process_id = config.get_or("process.id", random_process_id());
        settings.state_dir = config.get_or("state.dir", (std::filesystem::temp_directory_path() / "eddy-streams").string());
        // One block cache and write-buffer budget for every RocksDB store of
        // this instance, however many partitions it owns.
        settings.store_memory = statestore::internal::make_memory_budget(
            static_cast<std::uint64_t>(config.integer("rocksdb.memory.max.bytes")));
        // The record caches: Kafka Streams' setting and default, split
        // across the stream threads.
        const auto cache_bytes = config.integer("statestore.cache.max.bytes");
        settings.cache_max_bytes = static_cast<std::uint64_t>(cache_bytes) / static_cast<std::uint64_t>(thread_count);

        standby_replicas = static_cast<int>(config.integer("num.standby.replicas"));
        if (auto s = config.get("application.server"); s && !s->empty()) {
            server = host_info::parse(*s);
            // '@' ends a consumer's client.id before the server it names
            // (ADR 0019): no host holds one.
            if (!server || s->find('@') != std::string::npos) {
                throw config_error(fmt::format("setting application.server={} is not host:port", *s));
            }
        }
        bootstrap = config.required(streams_config::bootstrap_servers);
        if (bootstrap == "embedded") {
            broker = std::make_unique<embedded_broker>(static_cast<int>(config.integer("embedded.brokers")));
            bootstrap = broker->bootstrap_servers();
        }
        config.set(streams_config::bootstrap_servers, bootstrap);
        settings.commit_offsets_after_transaction =
            settings.exactly_once && (broker != nullptr || embedded_broker::find(bootstrap) != nullptr);

        bool multi_input = false;
        for (std::size_t s = 0; s < topo.subtopology_count(); ++s) {
            multi_input = multi_input || topo.source_topics(static_cast<int>(s)).size() > 1;
        }
        // Co-partitioned inputs of one task must land on one member: the range
        // assignor does that, the cooperative one does not (docs/adr/0004).
        std::map<std::string, std::string> consumer_defaults = {
            {"group.id", settings.application_id},
            {"enable.auto.commit", "false"},
            {"enable.auto.offset.store", "false"},
            {"auto.offset.reset", "earliest"},
            {"partition.assignment.strategy", multi_input ? "range" : "cooperative-sticky"},
            {"queued.min.messages", "1000000"},
            {"fetch.wait.max.ms", broker ? "10" : "100"},
            {"statistics.interval.ms", "5000"},
            // Java's default: a returning broker is found within a second
            // (librdkafka's 10 s made recovery after an outage take ~8 s).
            {"reconnect.backoff.max.ms", "1000"},
        };
        if (broker) {
            consumer_defaults["session.timeout.ms"] = "6000";
            consumer_defaults["heartbeat.interval.ms"] = "500";
        }
        if (settings.exactly_once) {
            consumer_defaults["isolation.level"] = "read_committed";
        }
        settings.consumer_settings =
            with_defaults(consumer_defaults, runtime::internal::client_settings(config, "consumer."));
        std::map<std::string, std::string> producer_defaults = {
            {"enable.idempotence", "true"},
            {"compression.type", "lz4"},
            {"linger.ms", "5"},
            // Java's default partitioner, so keys land where Kafka Streams
            // would put them.
            {"partitioner", "murmur2_random"},
            // What a thread's producer buffers while no broker answers
            // (docs/adr/0015): at most this many records and KiB (librdkafka
            // would take 1 GiB); when full, processing waits.
            {"queue.buffering.max.messages", "100000"},
            {"queue.buffering.max.kbytes", "65536"},
            // Room for a dead-letter copy of the largest record a topic
            // takes (1 MiB by default) plus its headers.
            {"message.max.bytes", std::to_string(dead_letter_max_bytes)},
            // The statistics say when a broker answers again.
            {"statistics.interval.ms", "5000"},
            {"reconnect.backoff.max.ms", "1000"},
        };
        if (!settings.exactly_once) {
            // At-least-once: a record waits for the broker however long the
            // outage lasts instead of failing with _MSG_TIMED_OUT after 5 min
            // (the queue bounds the wait). Under exactly-once librdkafka
            // keeps it within transaction.timeout.ms: an outage longer than
            // that aborts the transaction, and the thread processes the
            // records again once the broker is back.
            producer_defaults["message.timeout.ms"] = "0";
        }
        settings.producer_settings =
            with_defaults(producer_defaults, runtime::internal::client_settings(config, "producer."));
    }

    // Source topics exist and are co-partitioned per sub-topology; internal
    // and dead-letter topics are created.
    void prepare_topics() {
        admin_client admin(config, std::chrono::milliseconds(config.integer("startup.timeout.ms")));
        auto existing = admin.list_topics();
        std::map<std::string, int> partitions;
        for (const auto& topic : topo.external_source_topics()) {
            auto it = existing.find(topic);
            if (it == existing.end()) {
                throw config_error(fmt::format(
                    "source topic {} does not exist on {}; create it first", topic, bootstrap));
            }
            partitions[topic] = it->second.partitions;
        }
        for (const auto& g : topo.global_stores()) {
            if (!existing.contains(g.topic)) {
                throw config_error(fmt::format("source topic {} of global store {} does not exist on {}; create it first",
                    g.topic, g.store, bootstrap));
            }
        }
        auto internal = topo.internal_topics(settings.application_id);
        // An internal topic takes the partition count of its writer's sources;
        // writers that read internal topics resolve after those.
        for (std::size_t round = 0; round <= internal.size(); ++round) {
            for (auto& t : internal) {
                if (t.partitions > 0) {
                    partitions[t.name] = t.partitions;
                    continue;
                }
                // -1: co-partitioned with the other topics its reader reads.
                const bool as_reader = t.partitions < 0 && t.reader_subtopology >= 0;
                int most = 0;
                bool known = true;
                for (const auto& src : topo.source_topics(
                         as_reader ? t.reader_subtopology : t.writer_subtopology, settings.application_id)) {
                    if (as_reader && src == t.name) {
                        continue;
                    }
                    auto it = partitions.find(src);
                    if (it == partitions.end()) {
                        known = false;
                    } else {
                        most = std::max(most, it->second);
                    }
                }
                if (known) {
                    partitions[t.name] = most;
                }
            }
        }
        for (std::size_t s = 0; s < topo.subtopology_count(); ++s) {
            std::vector<std::string> counts;
            std::set<int> distinct;
            for (const auto& topic : topo.source_topics(static_cast<int>(s), settings.application_id)) {
                auto n = partitions.at(topic);
                counts.push_back(fmt::format("{} ({} partitions)", topic, n));
                distinct.insert(n);
            }
            if (distinct.size() > 1) {
                throw config_error(fmt::format(
                    "sub-topology {} reads topics that are not co-partitioned: {}; they need the same partition count",
                    s, fmt::join(counts, ", ")));
            }
        }
        std::vector<topic_spec> to_create;
        for (const auto& t : internal) {
            if (!existing.contains(t.name)) {
                to_create.push_back({t.name, partitions.at(t.name), replication_factor(), {}});
            } else if (existing.at(t.name).partitions != partitions.at(t.name)) {
                throw config_error(fmt::format("internal topic {} has {} partitions, the topology needs {}", t.name,
                    existing.at(t.name).partitions, partitions.at(t.name)));
            }
        }
        // Store changelogs: compacted, one partition per task of the
        // sub-topology that keeps the store.
        for (const auto& log : topo.changelog_topics(settings.application_id)) {
            const auto sources = topo.source_topics(log.subtopology, settings.application_id);
            const int needed = partitions.at(sources.at(0));
            if (auto it = existing.find(log.name); it == existing.end()) {
                to_create.push_back({log.name, needed, replication_factor(), runtime::internal::changelog_configs(
                    log.window_retention_ms, config.integer("windowstore.changelog.additional.retention.ms"))});
            } else if (it->second.partitions != needed) {
                throw config_error(fmt::format("changelog topic {} of store {} has {} partitions, the topology needs {}",
                    log.name, log.store, it->second.partitions, needed));
            }
        }
        // The dead-letter topics: the handlers' and the branches' own. Each
        // takes the dead-letter copy of a record as large as a topic takes
        // by default (1 MiB), with its headers.
        std::set<std::string> dead_letter_topics = topo.dead_letter_topics();
        if (auto dlq = config.get(streams_config::dead_letter_topic); dlq && !dlq->empty()) {
            dead_letter_topics.insert(*dlq);
        }
        for (const auto& dlq : dead_letter_topics) {
            if (!existing.contains(dlq)) {
                to_create.push_back(
                    {dlq, 1, replication_factor(), {{"max.message.bytes", std::to_string(dead_letter_max_bytes)}}});
            }
        }
        if (uses_directory() && !existing.contains(instances_topic())) {
            // The broker stamps each entry: entries expire on its clock, not
            // on the time a record states (ADR 0019).
            to_create.push_back({instances_topic(), 1, replication_factor(),
                {{"cleanup.policy", "compact"}, {"message.timestamp.type", "LogAppendTime"}}});
        }
        topic_partitions = partitions;
        if (auto* mock = broker ? broker.get() : embedded_broker::find(bootstrap)) {
            // The mock cluster ignores CreateTopics: create through its own API.
            for (const auto& t : to_create) {
                mock->create_topic(t.name, t.partitions, 1);
            }
        } else {
            admin.create_topics(to_create);
        }
        // A created topic reaches every broker's metadata a little later: wait
        // for it, so the threads do not subscribe to a topic still unknown.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (const auto& t : to_create) {
            while (!admin.describe_topic(t.name)) {
                if (std::chrono::steady_clock::now() > deadline) {
                    throw kafka_error(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                        fmt::format("topic {} was created but does not show in the cluster's metadata", t.name));
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
    }

    std::string instances_topic() const { return settings.application_id + "-instances"; }
    bool uses_directory() const { return server.has_value() || standby_replicas > 0; }
    // This instance's key in the directory: its application.server, or
    // (standbys without queries) a name that is not host:port, which the
    // query metadata leaves out.
    std::string directory_key() const {
        return server ? server->to_string() : "process:" + settings.process_id;
    }

    int replication_factor() const { return static_cast<int>(config.integer("replication.factor")); }
};

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

health_report kafka_streams::health() const {
    auto report = _impl->health->report(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    if (broker_unreachable()) {
        report.status = health_status::degraded;
        report.reasons.emplace_back(
            "broker unreachable: no broker answers (the producers buffer, processing resumes when one does)");
    }
    // A state in which nothing is processed outweighs every warning.
    std::string why;
    {
        std::scoped_lock lock(_impl->mutex);
        switch (_impl->state) {
        case streams_state::created:
            why = "the app is not started (CREATED)";
            break;
        case streams_state::error:
            why = "the app failed and processes nothing (ERROR): "
                + (_impl->failure.empty() ? std::string("see the log") : _impl->failure);
            break;
        case streams_state::pending_shutdown:
        case streams_state::not_running:
            why = fmt::format("the app is shutting down ({})", to_string(_impl->state));
            break;
        default:
            break;
        }
    }
    if (!why.empty()) {
        report.status = health_status::unhealthy;
        report.reasons.insert(report.reasons.begin(), std::move(why));
    }
    return report;
}

void kafka_streams::set_health_reason(const std::string& key, std::string reason) {
    _impl->health->set(key, std::move(reason));
}

void kafka_streams::clear_health_reason(std::string_view key) {
    _impl->health->clear(key);
}

std::vector<metric> kafka_streams::metrics() const {
    std::vector<metric> out;
    std::scoped_lock lock(_impl->mutex);
    std::int64_t dead_letters = 0;
    if (_impl->standby) {
        // Standby replicas: the copies kept, what they were given, and each
        // copy's changelog position.
        const auto positions = _impl->standby->positions();
        out.push_back({"standby-tasks", {}, static_cast<double>(positions.size())});
        out.push_back({"standby-records-restored-total", {}, static_cast<double>(_impl->standby->records_restored())});
        for (const auto& [task, offsets] : positions) {
            for (const auto& [tp, offset] : offsets) {
                out.push_back({"standby-changelog-offset",
                    {{"task", task}, {"partition", fmt::format("{}-{}", tp.first, tp.second)}}, static_cast<double>(offset)});
            }
        }
    }
    bool unreachable = false;
    for (const auto& t : _impl->threads) {
        unreachable = unreachable || t->broker_unreachable();
    }
    out.push_back({"broker-unreachable", {}, unreachable ? 1.0 : 0.0});
    for (const auto& t : _impl->threads) {
        const auto& c = t->counters();
        std::map<std::string, std::string> tags{{"thread", t->name()}};
        out.push_back({"broker-unreachable", tags, t->broker_unreachable() ? 1.0 : 0.0});
        out.push_back({"producer-buffered-records", tags, static_cast<double>(c.buffered_records.load())});
        out.push_back({"producer-buffered-bytes", tags, static_cast<double>(c.buffered_bytes.load())});
        out.push_back({"transaction-retries-total", tags, static_cast<double>(c.transaction_retries.load())});
        out.push_back({"commits-postponed-total", tags, static_cast<double>(c.commits_postponed.load())});
        const auto processed = c.processed.load();
        const auto commits = c.commits.load();
        out.push_back({"records-consumed-total", tags, static_cast<double>(c.consumed.load())});
        out.push_back({"records-produced-total", tags, static_cast<double>(c.produced.load())});
        out.push_back({"records-processed-total", tags, static_cast<double>(processed)});
        const auto samples = c.process_samples.load();
        out.push_back({"process-latency-avg-ns", tags,
            samples == 0 ? 0.0 : static_cast<double>(c.process_ns.load()) / static_cast<double>(samples)});
        out.push_back({"commit-total", tags, static_cast<double>(commits)});
        out.push_back({"commit-latency-avg-ms", tags,
            commits == 0 ? 0.0 : static_cast<double>(c.commit_us.load()) / 1000.0 / static_cast<double>(commits)});
        out.push_back({"rebalance-total", tags, static_cast<double>(c.rebalances.load())});
        out.push_back({"dropped-records-total", tags, static_cast<double>(t->dropped_records())});
        out.push_back({"deduplicated-records-total", tags, static_cast<double>(t->deduplicated_records())});
        out.push_back({"aborted-transactions-total", tags, static_cast<double>(c.aborted_transactions.load())});
        out.push_back({"partition-pauses-total", tags, static_cast<double>(c.pauses.load())});
        // Per handler kind, and their sum (the thread's, then the app's).
        const auto& dl = t->dead_letters();
        for (auto kind : {error_kind::deserialization, error_kind::processing, error_kind::production}) {
            out.push_back({"dead-letter-records-total", {{"thread", t->name()}, {"kind", std::string(to_string(kind))}},
                static_cast<double>(dl.by_kind[static_cast<std::size_t>(kind)].load(std::memory_order_relaxed))});
        }
        out.push_back({"dead-letter-records-total", tags, static_cast<double>(dl.total())});
        dead_letters += dl.total();
        for (const auto& [task, n] : t->task_processed()) {
            out.push_back({"task-records-processed-total", {{"thread", t->name()}, {"task", task}},
                static_cast<double>(n)});
        }
        for (const auto& [partition, lag] : t->lag()) {
            out.push_back({"records-lag", {{"thread", t->name()}, {"partition", partition}}, static_cast<double>(lag)});
        }
    }
    // The app's: every live thread's dead letters, and how many fell in the
    // last minute (what health() compares with errors.dead.letter.degraded.rate).
    out.push_back({"dead-letter-records-total", {}, static_cast<double>(dead_letters)});
    out.push_back({"dead-letter-records-last-minute", {},
        static_cast<double>(_impl->health->dead_letters_last_minute(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count()))});
    return out;
}

bool kafka_streams::broker_unreachable() const {
    std::scoped_lock lock(_impl->mutex);
    for (const auto& t : _impl->threads) {
        if (t->broker_unreachable()) {
            return true;
        }
    }
    return false;
}

std::optional<host_info> kafka_streams::application_server() const {
    return _impl->server;
}

namespace {

std::string need_server_message(std::string_view what) {
    return fmt::format("{} needs application.server (host:port) set and the app started", what);
}

} // namespace

std::vector<key_query_metadata> kafka_streams::query_metadata_for_store_partitions(const std::string& name) const {
    check_store(name);
    if (!_impl->directory || !_impl->server) {
        throw config_error(need_server_message("query_metadata_for_store_partitions"));
    }
    const auto& topo = _impl->topo;
    for (std::size_t s = 0; s < topo.subtopology_count(); ++s) {
        const auto stores = topo.stores_of(static_cast<int>(s));
        if (std::find(stores.begin(), stores.end(), name) == stores.end()) {
            continue;
        }
        const auto sources = topo.source_topics(static_cast<int>(s), _impl->settings.application_id);
        const int count = _impl->topic_partitions.at(sources.at(0));
        const auto owners = _impl->directory->owners();
        const auto standbys = _impl->directory->standbys();
        std::vector<key_query_metadata> out(static_cast<std::size_t>(count));
        for (int p = 0; p < count; ++p) {
            auto& m = out[static_cast<std::size_t>(p)];
            m.partition = p;
            const auto task = fmt::format("{}_{}", s, p);
            for (const auto& [server, tasks] : owners) {
                if (tasks.contains(task)) {
                    m.active_host = host_info::parse(server);
                }
            }
            for (const auto& [server, tasks] : standbys) {
                if (auto host = host_info::parse(server); host && tasks.contains(task)) {
                    m.standby_hosts.push_back(*host);
                }
            }
        }
        return out;
    }
    throw store_error(fmt::format("the topology has no store {}", name));
}

key_query_metadata kafka_streams::query_metadata_for_serialized_key(const std::string& name, std::string_view key) const {
    check_store(name);
    if (!_impl->directory || !_impl->server) {
        throw config_error(need_server_message("query_metadata_for_key"));
    }
    auto partitions = query_metadata_for_store_partitions(name);
    // The producers' partitioner (murmur2, as Java's); it reads only the key.
    const int p = rd_kafka_msg_partitioner_murmur2(
        nullptr, key.data(), key.size(), static_cast<std::int32_t>(partitions.size()), nullptr, nullptr);
    return std::move(partitions.at(static_cast<std::size_t>(p)));
}

std::vector<streams_metadata> kafka_streams::all_metadata() const {
    if (!_impl->directory || !_impl->server) {
        throw config_error(need_server_message("all_metadata"));
    }
    const auto& topo = _impl->topo;
    // Each task's stores and source partitions, added to `stores` and `partitions`.
    auto describe = [&](const std::set<std::string>& tasks, std::set<std::string>& stores,
                        std::set<std::pair<std::string, int>>& partitions) {
        for (const auto& task : tasks) {
            int sub = -1;
            int partition = -1;
            if (std::sscanf(task.c_str(), "%d_%d", &sub, &partition) != 2 || sub < 0
                || static_cast<std::size_t>(sub) >= topo.subtopology_count()) {
                continue;
            }
            for (const auto& store : topo.stores_of(sub)) {
                stores.insert(store);
            }
            for (const auto& topic : topo.source_topics(sub, _impl->settings.application_id)) {
                partitions.emplace(topic, partition);
            }
        }
    };
    const auto standbys = _impl->directory->standbys();
    std::vector<streams_metadata> out;
    for (const auto& [server, tasks] : _impl->directory->owners()) {
        auto host = host_info::parse(server);
        if (!host) {
            continue;
        }
        streams_metadata m{*host, {}, {}, tasks, {}, {}, {}};
        describe(tasks, m.state_store_names, m.topic_partitions);
        if (auto it = standbys.find(server); it != standbys.end()) {
            m.standby_tasks = it->second;
            describe(it->second, m.standby_state_store_names, m.standby_topic_partitions);
        }
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<streams_metadata> kafka_streams::all_metadata_for_store(const std::string& name) const {
    check_store(name);
    auto all = all_metadata();
    std::erase_if(all, [&](const streams_metadata& m) { return !m.state_store_names.contains(name); });
    return all;
}

} // namespace eddy
