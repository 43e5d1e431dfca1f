#pragma once

// kafka_streams: runs a topology as a stream job on a Kafka cluster (or the
// embedded broker), as Kafka Streams' KafkaStreams. Instances with the same
// application.id share the partitions of the input topics; each runs
// num.stream.threads threads, each with its own consumer and producer, and
// one task per (sub-topology, partition) it is assigned.
//
//   eddy::streams_config config{{"application.id", "todo-audit"},
//                               {"bootstrap.servers", "127.0.0.1:9092"}};
//   eddy::kafka_streams app(builder.build(), config);
//   app.start();            // throws config_error / kafka_error on bad setup
//   ...
//   app.close(std::chrono::seconds(30));
//
// Settings (see docs/running.md): application.id (required),
// bootstrap.servers (required; "embedded" starts an embedded broker in this
// process), processing.guarantee (at_least_once | exactly_once_v2),
// num.stream.threads, commit.interval.ms, max.task.idle.ms,
// buffered.records.per.partition, the exception handler settings
// (operators/error_handlers.h), errors.dead.letter.degraded.rate, and
// producer.* / consumer.* / admin.* passed to the clients.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "health.h"
#include "queryable_session_store.h"
#include "queryable_window_store.h"
#include "state_restore_listener.h"
#include "streams_metadata.h"
#include "../statestore/queryable_store.h"
#include "streams_config.h"
#include "../topology/topology.h"

namespace eddy {

class embedded_broker;

enum class streams_state { created, rebalancing, running, pending_shutdown, not_running, error };
std::string_view to_string(streams_state s) noexcept;

// What to do when a stream thread dies of an exception.
enum class uncaught_response { replace_thread, shutdown_client };

// One measured value, Kafka Streams' style: a name, tags and a value.
struct metric {
    std::string name;
    std::map<std::string, std::string> tags;
    double value = 0;
};

class kafka_streams {
public:
    kafka_streams(topology t, streams_config config);
    ~kafka_streams();
    kafka_streams(const kafka_streams&) = delete;
    kafka_streams& operator=(const kafka_streams&) = delete;

    // Checks the settings, reaches the cluster, creates internal topics,
    // checks co-partitioning, then starts the stream threads. Throws
    // config_error or kafka_error, within seconds, naming the setting or the
    // topics at fault.
    void start();

    // Stops the threads: each commits what it processed, leaves the group and
    // flushes its producer. Returns false when `timeout` passed first.
    bool close(std::chrono::milliseconds timeout = std::chrono::seconds(30));

    streams_state state() const;
    void set_state_listener(std::function<void(streams_state now, streams_state before)> listener);
    void set_uncaught_exception_handler(std::function<uncaught_response(const std::exception&)> handler);
    // A read-only view of the store `name` over the partitions this
    // instance owns, for queries from any thread while the app runs;
    // store_error when the topology has no such store or K, V are not its
    // types. The view must not outlive the app.
    template<typename K, typename V>
    queryable_key_value_store<K, V> store(const std::string& name) const {
        check_store(name);
        return queryable_key_value_store<K, V>(
            name, [this, name](const std::function<void(statestore::internal::store_handle&)>& fn) {
                for_each_local_store(name, fn);
            });
    }
    // A windowed aggregation's store (windowed_by(...).count(...) and the
    // like), for window fetches; store_error as store().
    template<typename K, typename V>
    queryable_window_store<K, V> window_store(const std::string& name) const {
        return queryable_window_store<K, V>(store<windowed<K>, timestamped<V>>(name));
    }

    // A session-windowed aggregation's store, for session fetches;
    // store_error as store().
    template<typename K, typename V>
    queryable_session_store<K, V> session_store(const std::string& name) const {
        return queryable_session_store<K, V>(store<windowed<K>, V>(name));
    }

    // Calls fn with each local store of that name (one per task), while no
    // task can be closed.
    void for_each_local_store(
        const std::string& name, const std::function<void(statestore::internal::store_handle&)>& fn) const;

    // Which instance owns `key` of store `name` and its partition (the
    // partitioner of eddy's producers, murmur2 as Java's, over the partition
    // count of the store's sub-topology), from the instances' published
    // application.server and tasks (docs/adr/0008). config_error without
    // application.server; store_error for an unknown store.
    template<typename K>
        requires has_default_serde<K>
    key_query_metadata query_metadata_for_key(const std::string& name, const K& key) const {
        return query_metadata_for_key(name, key, serde_ref<K>(typename default_serde<K>::type{}));
    }
    template<typename K>
    key_query_metadata query_metadata_for_key(const std::string& name, const K& key, const serde_ref<K>& key_serde) const {
        return query_metadata_for_serialized_key(name, key_serde.serialize(key));
    }
    key_query_metadata query_metadata_for_serialized_key(const std::string& name, std::string_view key) const;
    // Every partition of store `name`, in partition order, with its owner
    // (as query_metadata_for_key says it): what a query over all keys must
    // ask. Same errors.
    std::vector<key_query_metadata> query_metadata_for_store_partitions(const std::string& name) const;
    // Every live instance of the application (this one included), or those
    // holding partitions of store `name`, in host order; config_error
    // without application.server.
    std::vector<streams_metadata> all_metadata() const;
    std::vector<streams_metadata> all_metadata_for_store(const std::string& name) const;
    // This instance's application.server, when set.
    std::optional<host_info> application_server() const;

    // Told of every store restore (start, batches, end); set before start().
    void set_global_state_restore_listener(std::shared_ptr<state_restore_listener> listener);

    // The bootstrap servers in use (the embedded broker's address when
    // bootstrap.servers=embedded).
    std::string bootstrap_servers() const;
    // The in-process embedded broker, when there is one.
    embedded_broker* embedded() const;

    // Healthy; degraded with the reasons: the dead-letter rate over the
    // last minute above errors.dead.letter.degraded.rate, no broker
    // answering (broker_unreachable()), or a reason set below; unhealthy
    // when the app processes nothing: not started, in ERROR (the reason
    // names the failure), or shutting down. Any thread may ask.
    health_report health() const;
    // Marks the app degraded for `reason` under `key` (replacing what the
    // key said), until cleared: for what the app itself notices.
    void set_health_reason(const std::string& key, std::string reason);
    void clear_health_reason(std::string_view key);

    // Whether no broker answers this instance's stream threads right now
    // (librdkafka reported all brokers down and none has answered since).
    // The producers keep buffering meanwhile, up to their bound, and
    // processing resumes when a broker answers (docs/adr/0015). Also the
    // metric broker-unreachable (1 or 0).
    bool broker_unreachable() const;

    // Per thread and task: records-consumed-total, records-produced-total,
    // records-processed-total, process-latency-avg-ns, commit-total,
    // commit-latency-avg-ms, rebalance-total, dropped-records-total,
    // deduplicated-records-total (duplicates deduplicate() dropped; also in
    // dropped-records-total), records-lag (from librdkafka's statistics),
    // dead-letter-records-total (per thread and kind={deserialization,
    // processing,production}, per thread, and untagged for the app),
    // dead-letter-records-last-minute, broker-unreachable,
    // producer-buffered-records and producer-buffered-bytes (handed to the
    // producer, not yet acknowledged), transaction-retries-total,
    // commits-postponed-total.
    std::vector<metric> metrics() const;

private:
    void check_store(const std::string& name) const;

    struct impl;
    std::unique_ptr<impl> _impl;
};

} // namespace eddy
