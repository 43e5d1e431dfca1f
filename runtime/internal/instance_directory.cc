#include "runtime/internal/instance_directory.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <tuple>

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
            if (w == nullptr || std::tie(e.time_ms, e.offset, e.server) > std::tie(w->time_ms, w->offset, w->server)) {
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

std::string member_client_id(const std::string& thread_name, const std::string& directory_key) {
    auto id = thread_name + "-consumer";
    if (!directory_key.empty()) {
        id += "@" + directory_key;
    }
    return id;
}

std::string member_server(std::string_view client_id) {
    // A directory key holds no '@' (a host name cannot, nor "process:<id>").
    const auto at = client_id.rfind('@');
    if (at == std::string_view::npos || !client_id.substr(0, at).ends_with("-consumer")) {
        return {};
    }
    return std::string(client_id.substr(at + 1));
}

std::vector<instance_entry> backed_entries(
    std::vector<instance_entry> entries, const group_members& members, const std::string& self) {
    if (!members.checked) {
        return entries;
    }
    std::vector<instance_entry> out;
    for (auto& e : entries) {
        if (e.server == self) {
            out.push_back(std::move(e));
            continue;
        }
        auto it = members.tasks.find(e.server);
        if (it == members.tasks.end()) {
            continue;
        }
        std::set<std::string> assigned;
        std::set_intersection(e.tasks.begin(), e.tasks.end(), it->second.begin(), it->second.end(),
            std::inserter(assigned, assigned.end()));
        e.tasks = std::move(assigned);
        out.push_back(std::move(e));
    }
    return out;
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
    _consumer.reset(make_client(RD_KAFKA_CONSUMER, consumer));
    _producer.reset(make_client(RD_KAFKA_PRODUCER, producer));
    if (_options.group_id.empty()) {
        _members.checked = false;
        logger()->info("entries of topic {} are not checked against the members of the application's consumer group "
                       "(the embedded broker cannot describe groups)",
            _options.topic);
        return;
    }
    _admin.reset(make_client(RD_KAFKA_PRODUCER, _options.admin_settings));
    _admin_queue.reset(rd_kafka_queue_new(_admin.get()));
    // A mock cluster in another process (`eddy broker`) is not asked
    // either: librdkafka 2.0.2 asserts (rd_kafka_enq_once_del_source_return)
    // when the mock drops the connection a group description went on.
    recognise_cluster(std::chrono::seconds(5));
}

void instance_directory::recognise_cluster(std::chrono::milliseconds wait) {
    if (_cluster_known || _admin == nullptr) {
        return;
    }
    char* id = rd_kafka_clusterid(_admin.get(), static_cast<int>(wait.count()));
    if (id == nullptr) {
        return; // asked again before each description
    }
    const bool mock = std::string_view(id).starts_with("mockCluster");
    rd_kafka_mem_free(_admin.get(), id);
    _cluster_known = true;
    if (mock) {
        std::scoped_lock lock(_mutex);
        _members.checked = false;
        logger()->info("entries of topic {} are not checked against the members of the application's consumer group "
                       "(the embedded broker cannot describe groups)",
            _options.topic);
    }
}

instance_directory::~instance_directory() {
    stop();
    rd_kafka_consumer_close(_consumer.get());
}

void instance_directory::start() {
    partition_list parts;
    parts.add(_options.topic, 0, RD_KAFKA_OFFSET_BEGINNING);
    auto err = rd_kafka_assign(_consumer.get(), parts.get());
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
        auto err = rd_kafka_producev(_producer.get(), RD_KAFKA_V_TOPIC(_options.topic.c_str()), RD_KAFKA_V_PARTITION(0),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(_options.server.data(), _options.server.size()), RD_KAFKA_V_VALUE(nullptr, 0),
            RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            logger()->warn("instance tombstone not sent server={} error={}", _options.server, rd_kafka_err2str(err));
        }
    }
    if (rd_kafka_flush(_producer.get(), 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
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
    return backed_entries(std::move(out), _members, _options.server);
}

std::int64_t instance_directory::now_ms() const {
    std::scoped_lock lock(_mutex);
    if (_broker_ms == 0) {
        return wall_ms();
    }
    return _broker_ms
        + std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - _broker_ms_at).count();
}

std::map<std::string, std::set<std::string>> instance_directory::owners() const {
    return resolve_owners(entries(), now_ms(), _options.expiry.count());
}

std::map<std::string, std::set<std::string>> instance_directory::standbys() const {
    return resolve_standbys(entries(), now_ms(), _options.expiry.count());
}

void instance_directory::publish(const local_tasks& tasks) {
    // The stated time is the publisher's wall clock (read back, it tells
    // this run's publications from older ones); the entry kept here has
    // the broker's clock, as the others' do.
    const auto stated = wall_ms();
    if (_first_publish_ms == 0) {
        _first_publish_ms = stated;
    }
    instance_entry e{_options.server, tasks.active, stated, tasks.standby};
    const auto value = encode_instance(e);
    auto err = rd_kafka_producev(_producer.get(), RD_KAFKA_V_TOPIC(_options.topic.c_str()), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(_options.server.data(), _options.server.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // Tried again at the next check.
        logger()->warn("instance publication not sent server={} error={}", _options.server, rd_kafka_err2str(err));
        return;
    }
    logger()->info("instance published server={} tasks={} standbys={}", _options.server, tasks.active.size(),
        tasks.standby.size());
    _sent.push_back(value);
    if (_sent.size() > 16) {
        _sent.pop_front();
    }
    _published = tasks;
    _ever_published = true;
    _last_publish = std::chrono::steady_clock::now();
    e.time_ms = now_ms();
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
    rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    const std::int64_t appended = rd_kafka_message_timestamp(m, &type);
    const bool broker_time = type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME && appended > 0;
    if (server == _options.server) {
        // This instance's own entry is kept as published, not as read back.
        // A publication of this run read back sets the broker's clock; any
        // other record under its key (a tombstone or entry of a previous
        // run, or someone else's) would stand for it in the others' eyes:
        // publish again at once.
        const std::string_view value = m->payload != nullptr
            ? std::string_view(static_cast<const char*>(m->payload), m->len) : std::string_view();
        const bool ours = m->payload != nullptr && std::find(_sent.begin(), _sent.end(), value) != _sent.end();
        if (!ours) {
            logger()->debug("instance entry under this instance's key not published by it server={} offset={}",
                server, m->offset);
            _publish_now = true;
            return;
        }
        if (broker_time) {
            std::scoped_lock lock(_mutex);
            _broker_ms = appended;
            _broker_ms_at = std::chrono::steady_clock::now();
            if (auto it = _entries.find(server); it != _entries.end()) {
                it->second.time_ms = std::max(it->second.time_ms, appended);
            }
        }
        return;
    }
    if (m->payload == nullptr) {
        std::scoped_lock lock(_mutex);
        _entries.erase(server);
        return;
    }
    instance_entry e;
    try {
        e = decode_instance(server, {static_cast<const char*>(m->payload), m->len});
    } catch (const std::exception& ex) {
        logger()->warn("instance entry ignored server={} error=\"{}\"", server, ex.what());
        return;
    }
    if (!broker_time) {
        _saw_create_time = true;
        say_create_time();
    }
    // The time the entry states is never used: it could be any.
    e.time_ms = broker_time ? appended : now_ms();
    e.offset = m->offset;
    logger()->debug("instance entry read server={} tasks={} standbys={} time={} broker_time={} offset={}", server,
        e.tasks.size(), e.standbys.size(), e.time_ms, broker_time, e.offset);
    std::scoped_lock lock(_mutex);
    auto& kept = _entries[server];
    if (kept.tasks != e.tasks || kept.standbys != e.standbys || kept.server.empty()) {
        // A change: described again, so that its claims are checked against
        // an assignment as new as the entry.
        _describe_due = true;
    }
    kept = std::move(e);
}

void instance_directory::say_create_time() {
    // Said on a real cluster only: the embedded broker has no other way.
    if (_saw_create_time && _described && !_said_create_time) {
        _said_create_time = true;
        logger()->info("instances topic {} keeps the producers' timestamps: entries expire {} ms after this instance "
                       "read them (create it with message.timestamp.type=LogAppendTime to use the broker's clock)",
            _options.topic, _options.expiry.count());
    }
}

void instance_directory::describe_group() {
    recognise_cluster(std::chrono::milliseconds(0));
    if (_describing || !_members.checked || !_cluster_known) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!_describe_due && now < _next_describe) {
        return;
    }
    const char* groups[] = {_options.group_id.c_str()};
    const admin_options_ptr o(rd_kafka_AdminOptions_new(_admin.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS));
    char err[256];
    rd_kafka_AdminOptions_set_request_timeout(o.get(), 5000, err, sizeof err);
    rd_kafka_DescribeConsumerGroups(_admin.get(), groups, 1, o.get(), _admin_queue.get());
    {
        std::scoped_lock lock(_mutex);
        _asked_about.clear();
        for (const auto& [server, e] : _entries) {
            _asked_about.insert(server);
        }
    }
    _describing = true;
    _describe_due = false;
    _next_describe = now + _options.describe_interval;
}

void instance_directory::on_described(rd_kafka_event_t* ev) {
    _describing = false;
    auto retry = [&](std::string_view why) {
        // Each new error once (a missing ACL would repeat every retry).
        if (why != _describe_error) {
            _describe_error = why;
            logger()->warn("consumer group not described group={} error=\"{}\"; asking again every {} ms", _options.group_id,
                why, _options.describe_retry.count());
        }
        _next_describe = std::chrono::steady_clock::now() + _options.describe_retry;
    };
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        retry(rd_kafka_event_error_string(ev));
        return;
    }
    const auto* result = rd_kafka_event_DescribeConsumerGroups_result(ev);
    if (result == nullptr) {
        retry("not a group description");
        return;
    }
    std::size_t n = 0;
    const auto** groups = rd_kafka_DescribeConsumerGroups_result_groups(result, &n);
    if (n != 1) {
        retry(fmt::format("{} groups in the answer", n));
        return;
    }
    const auto* g = groups[0];
    if (const auto* error = rd_kafka_ConsumerGroupDescription_error(g)) {
        if (rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
            logger()->warn("the broker cannot describe consumer groups: entries of topic {} are not checked "
                           "against the members of group {}",
                _options.topic, _options.group_id);
            std::scoped_lock lock(_mutex);
            _members.checked = false;
            return;
        }
        retry(rd_kafka_error_string(error));
        return;
    }
    group_members seen;
    for (std::size_t i = 0; i < rd_kafka_ConsumerGroupDescription_member_count(g); ++i) {
        const auto* member = rd_kafka_ConsumerGroupDescription_member(g, i);
        const auto server = member_server(rd_kafka_MemberDescription_client_id(member));
        if (server.empty()) {
            continue;
        }
        auto& tasks = seen.tasks[server];
        const auto* assignment = rd_kafka_MemberDescription_assignment(member);
        const auto* parts = assignment != nullptr ? rd_kafka_MemberAssignment_partitions(assignment) : nullptr;
        for (int p = 0; parts != nullptr && p < parts->cnt; ++p) {
            if (auto it = _options.subtopologies_of_topic.find(parts->elems[p].topic);
                it != _options.subtopologies_of_topic.end()) {
                for (int s : it->second) {
                    tasks.insert(fmt::format("{}_{}", s, parts->elems[p].partition));
                }
            }
        }
    }
    _described = true;
    _describe_error.clear();
    say_create_time();
    const bool stable = rd_kafka_ConsumerGroupDescription_state(g) == RD_KAFKA_CONSUMER_GROUP_STATE_STABLE;
    std::vector<std::string> unbacked;
    {
        std::scoped_lock lock(_mutex);
        if (!stable) {
            // A rebalancing group shows its members without assignments:
            // each keeps the tasks of the last stable assignment meanwhile.
            for (auto& [server, tasks] : seen.tasks) {
                if (auto it = _members.tasks.find(server); it != _members.tasks.end()) {
                    tasks = it->second;
                }
            }
            _next_describe = std::chrono::steady_clock::now() + _options.describe_retry;
        }
        _members = std::move(seen);
        // Said of an entry that claims tasks in a stable group without a
        // member there (a starting instance publishes before it joins, with
        // no tasks yet).
        for (const auto& server : _asked_about) {
            auto it = _entries.find(server);
            if (stable && server != _options.server && it != _entries.end() && !it->second.tasks.empty()
                && !_members.tasks.contains(server) && _rejected.insert(server).second) {
                unbacked.push_back(server);
            }
        }
        for (auto it = _rejected.begin(); it != _rejected.end();) {
            it = _members.tasks.contains(*it) ? _rejected.erase(it) : std::next(it);
        }
    }
    for (const auto& server : unbacked) {
        logger()->warn("instance entry not backed by the group server={} topic={}: no member of group {} runs there, "
                       "so queries are not sent to it (an instance that stopped, or a record written by someone else)",
            server, _options.topic, _options.group_id);
    }
}

void instance_directory::run() {
    while (!_stop.load()) {
        if (const message_ptr m{rd_kafka_consumer_poll(_consumer.get(), static_cast<int>(_options.poll.count()))}) {
            apply(m.get());
        }
        rd_kafka_poll(_producer.get(), 0);
        if (_admin != nullptr) {
            if (const event_ptr ev{rd_kafka_queue_poll(_admin_queue.get(), 0)}) {
                on_described(ev.get());
            }
            describe_group();
        }
        try {
            auto tasks = _local_tasks();
            if (!_ever_published || _publish_now || tasks != _published
                || std::chrono::steady_clock::now() - _last_publish >= _options.heartbeat) {
                _publish_now = false;
                publish(tasks);
            }
        } catch (const std::exception& e) {
            logger()->error("instance publication failed server={} error=\"{}\"", _options.server, e.what());
        }
    }
}

} // namespace eddy::runtime::internal
