// restore_bench: how fast a store catches up from its changelog, as a ratio
// of a plain RocksDB WriteBatch load of the same records, in one run:
//
//   plain    the N records, already in memory, written into one RocksDB
//            (WAL off, as eddy's stores) in WriteBatches of 10,000;
//   restore  an eddy app whose count store's changelog holds the N records
//            (produced before it starts) restores them when its tasks are
//            assigned: the time from the first restore start to the last
//            restore end, as its state_restore_listener sees them.
//
// Values are 100 bytes, keys "k<i>". The changelog has --partitions
// partitions (the embedded broker keeps only ~5 MiB per partition: give it
// enough of them, or run on Kafka).
//
//   restore_bench --bootstrap 127.0.0.1:9092 --records 1000000 --partitions 6
//   restore_bench --bootstrap embedded --records 200000 --partitions 12

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "eddy.h"

namespace {

using steady = std::chrono::steady_clock;

std::string value_of(std::int64_t i) {
    std::string v(100, 'a' + static_cast<char>(i % 26));
    auto digits = std::to_string(i);
    v.replace(0, digits.size(), digits);
    return v;
}

class timing_listener final : public eddy::state_restore_listener {
public:
    void on_restore_start(const std::string&, std::int32_t, const std::string&, std::int64_t, std::int64_t) override {
        std::scoped_lock lock(_mutex);
        if (!_first) {
            _first = steady::now();
        }
    }
    void on_restore_end(const std::string&, std::int32_t, const std::string&, std::int64_t total) override {
        std::scoped_lock lock(_mutex);
        _last = steady::now();
        _restored += total;
        ++_ends;
    }
    int ends() const {
        std::scoped_lock lock(_mutex);
        return _ends;
    }
    std::int64_t restored() const {
        std::scoped_lock lock(_mutex);
        return _restored;
    }
    double seconds() const {
        std::scoped_lock lock(_mutex);
        return std::chrono::duration<double>(_last - *_first).count();
    }

private:
    mutable std::mutex _mutex;
    std::optional<steady::time_point> _first;
    steady::time_point _last;
    std::int64_t _restored = 0;
    int _ends = 0;
};

void produce(const std::string& bootstrap, const std::string& topic, std::int64_t n) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "20", err, sizeof err);
    rd_kafka_conf_set(conf, "compression.type", "lz4", err, sizeof err);
    rd_kafka_conf_set(conf, "partitioner", "murmur2_random", err, sizeof err);
    rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    for (std::int64_t i = 0; i < n; ++i) {
        auto key = "k" + std::to_string(i);
        auto value = value_of(i);
        while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                   RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
                   RD_KAFKA_V_END)
            == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p, 10);
        }
    }
    rd_kafka_flush(p, 120'000);
    rd_kafka_destroy(p);
}

double plain_load(const std::filesystem::path& dir, std::int64_t n) {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(options, (dir / "plain").string(), &raw).ok()) {
        throw std::runtime_error("cannot open the plain RocksDB");
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    std::vector<std::pair<std::string, std::string>> records;
    records.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        records.emplace_back("k" + std::to_string(i), value_of(i));
    }
    rocksdb::WriteOptions write;
    write.disableWAL = true;
    const auto start = steady::now();
    rocksdb::WriteBatch batch;
    for (std::size_t i = 0; i < records.size(); ++i) {
        batch.Put(records[i].first, records[i].second);
        if (batch.Count() == 10'000 || i + 1 == records.size()) {
            if (!db->Write(write, &batch).ok()) {
                throw std::runtime_error("plain write failed");
            }
            batch.Clear();
        }
    }
    return std::chrono::duration<double>(steady::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
    std::map<std::string, std::string> args{{"--bootstrap", "embedded"}, {"--records", "1000000"},
        {"--partitions", "6"}};
    for (int i = 1; i + 1 < argc; i += 2) {
        args[argv[i]] = argv[i + 1];
    }
    const auto n = std::stoll(args["--records"]);
    const int partitions = std::stoi(args["--partitions"]);
    try {
        std::unique_ptr<eddy::embedded_broker> embedded;
        std::string bootstrap = args["--bootstrap"];
        if (bootstrap == "embedded") {
            embedded = std::make_unique<eddy::embedded_broker>(1);
            bootstrap = embedded->bootstrap_servers();
        }
        const auto app_id = "restore-bench-" + std::to_string(::getpid());
        const auto in = app_id + "-in";
        const auto changelog = app_id + "-counts-changelog";
        if (embedded) {
            embedded->create_topic(in, partitions);
            embedded->create_topic(changelog, partitions);
        } else {
            eddy::admin_client admin({{"bootstrap.servers", bootstrap}});
            admin.create_topics({{in, partitions, 1, {}}, {changelog, partitions, 1, {{"cleanup.policy", "compact"}}}});
        }
        std::printf("producing %lld records of 100 bytes to %s (%d partitions)\n", static_cast<long long>(n),
            changelog.c_str(), partitions);
        produce(bootstrap, changelog, n);

        char pattern[] = "/tmp/eddy-restore-bench-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        const std::filesystem::path dir = pattern;
        const double plain = plain_load(dir, n);

        eddy::streams_builder builder;
        builder.stream<std::string, std::string>(in).group_by_key().count(
            eddy::materialized<std::string, std::int64_t>::as("counts"));
        eddy::kafka_streams app(builder.build(), {{"application.id", app_id}, {"bootstrap.servers", bootstrap},
                                                     {"state.dir", (dir / "state").string()},
                                                     {"consumer.session.timeout.ms", "6000"}});
        auto listener = std::make_shared<timing_listener>();
        app.set_global_state_restore_listener(listener);
        app.start();
        const auto deadline = steady::now() + std::chrono::minutes(10);
        while (listener->ends() < partitions && steady::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        app.close(std::chrono::seconds(30));
        std::filesystem::remove_all(dir);
        if (listener->restored() != n) {
            std::fprintf(stderr, "restored %lld of %lld records\n", static_cast<long long>(listener->restored()),
                static_cast<long long>(n));
            return 1;
        }
        const double restore = listener->seconds();
        std::printf("plain WriteBatch load: %.0f records/s (%.2f s)\n", n / plain, plain);
        std::printf("eddy restore:          %.0f records/s (%.2f s)\n", n / restore, restore);
        std::printf("restore / plain = %.2f (target >= 0.7): %s\n", plain / restore,
            plain / restore >= 0.7 ? "met" : "MISSED");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "restore_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
