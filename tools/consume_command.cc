// eddy consume: the records of every partition of a topic as lines,
// "key<TAB>value" (and " [k=v,...]" with --print-headers), until a count is
// reached, no record came for a while, or SIGINT/SIGTERM. No consumer group:
// the partitions are assigned directly and no offset is committed.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include "runtime/internal/rdkafka_handles.h"
#include "serde/internal/printable.h"
#include "tools/commands.h"
#include "tools/kafka_client.h"
#include "tools/text_serde.h"

namespace eddy::tools {
namespace {

volatile std::sig_atomic_t stop_requested = 0;

extern "C" void request_stop(int /*signal*/) {
    stop_requested = 1;
}

// Errors that no amount of waiting fixes; the others (a broker down, a
// leader moving) librdkafka retries by itself.
bool ends_consumption(rd_kafka_resp_err_t err) {
    return err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED
        || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
}

// " [k=v,...]": every header in order, a null value as (null).
std::string headers_text(const rd_kafka_message_t* message) {
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR || headers == nullptr) {
        return " []";
    }
    std::string out = " [";
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
        if (i > 0) {
            out += ',';
        }
        out += serdes::internal::printable_text(name);
        out += '=';
        out += value == nullptr ? std::string("(null)")
                                : serdes::internal::printable_text(std::string_view(static_cast<const char*>(value), size));
    }
    out += ']';
    return out;
}

} // namespace

int run_consume(const consume_options& options) {
    if (options.count < 0) {
        throw tool_error(fmt::format("-n {}: at least 0", options.count));
    }
    if (options.idle_timeout_ms < 0) {
        throw tool_error(fmt::format("--timeout-ms {}: at least 0", options.idle_timeout_ms));
    }
    check_topic_name(options.topic);
    auto key_serde = text_serde::named(options.key_serde);
    auto value_serde = text_serde::named(options.value_serde);

    std::map<std::string, std::string> defaults = {
        // librdkafka assigns partitions only through a group handle, though
        // nothing joins or commits here.
        {"group.id", "eddy-cli"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        // An empty fetch returns after this long (the embedded broker always
        // waits this long), so the idle timeout is kept to within ~100 ms.
        {"fetch.wait.max.ms", "100"},
    };
    kafka_client consumer(RD_KAFKA_CONSUMER, options.connection, defaults);
    const int partitions = consumer.require_topic(options.topic);

    rd_kafka_poll_set_consumer(consumer.get());
    runtime::internal::partition_list assignment;
    for (int p = 0; p < partitions; ++p) {
        assignment.add(options.topic, p, options.from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END);
    }
    auto assigned = rd_kafka_assign(consumer.get(), assignment.get());
    if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw tool_error(fmt::format("cannot read {}: {}", options.topic, rd_kafka_err2str(assigned)));
    }

    stop_requested = 0;
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);

    using clock = std::chrono::steady_clock;
    const auto idle_timeout = std::chrono::milliseconds(options.idle_timeout_ms);
    auto last_record = clock::now();
    long long seen = 0;
    std::string failure;
    while (stop_requested == 0 && (options.count == 0 || seen < options.count)) {
        if (options.idle_timeout_ms > 0 && clock::now() - last_record >= idle_timeout) {
            logger()->debug("no record for {} ms topic={} records={}", options.idle_timeout_ms, options.topic, seen);
            break;
        }
        const runtime::internal::message_ptr owned(rd_kafka_consumer_poll(consumer.get(), 100));
        const rd_kafka_message_t* message = owned.get();
        if (message == nullptr) {
            continue;
        }
        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            std::string reason = rd_kafka_message_errstr(message);
            const bool fatal = ends_consumption(message->err);
            if (fatal) {
                failure = fmt::format("cannot read {}: {}", options.topic, reason);
                break;
            }
            logger()->warn("consume error topic={} reason={}", options.topic, reason);
            continue;
        }
        std::string key = message->key == nullptr
            ? std::string("(null)")
            : key_serde.decode(std::string_view(static_cast<const char*>(message->key), message->key_len));
        std::string value = message->payload == nullptr
            ? std::string("(null)")
            : value_serde.decode(std::string_view(static_cast<const char*>(message->payload), message->len));
        // Escaped: a record's bytes never reach the terminal as control
        // characters (ESC, NUL, BEL), nor split the line.
        fmt::print("{}\t{}{}\n", serdes::internal::printable_text(key), serdes::internal::printable_text(value),
            options.print_headers ? headers_text(message) : "");
        std::fflush(stdout);
        ++seen;
        last_record = clock::now();
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    rd_kafka_consumer_close(consumer.get());
    if (!failure.empty()) {
        throw tool_error(failure);
    }
    return 0;
}

} // namespace eddy::tools
