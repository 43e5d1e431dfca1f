// e2e_bench: end-to-end throughput and latency of one pipeline, filter ->
// map_values -> to, run three ways in one process against one broker:
//
//   raw        librdkafka's C API written as tightly as eddy's own loop
//              allows: one rd_kafka_consumer_poll per record, producev with
//              RD_KAFKA_MSG_F_COPY, flush + synchronous commit every
//              commit.interval.ms, eddy's client settings;
//   raw-batch  the same, consuming with rd_kafka_consume_batch_queue (not run
//              by default: it shows the head-room batching would give);
//   raw-headers the raw loop plus rd_kafka_message_headers per record, as
//              eddy's runtime does (not run by default);
//   alos, eos  the pipeline as an eddy topology run by eddy::kafka_streams
//              at at_least_once and exactly_once_v2;
//   count      another pipeline, count per key: group_by_key().count()
//              .to_stream().to(out) over --keys distinct keys (10000), its
//              store in RocksDB behind the record cache (at_least_once);
//   count-nocache the same with statestore.cache.max.bytes=0.
//   join       the raw loop's pipeline with a stream-table join in the
//              middle: filter -> left_join(table, upper(value)) -> to, the
//              table read from a topic with a row for each of --keys keys
//              (input record i has key "k<i % keys>", as in the count
//              variants: a dimension table smaller than the stream it
//              enriches; RocksDB behind the record cache, at_least_once).
//              Every kept record looks its row up; a left join,
//              so that the output does not depend on whether a record came
//              before its row (both topics are read from the start): it
//              writes what the raw loop writes, and the two compare directly.
// The count variants compare with the raw loop of the same run (which does
// its filter and map: it writes 10% fewer records than count does).
//
// Each run gets fresh topics and a fresh application.id, and its input is
// produced before it starts, so every run reads the same records from the
// beginning. Throughput is the input record count divided by the time from
// the first record the pipeline consumed to the arrival of the last distinct
// output record at a read_committed reader of the output topic. Latency runs
// feed the input at a fixed rate, stamping each value with the time it was
// produced; the reader takes now - stamp per output record.
//
//   e2e_bench --bootstrap embedded --records 200000
//   e2e_bench --bootstrap 127.0.0.1:9092 --mode both --repeat 2
//   e2e_bench --bootstrap 127.0.0.1:9092 --mode latency --rate 10000 --seconds 10 --only raw,alos
//
// Not a Google Benchmark: it drives brokers, so it is a harness with flags
// (--help). Results and the method's caveats: docs/results.md.

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <pthread.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "runtime/admin.h"
#include "runtime/embedded_broker.h"
#include "runtime/kafka_streams.h"
#include "runtime/streams_config.h"
#include "serde/serdes.h"
#include "topology/streams_builder.h"

namespace {

using steady = std::chrono::steady_clock;
using settings = std::map<std::string, std::string>;
using namespace std::chrono_literals;

// --- options -------------------------------------------------------------

// The shortest input value: its stamp, its index, their separators and the
// last digit (see value_maker).
constexpr int min_value_bytes = 32;

struct options {
    std::string bootstrap = "embedded";
    std::int64_t records = 1'000'000;
    bool records_given = false;
    int rate = 10'000;
    double seconds = 10;
    double warmup_seconds = 2;
    int input_linger_ms = 1;
    bool throughput = true;
    bool latency = false;
    std::vector<std::string> only = {"raw", "alos", "eos"};
    std::vector<int> threads = {1, 2};
    int repeat = 1;
    int partitions = 6;
    int value_bytes = 100;
    int commit_interval_ms = 100;
    int stall_seconds = 60;
    int keys = 10'000;
    bool keep_topics = false;
    // Before each run, wait until others use less than this many cores
    // (0: do not wait).
    double wait_idle = 0;
};

// The local broker's process (--broker-pid), whose CPU use runs report apart.
int broker_pid = 0;

constexpr std::string_view usage_text = R"(usage: e2e_bench [flags]
  --bootstrap embedded|HOST:PORT  the broker: an in-process embedded broker (default) or a Kafka cluster
  --records N                     records per throughput run (default 1000000; 200000 on embedded)
  --mode throughput|latency|both  what to measure (default throughput; --rate/--seconds alone imply latency)
  --rate R                        latency mode: input records per second (default 10000)
  --seconds S                     latency mode: how long the input is fed (default 10), after
  --input-linger-ms N             latency mode: linger.ms of the paced input producer (default 1)
  --warmup-seconds W              latency mode: W s at the same rate first, left out of the figures (default 2)
  --only raw,raw-batch,raw-headers,alos,eos,count,count-nocache,join
                                  the variants to run (default raw,alos,eos); raw-batch consumes with
                                  rd_kafka_consume_batch_queue, raw-headers also reads each record's headers;
                                  count counts per key (throughput only), count-nocache without the record cache;
                                  join: a stream-table left join (throughput only)
  --keys N                        count and join variants: distinct keys of the input, rows of the
                                  join's table (default 10000)
  --threads 1,2                   threads per variant (num.stream.threads for eddy; consumers for raw)
  --repeat N                      run every variant N times, interleaved (default 1)
  --partitions N                  input and output partitions (default 6)
  --value-bytes N                 value size (default 100, at least 32)
  --commit-interval-ms N          commit.interval.ms of every variant (default 100)
  --stall-seconds N               a run fails when no output arrives for this long (default 60)
  --keep-topics                   do not delete a run's topics afterwards (real Kafka only)
  --broker-pid PID                the local broker's process: its CPU use is shown apart from the others'
  --wait-idle C                   before each run, wait (up to 10 min) until other processes use < C cores
                                  for 3 s (besides the --broker-pid process), e.g. 0.3
)";

[[noreturn]] void usage_error(const std::string& what) {
    std::fprintf(stderr, "e2e_bench: %s\n%s", what.c_str(), usage_text.data());
    std::exit(2);
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        auto end = s.find(',', start);
        if (end == std::string::npos) {
            end = s.size();
        }
        if (end > start) {
            out.push_back(s.substr(start, end - start));
        }
        start = end + 1;
    }
    return out;
}

std::int64_t to_int(const std::string& flag, const std::string& s) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0) {
        usage_error(flag + " wants a non-negative integer, got '" + s + "'");
    }
    return v;
}

options parse(int argc, char** argv) {
    options o;
    bool mode_given = false;
    bool latency_flags = false;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::fputs(usage_text.data(), stdout);
            std::exit(0);
        }
        if (flag == "--keep-topics") {
            o.keep_topics = true;
            continue;
        }
        if (i + 1 >= argc) {
            usage_error(flag + " needs a value");
        }
        const std::string value = argv[++i];
        if (flag == "--bootstrap") {
            o.bootstrap = value;
        } else if (flag == "--records") {
            o.records = to_int(flag, value);
            o.records_given = true;
        } else if (flag == "--rate") {
            o.rate = static_cast<int>(to_int(flag, value));
            latency_flags = true;
        } else if (flag == "--seconds") {
            o.seconds = std::stod(value);
            latency_flags = true;
        } else if (flag == "--input-linger-ms") {
            o.input_linger_ms = static_cast<int>(to_int(flag, value));
        } else if (flag == "--warmup-seconds") {
            o.warmup_seconds = std::stod(value);
        } else if (flag == "--mode") {
            mode_given = true;
            o.throughput = value == "throughput" || value == "both";
            o.latency = value == "latency" || value == "both";
            if (!o.throughput && !o.latency) {
                usage_error("--mode is throughput, latency or both");
            }
        } else if (flag == "--only") {
            o.only = split(value);
            for (const auto& v : o.only) {
                if (v != "raw" && v != "raw-batch" && v != "raw-headers" && v != "alos" && v != "eos" && v != "count"
                    && v != "count-nocache" && v != "join") {
                    usage_error("unknown variant '" + v + "'");
                }
            }
        } else if (flag == "--threads") {
            o.threads.clear();
            for (const auto& t : split(value)) {
                o.threads.push_back(static_cast<int>(to_int(flag, t)));
                if (o.threads.back() < 1) {
                    usage_error("--threads wants counts of at least 1");
                }
            }
        } else if (flag == "--repeat") {
            o.repeat = static_cast<int>(std::max<std::int64_t>(1, to_int(flag, value)));
        } else if (flag == "--partitions") {
            o.partitions = static_cast<int>(std::max<std::int64_t>(1, to_int(flag, value)));
        } else if (flag == "--value-bytes") {
            o.value_bytes = static_cast<int>(std::max<std::int64_t>(min_value_bytes, to_int(flag, value)));
        } else if (flag == "--commit-interval-ms") {
            o.commit_interval_ms = static_cast<int>(std::max<std::int64_t>(1, to_int(flag, value)));
        } else if (flag == "--broker-pid") {
            broker_pid = static_cast<int>(to_int(flag, value));
        } else if (flag == "--wait-idle") {
            o.wait_idle = std::stod(value);
        } else if (flag == "--keys") {
            o.keys = static_cast<int>(std::max<std::int64_t>(1, to_int(flag, value)));
        } else if (flag == "--stall-seconds") {
            o.stall_seconds = static_cast<int>(std::max<std::int64_t>(1, to_int(flag, value)));
        } else {
            usage_error("unknown flag " + flag);
        }
    }
    if (latency_flags && !mode_given) {
        o.throughput = false;
        o.latency = true;
    }
    if (o.bootstrap == "embedded" && !o.records_given) {
        o.records = 200'000;
    }
    if (o.only.empty() || o.threads.empty()) {
        usage_error("--only and --threads need at least one entry");
    }
    for (const auto& v : o.only) {
        if ((v.starts_with("count") || v == "join") && o.latency) {
            usage_error("the count variants measure throughput only (--mode throughput)");
        }
    }
    return o;
}

// --- librdkafka helpers ----------------------------------------------------

struct client_deleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using client_ptr = std::unique_ptr<rd_kafka_t, client_deleter>;

struct partition_list {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(16);
    partition_list() = default;
    ~partition_list() { rd_kafka_topic_partition_list_destroy(list); }
    partition_list(const partition_list&) = delete;
    partition_list& operator=(const partition_list&) = delete;
    void add(const std::string& topic, std::int32_t partition, std::int64_t offset) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = offset;
    }
};

client_ptr make_client(rd_kafka_type_t type, const settings& s, rd_kafka_conf_t* conf = nullptr) {
    std::array<char, 512> err{};
    if (conf == nullptr) {
        conf = rd_kafka_conf_new();
    }
    for (const auto& [key, value] : s) {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err.data(), err.size()) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error("setting " + key + "=" + value + " refused: " + err.data());
        }
    }
    rd_kafka_t* rk = rd_kafka_new(type, conf, err.data(), err.size());
    if (rk == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("cannot create a client: ") + err.data());
    }
    return client_ptr(rk);
}

settings merged(settings base, const settings& more) {
    for (const auto& [k, v] : more) {
        base[k] = v;
    }
    return base;
}

// The client settings kafka_streams gives its consumers and producers by
// default (runtime/kafka_streams.cc, resolve_settings), copied so that the
// raw loop runs its clients as eddy runs them and only the code in between
// differs.
settings eddy_consumer_defaults() {
    return {
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"queued.min.messages", "1000000"},
        {"fetch.wait.max.ms", "100"},
    };
}

settings eddy_producer_defaults() {
    return {
        {"enable.idempotence", "true"},
        {"compression.type", "lz4"},
        {"linger.ms", "5"},
        {"partitioner", "murmur2_random"},
    };
}

std::int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(steady::now().time_since_epoch()).count();
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

double seconds_between(steady::time_point a, steady::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// --- CPU accounting --------------------------------------------------------

// CPU time used by the whole machine and by this process, from /proc, to
// tell how much of the machine others took during a run (a compile, another
// test; on real Kafka on this machine, the broker too).
struct cpu_sample {
    steady::time_point at = steady::now();
    double busy_s = 0; // all CPUs, busy (not idle, iowait or steal)
    double steal_s = 0; // time the hypervisor gave this machine's CPUs to others
    double self_s = 0; // this process, all its threads
    double broker_s = 0; // the process --broker-pid names, if any
    // This process's threads: thread id -> (group of its name, CPU seconds).
    std::map<int, std::pair<std::string, double>> threads;
};

// utime + stime of a process, in seconds.
double process_cpu_s(const std::string& stat_path) {
    std::FILE* f = std::fopen(stat_path.c_str(), "r");
    if (f == nullptr) {
        return 0;
    }
    std::array<char, 1024> buf{};
    const auto n = std::fread(buf.data(), 1, buf.size() - 1, f);
    std::fclose(f);
    // Fields after the command (which may hold spaces): state is the 3rd,
    // utime and stime the 14th and 15th.
    std::string_view line(buf.data(), n);
    auto pos = line.rfind(')');
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    if (pos == std::string_view::npos
        || std::sscanf(buf.data() + pos + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime)
            != 2) {
        return 0;
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The group a thread's name puts it in: the pipeline's threads, librdkafka's
// broker and main threads (of every client in the process), the reader.
std::string thread_group(std::string name) {
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) {
        name.pop_back();
    }
    if (name == "pipeline" || name == "raw-worker") {
        return "pipeline";
    }
    if (name.starts_with("rdk:broker")) {
        return "rdk-broker";
    }
    if (name.starts_with("rdk:")) {
        return "rdk-other";
    }
    if (name == "e2e-reader") {
        return "reader";
    }
    return "other";
}

void sample_threads(cpu_sample& c) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        const auto dir = entry.path().string();
        int tid = 0;
        const auto name = entry.path().filename().string();
        std::from_chars(name.data(), name.data() + name.size(), tid);
        std::string comm;
        if (std::FILE* f = std::fopen((dir + "/comm").c_str(), "r")) {
            std::array<char, 64> buf{};
            if (std::fgets(buf.data(), buf.size(), f) != nullptr) {
                comm = buf.data();
            }
            std::fclose(f);
        }
        c.threads[tid] = {thread_group(comm), process_cpu_s(dir + "/stat")};
    }
}

cpu_sample sample_cpu(bool threads = false) {
    cpu_sample c;
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    if (std::FILE* f = std::fopen("/proc/stat", "r")) {
        unsigned long long v[8] = {};
        if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                &v[6], &v[7])
            == 8) {
            c.busy_s = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6]) / tick;
            c.steal_s = static_cast<double>(v[7]) / tick;
        }
        std::fclose(f);
    }
    c.self_s = process_cpu_s("/proc/self/stat");
    if (broker_pid > 0) {
        c.broker_s = process_cpu_s("/proc/" + std::to_string(broker_pid) + "/stat");
    }
    if (threads) {
        sample_threads(c);
    }
    return c;
}

// Cores used between two samples.
struct cores {
    double self = 0;
    double broker = 0;
    double others = 0; // neither this process nor the broker
    double steal = 0;  // taken by the hypervisor (a virtual machine's noisy neighbours)
    // This process's, by thread_group().
    std::map<std::string, double> threads;

    std::string threads_text() const {
        std::string out;
        for (const auto& [group, n] : threads) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%s%s=%.2f", out.empty() ? "" : " ", group.c_str(), n);
            out += buf;
        }
        return out;
    }
};

cores cores_between(const cpu_sample& a, const cpu_sample& b) {
    const double wall = seconds_between(a.at, b.at);
    if (wall <= 0) {
        return {};
    }
    cores c;
    c.self = (b.self_s - a.self_s) / wall;
    c.broker = (b.broker_s - a.broker_s) / wall;
    c.others = std::max(0.0, (b.busy_s - a.busy_s) / wall - c.self - c.broker);
    c.steal = (b.steal_s - a.steal_s) / wall;
    for (const auto& [tid, t] : b.threads) {
        auto it = a.threads.find(tid);
        c.threads[t.first] += (t.second - (it == a.threads.end() ? 0.0 : it->second.second)) / wall;
    }
    return c;
}

// Samples the CPU every 50 ms while it lives, so that a run's window (first
// record consumed to last output) can be cut out afterwards.
class cpu_monitor {
public:
    cpu_monitor() {
        _samples.push_back(sample_cpu(true));
        _thread = std::thread([this] {
            pthread_setname_np(pthread_self(), "e2e-cpu");
            while (!_stop.load()) {
                std::this_thread::sleep_for(50ms);
                auto c = sample_cpu(true);
                std::scoped_lock lock(_mutex);
                _samples.push_back(c);
            }
        });
    }
    ~cpu_monitor() { stop(); }
    cpu_monitor(const cpu_monitor&) = delete;
    cpu_monitor& operator=(const cpu_monitor&) = delete;

    void stop() {
        _stop.store(true);
        if (_thread.joinable()) {
            _thread.join();
        }
    }

    // Cores used between the samples nearest `from` and `to`.
    cores between(steady::time_point from, steady::time_point to) {
        std::scoped_lock lock(_mutex);
        auto nearest = [&](steady::time_point t) {
            return *std::min_element(_samples.begin(), _samples.end(), [&](const auto& a, const auto& b) {
                return std::chrono::abs(a.at - t) < std::chrono::abs(b.at - t);
            });
        };
        return cores_between(nearest(from), nearest(to));
    }

private:
    std::mutex _mutex;
    std::vector<cpu_sample> _samples;
    std::atomic<bool> _stop{false};
    std::thread _thread;
};

// Waits until the rest of the machine (not this process, not the broker)
// uses less than `max_cores` for three seconds in a row, up to `limit`; returns how long it waited.
double wait_for_quiet(double max_cores, std::chrono::seconds limit) {
    const auto start = steady::now();
    int quiet = 0;
    auto last = sample_cpu();
    while (quiet < 3 && steady::now() - start < limit) {
        std::this_thread::sleep_for(1s);
        auto now = sample_cpu();
        quiet = cores_between(last, now).others < max_cores ? quiet + 1 : 0;
        last = now;
    }
    return seconds_between(start, steady::now());
}

// --- the broker ------------------------------------------------------------

// The broker every run uses: an embedded one made here, or a cluster.
class bench_broker {
public:
    explicit bench_broker(const std::string& where) {
        if (where == "embedded") {
            _embedded = std::make_unique<eddy::embedded_broker>(1);
            _bootstrap = _embedded->bootstrap_servers();
        } else {
            _bootstrap = where;
        }
        // Quiet: it sees every run's topics come and go. It must not
        // recreate them either: a producer's metadata refresh of a topic it
        // once knew auto-creates it on a broker with auto.create.topics.enable.
        auto s = base();
        s["log_level"] = "4";
        s["allow.auto.create.topics"] = "false";
        _admin = make_client(RD_KAFKA_PRODUCER, s);
    }

    bool embedded() const noexcept { return _embedded != nullptr; }
    const std::string& bootstrap() const noexcept { return _bootstrap; }

    // What every client of the benchmark gets: the address and, on the
    // embedded broker, what kafka_streams sets when it starts an embedded
    // broker itself (the mock holds an empty fetch for fetch.wait.max.ms and
    // makes a rebalance wait session.timeout.ms minus a second).
    settings base() const { return {{"bootstrap.servers", _bootstrap}}; }
    settings consumer_extras() const {
        if (!embedded()) {
            return {};
        }
        return {{"fetch.wait.max.ms", "10"}, {"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    }

    void create_topic(const std::string& name, int partitions) {
        if (_embedded) {
            _embedded->create_topic(name, partitions);
        } else {
            eddy::admin_client admin(eddy::streams_config{{"bootstrap.servers", _bootstrap}});
            admin.create_topics({{name, partitions, 1, {}}});
        }
        wait_for_leaders(name, partitions);
    }

    // The mock cannot delete topics; the runs' topics stay in its memory.
    void delete_topics(const std::vector<std::string>& names) {
        if (_embedded || names.empty()) {
            return;
        }
        std::vector<rd_kafka_DeleteTopic_t*> topics;
        for (const auto& n : names) {
            topics.push_back(rd_kafka_DeleteTopic_new(n.c_str()));
        }
        rd_kafka_queue_t* q = rd_kafka_queue_new(_admin.get());
        rd_kafka_DeleteTopics(_admin.get(), topics.data(), topics.size(), nullptr, q);
        if (rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30'000)) {
            std::size_t n = 0;
            const auto* result = rd_kafka_event_DeleteTopics_result(ev);
            const auto* const* results = result != nullptr ? rd_kafka_DeleteTopics_result_topics(result, &n) : nullptr;
            if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                std::fprintf(stderr, "  cannot delete topics: %s\n", rd_kafka_event_error_string(ev));
            }
            for (std::size_t i = 0; i < n; ++i) {
                if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                    std::fprintf(stderr, "  cannot delete topic %s: %s\n", rd_kafka_topic_result_name(results[i]),
                        rd_kafka_topic_result_error_string(results[i]));
                }
            }
            rd_kafka_event_destroy(ev);
        } else {
            std::fprintf(stderr, "  topic deletion did not answer within 30 s\n");
        }
        rd_kafka_queue_destroy(q);
        rd_kafka_DeleteTopic_destroy_array(topics.data(), topics.size());
    }

    // Records stored in `topic` (high minus low watermark, summed), and
    // whether some partition lost its oldest records (a low watermark above
    // 0: the embedded broker dropping data it has no room for).
    std::pair<std::int64_t, bool> stored(const std::string& topic, int partitions) {
        std::int64_t total = 0;
        bool truncated = false;
        for (int p = 0; p < partitions; ++p) {
            std::int64_t low = 0;
            std::int64_t high = 0;
            auto err = rd_kafka_query_watermark_offsets(_admin.get(), topic.c_str(), p, &low, &high, 10'000);
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw std::runtime_error("watermarks of " + topic + ": " + rd_kafka_err2str(err));
            }
            total += high - low;
            truncated = truncated || low > 0;
        }
        return {total, truncated};
    }

private:
    void wait_for_leaders(const std::string& topic, int partitions) {
        rd_kafka_topic_t* rkt = rd_kafka_topic_new(_admin.get(), topic.c_str(), nullptr);
        const auto deadline = steady::now() + 30s;
        bool ready = false;
        while (!ready && steady::now() < deadline) {
            const rd_kafka_metadata_t* md = nullptr;
            if (rd_kafka_metadata(_admin.get(), 0, rkt, &md, 5'000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                ready = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR
                    && md->topics[0].partition_cnt == partitions;
                for (int i = 0; ready && i < md->topics[0].partition_cnt; ++i) {
                    ready = md->topics[0].partitions[i].leader >= 0;
                }
                rd_kafka_metadata_destroy(md);
            }
            if (!ready) {
                std::this_thread::sleep_for(100ms);
            }
        }
        rd_kafka_topic_destroy(rkt);
        if (!ready) {
            throw std::runtime_error("topic " + topic + " has no leaders after 30 s");
        }
    }

    std::unique_ptr<eddy::embedded_broker> _embedded;
    std::string _bootstrap;
    client_ptr _admin;
};

// --- the workload ----------------------------------------------------------

// Record i: key "k<i>"; value "<16-digit steady-clock microseconds>|", then
// pseudo-random lowercase letters, then the digit i % 10. The filter drops
// values ending in '7' (one in ten); the map upper-cases the letters, so the
// stamp survives to the output.
class value_maker {
public:
    explicit value_maker(int bytes) : _value(static_cast<std::size_t>(std::max(bytes, min_value_bytes)), 'x') {}

    const std::string& make(std::int64_t i, std::int64_t stamp_us) {
        auto stamp = static_cast<std::uint64_t>(stamp_us);
        for (int j = 15; j >= 0; --j) {
            _value[static_cast<std::size_t>(j)] = static_cast<char>('0' + stamp % 10);
            stamp /= 10;
        }
        _value[16] = '|';
        // The record's index, which identifies its output whatever its key.
        auto index = static_cast<std::uint64_t>(i);
        for (std::size_t j = index_end - 1; j >= index_begin; --j) {
            _value[j] = static_cast<char>('0' + index % 10);
            index /= 10;
        }
        _value[index_end] = '|';
        for (std::size_t j = index_end + 1; j + 1 < _value.size(); ++j) {
            _state ^= _state << 13;
            _state ^= _state >> 7;
            _state ^= _state << 17;
            _value[j] = static_cast<char>('a' + _state % 26);
        }
        _value.back() = static_cast<char>('0' + i % 10);
        return _value;
    }

    // Where make() writes the record's index, in decimal.
    static constexpr std::size_t index_begin = 17;
    static constexpr std::size_t index_end = 29;

private:
    std::string _value;
    std::uint64_t _state = 0x9e3779b97f4a7c15ULL;
};

bool keep(const char* value, std::size_t size) {
    return size == 0 || value[size - 1] != '7';
}

void upper_into(const char* value, std::size_t size, char* out) {
    for (std::size_t i = 0; i < size; ++i) {
        const char c = value[i];
        out[i] = c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c;
    }
}

std::int64_t outputs_for(std::int64_t inputs) {
    return inputs - (inputs / 10 + (inputs % 10 > 7 ? 1 : 0));
}

// A producer of the input, with eddy's producer settings (or `overrides`).
class input_producer {
public:
    // `keys` > 0: record i has key "k<i % keys>" (the count variants).
    input_producer(const bench_broker& broker, std::string topic, int value_bytes, const settings& overrides = {},
        int keys = 0)
        : _topic(std::move(topic)), _values(value_bytes), _keys(keys) {
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set_opaque(conf, this);
        rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
            if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                static_cast<input_producer*>(opaque)->_failed.fetch_add(1, std::memory_order_relaxed);
            }
        });
        _producer = make_client(
            RD_KAFKA_PRODUCER, merged(merged(broker.base(), eddy_producer_defaults()), overrides), conf);
    }

    void send(std::int64_t i) {
        const auto& value = _values.make(i, steady_us());
        const auto key = "k" + std::to_string(_keys > 0 ? i % _keys : i);
        for (;;) {
            auto err = rd_kafka_producev(_producer.get(), RD_KAFKA_V_TOPIC(_topic.c_str()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_TIMESTAMP(wall_ms()),
                RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                break;
            }
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
            }
            rd_kafka_poll(_producer.get(), 10);
        }
        rd_kafka_poll(_producer.get(), 0);
    }

    // Fetches the topic's metadata, which opens the connection.
    void connect() {
        rd_kafka_topic_t* rkt = rd_kafka_topic_new(_producer.get(), _topic.c_str(), nullptr);
        const rd_kafka_metadata_t* md = nullptr;
        if (rd_kafka_metadata(_producer.get(), 0, rkt, &md, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
    }

    void flush() {
        if (rd_kafka_flush(_producer.get(), 120'000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw std::runtime_error("input producer: flush timed out");
        }
        if (_failed.load() > 0) {
            throw std::runtime_error("input producer: " + std::to_string(_failed.load()) + " records not delivered");
        }
    }

private:
    std::string _topic;
    value_maker _values;
    int _keys = 0;
    std::atomic<std::int64_t> _failed{0};
    client_ptr _producer;
};

// --- the output reader -----------------------------------------------------

// Reads every partition of the output topic from the beginning, read_committed
// (for exactly-once, only what a transaction committed counts), until the
// expected number of distinct keys arrived. Notes when each distinct record
// arrived and, when asked, its latency: arrival minus the stamp in its value.
class output_reader {
public:
    // Latencies are kept for records from `latencies_from` on (-1: none).
    // `count_keys` > 0: the outputs are counts per key of an input keyed
    // "k<i % count_keys>": output (k<j>, c) says the first c inputs of key
    // j are counted. The record cache forwards only a key's latest count per
    // commit, so counts in between may never come: an output accounts for
    // every input up to its count.
    output_reader(const bench_broker& broker, const std::string& topic, int partitions, std::int64_t inputs,
        std::int64_t latencies_from, int count_keys = 0)
        : _expected(count_keys > 0 ? inputs : outputs_for(inputs))
        , _seen(static_cast<std::size_t>(inputs), false)
        , _latencies_from(latencies_from)
        , _count_keys(count_keys)
        , _highest(static_cast<std::size_t>(std::max(count_keys, 0)), 0) {
        static std::atomic<int> readers{0};
        auto s = merged(broker.base(), broker.consumer_extras());
        s["group.id"] = "e2e-bench-reader-" + std::to_string(getpid()) + "-" + std::to_string(readers++);
        s["enable.auto.commit"] = "false";
        s["isolation.level"] = "read_committed";
        s.erase("session.timeout.ms");
        s.erase("heartbeat.interval.ms");
        _consumer = make_client(RD_KAFKA_CONSUMER, s);
        rd_kafka_poll_set_consumer(_consumer.get());
        partition_list pl;
        for (int p = 0; p < partitions; ++p) {
            pl.add(topic, p, RD_KAFKA_OFFSET_BEGINNING);
        }
        if (auto err = rd_kafka_assign(_consumer.get(), pl.list); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw std::runtime_error(std::string("reader assign: ") + rd_kafka_err2str(err));
        }
        if (_latencies_from >= 0) {
            _latency_us.reserve(static_cast<std::size_t>(_expected));
        }
        _thread = std::thread([this] { run(); });
    }

    ~output_reader() {
        _stop.store(true);
        if (_thread.joinable()) {
            _thread.join();
        }
        rd_kafka_consumer_close(_consumer.get());
    }

    output_reader(const output_reader&) = delete;
    output_reader& operator=(const output_reader&) = delete;

    // Waits until every expected record arrived (true), the output stalled
    // for `stall`, or `give_up` says so (false).
    bool wait(std::chrono::seconds stall, const std::function<bool()>& give_up) {
        std::int64_t last = -1;
        auto last_change = steady::now();
        while (!_done.load()) {
            std::this_thread::sleep_for(10ms);
            const auto n = _unique.load();
            if (n != last) {
                last = n;
                last_change = steady::now();
            }
            if (steady::now() - last_change > stall || give_up()) {
                return false;
            }
        }
        return true;
    }

    // After wait(): the reader's thread is done or stopped.
    void stop() {
        _stop.store(true);
        if (_thread.joinable()) {
            _thread.join();
        }
    }

    std::int64_t expected() const noexcept { return _expected; }
    std::int64_t unique() const noexcept { return _unique.load(); }
    std::int64_t duplicates() const noexcept { return _duplicates; }
    std::int64_t malformed() const noexcept { return _malformed; }
    steady::time_point last_arrival() const noexcept { return _last_arrival; }
    steady::time_point first_arrival() const noexcept { return _first_arrival; }
    // Sorted after stop().
    std::vector<std::int64_t>& latencies_us() { return _latency_us; }

private:
    // Lives until stop(), so that the CPU accounting finds it at the end of
    // the run's window.
    void run() {
        pthread_setname_np(pthread_self(), "e2e-reader");
        while (!_stop.load(std::memory_order_relaxed)) {
            rd_kafka_message_t* m = rd_kafka_consumer_poll(_consumer.get(), 50);
            if (m == nullptr) {
                continue;
            }
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (!_done.load(std::memory_order_relaxed)) {
                    take(m);
                }
            } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && !_warned) {
                _warned = true;
                std::fprintf(stderr, "  reader: %s (not shown again)\n", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
        }
    }

    void take(const rd_kafka_message_t* m) {
        const auto now = steady::now();
        const auto* key = static_cast<const char*>(m->key);
        const auto* value = static_cast<const char*>(m->payload);
        std::int64_t i = -1;
        if (key != nullptr && m->key_len > 1 && key[0] == 'k') {
            std::from_chars(key + 1, key + m->key_len, i);
        }
        if (_count_keys > 0) {
            take_count(now, i, value, m->len);
            return;
        }
        // The index in the value, not the key: the join variant's keys
        // repeat.
        i = -1;
        if (value != nullptr && m->len > value_maker::index_end) {
            std::from_chars(value + value_maker::index_begin, value + value_maker::index_end, i);
        }
        bool good = i >= 0 && static_cast<std::size_t>(i) < _seen.size() && keep(value, m->len);
        for (std::size_t j = 17; good && j < m->len; ++j) {
            good = !(value[j] >= 'a' && value[j] <= 'z');
        }
        if (!good) {
            ++_malformed;
            return;
        }
        if (_seen[static_cast<std::size_t>(i)]) {
            ++_duplicates;
            return;
        }
        _seen[static_cast<std::size_t>(i)] = true;
        if (_unique.load(std::memory_order_relaxed) == 0) {
            _first_arrival = now;
        }
        _last_arrival = now;
        if (_latencies_from >= 0 && i >= _latencies_from) {
            std::int64_t stamp = 0;
            std::from_chars(value, value + 16, stamp);
            _latency_us.push_back(
                std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() - stamp);
        }
        if (_unique.fetch_add(1, std::memory_order_relaxed) + 1 == _expected) {
            _done.store(true);
        }
    }

    // An output of the count pipeline: key index j, a big-endian int64 count.
    void take_count(steady::time_point now, std::int64_t j, const char* value, std::size_t size) {
        if (j < 0 || j >= _count_keys || value == nullptr || size != 8) {
            ++_malformed;
            return;
        }
        std::int64_t count = 0;
        for (std::size_t b = 0; b < 8; ++b) {
            count = static_cast<std::int64_t>((static_cast<std::uint64_t>(count) << 8) | static_cast<unsigned char>(value[b]));
        }
        const auto i = (count - 1) * _count_keys + j;
        if (count < 1 || static_cast<std::size_t>(i) >= _seen.size()) {
            ++_malformed;
            return;
        }
        auto& highest = _highest[static_cast<std::size_t>(j)];
        if (count <= highest) {
            ++_duplicates;
            return;
        }
        const auto counted = count - highest;
        highest = count;
        if (_unique.load(std::memory_order_relaxed) == 0) {
            _first_arrival = now;
        }
        _last_arrival = now;
        if (_unique.fetch_add(counted, std::memory_order_relaxed) + counted == _expected) {
            _done.store(true);
        }
    }

    client_ptr _consumer;
    const std::int64_t _expected;
    std::vector<bool> _seen;
    const std::int64_t _latencies_from;
    const int _count_keys;
    // Count runs: the highest count of each key so far.
    std::vector<std::int64_t> _highest;
    std::vector<std::int64_t> _latency_us;
    std::atomic<std::int64_t> _unique{0};
    std::int64_t _duplicates = 0;
    std::int64_t _malformed = 0;
    steady::time_point _first_arrival{};
    steady::time_point _last_arrival{};
    std::atomic<bool> _done{false};
    std::atomic<bool> _stop{false};
    bool _warned = false;
    std::thread _thread;
};

// --- the pipelines ---------------------------------------------------------

// Where a run reads and writes, and how.
struct run_plan {
    std::string input;
    std::string output;
    std::string application_id;
    int partitions = 6;
    int threads = 1;
    std::chrono::milliseconds commit_interval{100};
    // The count variants: distinct input keys (0: not a count run), and
    // statestore.cache.max.bytes (-1: eddy's default).
    int count_keys = 0;
    std::int64_t cache_max_bytes = -1;
    // The join variant: the table's topic and its rows (0: not a join run).
    std::string table;
    int join_keys = 0;
};

// A pipeline under test, started and stopped by the harness.
class pipeline {
public:
    virtual ~pipeline() = default;
    virtual void start() = 0;
    // Every thread has its partitions and processes.
    virtual bool ready() const = 0;
    virtual bool failed() const = 0;
    // When the first input record was consumed, once one was.
    virtual std::optional<steady::time_point> first_consumed() const = 0;
    // Rebalance callbacks so far, over all threads.
    virtual std::int64_t rebalances() const = 0;
    virtual void stop() = 0;
    // What it counted, as "name=value" pairs, after stop().
    virtual std::string details() const = 0;
};

// How the raw loop consumes: one record per rd_kafka_consumer_poll, or
// batches from rd_kafka_consume_batch_queue; whether it also asks each record
// for its headers (as eddy does to carry them to the output).
struct raw_mode {
    bool batch = false;
    bool read_headers = false;
};

// One thread of the raw loop: a consumer in the group and a producer, as an
// eddy stream thread has, with nothing between them but the transform.
class raw_worker {
public:
    raw_worker(const bench_broker& broker, const run_plan& plan, int index, raw_mode mode,
        std::atomic<std::int64_t>& first_ns)
        : _plan(plan), _batch(mode.batch), _read_headers(mode.read_headers), _first_ns(first_ns), _next_offset(static_cast<std::size_t>(plan.partitions), -1) {
        rd_kafka_conf_t* pconf = rd_kafka_conf_new();
        rd_kafka_conf_set_opaque(pconf, this);
        rd_kafka_conf_set_dr_msg_cb(pconf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
            auto* me = static_cast<raw_worker*>(opaque);
            if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                ++me->_delivery_errors;
            } else {
                ++me->_produced;
            }
        });
        auto ps = merged(broker.base(), eddy_producer_defaults());
        ps["client.id"] = plan.application_id + "-raw-" + std::to_string(index) + "-producer";
        _producer = make_client(RD_KAFKA_PRODUCER, ps, pconf);

        rd_kafka_conf_t* cconf = rd_kafka_conf_new();
        rd_kafka_conf_set_opaque(cconf, this);
        rd_kafka_conf_set_rebalance_cb(cconf, &raw_worker::on_rebalance);
        auto cs = merged(merged(broker.base(), eddy_consumer_defaults()), broker.consumer_extras());
        cs["group.id"] = plan.application_id;
        cs["client.id"] = plan.application_id + "-raw-" + std::to_string(index) + "-consumer";
        _consumer = make_client(RD_KAFKA_CONSUMER, cs, cconf);
        rd_kafka_poll_set_consumer(_consumer.get());
    }

    ~raw_worker() { stop(); }
    raw_worker(const raw_worker&) = delete;
    raw_worker& operator=(const raw_worker&) = delete;

    void start() { _thread = std::thread([this] { run(); }); }
    void stop() {
        _stop.store(true);
        if (_thread.joinable()) {
            _thread.join();
        }
    }

    int assigned() const noexcept { return _assigned.load(); }
    std::int64_t rebalances() const noexcept { return _rebalances.load(); }
    bool failed() const noexcept { return _failed.load(); }
    const std::string& error() const noexcept { return _error; }
    std::int64_t commits() const noexcept { return _commits; }
    std::int64_t commit_us() const noexcept { return _commit_us; }
    std::int64_t commit_max_us() const noexcept { return _commit_max_us; }
    std::int64_t consumed() const noexcept { return _consumed; }
    std::int64_t produced() const noexcept { return _produced; }

private:
    static void on_rebalance(
        rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
        auto* me = static_cast<raw_worker*>(opaque);
        me->_rebalances.fetch_add(1);
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
            if (auto* e = rd_kafka_incremental_assign(rk, parts)) {
                rd_kafka_error_destroy(e);
            }
            me->_assigned.fetch_add(parts->cnt);
        } else {
            // As eddy does: commit what was processed before giving it up.
            me->commit();
            for (int i = 0; i < parts->cnt; ++i) {
                me->_next_offset[static_cast<std::size_t>(parts->elems[i].partition)] = -1;
            }
            if (auto* e = rd_kafka_incremental_unassign(rk, parts)) {
                rd_kafka_error_destroy(e);
            }
            me->_assigned.fetch_sub(parts->cnt);
        }
    }

    void run() {
        pthread_setname_np(pthread_self(), "raw-worker");
        try {
            // As eddy's stream thread does: learn the output topic's leaders
            // first, so that the first flush does not wait for them.
            rd_kafka_topic_t* rkt = rd_kafka_topic_new(_producer.get(), _plan.output.c_str(), nullptr);
            const rd_kafka_metadata_t* md = nullptr;
            if (rd_kafka_metadata(_producer.get(), 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                rd_kafka_metadata_destroy(md);
            }
            rd_kafka_topic_destroy(rkt);
            partition_list subscription;
            subscription.add(_plan.input, RD_KAFKA_PARTITION_UA, RD_KAFKA_OFFSET_INVALID);
            if (auto err = rd_kafka_subscribe(_consumer.get(), subscription.list); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw std::runtime_error(std::string("subscribe: ") + rd_kafka_err2str(err));
            }
            rd_kafka_queue_t* queue = _batch ? rd_kafka_queue_get_consumer(_consumer.get()) : nullptr;
            std::vector<rd_kafka_message_t*> batch(_batch ? 1024 : 0);
            _last_commit = steady::now();
            while (!_stop.load(std::memory_order_relaxed)) {
                if (_batch) {
                    const auto n = rd_kafka_consume_batch_queue(queue, 100, batch.data(), batch.size());
                    for (ssize_t i = 0; i < n; ++i) {
                        handle(batch[static_cast<std::size_t>(i)]);
                    }
                } else if (rd_kafka_message_t* m = rd_kafka_consumer_poll(_consumer.get(), 100)) {
                    handle(m);
                }
                rd_kafka_poll(_producer.get(), 0);
                if (steady::now() - _last_commit >= _plan.commit_interval) {
                    commit();
                }
            }
            if (queue != nullptr) {
                rd_kafka_queue_destroy(queue);
            }
            commit();
            rd_kafka_consumer_close(_consumer.get());
            rd_kafka_flush(_producer.get(), 30'000);
        } catch (const std::exception& e) {
            _error = e.what();
            _failed.store(true);
        }
    }

    void handle(rd_kafka_message_t* m) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (_consumed++ == 0) {
                std::int64_t none = 0;
                _first_ns.compare_exchange_strong(none, steady::now().time_since_epoch().count());
            }
            process(m);
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            std::fprintf(stderr, "  raw: consumer error: %s\n", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }

    void process(const rd_kafka_message_t* m) {
        _next_offset[static_cast<std::size_t>(m->partition)] = m->offset + 1;
        _dirty = true;
        if (_read_headers) {
            // What eddy's to_raw_record does for every record. The input has
            // no headers, so nothing is carried to the output.
            rd_kafka_headers_t* headers = nullptr;
            if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                _headers_seen += static_cast<std::int64_t>(rd_kafka_header_cnt(headers));
            }
        }
        const auto* value = static_cast<const char*>(m->payload);
        if (!keep(value, m->len)) {
            return;
        }
        if (_buffer.size() < m->len) {
            _buffer.resize(m->len);
        }
        upper_into(value, m->len, _buffer.data());
        const std::int64_t timestamp = rd_kafka_message_timestamp(m, nullptr);
        for (;;) {
            auto err = rd_kafka_producev(_producer.get(), RD_KAFKA_V_TOPIC(_plan.output.c_str()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(m->key, m->key_len),
                RD_KAFKA_V_VALUE(_buffer.data(), m->len), RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                return;
            }
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
            }
            rd_kafka_poll(_producer.get(), 10);
        }
    }

    // At-least-once as eddy does it: flush the producer, then commit the
    // consumed offsets synchronously.
    void commit() {
        _last_commit = steady::now();
        if (!_dirty) {
            return;
        }
        const auto start = steady::now();
        if (rd_kafka_flush(_producer.get(), 10'000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw std::runtime_error("flush before commit timed out");
        }
        if (_delivery_errors > 0) {
            throw std::runtime_error(std::to_string(_delivery_errors) + " records not delivered");
        }
        partition_list pl;
        for (std::size_t p = 0; p < _next_offset.size(); ++p) {
            if (_next_offset[p] >= 0) {
                pl.add(_plan.input, static_cast<std::int32_t>(p), _next_offset[p]);
            }
        }
        if (pl.list->cnt > 0) {
            if (auto err = rd_kafka_commit(_consumer.get(), pl.list, 0); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                std::fprintf(stderr, "  raw: commit failed: %s\n", rd_kafka_err2str(err));
            }
        }
        _dirty = false;
        ++_commits;
        const auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start).count();
        _commit_us += took;
        _commit_max_us = std::max(_commit_max_us, took);
        _last_commit = steady::now();
    }

    const run_plan& _plan;
    const bool _batch;
    const bool _read_headers;
    std::atomic<std::int64_t>& _first_ns;
    client_ptr _producer;
    client_ptr _consumer;
    std::vector<std::int64_t> _next_offset;
    std::vector<char> _buffer;
    bool _dirty = false;
    steady::time_point _last_commit{};
    std::int64_t _consumed = 0;
    std::int64_t _produced = 0;
    std::int64_t _delivery_errors = 0;
    std::int64_t _commits = 0;
    std::int64_t _commit_us = 0;
    std::int64_t _commit_max_us = 0;
    std::int64_t _headers_seen = 0;
    std::atomic<int> _assigned{0};
    std::atomic<std::int64_t> _rebalances{0};
    std::atomic<bool> _stop{false};
    std::atomic<bool> _failed{false};
    std::string _error;
    std::thread _thread;
};

class raw_pipeline final : public pipeline {
public:
    raw_pipeline(const bench_broker& broker, run_plan plan, raw_mode mode) : _plan(std::move(plan)) {
        for (int i = 0; i < _plan.threads; ++i) {
            _workers.push_back(std::make_unique<raw_worker>(broker, _plan, i, mode, _first_ns));
        }
    }

    void start() override {
        for (auto& w : _workers) {
            w->start();
        }
    }

    bool ready() const override {
        int assigned = 0;
        for (const auto& w : _workers) {
            if (w->assigned() == 0) {
                return false;
            }
            assigned += w->assigned();
        }
        return assigned == _plan.partitions;
    }

    bool failed() const override {
        return std::any_of(_workers.begin(), _workers.end(), [](const auto& w) { return w->failed(); });
    }

    std::optional<steady::time_point> first_consumed() const override {
        const auto ns = _first_ns.load();
        if (ns == 0) {
            return std::nullopt;
        }
        return steady::time_point(steady::duration(ns));
    }

    std::int64_t rebalances() const override {
        std::int64_t n = 0;
        for (const auto& w : _workers) {
            n += w->rebalances();
        }
        return n;
    }

    void stop() override {
        for (auto& w : _workers) {
            w->stop();
        }
    }

    std::string details() const override {
        std::int64_t commits = 0;
        std::int64_t commit_us = 0;
        std::int64_t commit_max_us = 0;
        std::int64_t consumed = 0;
        std::string errors;
        for (const auto& w : _workers) {
            commits += w->commits();
            commit_us += w->commit_us();
            commit_max_us = std::max(commit_max_us, w->commit_max_us());
            consumed += w->consumed();
            if (w->failed()) {
                errors += " error=\"" + w->error() + "\"";
            }
        }
        char buf[160];
        std::snprintf(buf, sizeof buf, "consumed=%" PRId64 " commits=%" PRId64 " commit-avg-ms=%.2f commit-max-ms=%.1f",
            consumed, commits,
            commits == 0 ? 0.0 : static_cast<double>(commit_us) / 1000.0 / static_cast<double>(commits),
            static_cast<double>(commit_max_us) / 1000.0);
        return buf + errors;
    }

private:
    run_plan _plan;
    std::atomic<std::int64_t> _first_ns{0};
    std::vector<std::unique_ptr<raw_worker>> _workers;
};

double sum_metric(const std::vector<eddy::metric>& metrics, std::string_view name) {
    double total = 0;
    for (const auto& m : metrics) {
        if (m.name == name) {
            total += m.value;
        }
    }
    return total;
}

double mean_metric(const std::vector<eddy::metric>& metrics, std::string_view name) {
    double total = 0;
    int n = 0;
    for (const auto& m : metrics) {
        if (m.name == name) {
            total += m.value;
            ++n;
        }
    }
    return n == 0 ? 0 : total / n;
}

// The pipeline as an eddy topology, run by kafka_streams.
class eddy_pipeline final : public pipeline {
public:
    eddy_pipeline(const bench_broker& broker, const run_plan& plan, bool exactly_once)
        : _threads(plan.threads), _partitions(plan.partitions) {
        eddy::streams_builder builder;
        if (plan.join_keys > 0) {
            auto rows = builder.table<std::string, std::string>(plan.table);
            builder.stream<std::string, std::string>(plan.input)
                .filter([](const std::string&, const std::string& v) { return keep(v.data(), v.size()); })
                .left_join(rows,
                    [](const std::string& v, const std::optional<std::string>&) {
                        std::string out(v.size(), '\0');
                        upper_into(v.data(), v.size(), out.data());
                        return out;
                    })
                .to(plan.output);
        } else if (plan.count_keys > 0) {
            builder.stream<std::string, std::string>(plan.input)
                .group_by_key()
                .count(eddy::materialized<std::string, std::int64_t>::as("counts"))
                .to_stream()
                .to(plan.output,
                    eddy::produced<std::string, std::int64_t>::with(eddy::serdes::string{}, eddy::serdes::int64{}));
        } else {
            builder.stream<std::string, std::string>(plan.input)
                .filter([](const std::string&, const std::string& v) { return keep(v.data(), v.size()); })
                .map_values([](const std::string& v) {
                    std::string out(v.size(), '\0');
                    upper_into(v.data(), v.size(), out.data());
                    return out;
                })
                .to(plan.output);
        }
        eddy::streams_config config{
            {"application.id", plan.application_id},
            {"bootstrap.servers", broker.bootstrap()},
            {"processing.guarantee", exactly_once ? "exactly_once_v2" : "at_least_once"},
            {"num.stream.threads", std::to_string(plan.threads)},
            {"commit.interval.ms", std::to_string(plan.commit_interval.count())},
        };
        if (plan.count_keys > 0 || plan.join_keys > 0) {
            _state_dir = std::filesystem::temp_directory_path() / (plan.application_id + "-state");
            config.set("state.dir", _state_dir.string());
        }
        if (plan.cache_max_bytes >= 0) {
            config.set("statestore.cache.max.bytes", std::to_string(plan.cache_max_bytes));
        }
        for (const auto& [k, v] : broker.consumer_extras()) {
            config.set("consumer." + k, v);
        }
        _app = std::make_unique<eddy::kafka_streams>(builder.build(), config);
    }

    ~eddy_pipeline() override {
        stop();
        if (!_state_dir.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(_state_dir, ignored);
        }
    }

    void start() override {
        // Threads take the name of the thread that starts them: name eddy's
        // stream threads (and their clients' threads, which rename
        // themselves) for the CPU accounting.
        pthread_setname_np(pthread_self(), "pipeline");
        _app->start();
        pthread_setname_np(pthread_self(), "e2e-main");
        // kafka_streams has no hook on the first record: watch its counter.
        _watcher = std::thread([this] {
            pthread_setname_np(pthread_self(), "e2e-watch");
            while (!_stop.load()) {
                if (sum_metric(_app->metrics(), "records-consumed-total") > 0) {
                    _first_ns.store(steady::now().time_since_epoch().count());
                    return;
                }
                std::this_thread::sleep_for(1ms);
            }
        });
    }

    // Running, every thread has a task, and every partition has its task
    // (a thread lists one task-records-processed-total per task it owns).
    bool ready() const override {
        if (_app->state() != eddy::streams_state::running) {
            return false;
        }
        std::map<std::string, int> tasks_per_thread;
        int tasks = 0;
        for (const auto& m : _app->metrics()) {
            if (m.name == "task-records-processed-total") {
                ++tasks_per_thread[m.tags.at("thread")];
                ++tasks;
            }
        }
        return static_cast<int>(tasks_per_thread.size()) == _threads && tasks == _partitions;
    }

    std::int64_t rebalances() const override {
        return static_cast<std::int64_t>(sum_metric(_app->metrics(), "rebalance-total"));
    }
    bool failed() const override { return _app->state() == eddy::streams_state::error; }

    std::optional<steady::time_point> first_consumed() const override {
        const auto ns = _first_ns.load();
        if (ns == 0) {
            return std::nullopt;
        }
        return steady::time_point(steady::duration(ns));
    }

    void stop() override {
        if (_stopped) {
            return;
        }
        _stopped = true;
        _stop.store(true);
        if (_watcher.joinable()) {
            _watcher.join();
        }
        _final = _app->metrics();
        _app->close(std::chrono::seconds(60));
    }

    std::string details() const override {
        char buf[320];
        std::snprintf(buf, sizeof buf,
            "consumed=%.0f produced=%.0f commits=%.0f commit-avg-ms=%.2f process-avg-ns=%.0f rebalances=%.0f "
            "pauses=%.0f aborted=%.0f",
            sum_metric(_final, "records-consumed-total"), sum_metric(_final, "records-produced-total"),
            sum_metric(_final, "commit-total"), mean_metric(_final, "commit-latency-avg-ms"),
            mean_metric(_final, "process-latency-avg-ns"), sum_metric(_final, "rebalance-total"),
            sum_metric(_final, "partition-pauses-total"), sum_metric(_final, "aborted-transactions-total"));
        return buf;
    }

private:
    int _threads;
    int _partitions;
    std::unique_ptr<eddy::kafka_streams> _app;
    std::thread _watcher;
    std::atomic<bool> _stop{false};
    std::atomic<std::int64_t> _first_ns{0};
    bool _stopped = false;
    std::vector<eddy::metric> _final;
    std::filesystem::path _state_dir;
};

// --- runs ------------------------------------------------------------------

struct run_result {
    std::string mode;
    std::string variant;
    int threads = 1;
    int round = 1;
    bool ok = false;
    std::string note;
    std::int64_t inputs = 0;
    std::int64_t outputs = 0;
    std::int64_t duplicates = 0;
    double seconds = 0;
    double records_per_s = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    double max_ms = 0;
    double pacer_max_lag_ms = 0;
    // Cores this process and the rest of the machine used while measuring.
    cores cpu;
    std::string details;
};

std::string guarantee_of(const std::string& variant) {
    return variant == "eos" ? "exactly_once_v2" : "at_least_once";
}

class bench {
public:
    explicit bench(options o) : _o(std::move(o)), _broker(_o.bootstrap) {}

    const bench_broker& broker() const noexcept { return _broker; }

    run_result run(const std::string& mode, const std::string& variant, int threads, int round) {
        run_result r;
        r.mode = mode;
        r.variant = variant;
        r.threads = threads;
        r.round = round;
        run_plan plan;
        const auto id = "e2e-" + std::to_string(getpid()) + "-" + std::to_string(++_runs) + "-" + variant + "-t"
            + std::to_string(threads) + "-" + mode.substr(0, 3);
        plan.input = id + "-in";
        plan.output = id + "-out";
        plan.application_id = id;
        plan.partitions = _o.partitions;
        plan.threads = threads;
        plan.commit_interval = std::chrono::milliseconds(_o.commit_interval_ms);
        if (variant.starts_with("count")) {
            plan.count_keys = _o.keys;
            plan.cache_max_bytes = variant == "count-nocache" ? 0 : -1;
        }
        if (variant == "join") {
            plan.table = id + "-table";
            plan.join_keys = _o.keys;
        }
        if (_o.wait_idle > 0) {
            const double waited = wait_for_quiet(_o.wait_idle, std::chrono::minutes(10));
            if (waited > 4) {
                std::printf("  (waited %.0f s for the machine to be quiet)\n", waited);
            }
        }
        std::printf("run %d: %s %s threads=%d round=%d app=%s\n", _runs, mode.c_str(), variant.c_str(), threads,
            round, id.c_str());
        std::fflush(stdout);
        try {
            _broker.create_topic(plan.input, plan.partitions);
            _broker.create_topic(plan.output, plan.partitions);
            if (plan.join_keys > 0) {
                // The table's rows, before the pipeline starts: it restores
                // them (up to the committed offset: none) and reads them
                // with the input.
                _broker.create_topic(plan.table, plan.partitions);
                input_producer rows(_broker, plan.table, min_value_bytes);
                for (int j = 0; j < plan.join_keys; ++j) {
                    rows.send(j);
                }
                rows.flush();
            }
            if (mode == "throughput") {
                throughput(plan, variant, r);
            } else {
                latency(plan, variant, r);
            }
        } catch (const std::exception& e) {
            r.ok = false;
            r.note = e.what();
        }
        if (!_o.keep_topics) {
            _broker.delete_topics({plan.input, plan.output});
            if (!plan.table.empty()) {
                _broker.delete_topics({plan.table});
            }
        }
        print(r);
        return r;
    }

private:
    std::unique_ptr<pipeline> make(const run_plan& plan, const std::string& variant) {
        if (variant.starts_with("raw")) {
            return std::make_unique<raw_pipeline>(_broker, plan,
                raw_mode{.batch = variant == "raw-batch", .read_headers = variant == "raw-headers"});
        }
        return std::make_unique<eddy_pipeline>(_broker, plan, variant == "eos");
    }

    void throughput(const run_plan& plan, const std::string& variant, run_result& r) {
        const auto n = _o.records;
        {
            const auto start = steady::now();
            input_producer producer(
                _broker, plan.input, _o.value_bytes, {}, plan.count_keys > 0 ? plan.count_keys : plan.join_keys);
            for (std::int64_t i = 0; i < n; ++i) {
                producer.send(i);
            }
            producer.flush();
            std::printf("  input: %" PRId64 " records produced in %.2f s\n", n,
                seconds_between(start, steady::now()));
        }
        const auto [stored, truncated] = _broker.stored(plan.input, plan.partitions);
        if (stored != n || truncated) {
            throw std::runtime_error("the broker holds " + std::to_string(stored) + " of " + std::to_string(n)
                + " input records" + (truncated ? " (it dropped the oldest: too much data for it)" : ""));
        }
        r.inputs = n;
        output_reader reader(_broker, plan.output, plan.partitions, n, -1, plan.count_keys);
        auto p = make(plan, variant);
        cpu_monitor cpu;
        p->start();
        // When every thread had its partitions: with 2 threads the second
        // one's join can come after the first consumed much of the input.
        std::atomic<bool> measuring{true};
        std::atomic<std::int64_t> ready_ns{0};
        std::thread ready_watch([&] {
            pthread_setname_np(pthread_self(), "e2e-watch");
            while (measuring.load()) {
                if (p->ready()) {
                    ready_ns.store(steady::now().time_since_epoch().count());
                    return;
                }
                std::this_thread::sleep_for(5ms);
            }
        });
        const bool complete = reader.wait(std::chrono::seconds(_o.stall_seconds), [&] { return p->failed(); });
        cpu.stop();
        measuring.store(false);
        ready_watch.join();
        reader.stop();
        p->stop();
        r.details = p->details();
        r.outputs = reader.unique();
        r.duplicates = reader.duplicates();
        if (reader.malformed() > 0) {
            r.note = std::to_string(reader.malformed()) + " malformed outputs; ";
        }
        if (!complete) {
            r.note += "incomplete: " + std::to_string(reader.unique()) + " of " + std::to_string(reader.expected())
                + " outputs arrived";
            return;
        }
        const auto first = p->first_consumed();
        if (!first) {
            r.note += "no first-consumed time";
            return;
        }
        r.seconds = seconds_between(*first, reader.last_arrival());
        r.records_per_s = static_cast<double>(n) / r.seconds;
        r.cpu = cpu.between(*first, reader.last_arrival());
        char assigned[64];
        if (ready_ns.load() != 0) {
            std::snprintf(assigned, sizeof assigned, " all-assigned-at=%+.2fs",
                seconds_between(*first, steady::time_point(steady::duration(ready_ns.load()))));
        } else {
            std::snprintf(assigned, sizeof assigned, " all-assigned-at=never");
        }
        r.details += assigned;
        r.ok = reader.malformed() == 0;
    }

    void latency(const run_plan& plan, const std::string& variant, run_result& r) {
        const auto warmup = static_cast<std::int64_t>(_o.rate * _o.warmup_seconds);
        const auto n = warmup + static_cast<std::int64_t>(_o.rate * _o.seconds);
        r.inputs = n;
        output_reader reader(_broker, plan.output, plan.partitions, n, warmup);
        // Made now, so that it has its connection, metadata and producer id
        // before the first paced record.
        input_producer producer(_broker, plan.input, _o.value_bytes, {{"linger.ms", std::to_string(_o.input_linger_ms)}});
        producer.connect();
        auto p = make(plan, variant);
        p->start();
        // Joined and settled (no rebalance for 2 s): the first records must
        // not wait for the group.
        const auto deadline = steady::now() + 90s;
        auto settled_since = steady::now();
        std::int64_t rebalances = -1;
        while (steady::now() - settled_since < 2s) {
            if (steady::now() > deadline || p->failed()) {
                throw std::runtime_error("the pipeline did not become ready");
            }
            const auto now_rebalances = p->rebalances();
            if (!p->ready() || now_rebalances != rebalances) {
                rebalances = now_rebalances;
                settled_since = steady::now();
            }
            std::this_thread::sleep_for(10ms);
        }
        const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / _o.rate));
        const auto start = steady::now();
        cpu_monitor cpu;
        steady::duration max_lag{0};
        for (std::int64_t i = 0; i < n; ++i) {
            const auto due = start + i * period;
            const auto now = steady::now();
            if (now < due) {
                std::this_thread::sleep_until(due);
            } else {
                max_lag = std::max(max_lag, now - due);
            }
            producer.send(i);
        }
        producer.flush();
        r.pacer_max_lag_ms = std::chrono::duration<double, std::milli>(max_lag).count();
        const bool complete = reader.wait(std::chrono::seconds(_o.stall_seconds), [&] { return p->failed(); });
        cpu.stop();
        r.cpu = cpu.between(start, reader.last_arrival());
        reader.stop();
        p->stop();
        r.details = p->details();
        r.outputs = reader.unique();
        r.duplicates = reader.duplicates();
        r.seconds = seconds_between(start, reader.last_arrival());
        r.records_per_s = static_cast<double>(n) / r.seconds;
        auto& lat = reader.latencies_us();
        std::sort(lat.begin(), lat.end());
        auto pct = [&](double q) {
            if (lat.empty()) {
                return 0.0;
            }
            auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(lat.size())));
            return static_cast<double>(lat[std::clamp<std::size_t>(rank, 1, lat.size()) - 1]) / 1000.0;
        };
        r.p50_ms = pct(0.50);
        r.p99_ms = pct(0.99);
        r.max_ms = pct(1.0);
        if (reader.malformed() > 0) {
            r.note = std::to_string(reader.malformed()) + " malformed outputs; ";
        }
        if (!complete) {
            r.note += "incomplete: " + std::to_string(reader.unique()) + " of " + std::to_string(reader.expected())
                + " outputs arrived";
            return;
        }
        r.ok = reader.malformed() == 0;
    }

    void print(const run_result& r) const {
        if (!r.ok) {
            std::printf("  FAILED: %s [%s]\n", r.note.c_str(), r.details.c_str());
        } else if (r.mode == "throughput") {
            std::printf("  %" PRId64 " in, %" PRId64 " out, %" PRId64
                        " duplicates, %.3f s: %.0f records/s; cores: this process %.2f (%s), broker %.2f, others "
                        "%.2f, steal %.2f [%s]\n",
                r.inputs, r.outputs, r.duplicates, r.seconds, r.records_per_s, r.cpu.self, r.cpu.threads_text().c_str(),
                r.cpu.broker, r.cpu.others, r.cpu.steal, r.details.c_str());
        } else {
            std::printf("  %" PRId64 " in, %" PRId64 " out, %" PRId64
                        " duplicates: latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; pacer max lag %.1f ms; "
                        "cores: this process %.2f (%s), broker %.2f, others %.2f, steal %.2f [%s]\n",
                r.inputs, r.outputs, r.duplicates, r.p50_ms, r.p99_ms, r.max_ms, r.pacer_max_lag_ms, r.cpu.self,
                r.cpu.threads_text().c_str(), r.cpu.broker, r.cpu.others, r.cpu.steal, r.details.c_str());
        }
        std::fflush(stdout);
    }

    options _o;
    bench_broker _broker;
    int _runs = 0;
};

// --- the report ----------------------------------------------------------

std::string cpu_model() {
    std::FILE* f = std::fopen("/proc/cpuinfo", "r");
    if (f == nullptr) {
        return "unknown";
    }
    std::array<char, 512> line{};
    std::string model = "unknown";
    while (std::fgets(line.data(), line.size(), f) != nullptr) {
        std::string_view l(line.data());
        if (l.starts_with("model name")) {
            auto colon = l.find(':');
            model = std::string(l.substr(colon + 2));
            if (!model.empty() && model.back() == '\n') {
                model.pop_back();
            }
            break;
        }
    }
    std::fclose(f);
    return model;
}

std::string join_runs(const std::vector<double>& values, const char* format) {
    std::string out;
    for (auto v : values) {
        char buf[32];
        std::snprintf(buf, sizeof buf, format, v);
        out += (out.empty() ? "" : ", ") + std::string(buf);
    }
    return out.empty() ? "-" : out;
}

// The median: one disturbed round (the machine is shared) moves it less
// than the mean.
double median(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The summary: one row per variant and thread count, the mean over rounds
// next to each round's figure; ratios of means.
void report(const options& o, const std::vector<run_result>& results) {
    struct row {
        std::vector<double> rps;
        std::vector<bool> duplicated; // per throughput run
        std::vector<bool> disturbed;  // others used > 0.3 cores
        std::vector<double> p50;
        std::vector<double> p99;
        std::vector<double> max;
        cores cpu; // summed over throughput runs
        int failed = 0;
    };
    std::map<std::pair<std::string, int>, row> rows;
    for (const auto& r : results) {
        auto& w = rows[{r.variant, r.threads}];
        if (!r.ok) {
            ++w.failed;
        } else if (r.mode == "throughput") {
            w.rps.push_back(r.records_per_s);
            w.duplicated.push_back(r.duplicates > 0);
            w.disturbed.push_back(r.cpu.others > 0.3);
            w.cpu.self += r.cpu.self;
            w.cpu.broker += r.cpu.broker;
            w.cpu.others += r.cpu.others;
        } else {
            w.p50.push_back(r.p50_ms);
            w.p99.push_back(r.p99_ms);
            w.max.push_back(r.max_ms);
        }
    }
    auto mean_rps = [&](const std::string& variant, int threads) -> std::optional<double> {
        auto it = rows.find({variant, threads});
        if (it == rows.end() || it->second.rps.empty()) {
            return std::nullopt;
        }
        return median(it->second.rps);
    };
    std::printf("\n| variant | threads | guarantee | records/s (each round) | median records/s | / raw | p50 ms | "
                "p99 ms | max ms | cores: bench/broker/others |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (const auto& variant : o.only) {
        for (int t : o.threads) {
            auto it = rows.find({variant, t});
            if (it == rows.end()) {
                continue;
            }
            const auto& w = it->second;
            std::string ratio = "-";
            auto raw = mean_rps("raw", t);
            if (raw && !w.rps.empty()) {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%.2f", median(w.rps) / *raw);
                ratio = buf;
            }
            char mean_buf[32] = "-";
            char cpu_buf[48] = "-";
            if (!w.rps.empty()) {
                const auto k = static_cast<double>(w.rps.size());
                std::snprintf(mean_buf, sizeof mean_buf, "%.0f", median(w.rps));
                std::snprintf(cpu_buf, sizeof cpu_buf, "%.2f/%.2f/%.2f", w.cpu.self / k, w.cpu.broker / k,
                    w.cpu.others / k);
            }
            std::string rounds;
            for (std::size_t i = 0; i < w.rps.size(); ++i) {
                char buf[32];
                std::snprintf(buf, sizeof buf, "%s%.0f%s%s", i == 0 ? "" : ", ", w.rps[i], w.duplicated[i] ? "*" : "",
                    w.disturbed[i] ? "!" : "");
                rounds += buf;
            }
            std::printf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |%s\n", variant.c_str(), t,
                guarantee_of(variant).c_str(), rounds.empty() ? "-" : rounds.c_str(), mean_buf, ratio.c_str(),
                join_runs(w.p50, "%.1f").c_str(), join_runs(w.p99, "%.1f").c_str(), join_runs(w.max, "%.1f").c_str(),
                cpu_buf, w.failed > 0 ? (" (" + std::to_string(w.failed) + " failed runs)").c_str() : "");
        }
    }
    std::printf("\n*: the run wrote duplicates (a rebalance re-delivered records). !: other processes used more "
                "than 0.3 cores during the run.");
    std::printf("\n/ raw: median records/s over the raw loop's median at the same thread count, this invocation. "
                "cores: mean CPU cores used between the first record consumed and the last output, by this "
                "process (pipeline and output reader), the --broker-pid process, and everything else.\n");
    std::printf("\nTargets (medians):\n");
    for (int t : o.threads) {
        auto raw = mean_rps("raw", t);
        auto alos = mean_rps("alos", t);
        auto eos = mean_rps("eos", t);
        if (raw && alos) {
            std::printf("  threads=%d eddy at-least-once / raw = %.3f (target >= 0.8): %s\n", t, *alos / *raw,
                *alos / *raw >= 0.8 ? "met" : "MISSED");
        }
        if (alos && eos) {
            std::printf("  threads=%d exactly-once / at-least-once = %.3f (target >= 0.5): %s\n", t, *eos / *alos,
                *eos / *alos >= 0.5 ? "met" : "MISSED");
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    pthread_setname_np(pthread_self(), "e2e-main");
    const options o = parse(argc, argv);
    std::printf("e2e_bench: bootstrap=%s records=%" PRId64 " value-bytes=%d partitions=%d commit.interval.ms=%d "
                "mode=%s%s rate=%d/s seconds=%.1f repeat=%d\n",
        o.bootstrap.c_str(), o.records, o.value_bytes, o.partitions, o.commit_interval_ms,
        o.throughput ? "throughput" : "", o.latency ? (o.throughput ? "+latency" : "latency") : "", o.rate, o.seconds,
        o.repeat);
    std::printf("machine: %u CPUs, %s; librdkafka %s\n", std::thread::hardware_concurrency(), cpu_model().c_str(),
        rd_kafka_version_str());
    if (o.bootstrap == "embedded") {
        const double per_partition_mib = static_cast<double>(o.records) * (o.value_bytes + 10) / o.partitions / 1048576.0;
        std::printf("note: embedded broker (librdkafka's mock cluster, in this process): it keeps ~5 MiB or 100k "
                    "batches per partition and drops older data, so throughput runs use %" PRId64
                    " records (~%.1f MiB per partition), not 1 M; it holds an empty fetch for fetch.wait.max.ms and "
                    "sets no TCP_NODELAY (~25 ms per producer flush): latency figures on it are not meaningful; "
                    "read_committed does not wait for transactions on it, so exactly-once output counts before its "
                    "commit.\n",
            o.records, per_partition_mib);
        if (per_partition_mib > 4.5) {
            std::printf("warning: ~%.1f MiB per partition will not fit the embedded broker\n", per_partition_mib);
        }
    }
    std::fflush(stdout);
    std::vector<run_result> results;
    try {
        bench b(o);
        std::printf("broker: %s\n", b.broker().bootstrap().c_str());
        std::vector<std::string> modes;
        if (o.throughput) {
            modes.emplace_back("throughput");
        }
        if (o.latency) {
            modes.emplace_back("latency");
        }
        for (int round = 1; round <= o.repeat; ++round) {
            for (const auto& mode : modes) {
                for (const auto& variant : o.only) {
                    for (int t : o.threads) {
                        results.push_back(b.run(mode, variant, t, round));
                    }
                }
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "e2e_bench: %s\n", e.what());
        return 1;
    }
    report(o, results);
    const bool all_ok = std::all_of(results.begin(), results.end(), [](const auto& r) { return r.ok; });
    return all_ok ? 0 : 1;
}
