#pragma once

// What the commands that talk to a cluster share: the connection options
// (-b, -X, the request timeout), a tool_error for failures the user can act
// on, and kafka_client, a librdkafka handle whose logs go to the
// "eddy.tools" logger and whose metadata calls fail fast with a message
// naming the bootstrap servers.
//
//   kafka_client producer(RD_KAFKA_PRODUCER, options.connection, {{"partitioner", "murmur2_random"}});
//   int partitions = producer.require_topic("todo.task-events");

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <spdlog/logger.h>

namespace eddy::tools {

// A failure the user can act on (bad input, a missing topic, an unreachable
// broker): main prints it as "eddy: <what>" and exits 1.
class tool_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The tools' logger, "eddy.tools".
const std::shared_ptr<spdlog::logger>& logger();

struct connection_options {
    // -b/--bootstrap-servers, else EDDY_BOOTSTRAP_SERVERS (CLI11 reads it).
    std::string bootstrap_servers;
    // -X key=value: librdkafka settings (SASL, TLS, ...).
    std::vector<std::string> settings;
    // How long a metadata or admin request may take before the cluster
    // counts as unreachable.
    int request_timeout_ms = 5000;
    // -v: librdkafka's own logs are shown (at debug level) instead of dropped.
    bool verbose = false;

    // The bootstrap servers; throws tool_error when none were given.
    std::string bootstrap() const;
    // The -X settings as a map; throws tool_error on an entry without '='.
    std::map<std::string, std::string> settings_map() const;
    std::chrono::milliseconds request_timeout() const { return std::chrono::milliseconds(request_timeout_ms); }
};

// Splits "key=value" at the first '='; throws tool_error naming `what` (the
// option) when there is none or the key is empty.
std::pair<std::string, std::string> split_setting(const std::string& entry, const std::string& what);

// Throws tool_error unless `name` is a legal Kafka topic name (1 to 249 of
// [a-zA-Z0-9._-], not "." or "..").
void check_topic_name(const std::string& name);

// A librdkafka producer or consumer for a command.
class kafka_client {
public:
    using delivery_callback = void (*)(rd_kafka_t*, const rd_kafka_message_t*, void*);

    // `defaults` first, then the -X settings over them, then bootstrap.servers.
    // A producer's `on_delivery` gets each message's opaque as
    // message->_private.
    kafka_client(rd_kafka_type_t type, const connection_options& connection,
        const std::map<std::string, std::string>& defaults, delivery_callback on_delivery = nullptr);
    ~kafka_client();
    kafka_client(const kafka_client&) = delete;
    kafka_client& operator=(const kafka_client&) = delete;

    rd_kafka_t* get() const noexcept { return _rk; }
    const std::string& bootstrap() const noexcept { return _bootstrap; }

    // The partition count of `topic`, from the cluster's metadata (without
    // asking the broker to create it). Throws tool_error when the cluster
    // cannot be reached within the request timeout or the topic does not
    // exist.
    int require_topic(const std::string& topic);
    // The partition count of `topic`, or nullopt when it does not exist;
    // throws tool_error like require_topic when the cluster cannot be
    // reached.
    std::optional<int> find_topic(const std::string& topic);
    // How many brokers the cluster's metadata lists.
    int broker_count();

    // The cluster's id, or nullopt when the cluster did not say within the
    // request timeout. librdkafka's mock cluster (the embedded broker) calls
    // itself "mockCluster...".
    std::optional<std::string> cluster_id();

    // The last error librdkafka reported through its error callback, if any
    // (for instance "Connect to ipv4#127.0.0.1:1 failed: Connection refused").
    std::string last_error() const;

    struct state;

private:
    rd_kafka_t* _rk = nullptr;
    std::string _bootstrap;
    std::chrono::milliseconds _timeout;
    std::unique_ptr<state> _state;
};

} // namespace eddy::tools
