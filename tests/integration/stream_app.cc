// A stream job for process-level tests: reads --in, drops values ending in
// "7", appends "!" to the rest, writes --out. With --topology count it
// counts the records of each user instead (key "k<i>" belongs to user
// "u<i mod 50>"; a repartition, then a count store) and writes each new
// count as an int64. Runs until SIGTERM/SIGINT (clean close) or SIGKILL.
// Prints "running" once its threads run. With --http-port P (0: any free
// port) it serves the count store with a query_server on 127.0.0.1 (its
// application.server) and prints "http=127.0.0.1:<port>"; with --bootstrap
// embedded it makes its own broker, creates --in (--partitions, default 2)
// and --out on it and prints "bootstrap=<address>". --assignor sets
// consumer.partition.assignment.strategy (range: partition p of every topic
// on one instance, so two instances split every sub-topology).
//
//   stream_app --bootstrap 127.0.0.1:9092 --app-id a --in in --out out
//              [--guarantee exactly_once_v2] [--threads 2] [--process-id p1]
//              [--commit-interval-ms 100] [--topology count|dedup --state-dir DIR]
//              [--http-port 0] [--partitions 2] [--assignor range] [--progress-ms 1000]
//
// --topology dedup passes each key (the event id) once: deduplicate with a
// 1 h retention, its store "seen".

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "runtime/embedded_broker.h"
#include "runtime/kafka_streams.h"
#include "runtime/query_server.h"
#include "topology/streams_builder.h"

namespace {

volatile std::sig_atomic_t stop = 0;

void on_signal(int) {
    stop = 1;
}

} // namespace

int main(int argc, char** argv) {
    std::map<std::string, std::string> args;
    for (int i = 1; i + 1 < argc; i += 2) {
        args[argv[i]] = argv[i + 1];
    }
    auto arg = [&](const std::string& name, const std::string& fallback = {}) {
        auto it = args.find(name);
        return it == args.end() ? fallback : it->second;
    };
    eddy::streams_builder builder;
    if (arg("--topology") == "count") {
        builder.stream<std::string, std::string>(arg("--in"))
            .group_by([](const std::string& k, const std::string&) { return "u" + std::to_string(std::stoll(k.substr(1)) % 50); })
            .count(eddy::materialized<std::string, std::int64_t>::as("counts"))
            .to_stream()
            .to(arg("--out"), eddy::produced<std::string, std::int64_t>::with(eddy::serdes::string{}, eddy::serdes::int64{}));
    } else if (arg("--topology") == "dedup") {
        // Each key (the event id) once within an hour; the ids in "seen".
        builder.stream<std::string, std::string>(arg("--in"))
            .deduplicate([](const std::string& id, const std::string&) { return id; }, std::chrono::hours(1),
                eddy::materialized<std::string, std::int64_t>::as("seen"))
            .to(arg("--out"));
    } else {
        builder.stream<std::string, std::string>(arg("--in"))
            .filter([](const std::string&, const std::string& v) { return !v.ends_with("7"); })
            .map_values([](const std::string& v) { return v + "!"; })
            .to(arg("--out"));
    }
    eddy::streams_config config{{"application.id", arg("--app-id")},
        {"bootstrap.servers", arg("--bootstrap")},
        {"processing.guarantee", arg("--guarantee", "at_least_once")},
        {"num.stream.threads", arg("--threads", "1")},
        {"commit.interval.ms", arg("--commit-interval-ms", "100")},
        {"consumer.session.timeout.ms", "6000"},
        {"consumer.heartbeat.interval.ms", "1000"},
        {"poll.ms", "20"}};
    if (!arg("--state-dir").empty()) {
        config.set("state.dir", arg("--state-dir"));
    }
    if (!arg("--process-id").empty()) {
        config.set("process.id", arg("--process-id"));
    }
    // --setting key=value: any one more setting, as given.
    if (const auto s = arg("--setting"); !s.empty()) {
        const auto eq = s.find('=');
        config.set(s.substr(0, eq), eq == std::string::npos ? "" : s.substr(eq + 1));
    }
    if (!arg("--assignor").empty()) {
        config.set("consumer.partition.assignment.strategy", arg("--assignor"));
    }
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    try {
        std::unique_ptr<eddy::query_server> server;
        if (!arg("--http-port").empty()) {
            server = std::make_unique<eddy::query_server>("127.0.0.1", static_cast<std::uint16_t>(std::stoi(arg("--http-port"))));
            config.set("application.server", server->address());
        }
        eddy::kafka_streams app(builder.build(), config);
        if (auto* broker = app.embedded()) {
            broker->create_topic(arg("--in"), std::stoi(arg("--partitions", "2")), 1);
            broker->create_topic(arg("--out"), 1, 1);
            std::printf("bootstrap=%s\n", app.bootstrap_servers().c_str());
        }
        if (server) {
            server->attach(app);
            if (arg("--topology") == "count") {
                server->serve_store<std::string, std::int64_t>("counts");
            }
            std::printf("http=%s\n", server->address().c_str());
        }
        std::fflush(stdout);
        app.start();
        bool announced = false;
        // --progress-ms N: "processed=<records>" every N ms (the soak test
        // watches processing go on).
        const int progress_ms = arg("--progress-ms").empty() ? 0 : std::stoi(arg("--progress-ms"));
        auto next_progress = std::chrono::steady_clock::now();
        while (stop == 0) {
            if (progress_ms > 0 && std::chrono::steady_clock::now() >= next_progress) {
                double processed = 0;
                for (const auto& m : app.metrics()) {
                    if (m.name == "records-processed-total" && m.tags.contains("thread") && !m.tags.contains("task")) {
                        processed += m.value;
                    }
                }
                std::printf("processed=%.0f\n", processed);
                std::fflush(stdout);
                next_progress += std::chrono::milliseconds(progress_ms);
            }
            if (!announced && app.state() == eddy::streams_state::running) {
                std::printf("running\n");
                std::fflush(stdout);
                announced = true;
            }
            if (app.state() == eddy::streams_state::error) {
                std::fprintf(stderr, "stream_app: the app failed\n");
                return 2;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (server) {
            server->stop();
        }
        app.close(std::chrono::seconds(30));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "stream_app: %s\n", e.what());
        return 1;
    }
    return 0;
}
