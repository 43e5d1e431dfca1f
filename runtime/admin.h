#pragma once

// Topic administration on a Kafka cluster through librdkafka's Admin API:
// create, list, describe. Used by the runtime on start (internal topics,
// co-partitioning checks) and by the eddy command line.
//
//   eddy::admin_client admin(config);          // bootstrap.servers, security
//   admin.create_topics({{"todo.task-events", 6, 1, {{"retention.ms", "604800000"}}}});
//   auto partitions = admin.partition_count("todo.task-events"); // std::optional<int>
//   auto policy = admin.topic_configs("todo.task-events").at("cleanup.policy");

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "streams_config.h"

namespace eddy {

struct topic_spec {
    std::string name;
    int partitions = 1;
    int replication_factor = 1;
    std::map<std::string, std::string> configs;
};

struct topic_description {
    std::string name;
    int partitions = 0;
    // Leader broker id per partition.
    std::vector<int> leaders;
};

class admin_client {
public:
    // Uses bootstrap.servers and the security settings (security.protocol,
    // sasl.*, ssl.*) of `config`; "admin.*" settings pass through.
    explicit admin_client(const streams_config& config, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    ~admin_client();
    admin_client(const admin_client&) = delete;
    admin_client& operator=(const admin_client&) = delete;

    // Creates the topics that do not exist; a topic that exists is left as it
    // is. Throws kafka_error naming the topic on any other failure.
    void create_topics(const std::vector<topic_spec>& topics);

    // Every topic but Kafka's internal ones, by name. Throws kafka_error
    // (naming the bootstrap servers) when the cluster cannot be reached.
    std::map<std::string, topic_description> list_topics();
    std::optional<topic_description> describe_topic(const std::string& topic);
    std::optional<int> partition_count(const std::string& topic);
    // The topic's configs as the broker reports them (defaults included),
    // by name. Throws kafka_error naming the topic when it cannot be described.
    std::map<std::string, std::string> topic_configs(const std::string& topic);

private:
    struct impl;
    std::unique_ptr<impl> _impl;
};

} // namespace eddy
