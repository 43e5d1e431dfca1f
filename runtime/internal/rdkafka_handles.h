#pragma once

// Owned librdkafka objects: each handle type destroys what it holds with
// the right librdkafka call, so no code of ours writes a destroy by hand
// (or forgets one on an early return or an exception). A consumer still
// needs rd_kafka_consumer_close() before its handle goes: leaving the group
// is a step of its own, not a destructor's.

#include <cstdint>
#include <memory>
#include <string>

#include <librdkafka/rdkafka.h>

namespace eddy::runtime::internal {

struct rdkafka_deleter {
    void operator()(rd_kafka_t* p) const noexcept { rd_kafka_destroy(p); }
    void operator()(rd_kafka_queue_t* p) const noexcept { rd_kafka_queue_destroy(p); }
    void operator()(rd_kafka_message_t* p) const noexcept { rd_kafka_message_destroy(p); }
    void operator()(rd_kafka_event_t* p) const noexcept { rd_kafka_event_destroy(p); }
    void operator()(rd_kafka_error_t* p) const noexcept { rd_kafka_error_destroy(p); }
    void operator()(rd_kafka_headers_t* p) const noexcept { rd_kafka_headers_destroy(p); }
    void operator()(rd_kafka_topic_t* p) const noexcept { rd_kafka_topic_destroy(p); }
    void operator()(const rd_kafka_metadata_t* p) const noexcept { rd_kafka_metadata_destroy(p); }
    void operator()(rd_kafka_conf_t* p) const noexcept { rd_kafka_conf_destroy(p); }
    void operator()(rd_kafka_topic_partition_list_t* p) const noexcept { rd_kafka_topic_partition_list_destroy(p); }
    void operator()(rd_kafka_AdminOptions_t* p) const noexcept { rd_kafka_AdminOptions_destroy(p); }
    void operator()(rd_kafka_NewTopic_t* p) const noexcept { rd_kafka_NewTopic_destroy(p); }
    void operator()(rd_kafka_ConfigResource_t* p) const noexcept { rd_kafka_ConfigResource_destroy(p); }
    void operator()(rd_kafka_consumer_group_metadata_t* p) const noexcept {
        rd_kafka_consumer_group_metadata_destroy(p);
    }
};

template<typename T>
using rdkafka_ptr = std::unique_ptr<T, rdkafka_deleter>;
using client_ptr = rdkafka_ptr<rd_kafka_t>;
using queue_ptr = rdkafka_ptr<rd_kafka_queue_t>;
using message_ptr = rdkafka_ptr<rd_kafka_message_t>;
using event_ptr = rdkafka_ptr<rd_kafka_event_t>;
using error_ptr = rdkafka_ptr<rd_kafka_error_t>;
using metadata_ptr = rdkafka_ptr<const rd_kafka_metadata_t>;
using admin_options_ptr = rdkafka_ptr<rd_kafka_AdminOptions_t>;

// A topic partition list owned here.
class partition_list {
public:
    partition_list() : _list(rd_kafka_topic_partition_list_new(8)) {}
    // From a map of (topic, partition) -> offset.
    template<typename Offsets>
    explicit partition_list(const Offsets& offsets) : partition_list() {
        for (const auto& [tp, offset] : offsets) {
            add(tp.first, tp.second, offset);
        }
    }
    ~partition_list() { rd_kafka_topic_partition_list_destroy(_list); }
    partition_list(const partition_list&) = delete;
    partition_list& operator=(const partition_list&) = delete;
    void add(const std::string& topic, std::int32_t partition, std::int64_t offset) {
        rd_kafka_topic_partition_list_add(_list, topic.c_str(), partition)->offset = offset;
    }
    rd_kafka_topic_partition_list_t* get() const noexcept { return _list; }
    int size() const noexcept { return _list->cnt; }

private:
    rd_kafka_topic_partition_list_t* _list;
};

} // namespace eddy::runtime::internal
