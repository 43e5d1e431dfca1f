// kafka_streams: the settings resolved and the topics made before start().

#include "runtime/internal/kafka_streams_impl.h"

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/admin.h"
#include "runtime/internal/changelog_config.h"
#include "runtime/internal/client_config.h"
#include "runtime/kafka_error.h"

namespace eddy {
namespace {

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

void kafka_streams::impl::resolve_settings() {
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

void kafka_streams::impl::prepare_topics() {
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

} // namespace eddy
