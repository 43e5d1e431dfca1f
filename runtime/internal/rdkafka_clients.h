#pragma once

// The stream thread's clients on librdkafka (kafka_clients.h says what they
// do), and the pieces of librdkafka every client of eddy's uses: the one
// message -> raw_record conversion and an owned partition list.

#include <map>
#include <memory>
#include <string>

#include <librdkafka/rdkafka.h>

#include "runtime/internal/kafka_clients.h"

namespace eddy::runtime::internal {

// Copies a message into `r`, reusing the storage `r` already has (a hot
// path keeps one raw_record: no allocation per record once its buffers have
// grown).
void read_message(const rd_kafka_message_t* m, raw_record& r);

// A topic partition list owned here.
class partition_list {
public:
    partition_list() : _list(rd_kafka_topic_partition_list_new(8)) {}
    explicit partition_list(const partition_offsets& offsets);
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

// A group member consuming one record per poll, or, with `batch`, every
// record already fetched (librdkafka 2.0.2's batch call skips offsets across
// pause/resume and seeks: only for a thread that does neither).
std::unique_ptr<consumer_client> make_rdkafka_consumer(
    const std::map<std::string, std::string>& settings, bool batch, std::string thread_name);

// A producer; eddy's partitioner (murmur2_random as Java's default, windowed
// keys by their plain key) unless `settings` name another.
std::unique_ptr<producer_client> make_rdkafka_producer(
    std::map<std::string, std::string> settings, std::string thread_name);

} // namespace eddy::runtime::internal
