#pragma once

// What a stream thread asks of its two Kafka clients, and nothing more: the
// thread's parts (record_collector, partition_group, task_manager) talk to
// these interfaces, librdkafka is behind them (rdkafka_clients.h), and the
// runtime's unit tests put fakes there (tests/runtime/fake_clients.h), as
// Kafka Streams' StreamThreadTest does with MockConsumer and MockProducer.
//
// The vocabulary stays librdkafka's: error codes are rd_kafka_resp_err_t
// (the fakes answer with the same codes the broker would).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "../../operators/internal/task_context.h"

namespace eddy::runtime::internal {

using topic_partition = std::pair<std::string, std::int32_t>;
using partition_offsets = std::map<topic_partition, std::int64_t>;

// The clocks a stream thread reads: steady time for its intervals, wall time
// for punctuations and dead letters. Tests turn them by hand.
class thread_clock {
public:
    virtual ~thread_clock() = default;
    virtual std::chrono::steady_clock::time_point now() const = 0;
    virtual std::int64_t wall_ms() const = 0;
    // The machine's clocks.
    static const thread_clock& system();
};

// A failed client call and how it may go on (librdkafka's rd_kafka_error_t
// flags).
struct client_error {
    rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_UNKNOWN;
    std::string message;
    bool retriable = false;
    bool fatal = false;
    // The open transaction can only be aborted.
    bool requires_abort = false;
};

// A record a client handed back: one the consumer fetched, or one the
// producer reports on, read in place (consumed_record). Valid only during
// the call that gives it.
class client_record : public consumed_record {
public:
    // Names the record's topic for as long as the client lives, and is the
    // same for every record of that topic: routes key on it and spare the
    // per-record topic-name lookup.
    virtual const void* topic_key() const noexcept = 0;
};

// Told by the consumer, from within its poll() and close().
class consumer_listener {
public:
    virtual ~consumer_listener() = default;
    // The group gave this member `partitions` (before the consumer fetches
    // from them); and took them (`lost`: another member may own them now).
    virtual void on_assigned(const std::vector<topic_partition>& partitions) = 0;
    virtual void on_revoked(const std::vector<topic_partition>& partitions, bool lost) = 0;
    virtual void on_record(const client_record& record) = 0;
};

// Told by either client whether a broker answers, and the consumer's lag
// (librdkafka's error callback and statistics).
class client_events {
public:
    virtual ~client_events() = default;
    // `client` is "consumer" or "producer".
    virtual void on_broker_down(const char* client, std::string_view reason) = 0;
    virtual void on_broker_up(const char* client) = 0;
    // Per "topic-partition".
    virtual void on_lag(std::map<std::string, std::int64_t> lag) = 0;
};

class consumer_client {
public:
    virtual ~consumer_client() = default;
    // Before the first poll.
    virtual void set_listener(consumer_listener& records, client_events& events) = 0;
    virtual void subscribe(const std::set<std::string>& topics) = 0;
    // Waits up to `timeout` for a record, then hands it, and every other
    // record already fetched, to on_record(); serves the group's callbacks
    // meanwhile. An exception from the listener ends the poll and comes out
    // of it (the records not handed yet are dropped). With `deliver` false
    // the fetched records are dropped unseen.
    virtual void poll(std::chrono::milliseconds timeout, bool deliver = true) = 0;
    virtual void pause(const std::vector<topic_partition>& partitions) = 0;
    virtual void resume(const std::vector<topic_partition>& partitions) = 0;
    // Commits `offsets` for the group, synchronously.
    virtual rd_kafka_resp_err_t commit(const partition_offsets& offsets) = 0;
    // The group's committed offsets of the partitions given (those with
    // none: RD_KAFKA_OFFSET_INVALID); an error of the call or of any
    // partition.
    virtual rd_kafka_resp_err_t committed(partition_offsets& offsets, std::chrono::milliseconds timeout) = 0;
    // Moves the fetch positions; throws kafka_error.
    virtual void seek(const partition_offsets& offsets, std::chrono::milliseconds timeout) = 0;
    // Leaves the group (the listener hears of the revocation first).
    virtual void close() = 0;
};

// Why the producer got a record: how its delivery report counts, and how
// the partitioner reads its key.
enum class send_tag : std::uint8_t {
    plain,
    // A changelog record: its offset is what the checkpoints say.
    changelog,
    // A windowed key, partitioned without its last 8 (a time window's
    // start) or 16 (a session's end and start) bytes.
    time_windowed,
    session_windowed,
};

struct delivery_report {
    const client_record& record;
    rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
    send_tag tag = send_tag::plain;
    // Its key and value bytes.
    std::size_t bytes = 0;
};

class producer_listener {
public:
    virtual ~producer_listener() = default;
    // From within poll(), flush() and the transactional calls.
    virtual void on_delivery(const delivery_report& report) = 0;
};

class producer_client {
public:
    virtual ~producer_client() = default;
    virtual void set_listener(producer_listener& deliveries, client_events& events) = 0;
    // Queues a copy of `r` (`r.partition` < 0: the partitioner picks one).
    // RD_KAFKA_RESP_ERR__QUEUE_FULL when the producer buffers all it may.
    virtual rd_kafka_resp_err_t produce(const raw_record& r, send_tag tag) = 0;
    // Serves delivery reports for up to `timeout`.
    virtual void poll(std::chrono::milliseconds timeout) = 0;
    // Waits up to `timeout` for every queued record's delivery report.
    virtual rd_kafka_resp_err_t flush(std::chrono::milliseconds timeout) = 0;
    // Records queued and not yet reported on.
    virtual std::int64_t outstanding() const = 0;
    // Learns the topics' leaders ahead of the first record.
    virtual void warm_up(const std::set<std::string>& topics) = 0;
    virtual std::optional<client_error> init_transactions(std::chrono::milliseconds timeout) = 0;
    virtual std::optional<client_error> begin_transaction() = 0;
    // The consumer's offsets, committed with the open transaction.
    virtual std::optional<client_error> send_offsets_to_transaction(
        const partition_offsets& offsets, consumer_client& consumer, std::chrono::milliseconds timeout) = 0;
    virtual std::optional<client_error> commit_transaction(std::chrono::milliseconds timeout) = 0;
    virtual std::optional<client_error> abort_transaction(std::chrono::milliseconds timeout) = 0;
};

} // namespace eddy::runtime::internal
