#pragma once

// The subcommands of the eddy command line, each an options struct that
// eddy.cc fills from the arguments and a run_ function that returns the exit
// status. A failure the user can act on is a tool_error (or an eddy
// kafka_error / config_error), which main prints to stderr as "eddy: <what>"
// and turns into exit status 1.

#include <optional>
#include <string>
#include <vector>

#include "tools/kafka_client.h"

namespace eddy::tools {

// eddy broker: an embedded broker in the foreground until SIGINT/SIGTERM.
struct broker_options {
    int brokers = 3;
    int default_partitions = 1;
    std::vector<std::string> topics; // NAME or NAME:PARTITIONS
};
int run_broker(const broker_options& options);

// eddy topics create|list|describe.
struct topics_create_options {
    connection_options connection;
    std::string topic;
    int partitions = 1;
    int replication_factor = 1;
    std::vector<std::string> configs; // key=value
    bool if_not_exists = false;
};
int run_topics_create(const topics_create_options& options);
int run_topics_list(const connection_options& connection);
int run_topics_describe(const connection_options& connection, const std::string& topic);

// eddy produce: lines of stdin as records.
struct produce_options {
    connection_options connection;
    std::string topic;
    std::string key_serde = "string";
    std::string value_serde = "string";
    std::string separator = ":";
};
int run_produce(const produce_options& options);

// eddy consume: records as lines on stdout.
struct consume_options {
    connection_options connection;
    std::string topic;
    std::string key_serde = "string";
    std::string value_serde = "string";
    bool from_beginning = false;
    long long count = 0;     // 0: no limit
    int idle_timeout_ms = 5000; // 0: no idle limit
    bool print_headers = false;
};
int run_consume(const consume_options& options);

// eddy describe: the topology of a registered application.
struct describe_options {
    std::string app;
    bool mermaid = false;
};
int run_describe(const describe_options& options);

// eddy query: a store's key, key range or windows from a query_server.
struct query_options {
    std::string server; // host:port; --server, else EDDY_QUERY_SERVER
    std::string store;
    std::optional<std::string> key;
    std::string from; // a key (range) or a time in ms (windows); empty: open
    std::string to;
    bool windows = false;
    bool instances = false;
    bool local = false;   // a range over the asked instance's partitions only (scope=local)
    bool partial = false; // a range without the instances that do not answer (partial=true)
    int timeout_ms = 10'000;
};
int run_query(const query_options& options);

} // namespace eddy::tools
