#include "tests/chaos/chaos_util.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "runtime/internal/rdkafka_clients.h"

namespace eddy::chaos {
namespace {

rd_kafka_t* client(rd_kafka_type_t type, const std::map<std::string, std::string>& settings) {
    std::array<char, 512> err{};
    auto* conf = rd_kafka_conf_new();
    for (const auto& [k, v] : settings) {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err.data(), err.size()) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error(err.data());
        }
    }
    auto* rk = rd_kafka_new(type, conf, err.data(), err.size());
    if (rk == nullptr) {
        throw std::runtime_error(err.data());
    }
    return rk;
}

std::string reader_group() {
    static std::atomic<int> n{0};
    return "chaos-reader-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

} // namespace

producer::producer(const std::string& bootstrap, const std::map<std::string, std::string>& settings) {
    std::map<std::string, std::string> all = {{"bootstrap.servers", bootstrap}, {"partitioner", "murmur2_random"},
        {"linger.ms", "5"}, {"enable.idempotence", "true"}, {"reconnect.backoff.max.ms", "1000"},
        {"message.timeout.ms", "0"}};
    for (const auto& [k, v] : settings) {
        all[k] = v;
    }
    _rk = client(RD_KAFKA_PRODUCER, all);
}

producer::~producer() {
    rd_kafka_destroy(static_cast<rd_kafka_t*>(_rk));
}

void producer::send(const std::string& topic, const std::vector<to_send>& records) {
    auto* rk = static_cast<rd_kafka_t*>(_rk);
    for (const auto& r : records) {
        for (;;) {
            char* key = r.key ? const_cast<char*>(r.key->data()) : nullptr;
            char* value = r.value ? const_cast<char*>(r.value->data()) : nullptr;
            const std::size_t key_size = r.key ? r.key->size() : 0;
            const std::size_t value_size = r.value ? r.value->size() : 0;
            auto err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                RD_KAFKA_V_PARTITION(r.partition < 0 ? RD_KAFKA_PARTITION_UA : r.partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_size),
                RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 10);
                continue;
            }
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
            }
            break;
        }
    }
    // No message timeout: this returns once the broker took every record.
    while (rd_kafka_flush(rk, 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    }
}

void produce(const std::string& bootstrap, const std::string& topic, const std::vector<to_send>& records,
    const std::map<std::string, std::string>& settings) {
    producer p(bootstrap, settings);
    p.send(topic, records);
}

std::vector<record> read(const std::string& bootstrap, const std::string& topic,
    const std::function<bool(const std::vector<record>&)>& done, std::chrono::milliseconds timeout,
    bool read_committed) {
    // Assigned, not subscribed: no group to join (a join on the embedded
    // broker waits seconds), every partition from its beginning.
    auto* rk = client(RD_KAFKA_CONSUMER,
        {{"bootstrap.servers", bootstrap}, {"group.id", reader_group()}, {"enable.auto.commit", "false"},
            {"fetch.wait.max.ms", "10"}, {"reconnect.backoff.max.ms", "1000"},
            {"isolation.level", read_committed ? "read_committed" : "read_uncommitted"}});
    rd_kafka_poll_set_consumer(rk);
    int partitions = 0;
    const auto metadata_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (partitions == 0 && std::chrono::steady_clock::now() < metadata_deadline) {
        rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
        const rd_kafka_metadata_t* md = nullptr;
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                partitions = md->topics[0].partition_cnt;
            }
            rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(rkt);
        if (partitions == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    if (partitions == 0) {
        rd_kafka_destroy(rk);
        throw std::runtime_error("no metadata for topic " + topic);
    }
    auto* assignment = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
        rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    std::vector<record> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(out) && std::chrono::steady_clock::now() < deadline) {
        auto* m = rd_kafka_consumer_poll(rk, 100);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            eddy::raw_record raw;
            eddy::runtime::internal::read_message(m, raw);
            out.push_back(record{std::move(raw.topic), raw.partition, raw.offset, std::move(raw.key),
                std::move(raw.value), std::move(raw.headers)});
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out;
}

tally count(const std::set<std::string>& expected, const std::vector<record>& out) {
    tally t;
    t.in = expected.size();
    t.out = out.size();
    std::set<std::string> seen;
    for (const auto& r : out) {
        const std::string v = r.value.value_or("<null>");
        if (!seen.insert(v).second) {
            ++t.duplicates;
        } else if (!expected.contains(v)) {
            ++t.unexpected;
        }
    }
    for (const auto& v : expected) {
        t.lost += seen.contains(v) ? 0 : 1;
    }
    return t;
}

std::vector<record> read_expected(const std::string& bootstrap, const std::string& topic,
    const std::set<std::string>& expected, std::chrono::milliseconds timeout, bool read_committed) {
    std::set<std::string> seen;
    std::size_t counted = 0;
    auto got = read(
        bootstrap, topic,
        [&](const std::vector<record>& rs) {
            for (; counted < rs.size(); ++counted) {
                if (rs[counted].value && expected.contains(*rs[counted].value)) {
                    seen.insert(*rs[counted].value);
                }
            }
            return seen.size() >= expected.size();
        },
        timeout, read_committed);
    if (seen.size() < expected.size()) {
        return got;
    }
    // Duplicates may still be on their way: read again, until at least as
    // much and then nothing new for 1.5 s.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto n = got.size();
    std::size_t last_size = 0;
    auto last_growth = std::chrono::steady_clock::now();
    return read(
        bootstrap, topic,
        [&](const std::vector<record>& rs) {
            const auto now = std::chrono::steady_clock::now();
            if (rs.size() != last_size) {
                last_size = rs.size();
                last_growth = now;
            }
            return rs.size() >= n && now - last_growth > std::chrono::milliseconds(1500);
        },
        timeout, read_committed);
}

void report(const std::string& fault, const std::vector<std::pair<std::string, std::string>>& figures) {
    std::string line = "chaos: fault=" + fault;
    for (const auto& [k, v] : figures) {
        line += " " + k + "=" + v;
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

void report(const std::string& fault, const std::string& guarantee, const tally& t, std::size_t dead_lettered,
    std::int64_t recovery_ms, const std::vector<std::pair<std::string, std::string>>& more) {
    std::vector<std::pair<std::string, std::string>> f = {{"guarantee", guarantee}, {"in", std::to_string(t.in)},
        {"out", std::to_string(t.out)}, {"duplicates", std::to_string(t.duplicates)},
        {"dead_lettered", std::to_string(dead_lettered)}, {"lost", std::to_string(t.lost)},
        {"recovery_ms", std::to_string(recovery_ms)}};
    f.insert(f.end(), more.begin(), more.end());
    report(fault, f);
}

} // namespace eddy::chaos
