// reminder_bench: how late the todo app's reminders fire. Runs the reminder
// topology (task events -> task table -> reminder schedule -> wall-clock
// punctuator -> todo.reminders) as a stream job on a broker, schedules
// --reminders reminders whose fire times are spread over --spread-ms,
// starting --head-start-ms after the events are produced (time for the app
// to read and schedule them all), and reads the reminders topic with a
// read_committed consumer. For each reminder it takes two lags:
//
//   emitted   the reminder's emitted_at (stamped by the punctuator) minus
//             its remind_at: how late the punctuator found it due;
//   received  when the reader got it minus remind_at: what a consumer of
//             todo.reminders sees (adds the transaction commit and fetch).
//
// and prints p50, p99 and max of each, per round. Every reminder must
// arrive exactly once, or the round fails.
//
//   reminder_bench                                   (embedded broker)
//   reminder_bench --bootstrap 127.0.0.1:9092 --reminders 10000 --repeat 3
//
// Not a Google Benchmark: it waits on wall-clock time by design. Results:
// docs/results.md.

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include "apps/todo/audit_topology.h"
#include "apps/todo/reminders.h"
#include "apps/todo/task_table.h"
#include "runtime/admin.h"
#include "runtime/embedded_broker.h"
#include "runtime/kafka_streams.h"
#include "serde/protobuf.h"
#include "topology/streams_builder.h"

namespace {

using namespace std::chrono_literals;
using namespace eddy::todo;

struct options {
    std::string bootstrap = "embedded";
    int reminders = 10'000;
    std::int64_t spread_ms = 3'000;
    std::int64_t head_start_ms = 30'000;
    int partitions = 3;
    int repeat = 1;
    std::string guarantee = "exactly_once_v2";
};

[[noreturn]] void usage(int status) {
    std::fprintf(status == 0 ? stdout : stderr,
        "usage: reminder_bench [--bootstrap embedded|HOST:PORT] [--reminders N] [--spread-ms MS]\n"
        "                      [--head-start-ms MS] [--partitions P] [--repeat R]\n"
        "                      [--guarantee exactly_once_v2|at_least_once]\n");
    std::exit(status);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            usage(0);
        }
        if (i + 1 >= argc) {
            usage(2);
        }
        const std::string v = argv[++i];
        if (a == "--bootstrap") {
            o.bootstrap = v;
        } else if (a == "--reminders") {
            o.reminders = std::stoi(v);
        } else if (a == "--spread-ms") {
            o.spread_ms = std::stoll(v);
        } else if (a == "--head-start-ms") {
            o.head_start_ms = std::stoll(v);
        } else if (a == "--partitions") {
            o.partitions = std::stoi(v);
        } else if (a == "--repeat") {
            o.repeat = std::stoi(v);
        } else if (a == "--guarantee") {
            o.guarantee = v;
        } else {
            usage(2);
        }
    }
    if (o.reminders <= 0 || o.spread_ms < 0 || o.head_start_ms < 0 || o.partitions <= 0 || o.repeat <= 0) {
        usage(2);
    }
    return o;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t ms(const google::protobuf::Timestamp& t) {
    return t.seconds() * 1000 + t.nanos() / 1'000'000;
}

void set_timestamp(google::protobuf::Timestamp& t, std::int64_t at_ms) {
    t.set_seconds(at_ms / 1000);
    t.set_nanos(static_cast<std::int32_t>((at_ms % 1000) * 1'000'000));
}

struct rd_deleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using client = std::unique_ptr<rd_kafka_t, rd_deleter>;

client make_client(rd_kafka_type_t type, const std::map<std::string, std::string>& settings) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [k, v] : settings) {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error(k + ": " + err);
        }
    }
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    if (rk == nullptr) {
        throw std::runtime_error(std::string("rd_kafka_new: ") + err);
    }
    return client(rk);
}

// Produces `n` task.created events of alice whose reminders fire at
// fire_at(i): due one minute later, reminded one minute before.
void produce_tasks(const std::string& bootstrap, const std::string& topic, const std::string& prefix, int n,
    const std::function<std::int64_t(int)>& fire_at) {
    auto producer = make_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}});
    task_event_serde serde;
    for (int i = 0; i < n; ++i) {
        TaskEvent e;
        e.set_event_id(prefix + "e" + std::to_string(i));
        e.set_type(TASK_CREATED);
        e.set_task_id(prefix + std::to_string(i));
        e.set_user_id("alice");
        e.set_title("task " + std::to_string(i));
        e.set_schema_version(task_event_schema_version);
        set_timestamp(*e.mutable_due_at(), fire_at(i) + 60'000);
        e.mutable_reminder_offset()->set_seconds(60);
        set_timestamp(*e.mutable_occurred_at(), now_ms());
        const std::string value = serde.serialize(e);
        const std::string& key = e.task_id();
        for (;;) {
            const auto err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(producer.get(), 10);
                continue;
            }
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
            }
            break;
        }
        rd_kafka_poll(producer.get(), 0);
    }
    if (rd_kafka_flush(producer.get(), 60'000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw std::runtime_error("the task events were not all delivered within 60 s");
    }
}

struct received {
    TaskReminder reminder;
    std::int64_t at_ms;
};

// Reads `topic` (read_committed, from the start) until `n` reminders came
// or `timeout` passed.
std::vector<received> read_reminders(const std::string& bootstrap, const std::string& topic, int partitions, int n,
    std::chrono::milliseconds timeout) {
    auto consumer = make_client(RD_KAFKA_CONSUMER,
        {{"bootstrap.servers", bootstrap}, {"group.id", "reminder-bench-" + std::to_string(getpid())},
            {"enable.auto.commit", "false"}, {"isolation.level", "read_committed"}, {"fetch.wait.max.ms", "10"}});
    rd_kafka_poll_set_consumer(consumer.get());
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(consumer.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    std::vector<received> out;
    out.reserve(static_cast<std::size_t>(n));
    eddy::serdes::protobuf<TaskReminder> serde;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (static_cast<int>(out.size()) < n && std::chrono::steady_clock::now() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 100);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const auto at = now_ms();
            out.push_back({serde.deserialize(std::string(static_cast<const char*>(m->payload), m->len)), at});
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(consumer.get());
    return out;
}

std::int64_t percentile(std::vector<std::int64_t> v, double p) {
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

struct round_result {
    bool ok = false;
    std::string note;
    std::vector<std::int64_t> emitted;
    std::vector<std::int64_t> received;
};

round_result run_round(const options& o, const std::string& bootstrap, eddy::embedded_broker* embedded, int round) {
    const std::string id = "reminder-bench-" + std::to_string(getpid()) + "-" + std::to_string(round);
    audit_topics events;
    events.task_events = id + "-task-events";
    events.audit = id + "-audit";
    events.dead_letters = id + "-dlq";
    task_table_names tables;
    tables.tasks_topic = id + "-tasks";
    reminder_names reminders;
    reminders.preferences_topic = id + "-user-preferences";
    reminders.reminders_topic = id + "-reminders";
    const std::vector<std::string> topics{
        events.task_events, tables.tasks_topic, reminders.preferences_topic, reminders.reminders_topic};
    if (embedded != nullptr) {
        for (const auto& t : topics) {
            embedded->create_topic(t, o.partitions);
        }
        embedded->create_topic(events.dead_letters, 1);
    } else {
        eddy::admin_client admin(eddy::streams_config{{"bootstrap.servers", bootstrap}});
        std::vector<eddy::topic_spec> specs;
        for (const auto& t : topics) {
            specs.push_back({t, o.partitions, 1, {}});
        }
        specs.push_back({events.dead_letters, 1, 1, {}});
        admin.create_topics(specs);
    }

    eddy::streams_builder builder;
    add_reminders(builder, add_task_table(builder, read_task_events(builder, events), tables), reminders);
    const auto state_dir = std::filesystem::temp_directory_path() / (id + "-state");
    eddy::streams_config config{
        {"application.id", id},
        {"bootstrap.servers", bootstrap},
        {"processing.guarantee", o.guarantee},
        {"state.dir", state_dir.string()},
        {"commit.interval.ms", "100"},
    };
    round_result r;
    {
        eddy::kafka_streams app(builder.build(), config);
        app.start();
        const std::int64_t first_fire = now_ms() + o.head_start_ms;
        produce_tasks(bootstrap, events.task_events, id + "-t", o.reminders,
            [&](int i) { return first_fire + (i * o.spread_ms) / o.reminders; });
        const auto out = read_reminders(bootstrap, reminders.reminders_topic, o.partitions, o.reminders,
            std::chrono::milliseconds(o.head_start_ms + o.spread_ms) + 120s);
        app.close(30s);
        std::map<std::string, int> per_task;
        for (const auto& x : out) {
            ++per_task[x.reminder.task_id()];
            r.emitted.push_back(ms(x.reminder.emitted_at()) - ms(x.reminder.remind_at()));
            r.received.push_back(x.at_ms - ms(x.reminder.remind_at()));
        }
        const auto early = std::count_if(r.emitted.begin(), r.emitted.end(), [](auto v) { return v < 0; });
        const auto twice = std::count_if(per_task.begin(), per_task.end(), [](const auto& e) { return e.second > 1; });
        if (static_cast<int>(out.size()) != o.reminders || static_cast<int>(per_task.size()) != o.reminders) {
            r.note = std::to_string(out.size()) + " reminders for " + std::to_string(per_task.size()) + " tasks, of "
                + std::to_string(o.reminders);
        } else if (early > 0 || twice > 0) {
            r.note = std::to_string(early) + " fired early, " + std::to_string(twice) + " fired twice";
        } else {
            r.ok = true;
        }
    }
    std::error_code ignored;
    std::filesystem::remove_all(state_dir, ignored);
    return r;
}

void print_lags(const char* what, const std::vector<std::int64_t>& v) {
    if (v.empty()) {
        std::printf("  %-9s none\n", what);
        return;
    }
    std::printf("  %-9s p50=%" PRId64 " ms p99=%" PRId64 " ms max=%" PRId64 " ms\n", what, percentile(v, 0.50),
        percentile(v, 0.99), *std::max_element(v.begin(), v.end()));
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    std::unique_ptr<eddy::embedded_broker> embedded;
    std::string bootstrap = o.bootstrap;
    if (bootstrap == "embedded") {
        embedded = std::make_unique<eddy::embedded_broker>(1);
        bootstrap = embedded->bootstrap_servers();
    }
    std::printf("reminder_bench: %d reminders spread over %" PRId64 " ms, %" PRId64
                " ms head start, %d partitions, %s, broker %s\n",
        o.reminders, o.spread_ms, o.head_start_ms, o.partitions, o.guarantee.c_str(),
        embedded ? "embedded" : bootstrap.c_str());
    int failed = 0;
    for (int round = 1; round <= o.repeat; ++round) {
        try {
            const auto r = run_round(o, bootstrap, embedded.get(), round);
            std::printf("round %d: %s%s\n", round, r.ok ? "ok" : "FAILED: ", r.note.c_str());
            print_lags("emitted", r.emitted);
            print_lags("received", r.received);
            failed += r.ok ? 0 : 1;
        } catch (const std::exception& e) {
            std::printf("round %d: FAILED: %s\n", round, e.what());
            ++failed;
        }
        std::fflush(stdout);
    }
    return failed == 0 ? 0 : 1;
}
