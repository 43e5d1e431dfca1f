#pragma once

// Fake Kafka clients for the stream thread's unit tests (Kafka Streams'
// MockConsumer and MockProducer are the model): one in-memory cluster of
// topic partitions, a consumer whose group assignment the test decides and
// which fetches what the partitions hold, a producer that appends to them
// (transactions marked committed or aborted), and a clock turned by hand.
// Everything runs on the test's thread, inside the calls the stream thread
// makes: no broker, no sleeps.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/internal/kafka_clients.h"

namespace eddy::test {

using runtime::internal::client_error;
using runtime::internal::client_record;
using runtime::internal::partition_offsets;
using runtime::internal::send_tag;
using runtime::internal::topic_partition;

class manual_clock final : public runtime::internal::thread_clock {
public:
    std::chrono::steady_clock::time_point now() const override { return _now; }
    std::int64_t wall_ms() const override { return _wall_ms; }
    void advance(std::chrono::milliseconds by) {
        _now += by;
        _wall_ms += by.count();
    }

private:
    std::chrono::steady_clock::time_point _now{std::chrono::hours(1)};
    std::int64_t _wall_ms = 1'700'000'000'000;
};

// A record in a fake partition; `transaction` says whether a transaction
// wrote it and how that ended.
struct fake_record {
    raw_record record;
    enum class state { plain, open, committed, aborted } transaction = state::plain;
};

class fake_cluster {
public:
    // Appends a record to an input partition; returns its offset.
    std::int64_t append(const std::string& topic, std::int32_t partition, std::string key, std::string value,
        std::int64_t timestamp) {
        raw_record r;
        r.topic = topic;
        r.partition = partition;
        r.key = std::move(key);
        r.value = std::move(value);
        r.timestamp = timestamp;
        return append(std::move(r), fake_record::state::plain);
    }
    std::int64_t append(raw_record r, fake_record::state transaction) {
        auto& log = _logs[{r.topic, r.partition}];
        r.offset = static_cast<std::int64_t>(log.size());
        topic_key(r.topic);
        log.push_back({std::move(r), transaction});
        return log.back().record.offset;
    }
    std::vector<fake_record>& log(const std::string& topic, std::int32_t partition) {
        return _logs[{topic, partition}];
    }
    // What a read_committed consumer reads of a partition: its values.
    std::vector<std::string> committed_values(const std::string& topic, std::int32_t partition = 0) {
        std::vector<std::string> out;
        for (const auto& r : log(topic, partition)) {
            if (r.transaction == fake_record::state::plain || r.transaction == fake_record::state::committed) {
                out.push_back(r.record.value.value_or("<null>"));
            }
        }
        return out;
    }
    // Every value written, aborted ones too (read_uncommitted).
    std::vector<std::string> all_values(const std::string& topic, std::int32_t partition = 0) {
        std::vector<std::string> out;
        for (const auto& r : log(topic, partition)) {
            out.push_back(r.record.value.value_or("<null>"));
        }
        return out;
    }
    // A stable address per topic (client_record::topic_key()).
    const void* topic_key(const std::string& topic) { return &*_topics.insert(topic).first; }

    // The group's committed offsets.
    partition_offsets committed;
    // Commits through the consumer (not through a transaction).
    int consumer_commits = 0;
    // Consumers that left the group (close()).
    int consumers_closed = 0;
    // Fetched records copied out of the consumer (client_record::read).
    int records_copied = 0;

private:
    std::map<topic_partition, std::vector<fake_record>> _logs;
    std::set<std::string> _topics;
};

class fake_client_record final : public client_record {
public:
    fake_client_record(const raw_record& r, const void* key, int* copies = nullptr)
        : _r(&r), _key(key), _copies(copies) {}
    const void* topic_key() const noexcept override { return _key; }
    std::string_view topic() const override { return _r->topic; }
    std::int32_t partition() const noexcept override { return _r->partition; }
    std::int64_t offset() const noexcept override { return _r->offset; }
    std::int64_t timestamp() const noexcept override { return _r->timestamp; }
    std::optional<std::string_view> key() const noexcept override { return view(_r->key); }
    std::optional<std::string_view> value() const noexcept override { return view(_r->value); }
    eddy::headers headers() const override { return _r->headers; }
    void read(raw_record& into) const override {
        if (_copies != nullptr) {
            ++*_copies;
        }
        into = *_r;
    }

private:
    static std::optional<std::string_view> view(const std::optional<std::string>& bytes) {
        return bytes ? std::optional<std::string_view>(*bytes) : std::nullopt;
    }

    const raw_record* _r;
    const void* _key;
    int* _copies;
};

class fake_consumer final : public runtime::internal::consumer_client {
public:
    explicit fake_consumer(fake_cluster& cluster) : _cluster(&cluster) {}

    // The group's next decisions, served by the next poll in this order.
    void assign(std::vector<topic_partition> partitions) {
        _rebalances.push_back([this, partitions] {
            _listener->on_assigned(partitions);
            for (const auto& tp : partitions) {
                _assignment.insert(tp);
                auto it = _cluster->committed.find(tp);
                _position[tp] = it == _cluster->committed.end() ? 0 : it->second;
            }
        });
    }
    void revoke(std::vector<topic_partition> partitions, bool lost = false) {
        _rebalances.push_back([this, partitions, lost] {
            _listener->on_revoked(partitions, lost);
            for (const auto& tp : partitions) {
                _assignment.erase(tp);
                _paused.erase(tp);
            }
        });
    }

    void set_listener(runtime::internal::consumer_listener& records, runtime::internal::client_events& events) override {
        _listener = &records;
        _events = &events;
    }
    void subscribe(const std::set<std::string>& topics) override { subscribed = topics; }

    void poll(std::chrono::milliseconds, bool deliver) override {
        ++polls;
        while (!_rebalances.empty()) {
            auto next = std::move(_rebalances.front());
            _rebalances.pop_front();
            next();
        }
        // Up to max_fetch records, partition by partition.
        int fetched = 0;
        for (const auto& tp : _assignment) {
            if (_paused.contains(tp)) {
                continue;
            }
            auto& log = _cluster->log(tp.first, tp.second);
            auto& position = _position[tp];
            while (position < static_cast<std::int64_t>(log.size()) && fetched < max_fetch) {
                const auto& r = log[static_cast<std::size_t>(position++)].record;
                ++fetched;
                if (deliver) {
                    _listener->on_record(
                        fake_client_record(r, _cluster->topic_key(r.topic), &_cluster->records_copied));
                }
            }
        }
    }
    void pause(const std::vector<topic_partition>& partitions) override {
        _paused.insert(partitions.begin(), partitions.end());
        ++pauses;
    }
    void resume(const std::vector<topic_partition>& partitions) override {
        for (const auto& tp : partitions) {
            _paused.erase(tp);
        }
    }
    rd_kafka_resp_err_t commit(const partition_offsets& offsets) override {
        if (fail_commits) {
            return RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS;
        }
        for (const auto& [tp, offset] : offsets) {
            _cluster->committed[tp] = offset;
        }
        ++_cluster->consumer_commits;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    rd_kafka_resp_err_t committed(partition_offsets& offsets, std::chrono::milliseconds) override {
        for (auto& [tp, offset] : offsets) {
            auto it = _cluster->committed.find(tp);
            offset = it == _cluster->committed.end() ? RD_KAFKA_OFFSET_INVALID : it->second;
        }
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    void seek(const partition_offsets& offsets, std::chrono::milliseconds) override {
        for (const auto& [tp, offset] : offsets) {
            _position[tp] = offset == RD_KAFKA_OFFSET_BEGINNING ? 0 : offset;
            seeks.push_back({tp, _position[tp]});
        }
    }
    void close() override {
        if (!_assignment.empty()) {
            _listener->on_revoked({_assignment.begin(), _assignment.end()}, false);
            _assignment.clear();
        }
        ++_cluster->consumers_closed;
    }

    bool paused(const topic_partition& tp) const { return _paused.contains(tp); }
    std::int64_t position(const topic_partition& tp) { return _position[tp]; }

    std::set<std::string> subscribed;
    int max_fetch = 1000;
    int polls = 0;
    int pauses = 0;
    bool fail_commits = false;
    std::vector<std::pair<topic_partition, std::int64_t>> seeks;

private:
    fake_cluster* _cluster;
    runtime::internal::consumer_listener* _listener = nullptr;
    runtime::internal::client_events* _events = nullptr;
    std::deque<std::function<void()>> _rebalances;
    std::set<topic_partition> _assignment;
    std::set<topic_partition> _paused;
    std::map<topic_partition, std::int64_t> _position;
};

class fake_producer final : public runtime::internal::producer_client {
public:
    explicit fake_producer(fake_cluster& cluster) : _cluster(&cluster) {}

    void set_listener(runtime::internal::producer_listener& deliveries, runtime::internal::client_events& events) override {
        _listener = &deliveries;
        _events = &events;
    }
    rd_kafka_resp_err_t produce(const raw_record& r, send_tag tag) override {
        if (static_cast<int>(_queue.size()) >= queue_capacity) {
            return RD_KAFKA_RESP_ERR__QUEUE_FULL;
        }
        _queue.push_back({r, tag, _transaction_open});
        if (_queue.back().record.partition < 0) {
            _queue.back().record.partition = 0;
        }
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    void poll(std::chrono::milliseconds) override { deliver(); }
    rd_kafka_resp_err_t flush(std::chrono::milliseconds) override {
        if (unreachable) {
            return _queue.empty() ? RD_KAFKA_RESP_ERR_NO_ERROR : RD_KAFKA_RESP_ERR__TIMED_OUT;
        }
        deliver();
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    std::int64_t outstanding() const override { return static_cast<std::int64_t>(_queue.size()); }
    void warm_up(const std::set<std::string>& topics) override { warmed_up = topics; }

    std::optional<client_error> init_transactions(std::chrono::milliseconds) override {
        ++transactions_initialised;
        return std::nullopt;
    }
    std::optional<client_error> begin_transaction() override {
        if (_transaction_open) {
            return client_error{RD_KAFKA_RESP_ERR__STATE, "a transaction is open already"};
        }
        _transaction_open = true;
        return std::nullopt;
    }
    std::optional<client_error> send_offsets_to_transaction(
        const partition_offsets& offsets, runtime::internal::consumer_client&, std::chrono::milliseconds) override {
        if (!_transaction_open) {
            return client_error{RD_KAFKA_RESP_ERR__STATE, "no open transaction"};
        }
        for (const auto& [tp, offset] : offsets) {
            _transaction_offsets[tp] = offset;
        }
        return std::nullopt;
    }
    std::optional<client_error> commit_transaction(std::chrono::milliseconds) override {
        if (!_transaction_open) {
            return client_error{RD_KAFKA_RESP_ERR__STATE, "no open transaction"};
        }
        if (retriable_commit_failures > 0) {
            --retriable_commit_failures;
            return client_error{RD_KAFKA_RESP_ERR__TIMED_OUT, "commit timed out", true};
        }
        deliver();
        if (abort_next_commit) {
            abort_next_commit = false;
            return client_error{RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, "fenced in the test", false, false, true};
        }
        end_transaction(fake_record::state::committed);
        for (const auto& [tp, offset] : _transaction_offsets) {
            _cluster->committed[tp] = offset;
        }
        _transaction_offsets.clear();
        ++transactions_committed;
        return std::nullopt;
    }
    std::optional<client_error> abort_transaction(std::chrono::milliseconds) override {
        // librdkafka purges what was not sent yet.
        std::erase_if(_queue, [](const auto& q) { return q.in_transaction; });
        end_transaction(fake_record::state::aborted);
        _transaction_offsets.clear();
        ++transactions_aborted;
        return std::nullopt;
    }

    bool transaction_open() const noexcept { return _transaction_open; }

    // Delivery to these topics fails with this error.
    std::map<std::string, rd_kafka_resp_err_t> refuse;
    // flush() times out while records wait.
    bool unreachable = false;
    int queue_capacity = 100'000;
    int retriable_commit_failures = 0;
    bool abort_next_commit = false;
    std::set<std::string> warmed_up;
    int transactions_initialised = 0;
    int transactions_committed = 0;
    int transactions_aborted = 0;

private:
    struct queued {
        raw_record record;
        send_tag tag;
        bool in_transaction;
    };
    void deliver() {
        if (unreachable) {
            return;
        }
        while (!_queue.empty()) {
            auto q = std::move(_queue.front());
            _queue.pop_front();
            const auto bytes = (q.record.key ? q.record.key->size() : 0) + (q.record.value ? q.record.value->size() : 0);
            rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
            if (auto it = refuse.find(q.record.topic); it != refuse.end()) {
                err = it->second;
            } else {
                q.record.offset = _cluster->append(
                    q.record, q.in_transaction ? fake_record::state::open : fake_record::state::plain);
                if (q.in_transaction) {
                    _written_in_transaction.emplace_back(q.record.topic, q.record.partition, q.record.offset);
                }
            }
            fake_client_record view(q.record, _cluster->topic_key(q.record.topic));
            _listener->on_delivery({view, err, q.tag, bytes});
        }
    }
    void end_transaction(fake_record::state how) {
        for (const auto& [topic, partition, offset] : _written_in_transaction) {
            _cluster->log(topic, partition)[static_cast<std::size_t>(offset)].transaction = how;
        }
        _written_in_transaction.clear();
        _transaction_open = false;
    }

    fake_cluster* _cluster;
    runtime::internal::producer_listener* _listener = nullptr;
    runtime::internal::client_events* _events = nullptr;
    std::deque<queued> _queue;
    bool _transaction_open = false;
    partition_offsets _transaction_offsets;
    std::vector<std::tuple<std::string, std::int32_t, std::int64_t>> _written_in_transaction;
};

} // namespace eddy::test
