// kafka_streams: health, metrics and the query metadata.

#include "runtime/internal/kafka_streams_impl.h"

#include <algorithm>
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
