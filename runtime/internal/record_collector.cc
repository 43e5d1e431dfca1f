#include "runtime/internal/record_collector.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "operators/internal/noting_collector.h"
#include "runtime/internal/log.h"

namespace eddy::runtime::internal {

namespace {

using clock = std::chrono::steady_clock;

std::int64_t ms_between(clock::time_point from, clock::time_point to) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

std::int64_t read(const std::atomic<std::int64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
}

// A delivery error of this record alone (the broker refused it: too large
// for the topic, invalid for it), which the other records do not share.
bool refused_for_itself(rd_kafka_resp_err_t err) {
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
        return true;
    default:
        return false;
    }
}

} // namespace

// --- broker_watch ---

void broker_watch::on_broker_down(const char* client, std::string_view reason) {
    if (_since) {
        return;
    }
    _since = _clock->now();
    _last_buffer_log = *_since;
    _flag.store(true, std::memory_order_relaxed);
    logger()->warn("broker unreachable thread={} client={} buffered_records={} buffered_bytes={} reason=\"{}\"", _name,
        client, read(_counters->buffered_records), read(_counters->buffered_bytes), reason);
}

void broker_watch::on_broker_up(const char* client) {
    if (!_since) {
        return;
    }
    logger()->info("broker reachable again thread={} client={} unreachable_ms={} buffered_records={} "
                   "buffered_bytes={}",
        _name, client, ms_between(*_since, _clock->now()), read(_counters->buffered_records),
        read(_counters->buffered_bytes));
    _since.reset();
    _flag.store(false, std::memory_order_relaxed);
    queue_full_logged = false;
}

void broker_watch::on_lag(std::map<std::string, std::int64_t> lag) {
    std::scoped_lock lock(_lag_mutex);
    _lag = std::move(lag);
}

std::map<std::string, std::int64_t> broker_watch::lag() const {
    std::scoped_lock lock(_lag_mutex);
    return _lag;
}

bool broker_watch::looks_unreachable(std::chrono::milliseconds stall) const noexcept {
    if (_flag.load(std::memory_order_relaxed)) {
        return true;
    }
    const auto since = _call_since_ns.load(std::memory_order_relaxed);
    return since != 0 && _clock->now() - clock::time_point(clock::duration(since)) > stall;
}

void broker_watch::call_began() noexcept {
    _call_since_ns.store(_clock->now().time_since_epoch().count(), std::memory_order_relaxed);
}

void broker_watch::log_buffering() {
    const auto now = _clock->now();
    if (!_since || now - _last_buffer_log < std::chrono::seconds(5)) {
        return;
    }
    _last_buffer_log = now;
    logger()->warn("producer buffering while the broker is unreachable thread={} buffered_records={} "
                   "buffered_bytes={} unreachable_ms={}",
        _name, read(_counters->buffered_records), read(_counters->buffered_bytes), ms_between(*_since, now));
}

// --- kafka_record_collector ---

kafka_record_collector::kafka_record_collector(producer_client& producer, consumer_client& consumer,
    const thread_settings& settings, thread_counters& counters, dead_letter_stats& dead_letters, broker_watch& watch,
    const std::atomic<bool>& stop, const thread_clock& clock, std::string thread_name)
    : _producer(&producer)
    , _consumer(&consumer)
    , _settings(&settings)
    , _counters(&counters)
    , _dead_letters(&dead_letters)
    , _watch(&watch)
    , _stop(&stop)
    , _clock(&clock)
    , _name(std::move(thread_name)) {}

void kafka_record_collector::send(const raw_record& r) {
    begin_transaction_if_needed();
    send_tag tag = r.changelog ? send_tag::changelog : send_tag::plain;
    if (tag == send_tag::plain && r.partition < 0 && r.key_window_bytes != 0) {
        tag = r.key_window_bytes == 16 ? send_tag::session_windowed : send_tag::time_windowed;
    }
    const auto bytes = static_cast<std::int64_t>((r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0));
    std::optional<clock::time_point> full_since;
    for (;;) {
        const auto err = _producer->produce(r, tag);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            bump(_counters->buffered_records);
            bump(_counters->buffered_bytes, bytes);
            return;
        }
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            // The producer's queue is full (the bound of what it buffers
            // while no broker answers): serve delivery reports until there
            // is room, the record and the thread wait meanwhile.
            const auto now = _clock->now();
            if (!full_since) {
                full_since = now;
            }
            if (!_watch->queue_full_logged) {
                _watch->queue_full_logged = true;
                logger()->warn("producer queue full, processing waits thread={} buffered_records={} "
                               "buffered_bytes={} broker_unreachable={}",
                    _name, read(_counters->buffered_records), read(_counters->buffered_bytes), _watch->unreachable());
            }
            if (_stop->load(std::memory_order_relaxed) && now - *full_since > _settings->transaction_timeout) {
                // Closing while no broker takes records: give up on this
                // one; its input is not committed, so it is processed again
                // by whoever owns the partition next.
                throw kafka_error(err, fmt::format("stopping with the producer's queue full ({} records): "
                                                   "no broker takes them",
                                           read(_counters->buffered_records)));
            }
            _producer->poll(std::chrono::milliseconds(10));
            continue;
        }
        if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            // This record only (larger than the producer's
            // message.max.bytes): the sink's production handler decides.
            throw record_rejected(fmt::format("{} ({} bytes of key and value)", rd_kafka_err2str(err), bytes));
        }
        throw kafka_error(err, fmt::format("cannot produce to topic {}: {}", r.topic, rd_kafka_err2str(err)));
    }
}

void kafka_record_collector::on_delivery(const delivery_report& report) {
    bump(_counters->buffered_records, -1);
    bump(_counters->buffered_bytes, -static_cast<std::int64_t>(report.bytes));
    const auto& record = report.record;
    if (report.error != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const auto message = fmt::format("delivery to topic {} partition {} failed: {}", record.topic(),
            record.partition(), rd_kafka_err2str(report.error));
        // A changelog record refused would leave the store and its changelog
        // apart: that one still fails the thread.
        if (!_settings->exactly_once && report.tag != send_tag::changelog && refused_for_itself(report.error)) {
            auto& r = _refused.emplace_back();
            record.read(r.record);
            r.record.offset = -1;
            r.message = message;
            return;
        }
        if (!_delivery_error) {
            _delivery_error.emplace(report.error, message);
        }
        return;
    }
    bump(_counters->produced);
    if (_watch->unreachable()) {
        _watch->on_broker_up("producer");
    }
    if (report.tag == send_tag::changelog) {
        auto& next = _changelog_written[{std::string(record.topic()), record.partition()}];
        next = std::max(next, record.offset() + 1);
    }
}

template<typename Call>
std::optional<client_error> kafka_record_collector::retrying(const char* what, Call&& call) {
    // librdkafka's own retries within a call (a coordinator moved) end with
    // the call's timeout: each try gets transaction.timeout.ms, as shorter
    // tries turned retriable errors into aborts. The producer's callbacks
    // (whether a broker answers) are served between tries. Once a stop is
    // requested, tries go on for transaction.timeout.ms more.
    const auto timeout = _settings->transaction_timeout;
    std::optional<clock::time_point> stop_seen;
    for (int attempt = 1;; ++attempt) {
        _watch->call_began();
        std::optional<client_error> e = call(timeout);
        _watch->call_ended();
        if (!e || !e->retriable || e->fatal || e->requires_abort) {
            return e;
        }
        if (_stop->load(std::memory_order_relaxed)) {
            if (!stop_seen) {
                stop_seen = _clock->now();
            } else if (_clock->now() - *stop_seen > timeout) {
                return e;
            }
        }
        bump(_counters->transaction_retries);
        // A call that got no answer for transaction.timeout.ms: the broker
        // is unreachable, though the error callbacks that would say so wait
        // for the thread to poll (the statistics say when one is up again).
        if (e->code == RD_KAFKA_RESP_ERR__TIMED_OUT || e->code == RD_KAFKA_RESP_ERR__TRANSPORT
            || e->code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
            _watch->on_broker_down("producer", e->message);
        }
        logger()->warn("transaction call retried thread={} call={} attempt={} broker_unreachable={} error=\"{}\"",
            _name, what, attempt, _watch->unreachable(), e->message);
        _producer->poll(std::chrono::milliseconds(attempt == 1 ? 0 : 100));
    }
}

void kafka_record_collector::throw_client_error(const client_error& e, const std::string& what) {
    throw kafka_error(e.code, fmt::format("{}: {}", what, e.message)).set_retriable(e.retriable);
}

void kafka_record_collector::init_transactions() {
    if (auto e = retrying("init_transactions", [&](auto timeout) { return _producer->init_transactions(timeout); })) {
        throw_client_error(*e, "cannot initialise transactions (is the cluster reachable and transactional?)");
    }
}

void kafka_record_collector::begin_transaction_if_needed() {
    if (!_settings->exactly_once || _transaction_open) {
        return;
    }
    if (auto e = _producer->begin_transaction()) {
        throw_client_error(*e, "cannot begin a transaction");
    }
    _transaction_open = true;
    _transaction_began = _clock->now();
}

// The source record of a refused delivery is gone by now: the handler gets
// the refused record itself (its topic and partition, offset -1), under the
// node name "producer".
void kafka_record_collector::handle_refused() {
    auto batch = std::exchange(_refused, {});
    const auto& handler = _settings->production_handler;
    for (const auto& f : batch) {
        const auto now = _clock->wall_ms();
        const error_context ctx{_settings->application_id, "producer", "eddy::record_rejected", f.message, f.record,
            now, error_kind::production, false, _settings->dead_letter_topic};
        operators::internal::noting_collector collector(*this);
        const auto response = handler ? handler->handle(ctx, collector) : handlers::log_and_fail()->handle(ctx, collector);
        if (collector.sent() > 0) {
            logger()->warn("record dead-lettered kind=production handler={} node=producer dlq={} topic={} "
                           "partition={} error=\"{}\"",
                handler ? handler->name() : "log_and_fail", collector.topic(), f.record.topic, f.record.partition,
                f.message);
            _dead_letters->by_kind[static_cast<std::size_t>(error_kind::production)].fetch_add(
                1, std::memory_order_relaxed);
            if (_dead_letters->on_dead_letter) {
                _dead_letters->on_dead_letter(now);
            }
        }
        if (response == handler_response::fail) {
            throw production_error("producer", f.message);
        }
    }
}

void kafka_record_collector::check_delivery() {
    if (_delivery_error) {
        auto e = *_delivery_error;
        _delivery_error.reset();
        throw e;
    }
}

commit_outcome kafka_record_collector::commit(const partition_offsets& offsets, bool final, bool failed) {
    const auto timeout = _settings->transaction_timeout;
    if (_settings->exactly_once) {
        begin_transaction_if_needed();
        auto ends = [&](const std::optional<client_error>& e, const char* what) {
            if (!e) {
                return false;
            }
            if (!e->requires_abort) {
                throw_client_error(*e, what);
            }
            logger()->warn("aborting transaction thread={} reason=\"{}: {}\"", _name, what, e->message);
            return true;
        };
        if (!offsets.empty()
            && ends(retrying("send_offsets_to_transaction",
                        [&](auto t) { return _producer->send_offsets_to_transaction(offsets, *_consumer, t); }),
                "cannot send offsets to the transaction")) {
            return commit_outcome::must_abort;
        }
        if (ends(retrying("commit_transaction", [&](auto t) { return _producer->commit_transaction(t); }),
                "cannot commit the transaction")) {
            return commit_outcome::must_abort;
        }
        check_delivery();
        _transaction_open = false;
        if (_settings->commit_offsets_after_transaction) {
            commit_offsets_after_transaction(offsets);
        }
        return commit_outcome::committed;
    }
    auto err = _producer->flush(timeout);
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT && !failed) {
        // No broker took the records in time (an outage): the offsets wait
        // for them, the records stay buffered (no message timeout under
        // at-least-once, docs/adr/0015) and processing goes on until the
        // producer's queue is full.
        bump(_counters->commits_postponed);
        logger()->warn("commit postponed, the producer could not deliver thread={} final={} outstanding={} "
                       "broker_unreachable={}",
            _name, final, _producer->outstanding(), _watch->unreachable());
        return commit_outcome::postponed;
    }
    // The records the broker refused go to the production handler; what it
    // dead-letters is flushed before the offsets go.
    for (;;) {
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw kafka_error(err, fmt::format("cannot flush the producer before committing: {} records outstanding",
                                       _producer->outstanding()));
        }
        if (_refused.empty()) {
            break;
        }
        handle_refused();
        err = _producer->flush(timeout);
    }
    check_delivery();
    if (auto err = _consumer->commit(offsets); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // Stays uncommitted: the next commit (at the latest the one before
        // the partitions are revoked) tries these offsets again. If none
        // succeeds, the next owner processes the records again:
        // at-least-once allows that.
        logger()->warn("offset commit failed thread={} final={} error={}", _name, final, rd_kafka_err2str(err));
        return commit_outcome::postponed;
    }
    return commit_outcome::committed;
}

void kafka_record_collector::commit_offsets_after_transaction(const partition_offsets& offsets) {
    _offsets_after_transaction_pending = false;
    if (auto err = _consumer->commit(offsets); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        _offsets_after_transaction_pending = true;
        logger()->warn("offset commit after the transaction failed thread={} error={}", _name, rd_kafka_err2str(err));
    }
}

void kafka_record_collector::abort_transaction() {
    if (_transaction_open) {
        if (auto e = retrying("abort_transaction", [&](auto t) { return _producer->abort_transaction(t); })) {
            throw_client_error(*e, "cannot abort the transaction");
        }
        _transaction_open = false;
        bump(_counters->aborted_transactions);
    }
    _delivery_error.reset();
}

void kafka_record_collector::abort_after_loss() {
    if (!_settings->exactly_once || !_transaction_open) {
        return;
    }
    // Again while retriable: the next transaction cannot begin before this
    // one is aborted.
    if (auto e = retrying("abort_transaction", [&](auto t) { return _producer->abort_transaction(t); })) {
        logger()->error("abort after a lost assignment failed thread={} error={}", _name, e->message);
    }
    _transaction_open = false;
}

} // namespace eddy::runtime::internal
