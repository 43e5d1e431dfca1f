#include "tools/kafka_client.h"

#include <algorithm>
#include <array>
#include <mutex>

#include <fmt/format.h>

#include "core/log.h"

namespace eddy::tools {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto log = module_logger("eddy.tools");
    return log;
}

std::string connection_options::bootstrap() const {
    if (bootstrap_servers.empty()) {
        throw tool_error("no bootstrap servers: pass -b or set EDDY_BOOTSTRAP_SERVERS");
    }
    return bootstrap_servers;
}

std::map<std::string, std::string> connection_options::settings_map() const {
    std::map<std::string, std::string> out;
    for (const auto& entry : settings) {
        auto [key, value] = split_setting(entry, "-X");
        out[key] = value;
    }
    return out;
}

std::pair<std::string, std::string> split_setting(const std::string& entry, const std::string& what) {
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw tool_error(fmt::format("{} {}: expected key=value", what, entry));
    }
    return {entry.substr(0, eq), entry.substr(eq + 1)};
}

void check_topic_name(const std::string& name) {
    auto legal = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
            || c == '-';
    };
    if (name.empty() || name.size() > 249 || name == "." || name == ".."
        || !std::all_of(name.begin(), name.end(), legal)) {
        throw tool_error(fmt::format(
            "\"{}\" is not a legal topic name: 1 to 249 letters, digits, '.', '_' or '-'", name));
    }
}

struct kafka_client::state {
    mutable std::mutex mutex;
    std::string last_error;
};

namespace {

void on_log(const rd_kafka_t* /*rk*/, int level, const char* facility, const char* message) {
    // librdkafka's own logs are detail for -v: the command reports what
    // failed itself.
    logger()->debug("librdkafka level={} facility={} message={}", level, facility, message);
}

void on_error(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
    auto* s = static_cast<kafka_client::state*>(opaque);
    logger()->debug("librdkafka error={} reason={}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
    std::scoped_lock lock(s->mutex);
    s->last_error = reason;
}

} // namespace

kafka_client::kafka_client(rd_kafka_type_t type, const connection_options& connection,
    const std::map<std::string, std::string>& defaults, delivery_callback on_delivery)
    : _bootstrap(connection.bootstrap()), _timeout(connection.request_timeout()),
      _state(std::make_unique<state>()) {
    auto settings = defaults;
    for (const auto& [key, value] : connection.settings_map()) {
        settings[key] = value;
    }
    settings["bootstrap.servers"] = _bootstrap;

    std::array<char, 512> err{};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [key, value] : settings) {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err.data(), err.size()) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw tool_error(fmt::format("setting {}={} is refused by the Kafka client: {}", key, value, err.data()));
        }
    }
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, _state.get());
    if (on_delivery != nullptr) {
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    }
    _rk = rd_kafka_new(type, conf, err.data(), err.size());
    if (_rk == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw tool_error(fmt::format("cannot create a Kafka client: {}", err.data()));
    }
}

kafka_client::~kafka_client() {
    rd_kafka_destroy(_rk);
}

std::string kafka_client::last_error() const {
    std::scoped_lock lock(_state->mutex);
    return _state->last_error;
}

std::optional<std::string> kafka_client::cluster_id() {
    char* id = rd_kafka_clusterid(_rk, static_cast<int>(_timeout.count()));
    if (id == nullptr) {
        return std::nullopt;
    }
    std::string out = id;
    rd_kafka_mem_free(_rk, id);
    return out;
}

namespace {

// The cluster's metadata for every topic; throws tool_error naming the
// bootstrap servers (and librdkafka's last reason) when it does not come.
const rd_kafka_metadata_t* all_metadata(kafka_client& client, std::chrono::milliseconds timeout) {
    const rd_kafka_metadata_t* md = nullptr;
    // All topics rather than one: asking for one topic by name lets a broker
    // with auto-creation on create it.
    auto e = rd_kafka_metadata(client.get(), 1, nullptr, &md, static_cast<int>(timeout.count()));
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // Serves the error callbacks queued meanwhile, for the reason.
        rd_kafka_poll(client.get(), 0);
        auto reason = client.last_error();
        throw tool_error(fmt::format("cannot reach Kafka at {} within {} ms: {}{}", client.bootstrap(),
            timeout.count(), rd_kafka_err2str(e), reason.empty() ? "" : fmt::format(" ({})", reason)));
    }
    return md;
}

} // namespace

std::optional<int> kafka_client::find_topic(const std::string& topic) {
    const rd_kafka_metadata_t* md = all_metadata(*this, _timeout);
    std::optional<int> partitions;
    for (int i = 0; i < md->topic_cnt; ++i) {
        if (topic == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            partitions = md->topics[i].partition_cnt;
        }
    }
    rd_kafka_metadata_destroy(md);
    return partitions;
}

int kafka_client::require_topic(const std::string& topic) {
    auto partitions = find_topic(topic);
    if (!partitions) {
        throw tool_error(fmt::format("topic {} does not exist on {}", topic, _bootstrap));
    }
    return *partitions;
}

int kafka_client::broker_count() {
    const rd_kafka_metadata_t* md = all_metadata(*this, _timeout);
    const int count = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
    return count;
}

} // namespace eddy::tools
