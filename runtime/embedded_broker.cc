#include "runtime/embedded_broker.h"

#include <array>
#include <map>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "runtime/internal/log.h"
#include "runtime/internal/rdkafka_handles.h"
#include "runtime/kafka_error.h"

namespace eddy {
namespace {

std::mutex registry_mutex;
std::map<std::string, embedded_broker*>& registry() {
    static std::map<std::string, embedded_broker*> brokers;
    return brokers;
}

} // namespace

struct embedded_broker::impl {
    runtime::internal::client_ptr owner;
    // Destroyed before its owner (~embedded_broker()).
    rd_kafka_mock_cluster_t* cluster = nullptr;
    std::string bootstraps;
    int brokers = 0;
};

embedded_broker::embedded_broker(int brokers) : _impl(std::make_unique<impl>()) {
    if (brokers < 1) {
        throw std::invalid_argument(fmt::format("embedded_broker: at least 1 broker, got {}", brokers));
    }
    // The mock cluster lives on a client instance of its own; it serves every
    // client that connects to its bootstrap address.
    std::array<char, 512> err{};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err.data(), err.size());
    _impl->owner.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, err.data(), err.size()));
    if (_impl->owner == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw kafka_error(RD_KAFKA_RESP_ERR__FAIL, fmt::format("embedded_broker: {}", err.data()));
    }
    _impl->cluster = rd_kafka_mock_cluster_new(_impl->owner.get(), brokers);
    if (_impl->cluster == nullptr) {
        throw kafka_error(RD_KAFKA_RESP_ERR__FAIL, "embedded_broker: the mock cluster did not start");
    }
    _impl->bootstraps = rd_kafka_mock_cluster_bootstraps(_impl->cluster);
    _impl->brokers = brokers;
    {
        std::scoped_lock lock(registry_mutex);
        registry()[_impl->bootstraps] = this;
    }
    runtime::internal::logger()->info("embedded broker started bootstrap={} brokers={}", _impl->bootstraps, brokers);
}

embedded_broker::~embedded_broker() {
    {
        std::scoped_lock lock(registry_mutex);
        registry().erase(_impl->bootstraps);
    }
    rd_kafka_mock_cluster_destroy(_impl->cluster);
}

const std::string& embedded_broker::bootstrap_servers() const noexcept {
    return _impl->bootstraps;
}

int embedded_broker::broker_count() const noexcept {
    return _impl->brokers;
}

void embedded_broker::create_topic(const std::string& topic, int partitions, int replication_factor) {
    auto err = rd_kafka_mock_topic_create(_impl->cluster, topic.c_str(), partitions, replication_factor);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw kafka_error(err, fmt::format("embedded_broker: cannot create topic {} with {} partitions", topic,
                                   partitions));
    }
}

void embedded_broker::set_broker_down(int id) {
    rd_kafka_mock_broker_set_down(_impl->cluster, id);
}

void embedded_broker::set_broker_up(int id) {
    rd_kafka_mock_broker_set_up(_impl->cluster, id);
}

void* embedded_broker::mock_cluster() const noexcept {
    return _impl->cluster;
}

embedded_broker* embedded_broker::find(const std::string& bootstrap_servers) {
    std::scoped_lock lock(registry_mutex);
    auto it = registry().find(bootstrap_servers);
    return it == registry().end() ? nullptr : it->second;
}

} // namespace eddy
