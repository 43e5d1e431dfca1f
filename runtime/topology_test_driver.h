#pragma once

// topology_test_driver: runs a built topology with no broker, synchronously,
// as Kafka Streams' TopologyTestDriver. Input goes through the source serdes
// and output through the sink serdes, so a test proves the bytes too; the
// tasks, nodes and operators are the ones the Kafka runtime runs.
//
//   eddy::topology_test_driver driver(builder.build());
//   auto in = driver.create_input_topic<std::string, std::string>("in");
//   auto out = driver.create_output_topic<std::string, std::int64_t>("out");
//   in.pipe_input("k", "hello");
//   EXPECT_EQ(out.read_key_value(), (eddy::key_value<std::string, std::int64_t>{"k", 5}));

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../operators/internal/source_node.h"
#include "../core/record.h"
#include "health.h"
#include "streams_config.h"
#include "../serde/serde.h"
#include "../statestore/key_value_store.h"
#include "../statestore/session_store.h"
#include "../topology/topology.h"

namespace eddy {

namespace runtime::internal {
class health_monitor;
class stream_task;
} // namespace runtime::internal

template<typename K, typename V>
class test_input_topic;
template<typename K, typename V>
class test_output_topic;

class topology_test_driver {
public:
    explicit topology_test_driver(const topology& t, const streams_config& config = {},
        std::int64_t initial_wall_clock_ms = 0);
    ~topology_test_driver();
    topology_test_driver(const topology_test_driver&) = delete;
    topology_test_driver& operator=(const topology_test_driver&) = delete;

    template<typename K, typename V>
    test_input_topic<K, V> create_input_topic(
        const std::string& topic, serde_ref<K> key_serde = default_serde_ref<K>(),
        serde_ref<V> value_serde = default_serde_ref<V>()) {
        require_serdes(topic, static_cast<bool>(key_serde), static_cast<bool>(value_serde));
        return test_input_topic<K, V>(*this, topic, std::move(key_serde), std::move(value_serde));
    }

    template<typename K, typename V>
    test_output_topic<K, V> create_output_topic(
        const std::string& topic, serde_ref<K> key_serde = default_serde_ref<K>(),
        serde_ref<V> value_serde = default_serde_ref<V>()) {
        require_serdes(topic, static_cast<bool>(key_serde), static_cast<bool>(value_serde));
        return test_output_topic<K, V>(*this, topic, std::move(key_serde), std::move(value_serde));
    }

    // A key-value store of the topology, to read (and write) in a test, as
    // the tasks see it; store_error when there is no such store or its types
    // differ.
    template<typename K, typename V>
    key_value_store<K, V> get_key_value_store(const std::string& name) {
        return key_value_store<K, V>::from(store_handle(name));
    }
    // The session store of a session-windowed aggregation (value type V, the
    // aggregate), to read and write in a test.
    template<typename K, typename V>
    session_store<K, V> get_session_store(const std::string& name) {
        return session_store<K, V>::from(store_handle(name));
    }
    // The names of the topology's stores.
    std::set<std::string> store_names() const;
    // Records the operators dropped (Kafka Streams' dropped-records-total).
    std::int64_t dropped_records() const;
    // Of those, the duplicates deduplicate() nodes dropped
    // (deduplicated-records-total).
    std::int64_t deduplicated_records() const;
    // Records dead-lettered (dead-letter-records-total), of one handler kind.
    std::int64_t dead_letter_records() const;
    std::int64_t dead_letter_records(error_kind kind) const;
    // As kafka_streams::health(), on the driver's wall clock: degraded
    // while more than errors.dead.letter.degraded.rate records were
    // dead-lettered in the minute up to it.
    health_report health() const;

    // Moves the wall clock and runs the wall-clock punctuations that fall due
    // (a retry step's next try among them). A task a retry step holds keeps
    // the records piped to it waiting until the step lets go, as the Kafka
    // runtime does.
    void advance_wall_clock_time(std::chrono::milliseconds by);
    std::int64_t wall_clock_ms() const noexcept { return _wall_clock_ms; }

    // Pipes one record of bytes into `r.topic` (its offset is assigned);
    // throws std::invalid_argument when no source reads that topic.
    void pipe_raw(const raw_record& r);

    // Takes the oldest unread record of `topic`; throws std::out_of_range
    // when there is none.
    raw_record read_raw(const std::string& topic);
    std::size_t queue_size(const std::string& topic) const;
    // Input records waiting for a held task (a retry step's).
    std::size_t waiting_records() const;
    // Every topic something was written to.
    std::set<std::string> produced_topic_names() const;

private:
    class collector;

    void require_serdes(const std::string& topic, bool key, bool value) const;
    statestore::internal::store_handle& store_handle(const std::string& name);
    // Processes the records piped or written to a source topic, `first`
    // (read by `reader`) first when given, each after the one that wrote it.
    void process_pending(raw_record* first = nullptr, runtime::internal::stream_task* reader = nullptr,
        operators::internal::raw_node* source = nullptr);
    // Hands `r` to `task` (through `source`, when known), or queues it
    // behind the task's held record.
    void route(runtime::internal::stream_task& task, operators::internal::raw_node* source, raw_record& r);
    // Flushes the record caches of every task (after each input).
    void commit();

    std::int64_t _wall_clock_ms;
    std::shared_ptr<dead_letter_stats> _dead_letters;
    std::shared_ptr<runtime::internal::health_monitor> _health;
    // Stores live under state.dir, or a temporary directory removed with the
    // driver.
    std::string _temporary_state_dir;
    std::unique_ptr<collector> _collector;
    std::vector<std::unique_ptr<runtime::internal::stream_task>> _tasks;
    std::map<std::string, runtime::internal::stream_task*, std::less<>> _task_of_topic;
    std::map<std::string, std::int64_t> _next_offset;
    // What was written to a topic and not yet read: a vector read from its
    // head, emptied when all is read (no allocation per few records, as a
    // deque of records makes).
    struct unread_records {
        std::vector<raw_record> records;
        std::size_t head = 0;
        std::size_t size() const noexcept { return records.size() - head; }
        bool empty() const noexcept { return size() == 0; }
    };
    std::map<std::string, unread_records> _outputs;
    std::deque<raw_record> _pending;
    // Per held task: its records that wait, in arrival order.
    std::map<runtime::internal::stream_task*, std::deque<raw_record>> _waiting;
    bool _processing = false;
    // The topic last piped to, who reads it and its next offset; the
    // record it is processed as (its strings reused from input to input).
    struct last_input {
        std::string topic;
        runtime::internal::stream_task* task = nullptr;
        operators::internal::raw_node* source = nullptr;
        std::int64_t* next_offset = nullptr;
    };
    last_input _input;
    raw_record _scratch;
};

template<typename K, typename V>
class test_input_topic {
public:
    test_input_topic(topology_test_driver& driver, std::string topic, serde_ref<K> ks, serde_ref<V> vs)
        : _driver(&driver), _topic(std::move(topic)), _key_serde(std::move(ks)), _value_serde(std::move(vs)) {}

    // The record's timestamp is the driver's wall-clock time unless given.
    void pipe_input(const K& key, const V& value) { pipe_input(key, value, _driver->wall_clock_ms()); }
    void pipe_input(const K& key, const V& value, std::int64_t timestamp, headers hs = {}) {
        pipe_input(record<K, V>{key, value, timestamp, std::move(hs)});
    }
    void pipe_input(const record<K, V>& r) {
        raw_record raw;
        raw.topic = _topic;
        raw.timestamp = r.timestamp;
        raw.key = operators::internal::encode(_key_serde, r.key);
        raw.value = operators::internal::encode(_value_serde, r.value);
        raw.headers = r.headers;
        _driver->pipe_raw(std::move(raw));
    }
    void pipe_record_list(const std::vector<record<K, V>>& records) {
        for (const auto& r : records) {
            pipe_input(r);
        }
    }
    void pipe_key_value_list(const std::vector<key_value<K, V>>& kvs) {
        for (const auto& kv : kvs) {
            pipe_input(kv.key, kv.value);
        }
    }

private:
    topology_test_driver* _driver;
    std::string _topic;
    serde_ref<K> _key_serde;
    serde_ref<V> _value_serde;
};

template<typename K, typename V>
class test_output_topic {
public:
    test_output_topic(topology_test_driver& driver, std::string topic, serde_ref<K> ks, serde_ref<V> vs)
        : _driver(&driver), _topic(std::move(topic)), _key_serde(std::move(ks)), _value_serde(std::move(vs)) {}

    // Each read takes the oldest unread record; throws std::out_of_range
    // when there is none. Bytes that do not deserialize throw serde_error.
    record<K, V> read_record() {
        auto raw = _driver->read_raw(_topic);
        return {operators::internal::decode(_key_serde, raw.key, "key"),
            operators::internal::decode(_value_serde, raw.value, "value"), raw.timestamp, std::move(raw.headers)};
    }
    key_value<K, V> read_key_value() {
        auto r = read_record();
        return {std::move(r.key), std::move(r.value)};
    }
    V read_value() { return read_record().value; }

    std::vector<record<K, V>> read_records_to_list() {
        std::vector<record<K, V>> out;
        while (!is_empty()) {
            out.push_back(read_record());
        }
        return out;
    }
    std::vector<key_value<K, V>> read_key_values_to_list() {
        std::vector<key_value<K, V>> out;
        while (!is_empty()) {
            out.push_back(read_key_value());
        }
        return out;
    }
    std::vector<V> read_values_to_list() {
        std::vector<V> out;
        while (!is_empty()) {
            out.push_back(read_value());
        }
        return out;
    }
    // The latest value per key; a null (empty optional) value deletes it.
    std::map<K, V> read_key_values_to_map() {
        std::map<K, V> out;
        while (!is_empty()) {
            auto kv = read_key_value();
            if constexpr (is_optional_v<V>) {
                if (!kv.value) {
                    out.erase(kv.key);
                    continue;
                }
            }
            out.insert_or_assign(std::move(kv.key), std::move(kv.value));
        }
        return out;
    }

    bool is_empty() const { return queue_size() == 0; }
    std::size_t queue_size() const { return _driver->queue_size(_topic); }

private:
    topology_test_driver* _driver;
    std::string _topic;
    serde_ref<K> _key_serde;
    serde_ref<V> _value_serde;
};

} // namespace eddy
