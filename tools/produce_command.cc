// eddy produce: every line of stdin becomes a record, "key<sep>value" or,
// without the separator, a value with a null key. All lines are read and
// serialized before anything is sent, so a line the serdes reject fails the
// command with nothing produced.

#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include "tools/commands.h"
#include "tools/kafka_client.h"
#include "tools/text_serde.h"

namespace eddy::tools {
namespace {

struct record {
    std::optional<std::string> key;
    std::string value;
};

struct delivery_state {
    long long delivered = 0;
    long long failed = 0;
    std::string first_error;
};

// Served by rd_kafka_poll and rd_kafka_flush on this thread; the state is
// each message's opaque.
void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* /*client_opaque*/) {
    auto* state = static_cast<delivery_state*>(message->_private);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++state->delivered;
        return;
    }
    if (state->failed++ == 0) {
        state->first_error = rd_kafka_err2str(message->err);
    }
}

// The records of stdin's lines; throws tool_error naming the first line the
// serdes reject.
std::vector<record> read_records(std::istream& in, const produce_options& options) {
    auto key_serde = text_serde::named(options.key_serde);
    auto value_serde = text_serde::named(options.value_serde);
    std::vector<record> records;
    std::string line;
    for (long long number = 1; std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty()) {
            continue;
        }
        record r;
        std::string_view value_text = line;
        try {
            if (auto at = line.find(options.separator); at != std::string::npos) {
                std::string_view key_text = std::string_view(line).substr(0, at);
                value_text = std::string_view(line).substr(at + options.separator.size());
                try {
                    r.key = key_serde.encode(key_text);
                } catch (const std::invalid_argument& e) {
                    throw tool_error(fmt::format("line {}: key {}", number, e.what()));
                }
            }
            r.value = value_serde.encode(value_text);
        } catch (const std::invalid_argument& e) {
            throw tool_error(fmt::format("line {}: value {}", number, e.what()));
        }
        records.push_back(std::move(r));
    }
    if (in.bad()) {
        throw tool_error("cannot read stdin");
    }
    return records;
}

} // namespace

int run_produce(const produce_options& options) {
    if (options.separator.empty()) {
        throw tool_error("--separator: must not be empty");
    }
    check_topic_name(options.topic);
    // A missing address or a malformed -X fails before stdin is read.
    static_cast<void>(options.connection.bootstrap());
    static_cast<void>(options.connection.settings_map());

    auto records = read_records(std::cin, options);

    delivery_state delivery;
    // Kafka's Java default partitioner for keyed records (murmur2), random
    // partitions for records without a key.
    std::map<std::string, std::string> defaults = {
        {"partitioner", "murmur2_random"},
        {"message.timeout.ms", "30000"},
    };
    kafka_client producer(RD_KAFKA_PRODUCER, options.connection, defaults, on_delivery);
    producer.require_topic(options.topic);

    for (const auto& r : records) {
        // A null key is no bytes at all (nullptr), not an empty key.
        const void* key = r.key ? static_cast<const void*>(r.key->data()) : nullptr;
        const std::size_t key_size = r.key ? r.key->size() : 0;
        for (;;) {
            auto err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(options.topic.c_str()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, key_size),
                RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                RD_KAFKA_V_OPAQUE(&delivery), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                break;
            }
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                throw tool_error(fmt::format("cannot produce to {}: {}", options.topic, rd_kafka_err2str(err)));
            }
            // The local queue is full: serve delivery reports to make room.
            rd_kafka_poll(producer.get(), 100);
        }
        rd_kafka_poll(producer.get(), 0);
    }
    auto flushed = rd_kafka_flush(producer.get(), 60000);
    if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw tool_error(fmt::format("{} of {} records to {} were not delivered in time: {}",
            rd_kafka_outq_len(producer.get()), records.size(), options.topic, rd_kafka_err2str(flushed)));
    }
    if (delivery.failed > 0) {
        throw tool_error(fmt::format("{} of {} records to {} were not delivered: {}", delivery.failed, records.size(),
            options.topic, delivery.first_error));
    }
    fmt::print(stderr, "produced {} records to {}\n", delivery.delivered, options.topic);
    return 0;
}

} // namespace eddy::tools
