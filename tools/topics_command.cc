// eddy topics create|list|describe, through eddy::admin_client.

#include <chrono>
#include <memory>
#include <map>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "runtime/admin.h"
#include "runtime/kafka_error.h"
#include "runtime/streams_config.h"
#include "tools/commands.h"
#include "tools/kafka_client.h"

namespace eddy::tools {
namespace {

using namespace std::chrono_literals;

// The admin client of `connection`. The -X settings reach it under the
// "admin." prefix, which admin_client strips.
std::unique_ptr<admin_client> connect(const connection_options& connection) {
    streams_config config;
    config.set(streams_config::bootstrap_servers, connection.bootstrap());
    if (!connection.verbose) {
        // librdkafka would print every failed connection attempt to stderr;
        // the command reports what failed itself.
        config.set("admin.log_level", "0");
    }
    for (const auto& [key, value] : connection.settings_map()) {
        config.set("admin." + key, value);
    }
    return std::make_unique<admin_client>(config, connection.request_timeout());
}

// Whether `connection` reaches librdkafka's mock cluster (eddy broker, or an
// embedded_broker in another process).
bool is_embedded_broker(const connection_options& connection) {
    kafka_client probe(RD_KAFKA_PRODUCER, connection, {});
    auto id = probe.cluster_id();
    return id && id->starts_with("mockCluster");
}

} // namespace

int run_topics_create(const topics_create_options& options) {
    check_topic_name(options.topic);
    if (options.partitions < 1) {
        throw tool_error(fmt::format("--partitions {}: at least 1", options.partitions));
    }
    if (options.replication_factor < 1) {
        throw tool_error(fmt::format("--replication-factor {}: at least 1", options.replication_factor));
    }
    topic_spec spec{options.topic, options.partitions, options.replication_factor, {}};
    for (const auto& entry : options.configs) {
        auto [key, value] = split_setting(entry, "--config");
        spec.configs[key] = value;
    }

    auto admin = connect(options.connection);
    // Also the reachability check: list_topics fails fast with "cannot reach
    // Kafka at ..." where CreateTopics would only time out.
    if (auto existing = admin->describe_topic(options.topic)) {
        if (options.if_not_exists) {
            fmt::print(stderr, "topic {} already exists with {} partitions\n", options.topic, existing->partitions);
            return 0;
        }
        throw tool_error(
            fmt::format("topic {} already exists with {} partitions", options.topic, existing->partitions));
    }
    if (is_embedded_broker(options.connection)) {
        // librdkafka 2.0.2's mock implements no admin request (its
        // ApiVersions lists no CreateTopics), and its metadata names
        // controller 0, none of its brokers (1..N): the admin client would
        // wait for a controller until the timeout and fail with "Failed while
        // waiting for controller".
        throw tool_error(fmt::format(
            "cannot create topic {}: {} is an embedded broker (librdkafka's mock cluster), which ignores "
            "CreateTopics; create topics when starting it: eddy broker --topic {}:{}",
            options.topic, options.connection.bootstrap(), options.topic, options.partitions));
    }
    admin->create_topics({spec});

    // A created topic reaches the brokers' metadata shortly after the
    // controller answers.
    const auto deadline = std::chrono::steady_clock::now() + options.connection.request_timeout();
    while (!admin->describe_topic(options.topic)) {
        if (std::chrono::steady_clock::now() >= deadline) {
            throw tool_error(fmt::format("topic {}: CreateTopics succeeded but the topic is not in the metadata of {} "
                                         "after {} ms",
                options.topic, options.connection.bootstrap(), options.connection.request_timeout_ms));
        }
        std::this_thread::sleep_for(100ms);
    }
    fmt::print("created topic {} partitions={} replication-factor={}\n", options.topic, options.partitions,
        options.replication_factor);
    return 0;
}

int run_topics_list(const connection_options& connection) {
    auto admin = connect(connection);
    for (const auto& [name, description] : admin->list_topics()) {
        fmt::print("{} partitions={}\n", name, description.partitions);
    }
    return 0;
}

int run_topics_describe(const connection_options& connection, const std::string& topic) {
    auto admin = connect(connection);
    auto description = admin->describe_topic(topic);
    if (!description) {
        throw tool_error(fmt::format("topic {} does not exist on {}", topic, connection.bootstrap()));
    }
    fmt::print("{} partitions={}\n", description->name, description->partitions);
    for (std::size_t p = 0; p < description->leaders.size(); ++p) {
        fmt::print("  partition={} leader={}\n", p, description->leaders[p]);
    }
    return 0;
}

} // namespace eddy::tools
