#pragma once

// The embedded broker: librdkafka's mock cluster, which speaks the Kafka
// protocol on loopback sockets inside this process. Any Kafka client (kcat,
// another process) can reach it at bootstrap_servers() while it lives.
//
//   eddy::embedded_broker broker(3);            // three brokers
//   broker.create_topic("todo.task-events", 6); // CreateTopics is ignored by
//                                               // the mock: create here
//   config.set(eddy::streams_config::bootstrap_servers, broker.bootstrap_servers());
//
// What it lacks (librdkafka 2.0.2): aborted transactional records are not
// hidden from read_committed readers; ~5 MiB or 100k batches per partition are
// kept and older data is dropped; an empty fetch waits the full
// fetch.wait.max.ms; no TCP_NODELAY (~25 ms per producer flush); a rebalance
// waits session.timeout.ms minus 1 s. See docs/brokers.md.

#include <memory>
#include <string>

namespace eddy {

class embedded_broker {
public:
    explicit embedded_broker(int brokers = 1);
    ~embedded_broker();
    embedded_broker(const embedded_broker&) = delete;
    embedded_broker& operator=(const embedded_broker&) = delete;

    const std::string& bootstrap_servers() const noexcept;
    int broker_count() const noexcept;

    // Creates `topic`; throws kafka_error (for instance when it exists with
    // another partition count). Topics the mock creates on first use get
    // 4 partitions.
    void create_topic(const std::string& topic, int partitions, int replication_factor = 1);

    // Takes broker `id` (1-based) down or up, for fault tests.
    void set_broker_down(int id);
    void set_broker_up(int id);

    // The mock cluster handle (rd_kafka_mock_cluster_t*), for fault injection.
    void* mock_cluster() const noexcept;

    // The embedded broker of this process serving `bootstrap_servers`, if
    // any: the runtime creates topics through it (the mock ignores
    // CreateTopics).
    static embedded_broker* find(const std::string& bootstrap_servers);

private:
    struct impl;
    std::unique_ptr<impl> _impl;
};

} // namespace eddy
