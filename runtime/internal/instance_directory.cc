#include "runtime/internal/instance_directory.h"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "runtime/internal/client_config.h"
#include "runtime/internal/log.h"

namespace eddy::runtime::internal {
namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

std::map<std::string, std::set<std::string>> resolve_owners(
    const std::vector<instance_entry>& entries, std::int64_t now_ms, std::int64_t expiry_ms) {
    std::map<std::string, std::set<std::string>> out;
    // task -> the winning entry so far
    std::map<std::string, const instance_entry*> winner;
    for (const auto& e : entries) {
        if (e.time_ms < now_ms - expiry_ms) {
            continue;
        }
        out[e.server];
        for (const auto& t : e.tasks) {
            auto& w = winner[t];
            if (w == nullptr || e.time_ms > w->time_ms || (e.time_ms == w->time_ms && e.server > w->server)) {
                w = &e;
            }
        }
    }
    for (const auto& [task, e] : winner) {
        out[e->server].insert(task);
    }
    return out;
}

std::map<std::string, std::set<std::string>> resolve_standbys(
    const std::vector<instance_entry>& entries, std::int64_t now_ms, std::int64_t expiry_ms) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& e : entries) {
        if (e.time_ms >= now_ms - expiry_ms) {
            out[e.server] = e.standbys;
        }
    }
    return out;
}

std::set<std::string> standby_assignment(
    const std::map<std::string, std::set<std::string>>& owners, const std::string& self, int replicas) {
    std::vector<std::string> ring;
    for (const auto& [server, tasks] : owners) {
        ring.push_back(server);
    }
    if (std::find(ring.begin(), ring.end(), self) == ring.end()) {
        ring.insert(std::upper_bound(ring.begin(), ring.end(), self), self);
    }
    const auto n = ring.size();
    const auto copies = std::min<std::size_t>(static_cast<std::size_t>(std::max(replicas, 0)), n - 1);
    std::set<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        if (ring[i] == self) {
            continue;
        }
        for (std::size_t step = 1; step <= copies; ++step) {
            if (ring[(i + step) % n] == self) {
                const auto& tasks = owners.at(ring[i]);
                out.insert(tasks.begin(), tasks.end());
                break;
            }
        }
    }
    return out;
}

std::string encode_instance(const instance_entry& e) {
    nlohmann::json j{{"server", e.server}, {"tasks", e.tasks}, {"time", e.time_ms}};
    if (!e.standbys.empty()) {
        j["standbys"] = e.standbys;
    }
    return j.dump();
}

instance_entry decode_instance(std::string_view server, std::string_view value) {
    try {
        auto j = nlohmann::json::parse(value);
        instance_entry e;
        e.server = std::string(server);
        e.tasks = j.at("tasks").get<std::set<std::string>>();
        e.time_ms = j.at("time").get<std::int64_t>();
        if (auto it = j.find("standbys"); it != j.end()) {
            e.standbys = it->get<std::set<std::string>>();
        }
        return e;
    } catch (const nlohmann::json::exception& ex) {
        throw std::runtime_error(fmt::format("not an instance entry: {}", ex.what()));
    }
}

instance_directory::instance_directory(options o, std::function<local_tasks()> local)
    : _options(std::move(o)), _local_tasks(std::move(local)) {
    auto consumer = _options.consumer_settings;
    // It assigns the one partition itself and commits nothing; librdkafka's
    // poll still wants a group id, which it never joins.
    consumer["group.id"] = consumer["group.id"] + "-instances";
    consumer["enable.auto.commit"] = "false";
    consumer["auto.offset.reset"] = "earliest";
    consumer.erase("partition.assignment.strategy");
    consumer.erase("statistics.interval.ms");
    consumer.erase("isolation.level");
    auto producer = _options.producer_settings;
    producer["linger.ms"] = "0";
    producer.erase("transactional.id");
    producer.erase("statistics.interval.ms");
    _consumer = make_client(RD_KAFKA_CONSUMER, consumer);
    try {
        _producer = make_client(RD_KAFKA_PRODUCER, producer);
    } catch (...) {
        rd_kafka_destroy(_consumer);
        throw;
    }
}

instance_directory::~instance_directory() {
    stop();
    rd_kafka_consumer_close(_consumer);
    rd_kafka_destroy(_consumer);
    rd_kafka_destroy(_producer);
}

void instance_directory::start() {
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, _options.topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    auto err = rd_kafka_assign(_consumer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw std::runtime_error(fmt::format("cannot read topic {}: {}", _options.topic, rd_kafka_err2str(err)));
    }
    _thread = std::thread([this] { run(); });
}

void instance_directory::stop(bool tombstone) {
    if (!_thread.joinable()) {
        return;
    }
    _stop.store(true);
    _thread.join();
    if (tombstone) {
        auto err = rd_kafka_producev(_producer, RD_KAFKA_V_TOPIC(_options.topic.c_str()), RD_KAFKA_V_PARTITION(0),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(_options.server.data(), _options.server.size()), RD_KAFKA_V_VALUE(nullptr, 0),
            RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            logger()->warn("instance tombstone not sent server={} error={}", _options.server, rd_kafka_err2str(err));
        }
    }
    if (rd_kafka_flush(_producer, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        logger()->warn("instance publications not flushed server={}", _options.server);
    }
    logger()->info("instance directory stopped server={} tombstone={}", _options.server, tombstone);
}

std::vector<instance_entry> instance_directory::entries() const {
    std::vector<instance_entry> out;
    std::scoped_lock lock(_mutex);
    for (const auto& [server, e] : _entries) {
        out.push_back(e);
    }
    return out;
}

std::map<std::string, std::set<std::string>> instance_directory::owners() const {
    return resolve_owners(entries(), wall_ms(), _options.expiry.count());
}

std::map<std::string, std::set<std::string>> instance_directory::standbys() const {
    return resolve_standbys(entries(), wall_ms(), _options.expiry.count());
}

void instance_directory::publish(const local_tasks& tasks) {
    instance_entry e{_options.server, tasks.active, wall_ms(), tasks.standby};
    const auto value = encode_instance(e);
    auto err = rd_kafka_producev(_producer, RD_KAFKA_V_TOPIC(_options.topic.c_str()), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(_options.server.data(), _options.server.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // Tried again at the next check.
        logger()->warn("instance publication not sent server={} error={}", _options.server, rd_kafka_err2str(err));
        return;
    }
    logger()->info("instance published server={} tasks={} standbys={}", _options.server, tasks.active.size(),
        tasks.standby.size());
    _published = tasks;
    _ever_published = true;
    _last_publish = std::chrono::steady_clock::now();
    std::scoped_lock lock(_mutex);
    _entries[_options.server] = std::move(e);
}

void instance_directory::apply(const rd_kafka_message_t* m) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            logger()->warn("instances topic read error topic={} error={}", _options.topic, rd_kafka_err2str(m->err));
        }
        return;
    }
    if (m->key == nullptr) {
        return;
    }
    const std::string server(static_cast<const char*>(m->key), m->key_len);
    if (server == _options.server) {
        // This instance's own entry is kept as published, not as read back
        // (a tombstone of a previous run must not erase the new one).
        return;
    }
    std::scoped_lock lock(_mutex);
    if (m->payload == nullptr) {
        _entries.erase(server);
        return;
    }
    try {
        _entries[server] = decode_instance(server, {static_cast<const char*>(m->payload), m->len});
    } catch (const std::exception& e) {
        logger()->warn("instance entry ignored server={} error=\"{}\"", server, e.what());
    }
}

void instance_directory::run() {
    while (!_stop.load()) {
        if (auto* m = rd_kafka_consumer_poll(_consumer, static_cast<int>(_options.poll.count()))) {
            apply(m);
            rd_kafka_message_destroy(m);
        }
        rd_kafka_poll(_producer, 0);
        try {
            auto tasks = _local_tasks();
            if (!_ever_published || tasks != _published
                || std::chrono::steady_clock::now() - _last_publish >= _options.heartbeat) {
                publish(tasks);
            }
        } catch (const std::exception& e) {
            logger()->error("instance publication failed server={} error=\"{}\"", _options.server, e.what());
        }
    }
}

} // namespace eddy::runtime::internal
