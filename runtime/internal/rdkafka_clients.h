#pragma once

// The stream thread's clients on librdkafka (kafka_clients.h says what they
// do), and the one message -> raw_record conversion every reader of records
// uses (owned handles: rdkafka_handles.h).

#include <map>
#include <memory>
#include <string>

#include <librdkafka/rdkafka.h>

#include "kafka_clients.h"
#include "rdkafka_handles.h"

namespace eddy::runtime::internal {

// Copies a message into `r`, reusing the storage `r` already has (a hot
// path keeps one raw_record: no allocation per record once its buffers have
// grown).
void read_message(const rd_kafka_message_t* m, raw_record& r);
// Adds the message's headers to `into`.
void read_headers(const rd_kafka_message_t* m, eddy::headers& into);

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
