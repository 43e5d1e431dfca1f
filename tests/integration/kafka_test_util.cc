#include "tests/integration/kafka_test_util.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include <unistd.h>

#include <librdkafka/rdkafka.h>

namespace eddy::test {
namespace {

rd_kafka_t* client(rd_kafka_type_t type, const std::vector<std::pair<std::string, std::string>>& settings) {
    std::array<char, 512> err{};
    auto* conf = rd_kafka_conf_new();
    for (const auto& [k, v] : settings) {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err.data(), err.size()) != RD_KAFKA_CONF_OK) {
            throw std::runtime_error(err.data());
        }
    }
    auto* rk = rd_kafka_new(type, conf, err.data(), err.size());
    if (rk == nullptr) {
        throw std::runtime_error(err.data());
    }
    return rk;
}

} // namespace

void produce(const std::string& bootstrap, const std::string& topic,
    const std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>& records,
    std::int32_t partition, std::int64_t timestamp_ms) {
    auto* rk = client(RD_KAFKA_PRODUCER,
        {{"bootstrap.servers", bootstrap}, {"partitioner", "murmur2_random"}, {"linger.ms", "5"},
            {"enable.idempotence", "true"}});
    for (const auto& [k, v] : records) {
        for (;;) {
            char* key = k ? const_cast<char*>(k->data()) : nullptr;
            char* value = v ? const_cast<char*>(v->data()) : nullptr;
            const std::size_t key_size = k ? k->size() : 0;
            const std::size_t value_size = v ? v->size() : 0;
            auto err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_size),
                RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 10);
                continue;
            }
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                rd_kafka_destroy(rk);
                throw std::runtime_error(rd_kafka_err2str(err));
            }
            break;
        }
    }
    auto err = rd_kafka_flush(rk, 30'000);
    rd_kafka_destroy(rk);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw std::runtime_error(std::string("flush: ") + rd_kafka_err2str(err));
    }
}

std::vector<kafka_record> consume(const std::string& bootstrap, const std::string& topic, std::size_t expected,
    std::chrono::milliseconds timeout, bool read_committed) {
    return consume_until(
        bootstrap, topic, [expected](const std::vector<kafka_record>& rs) { return rs.size() >= expected; }, timeout,
        read_committed);
}

std::vector<kafka_record> consume_until(const std::string& bootstrap, const std::string& topic,
    const std::function<bool(const std::vector<kafka_record>&)>& done, std::chrono::milliseconds timeout,
    bool read_committed) {
    auto* rk = client(RD_KAFKA_CONSUMER,
        {{"bootstrap.servers", bootstrap}, {"group.id", unique("reader")}, {"auto.offset.reset", "earliest"},
            {"enable.auto.commit", "false"}, {"fetch.wait.max.ms", "10"},
            {"isolation.level", read_committed ? "read_committed" : "read_uncommitted"}});
    rd_kafka_poll_set_consumer(rk);
    auto* subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    std::vector<kafka_record> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(out) && std::chrono::steady_clock::now() < deadline) {
        auto* m = rd_kafka_consumer_poll(rk, 100);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            kafka_record r;
            r.topic = rd_kafka_topic_name(m->rkt);
            r.partition = m->partition;
            r.offset = m->offset;
            rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
            r.timestamp = rd_kafka_message_timestamp(m, &type);
            r.log_append_time = type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME;
            if (m->key != nullptr) {
                r.key.emplace(static_cast<const char*>(m->key), m->key_len);
            }
            if (m->payload != nullptr) {
                r.value.emplace(static_cast<const char*>(m->payload), m->len);
            }
            out.push_back(std::move(r));
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out;
}

std::int64_t uncommitted(const std::string& bootstrap, const std::string& group, const std::string& topic,
    int partitions) {
    // A consumer of the group that never subscribes: it reads the group's
    // committed offsets without joining it.
    auto* rk = client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap}, {"group.id", group}});
    auto* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
    }
    if (auto err = rd_kafka_committed(rk, list, 10'000); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_partition_list_destroy(list);
        rd_kafka_destroy(rk);
        throw std::runtime_error(std::string("committed: ") + rd_kafka_err2str(err));
    }
    std::int64_t total = 0;
    for (int p = 0; p < partitions; ++p) {
        std::int64_t low = 0;
        std::int64_t high = 0;
        rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 10'000);
        const auto committed = list->elems[p].offset < 0 ? low : list->elems[p].offset;
        total += high - committed;
    }
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return total;
}

std::vector<std::int64_t> end_offsets(const std::string& bootstrap, const std::string& topic, int partitions) {
    auto* rk = client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap}, {"group.id", unique("end-offsets")}});
    std::vector<std::int64_t> out;
    for (int p = 0; p < partitions; ++p) {
        std::int64_t low = 0;
        std::int64_t high = 0;
        if (auto err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 10'000);
            err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_destroy(rk);
            throw std::runtime_error(std::string("watermarks of ") + topic + ": " + rd_kafka_err2str(err));
        }
        out.push_back(high);
    }
    rd_kafka_destroy(rk);
    return out;
}

std::string run(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
    if (!pipe) {
        throw std::runtime_error("cannot run " + command);
    }
    std::string out;
    std::array<char, 4096> buf{};
    while (auto n = fread(buf.data(), 1, buf.size(), pipe.get())) {
        out.append(buf.data(), n);
    }
    return out;
}

std::string unique(const std::string& prefix) {
    static std::atomic<int> n{0};
    return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

} // namespace eddy::test

#include <csignal>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace eddy::test {

child_process::child_process(const std::vector<std::string>& argv) {
    int fds[2];
    if (pipe(fds) != 0) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const int rc = posix_spawn(&_pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        _pid = -1;
        throw std::runtime_error("cannot start " + argv.at(0));
    }
    _stdout = fds[0];
}

child_process::~child_process() {
    if (_pid > 0) {
        ::kill(_pid, SIGKILL);
        wait();
    }
    if (_stdout >= 0) {
        close(_stdout);
    }
}

bool child_process::wait_for_line(const std::string& line, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        for (auto pos = _pending.find('\n'); pos != std::string::npos; pos = _pending.find('\n')) {
            auto got = _pending.substr(0, pos);
            _pending.erase(0, pos + 1);
            if (got == line) {
                return true;
            }
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd p{_stdout, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            return false;
        }
        std::array<char, 512> buf{};
        const auto n = read(_stdout, buf.data(), buf.size());
        if (n <= 0) {
            return false;
        }
        _pending.append(buf.data(), static_cast<std::size_t>(n));
    }
}

void child_process::signal(int sig) {
    if (_pid > 0) {
        ::kill(_pid, sig);
    }
}

int child_process::wait() {
    if (_pid <= 0) {
        return -1;
    }
    int status = 0;
    waitpid(_pid, &status, 0);
    _pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace eddy::test
