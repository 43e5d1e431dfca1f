// The eddy command line: parses the arguments with CLI11 and runs one
// subcommand (tools/commands.h). The command's output goes to stdout; logs
// (eddy's modules, librdkafka with -v) and errors go to stderr. Exit status:
// 0 on success, 1 when the command failed, CLI11's code for a usage error.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/log.h"
#include "runtime/kafka_error.h"
#include "runtime/streams_config.h"
#include "tools/app_registry.h"
#include "tools/commands.h"
#include "tools/text_serde.h"

#ifndef EDDY_VERSION
#define EDDY_VERSION "unknown"
#endif

namespace {

using namespace eddy::tools;

void add_connection_options(CLI::App* command, connection_options& connection) {
    command->add_option("-b,--bootstrap-servers", connection.bootstrap_servers, "Kafka brokers, host:port,...")
        ->envname("EDDY_BOOTSTRAP_SERVERS");
    command
        ->add_option("-X", connection.settings,
            "A librdkafka setting key=value, repeatable (security.protocol=SASL_SSL, sasl.mechanism=..., ...)")
        ->allow_extra_args(false);
    command
        ->add_option("--request-timeout-ms", connection.request_timeout_ms,
            "How long to wait for the cluster before giving up")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
}

void add_serde_options(CLI::App* command, std::string& key, std::string& value) {
    command->add_option("--key-serde", key, "How keys are written")
        ->capture_default_str()
        ->check(CLI::IsMember({"string", "int32", "int64"}));
    command->add_option("--value-serde", value, "How values are written")
        ->capture_default_str()
        ->check(CLI::IsMember(text_serde::names()));
}

// The selection flags eddy dlq inspect and replay share.
void add_select_options(CLI::App* command, dlq_select_options& select) {
    command->add_option("--error", select.error, "Only records whose error class or message contains this");
    command->add_option("--source-topic", select.source_topic, "Only records that failed in this topic");
    command->add_option("--node", select.node, "Only records that failed in this processor node");
    command->add_option("--since", select.since,
        "Only records that failed at or after this time (epoch ms or ISO-8601, e.g. 2026-12-01T08:00:00Z)");
    command->add_option("--until", select.until, "Only records that failed before this time");
    command
        ->add_option("--where", select.where,
            "A condition KEY=VALUE (repeatable): error, source-topic, node, since, until, partition, "
            "offset (N or FIRST-LAST)")
        ->allow_extra_args(false);
    command->add_option("--limit", select.limit, "At most this many records (0: no limit)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
}

// Every logger at warn (info and debug with -v) unless EDDY_LOG_LEVEL says
// otherwise; -v wins over both.
void set_log_level(bool verbose) {
    auto level = spdlog::level::warn;
    if (const char* env = std::getenv("EDDY_LOG_LEVEL"); env != nullptr) {
        level = spdlog::level::from_str(env);
    }
    if (verbose) {
        level = spdlog::level::debug;
    }
    // Made now so that set_level below reaches them too (module_logger would
    // otherwise prefer EDDY_LOG_LEVEL to -v).
    eddy::module_logger("eddy.tools");
    eddy::module_logger("eddy.runtime");
    spdlog::set_level(level);
}

// When the arguments name a subcommand that does not exist ("eddy frobnicate",
// "eddy topics frob"), CLI11 says only "A subcommand is required"; this says
// which word it did not know and what it knows.
std::string unknown_subcommand(CLI::App& app) {
    CLI::App* deepest = &app;
    for (bool descended = true; descended;) {
        descended = false;
        for (auto* sub : deepest->get_subcommands({})) {
            if (sub->parsed()) {
                deepest = sub;
                descended = true;
                break;
            }
        }
    }
    auto subcommands = deepest->get_subcommands({});
    // With fallthrough, a word a subcommand does not know lands on its parent.
    auto remaining = app.remaining(true);
    if (subcommands.empty() || remaining.empty() || remaining.front().starts_with('-')) {
        return {};
    }
    std::string known;
    for (auto* sub : subcommands) {
        known += known.empty() ? sub->get_name() : ", " + sub->get_name();
    }
    return fmt::format("unknown subcommand {}: one of {}", remaining.front(), known);
}

// A kafka_error's message without the code's text that std::system_error
// appends when the message says it already ("...: Local: Timed out: Local:
// Timed out").
std::string kafka_error_text(const eddy::kafka_error& e) {
    std::string text = e.what();
    const std::string code = e.code().message();
    const std::string suffix = ": " + code;
    if (text.ends_with(suffix) && text.substr(0, text.size() - suffix.size()).find(code) != std::string::npos) {
        text.resize(text.size() - suffix.size());
    }
    return text;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"eddy: a development Kafka broker, topic administration, a producer and a consumer of text "
                 "records, dead-letter inspection and replay, and the topologies of eddy's applications."};
    app.name("eddy");
    app.set_version_flag("--version", EDDY_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    app.footer("The commands that talk to Kafka read the bootstrap servers from -b or EDDY_BOOTSTRAP_SERVERS.\n"
               "See docs/cli.md.");
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "Log what eddy and librdkafka do, to stderr");

    std::function<int()> run;

    broker_options broker;
    auto* broker_cmd = app.add_subcommand("broker",
        "Run an embedded Kafka broker (librdkafka's mock cluster) until SIGINT/SIGTERM; prints "
        "bootstrap.servers=<address>");
    broker_cmd->add_option("--brokers", broker.brokers, "Number of brokers (1 to 32)")->capture_default_str();
    broker_cmd->add_option("--topic", broker.topics, "A topic to create, NAME or NAME:PARTITIONS (repeatable)")
        ->allow_extra_args(false);
    broker_cmd->add_option(
                  "--partitions", broker.default_partitions, "Partitions of a --topic NAME without :N (1 to 1000)")
        ->capture_default_str();
    broker_cmd->callback([&] { run = [&] { return run_broker(broker); }; });

    auto* topics_cmd = app.add_subcommand("topics", "Create, list and describe topics");
    topics_cmd->require_subcommand(1);

    topics_create_options create;
    auto* create_cmd = topics_cmd->add_subcommand("create", "Create a topic");
    create_cmd->add_option("topic", create.topic, "Topic name")->required();
    create_cmd->add_option("--partitions", create.partitions, "Partitions")->capture_default_str()->check(
        CLI::PositiveNumber);
    create_cmd->add_option("--replication-factor", create.replication_factor, "Replicas of each partition")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    create_cmd->add_option("--config", create.configs, "A topic setting key=value (repeatable)")
        ->allow_extra_args(false);
    create_cmd->add_flag("--if-not-exists", create.if_not_exists, "Succeed when the topic exists already");
    add_connection_options(create_cmd, create.connection);
    create_cmd->callback([&] {
        create.connection.verbose = verbose;
        run = [&] { return run_topics_create(create); };
    });

    connection_options list;
    auto* list_cmd = topics_cmd->add_subcommand("list", "List the topics: name partitions=N");
    add_connection_options(list_cmd, list);
    list_cmd->callback([&] {
        list.verbose = verbose;
        run = [&] { return run_topics_list(list); };
    });

    connection_options describe_topic;
    std::string described_topic;
    auto* describe_topic_cmd =
        topics_cmd->add_subcommand("describe", "A topic's partitions and the leader of each");
    describe_topic_cmd->add_option("topic", described_topic, "Topic name")->required();
    add_connection_options(describe_topic_cmd, describe_topic);
    describe_topic_cmd->callback([&] {
        describe_topic.verbose = verbose;
        run = [&] { return run_topics_describe(describe_topic, described_topic); };
    });

    produce_options produce;
    auto* produce_cmd = app.add_subcommand("produce",
        "Produce stdin's lines, key<SEP>value (no separator: a null key), to a topic");
    produce_cmd->add_option("topic", produce.topic, "Topic name")->required();
    add_serde_options(produce_cmd, produce.key_serde, produce.value_serde);
    produce_cmd->add_option("--separator", produce.separator, "Between key and value")->capture_default_str();
    add_connection_options(produce_cmd, produce.connection);
    produce_cmd->callback([&] {
        produce.connection.verbose = verbose;
        run = [&] { return run_produce(produce); };
    });

    consume_options consume;
    auto* consume_cmd = app.add_subcommand("consume", "Print a topic's records as key<TAB>value lines");
    consume_cmd->add_option("topic", consume.topic, "Topic name")->required();
    add_serde_options(consume_cmd, consume.key_serde, consume.value_serde);
    consume_cmd->add_flag("--from-beginning", consume.from_beginning,
        "Start at each partition's first record (default: only new records)");
    consume_cmd->add_option("-n,--count", consume.count, "Stop after this many records (0: no limit)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    consume_cmd->add_option("--timeout-ms", consume.idle_timeout_ms,
        "Stop when no record came for this long (0: never)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    consume_cmd->add_flag("--print-headers", consume.print_headers, "Append each record's headers, [k=v,...]");
    add_connection_options(consume_cmd, consume.connection);
    consume_cmd->callback([&] {
        consume.connection.verbose = verbose;
        run = [&] { return run_consume(consume); };
    });

    describe_options describe;
    std::string known_apps;
    for (const auto& [name, build] : registered_apps()) {
        known_apps += known_apps.empty() ? name : ", " + name;
    }
    auto* describe_cmd = app.add_subcommand("describe", "Print an application's topology");
    describe_cmd->add_option("app", describe.app, "Application: " + known_apps)->required();
    describe_cmd->add_flag("--mermaid", describe.mermaid, "As a Mermaid flowchart");
    describe_cmd->callback([&] { run = [&] { return run_describe(describe); }; });

    query_options query;
    auto* query_cmd = app.add_subcommand("query",
        "Ask an app's query server for a store's key (forwarded to its owner), a key range (merged from every "
        "instance), or a key's windows; "
        "prints the JSON answer");
    query_cmd->add_option("store", query.store, "Store name");
    query_cmd->add_option("key", query.key, "Key (omit for a range over every instance's partitions)");
    query_cmd->add_option("--server", query.server, "The query server, host:port (an instance's application.server)")
        ->envname("EDDY_QUERY_SERVER");
    query_cmd->add_option("--from", query.from, "Range: the first key; --windows: the earliest window start (ms)");
    query_cmd->add_option("--to", query.to, "Range: the last key; --windows: the latest window start (ms)");
    query_cmd->add_flag("--windows", query.windows, "The key's windows of a window store");
    query_cmd->add_flag("--local", query.local, "Range: only the asked instance's partitions");
    query_cmd->add_flag("--partial", query.partial,
        "Range: leave out the instances that do not answer (listed in \"missing\") rather than fail");
    query_cmd->add_flag("--instances", query.instances, "Every instance of the app, its stores and partitions");
    query_cmd->add_option("--timeout-ms", query.timeout_ms, "How long the server may take to answer")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    query_cmd->callback([&] { run = [&] { return run_query(query); }; });

    auto* dlq_cmd = app.add_subcommand("dlq", "Inspect and replay a dead-letter topic");
    dlq_cmd->require_subcommand(1);

    dlq_inspect_options inspect;
    auto* inspect_cmd = dlq_cmd->add_subcommand("inspect",
        "Print a dead-letter topic's records, from its beginning to its end, with their decoded headers");
    inspect_cmd->add_option("topic", inspect.topic, "Dead-letter topic")->required();
    add_select_options(inspect_cmd, inspect.select);
    inspect_cmd->add_flag("--json", inspect.json, "One JSON object per line");
    inspect_cmd->add_flag("--follow", inspect.follow, "Go on printing new records until SIGINT/SIGTERM");
    add_connection_options(inspect_cmd, inspect.connection);
    inspect_cmd->callback([&] {
        inspect.connection.verbose = verbose;
        run = [&] { return run_dlq_inspect(inspect); };
    });

    dlq_replay_options replay;
    auto* replay_cmd = dlq_cmd->add_subcommand("replay",
        "Re-publish selected dead letters (original key, value and headers) to their source topic or --to, "
        "at most once per replay id");
    replay_cmd->add_option("topic", replay.topic, "Dead-letter topic")->required();
    replay_cmd->add_option("--to", replay.to, "Publish to this topic instead of each record's source topic");
    add_select_options(replay_cmd, replay.select);
    replay_cmd->add_option("--replay-id", replay.replay_id,
        "The replay's id: a record this id replayed already is skipped (default: a new id, printed)");
    replay_cmd->add_option("--replays-topic", replay.replays_topic,
        "Where replays are booked (default: <topic>.replays, compacted)");
    replay_cmd->add_flag("--dry-run", replay.dry_run, "List what would be replayed; publish nothing");
    add_connection_options(replay_cmd, replay.connection);
    replay_cmd->callback([&] {
        replay.connection.verbose = verbose;
        run = [&] { return run_dlq_replay(replay); };
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (auto unknown = unknown_subcommand(app); !unknown.empty()) {
            fmt::print(stderr, "{}\nRun with --help for more information.\n", unknown);
            return e.get_exit_code();
        }
        return app.exit(e);
    }

    set_log_level(verbose);
    try {
        return run();
    } catch (const eddy::kafka_error& e) {
        std::fflush(stdout);
        fmt::print(stderr, "eddy: {}\n", kafka_error_text(e));
        return 1;
    } catch (const std::exception& e) {
        // tool_error, config_error, ...: each says what failed.
        std::fflush(stdout);
        fmt::print(stderr, "eddy: {}\n", e.what());
        return 1;
    }
}
