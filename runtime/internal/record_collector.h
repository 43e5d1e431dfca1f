#pragma once

// The producer side of a stream thread: what its sinks send, the delivery
// reports, the records the broker refuses one by one (the production
// handler's), and the transactions under exactly-once; plus the watch on
// whether a broker answers the thread's clients (docs/adr/0015).
//
// Owns: the transaction's state, the refused records and the first delivery
// error waiting for the commit, the changelog offsets the producer wrote.
// Does not own the producer or the consumer (the stream thread does).

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kafka_clients.h"
#include "state_restorer.h"
#include "thread_settings.h"
#include "../kafka_error.h"

namespace eddy::runtime::internal {

// Whether a broker answers a thread's clients, told by their callbacks and
// by calls that get no answer; and the consumer's lag.
class broker_watch final : public client_events {
public:
    broker_watch(std::string thread_name, const thread_counters& counters, const thread_clock& clock)
        : _name(std::move(thread_name)), _counters(&counters), _clock(&clock) {}

    void on_broker_down(const char* client, std::string_view reason) override;
    void on_broker_up(const char* client) override;
    void on_lag(std::map<std::string, std::int64_t> lag) override;

    // The stream thread's own view (only it changes it).
    bool unreachable() const noexcept { return _since.has_value(); }
    // For any thread: unreachable, or a call to the broker has waited longer
    // than `stall` (the callbacks that would say so wait for it to return).
    bool looks_unreachable(std::chrono::milliseconds stall) const noexcept;
    // Around a call that waits on the broker.
    void call_began() noexcept;
    void call_ended() noexcept { _call_since_ns.store(0, std::memory_order_relaxed); }
    // While no broker answers: what the producer holds, every 5 s.
    void log_buffering();
    std::map<std::string, std::int64_t> lag() const;
    // Whether "producer queue full" was logged in this outage.
    bool queue_full_logged = false;

private:
    std::string _name;
    const thread_counters* _counters;
    const thread_clock* _clock;
    std::optional<std::chrono::steady_clock::time_point> _since;
    std::chrono::steady_clock::time_point _last_buffer_log;
    std::atomic<bool> _flag{false};
    // When the call in progress began (steady clock, ns since its epoch); 0
    // when none is.
    std::atomic<std::int64_t> _call_since_ns{0};
    mutable std::mutex _lag_mutex;
    std::map<std::string, std::int64_t> _lag;
};

// How a commit of the collector's went.
enum class commit_outcome {
    committed,
    // At-least-once: no broker took the records in time, or the offsets
    // were not committed; both are tried again at the next commit.
    postponed,
    // Exactly-once: the transaction can only be aborted.
    must_abort,
};

class kafka_record_collector final : public record_collector, public producer_listener {
public:
    kafka_record_collector(producer_client& producer, consumer_client& consumer, const thread_settings& settings,
        thread_counters& counters, dead_letter_stats& dead_letters, broker_watch& watch, const std::atomic<bool>& stop,
        const thread_clock& clock, std::string thread_name);

    // --- record_collector ---
    // Waits while the producer's queue is full (serving delivery reports);
    // under exactly-once begins the transaction first.
    void send(const raw_record& r) override;
    // --- producer_listener ---
    void on_delivery(const delivery_report& report) override;

    void init_transactions();
    void begin_transaction_if_needed();
    bool transaction_open() const noexcept { return _transaction_open; }
    std::chrono::steady_clock::time_point transaction_began() const noexcept { return _transaction_began; }

    // Makes what was sent durable and commits `offsets` with it: the
    // transaction with them (exactly-once), or a flush, the refused records
    // to the production handler, then the offsets through the consumer
    // (at-least-once). `failed`: the thread is dying, a flush timeout is an
    // error. Throws what cannot go on.
    commit_outcome commit(const partition_offsets& offsets, bool final, bool failed);
    // The embedded broker's copy of the last transaction's offsets failed:
    // tries it again (thread_settings::commit_offsets_after_transaction).
    bool offsets_after_transaction_pending() const noexcept { return _offsets_after_transaction_pending; }
    void commit_offsets_after_transaction(const partition_offsets& offsets);

    // Aborts the open transaction (tried again while retriable); throws when
    // it cannot. Forgets the delivery error of the aborted records.
    void abort_transaction();
    // After a lost assignment or an error: aborts what it can, logging the
    // rest.
    void abort_after_loss();

    // What the producer wrote to the changelogs (next offset per partition),
    // for the checkpoints; restores add to it.
    changelog_offsets& changelog_written() noexcept { return _changelog_written; }

private:
    // A transactional call, made again while librdkafka says its error is
    // retriable; returns the error that ends the tries.
    template<typename Call>
    std::optional<client_error> retrying(const char* what, Call&& call);
    void handle_refused();
    void check_delivery();
    [[noreturn]] void throw_client_error(const client_error& e, const std::string& what);

    producer_client* _producer;
    consumer_client* _consumer;
    const thread_settings* _settings;
    thread_counters* _counters;
    dead_letter_stats* _dead_letters;
    broker_watch* _watch;
    const std::atomic<bool>* _stop;
    const thread_clock* _clock;
    std::string _name;
    bool _transaction_open = false;
    std::chrono::steady_clock::time_point _transaction_began;
    bool _offsets_after_transaction_pending = false;
    std::optional<kafka_error> _delivery_error;
    // Records the broker refused one by one, from delivery reports under
    // at-least-once: the production handler decides on each before the
    // next offset commit. (Under exactly-once such a refusal aborts the
    // transaction.)
    struct refused_delivery {
        raw_record record;
        std::string message;
    };
    std::vector<refused_delivery> _refused;
    changelog_offsets _changelog_written;
};

} // namespace eddy::runtime::internal
