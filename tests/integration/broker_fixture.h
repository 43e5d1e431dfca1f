#pragma once

// The broker an integration test runs on: the embedded one, or with
// EDDY_TEST_KAFKA a real Kafka at EDDY_KAFKA_BOOTSTRAP (default
// 127.0.0.1:9092); and the settings every test app starts from.

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#include "runtime/admin.h"
#include "runtime/embedded_broker.h"
#include "runtime/streams_config.h"

namespace {

using namespace std::chrono_literals;

#ifdef EDDY_TEST_KAFKA
// The real broker, reached like any cluster.
struct real_kafka {
    std::string address = [] {
        const char* env = std::getenv("EDDY_KAFKA_BOOTSTRAP");
        return std::string(env != nullptr ? env : "127.0.0.1:9092");
    }();
    const std::string& bootstrap_servers() const { return address; }
    // Creates the topic and waits until the cluster's metadata shows it (a
    // freshly started broker can lag behind its own CreateTopics answer).
    void create_topic(const std::string& topic, int partitions) const {
        eddy::admin_client admin({{"bootstrap.servers", address}});
        admin.create_topics({{topic, partitions, 1, {}}});
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!admin.describe_topic(topic) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
};
inline real_kafka& broker() {
    static real_kafka b;
    return b;
}
#else
inline eddy::embedded_broker& broker() {
    static eddy::embedded_broker b(3);
    return b;
}
#endif

inline bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return condition();
}

inline eddy::streams_config config_for(const std::string& app) {
    return {{"application.id", app}, {"bootstrap.servers", broker().bootstrap_servers()},
        {"commit.interval.ms", "100"}, {"consumer.session.timeout.ms", "6000"},
        {"consumer.heartbeat.interval.ms", "500"}, {"consumer.fetch.wait.max.ms", "10"}, {"poll.ms", "20"}};
}

} // namespace
