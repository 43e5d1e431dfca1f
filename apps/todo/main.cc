// The todo event backbone. Runs the audit topology and the task table as a
// stream job on the embedded broker (the default) or on a Kafka cluster,
// seeds a few task events (and one unreadable record) unless --no-demo,
// prints the audit trail and the dead letters as they arrive until
// SIGINT/SIGTERM or --run-for seconds, then alice's tasks as the task
// table's stores answer. With --http-port P (0: any free port) it serves
// the task table (todo.tasks, by task id) and its owner index
// (todo.tasks-by-owner) with a query_server on 127.0.0.1:P, and prints
// "query server: http://127.0.0.1:<port>". Due-date reminders (reminders.h)
// go to todo.reminders, with preferences read from todo.user-preferences.
//
//   todo [--bootstrap-servers embedded|HOST:PORT] [--no-demo] [--run-for S] [--http-port P]

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include "apps/todo/audit_topology.h"
#include "apps/todo/reminders.h"
#include "apps/todo/task_table.h"
#include "operators/error_handlers.h"
#include "runtime/admin.h"
#include "runtime/embedded_broker.h"
#include "runtime/kafka_streams.h"
#include "runtime/query_server.h"
#include "serde/internal/printable.h"
#include "serde/protobuf.h"
#include "serde/serdes.h"

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) {
    stop_requested = 1;
}

eddy::todo::TaskEvent event(std::string id, eddy::todo::TaskEventType type, std::string task, std::string title,
    std::int64_t seconds) {
    eddy::todo::TaskEvent e;
    e.set_event_id(std::move(id));
    e.set_type(type);
    e.set_task_id(std::move(task));
    e.set_user_id("alice");
    e.set_title(std::move(title));
    e.set_schema_version(eddy::todo::task_event_schema_version);
    e.mutable_occurred_at()->set_seconds(seconds);
    return e;
}

rd_kafka_t* client(rd_kafka_type_t type, const std::vector<std::pair<std::string, std::string>>& settings) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [k, v] : settings) {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            throw std::runtime_error(err);
        }
    }
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    if (rk == nullptr) {
        throw std::runtime_error(err);
    }
    return rk;
}

void seed(const std::string& bootstrap, const std::string& topic) {
    using namespace eddy::todo;
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::vector<std::pair<std::string, std::string>> records;
    eddy::serdes::protobuf<TaskEvent> serde;
    records.emplace_back("t-1", serde.serialize(event("e-1", TASK_CREATED, "t-1", "Buy milk", now)));
    auto update = event("e-2", TASK_UPDATED, "t-1", "Buy oat milk", now + 60);
    auto* change = update.add_changes();
    change->set_field("title");
    change->set_from("Buy milk");
    change->set_to("Buy oat milk");
    records.emplace_back("t-1", serde.serialize(update));
    records.emplace_back("t-2", serde.serialize(event("e-3", TASK_CREATED, "t-2", "Call the plumber", now + 90)));
    records.emplace_back("t-1", serde.serialize(event("e-4", TASK_COMPLETED, "t-1", "", now + 3600)));
    records.emplace_back("t-2", serde.serialize(event("e-5", TASK_DELETED, "t-2", "", now + 7200)));
    records.emplace_back("t-3", std::string("\xff\x01 not a task event"));
    rd_kafka_t* producer = client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}, {"partitioner", "murmur2_random"}});
    for (auto& [key, value] : records) {
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_END);
    }
    rd_kafka_flush(producer, 10'000);
    rd_kafka_destroy(producer);
    fmt::print("seeded {} task events (one of them unreadable) on {}\n", records.size(), topic);
}

std::string header(const rd_kafka_message_t* m, const char* name) {
    rd_kafka_headers_t* hdrs = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR
        && rd_kafka_header_get_last(hdrs, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR && value != nullptr) {
        return std::string(static_cast<const char*>(value), size);
    }
    return "?";
}

} // namespace

int main(int argc, char** argv) {
    std::string bootstrap = "embedded";
    bool no_demo = false;
    std::optional<int> run_for;
    std::optional<int> http_port;
    // Bad arguments fail here, naming the option, before anything starts
    // (CLI11's usage error codes; --help exits 0).
    CLI::App cli{"todo: the todo event backbone on the embedded broker or a Kafka cluster", "todo"};
    cli.add_option("--bootstrap-servers", bootstrap, "embedded (an in-process broker), or HOST:PORT of a Kafka cluster")
        ->capture_default_str();
    cli.add_flag("--no-demo", no_demo, "Seed no demo events");
    cli.add_option("--run-for", run_for, "Stop after this many seconds (1 to 31536000)")
        ->check(CLI::Range(1, 31'536'000));
    cli.add_option("--http-port", http_port, "Serve the task table's queries on 127.0.0.1:PORT (0: any free port)")
        ->check(CLI::Range(0, 65'535));
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }
    const bool demo = !no_demo;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    try {
        const eddy::todo::audit_topics topics;
        eddy::streams_builder builder;
        auto events = eddy::todo::read_task_events(builder, topics);
        eddy::todo::add_audit(events, topics);
        const eddy::todo::task_table_names tables;
        auto tasks = eddy::todo::add_task_table(builder, events, tables);
        const eddy::todo::reminder_names reminders;
        eddy::todo::add_reminders(builder, tasks, reminders);
        eddy::streams_config config{{"application.id", "todo-backbone"},
            {"bootstrap.servers", bootstrap},
            {"commit.interval.ms", "200"}};
        // Whatever fails lands in the dead-letter topic: a processor's
        // exception and a record the sinks cannot write, as the audit
        // source's unreadable bytes do.
        config.set(eddy::streams_config::deserialization_exception_handler, "dead_letter");
        config.set(eddy::streams_config::processing_exception_handler, "dead_letter");
        config.set(eddy::streams_config::production_exception_handler, "dead_letter");
        config.set(eddy::streams_config::dead_letter_topic, topics.dead_letters);
        std::unique_ptr<eddy::query_server> server;
        if (http_port) {
            server = std::make_unique<eddy::query_server>("127.0.0.1", static_cast<std::uint16_t>(*http_port));
            config.set("application.server", server->address());
        }
        eddy::kafka_streams app(builder.build(), config);
        if (server) {
            server->attach(app)
                .serve_store<std::string, eddy::todo::Task>(tables.tasks_store)
                .serve_store<std::string, std::string>(tables.owner_index_store);
        }
        if (auto* broker = app.embedded()) {
            broker->create_topic(topics.task_events, 3);
            broker->create_topic(topics.audit, 3);
            broker->create_topic(topics.dead_letters, 1);
            broker->create_topic(tables.tasks_topic, 3);
            broker->create_topic(reminders.preferences_topic, 3);
            broker->create_topic(reminders.reminders_topic, 3);
        } else {
            eddy::admin_client admin({{"bootstrap.servers", bootstrap}});
            admin.create_topics({{topics.task_events, 3, 1, {{"retention.ms", "604800000"}}},
                {topics.audit, 3, 1, {{"retention.ms", "7776000000"}}},
                {topics.dead_letters, 1, 1, {{"retention.ms", "604800000"}}},
                {tables.tasks_topic, 3, 1, {{"cleanup.policy", "compact"}}},
                {reminders.preferences_topic, 3, 1, {{"cleanup.policy", "compact"}}},
                {reminders.reminders_topic, 3, 1, {{"retention.ms", "604800000"}}}});
        }
        app.start();
        fmt::print("todo backbone running; bootstrap.servers={}\n", app.bootstrap_servers());
        if (app.embedded() != nullptr) {
            fmt::print("note: the embedded broker keeps every record in this process's memory: they are gone when "
                       "it stops; to keep them, run on a Kafka (scripts/kafka-local start) with "
                       "--bootstrap-servers 127.0.0.1:9092\n");
        }
        fmt::print("try: kcat -b {} -C -t {} -e\n", app.bootstrap_servers(), topics.audit);
        if (server) {
            fmt::print("query server: http://{}\n", server->address());
        }
        std::fflush(stdout);
        if (demo) {
            seed(app.bootstrap_servers(), topics.task_events);
        }

        rd_kafka_t* reader = client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", app.bootstrap_servers()},
                                                           {"group.id", "todo-console"},
                                                           {"auto.offset.reset", "earliest"},
                                                           {"fetch.wait.max.ms", "50"}});
        rd_kafka_poll_set_consumer(reader);
        rd_kafka_topic_partition_list_t* subscription = rd_kafka_topic_partition_list_new(2);
        rd_kafka_topic_partition_list_add(subscription, topics.audit.c_str(), RD_KAFKA_PARTITION_UA);
        rd_kafka_topic_partition_list_add(subscription, topics.dead_letters.c_str(), RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(reader, subscription);
        rd_kafka_topic_partition_list_destroy(subscription);

        eddy::serdes::protobuf<eddy::todo::AuditRecord> audit_serde;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(run_for.value_or(0));
        while (stop_requested == 0 && (!run_for || std::chrono::steady_clock::now() < deadline)) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(reader, 200);
            if (m == nullptr) {
                continue;
            }
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                std::string topic = rd_kafka_topic_name(m->rkt);
                std::string key = m->key ? std::string(static_cast<const char*>(m->key), m->key_len) : "(null)";
                if (topic == topics.audit && m->payload != nullptr) {
                    // Anyone may write to the audit topic: a record that is
                    // not an AuditRecord is shown as such, and the rest go on.
                    try {
                        auto record = audit_serde.deserialize(
                            std::string_view(static_cast<const char*>(m->payload), m->len));
                        fmt::print("audit  | {} | {}\n", eddy::serdes::internal::printable_text(key),
                            eddy::serdes::internal::printable_text(record.summary()));
                    } catch (const eddy::serde_error& e) {
                        fmt::print("unreadable | {} partition {} offset {} | {} | {}\n", topic, m->partition, m->offset,
                            eddy::serdes::internal::printable_text(key), e.what());
                    }
                } else if (topic == topics.dead_letters) {
                    fmt::print("dlq    | {} | offset {} of {} | {}\n", eddy::serdes::internal::printable_text(key),
                        header(m, eddy::dead_letter_headers::source_offset.data()),
                        eddy::serdes::internal::printable_text(header(m, eddy::dead_letter_headers::source_topic.data())),
                        eddy::serdes::internal::printable_text(
                            header(m, eddy::dead_letter_headers::error_message.data())));
                }
                std::fflush(stdout);
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(reader);
        rd_kafka_destroy(reader);
        // The task table, queried from its stores before the app stops.
        for (const char* user : {"alice"}) {
            for (const auto& t : eddy::todo::tasks_of(app, user, tables)) {
                fmt::print("task   | {} | {} | {} | owner {} | version {}\n", t.task_id(),
                    t.status() == eddy::todo::TASK_DONE ? "done" : "open", t.title(), t.owner_id(), t.version());
            }
        }
        if (server) {
            server->stop();
        }
        app.close(std::chrono::seconds(30));
        fmt::print("todo backbone stopped\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "todo: %s\n", e.what());
        return 1;
    }
    return 0;
}
