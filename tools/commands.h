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

// The selection `eddy dlq inspect` and `eddy dlq replay` share: each flag
// is one condition, --where adds more (KEY=VALUE, tools/dlq_filter.h), and
// every condition must hold.
struct dlq_select_options {
    std::optional<std::string> error;        // a substring of the error class or message
    std::optional<std::string> source_topic; // eddy.source.topic
    std::optional<std::string> node;         // eddy.processor.node
    std::optional<std::string> since;        // eddy.error.time >= since (epoch ms or ISO-8601)
    std::optional<std::string> until;        // eddy.error.time < until
    std::vector<std::string> where;
    long long limit = 0; // 0: no limit
};

// eddy dlq inspect: a dead-letter topic's records with their decoded headers.
struct dlq_inspect_options {
    connection_options connection;
    std::string topic;
    dlq_select_options select;
    bool json = false;
    bool follow = false;
};
int run_dlq_inspect(const dlq_inspect_options& options);

// eddy dlq replay: selected dead letters back to their source topic (or
// --to), at most once per replay id (bookkept in <topic>.replays).
struct dlq_replay_options {
    connection_options connection;
    std::string topic;
    std::optional<std::string> to;
    dlq_select_options select;
    std::optional<std::string> replay_id; // none: one is generated and printed
    std::string replays_topic;            // empty: <topic>.replays
    bool dry_run = false;
};
int run_dlq_replay(const dlq_replay_options& options);

} // namespace eddy::tools
