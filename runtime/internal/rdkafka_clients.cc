#include "runtime/internal/rdkafka_clients.h"

#include <array>
#include <cstring>
#include <exception>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/internal/client_config.h"
#include "runtime/internal/log.h"
#include "runtime/kafka_error.h"

namespace eddy::runtime::internal {

namespace {

using clock = std::chrono::steady_clock;

class system_clock final : public thread_clock {
public:
    clock::time_point now() const override { return clock::now(); }
    std::int64_t wall_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

int as_ms(std::chrono::milliseconds d) {
    return static_cast<int>(d.count());
}

std::optional<client_error> take_error(rd_kafka_error_t* e) {
    if (e == nullptr) {
        return std::nullopt;
    }
    const error_ptr owned(e);
    return client_error{rd_kafka_error_code(e), rd_kafka_error_string(e), rd_kafka_error_is_retriable(e) != 0,
        rd_kafka_error_is_fatal(e) != 0, rd_kafka_error_txn_requires_abort(e) != 0};
}

std::vector<topic_partition> partitions_of(const rd_kafka_topic_partition_list_t* list) {
    std::vector<topic_partition> out;
    out.reserve(static_cast<std::size_t>(list->cnt));
    for (int i = 0; i < list->cnt; ++i) {
        out.emplace_back(list->elems[i].topic, list->elems[i].partition);
    }
    return out;
}

// A librdkafka message as a client_record.
class message_view final : public client_record {
public:
    explicit message_view(const rd_kafka_message_t* m) : _m(m) {}
    const void* topic_key() const noexcept override { return _m->rkt; }
    std::string_view topic() const override { return rd_kafka_topic_name(_m->rkt); }
    std::int32_t partition() const noexcept override { return _m->partition; }
    std::int64_t offset() const noexcept override { return _m->offset; }
    std::int64_t timestamp() const noexcept override { return rd_kafka_message_timestamp(_m, nullptr); }
    std::optional<std::string_view> key() const noexcept override { return bytes(_m->key, _m->key_len); }
    std::optional<std::string_view> value() const noexcept override { return bytes(_m->payload, _m->len); }
    eddy::headers headers() const override {
        eddy::headers out;
        read_headers(_m, out);
        return out;
    }
    void read(raw_record& into) const override { read_message(_m, into); }

private:
    static std::optional<std::string_view> bytes(const void* data, std::size_t size) noexcept {
        if (data == nullptr) {
            return std::nullopt;
        }
        return std::string_view(static_cast<const char*>(data), size);
    }

    const rd_kafka_message_t* _m;
};

// The statistics' brokers: whether one is UP. (None UP does not mean none
// answers: librdkafka connects only to the brokers it needs.)
bool a_broker_is_up(const nlohmann::json& stats) {
    if (!stats.contains("brokers")) {
        return false;
    }
    for (const auto& [name, b] : stats["brokers"].items()) {
        if (b.value("state", "") == "UP") {
            return true;
        }
    }
    return false;
}

// librdkafka's error callback, for both clients: _ALL_BROKERS_DOWN says no
// broker answers; transport errors come by the dozen during an outage and
// say nothing more.
void report_client_error(client_events* events, rd_kafka_t* rk, int err, const char* reason,
    const std::string& thread_name) {
    const char* client = rd_kafka_type(rk) == RD_KAFKA_PRODUCER ? "producer" : "consumer";
    const auto code = static_cast<rd_kafka_resp_err_t>(err);
    if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        if (events != nullptr) {
            events->on_broker_down(client, reason);
        }
    } else if (code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__RESOLVE) {
        logger()->debug("client error thread={} client={} error={} reason=\"{}\"", thread_name, client,
            rd_kafka_err2name(code), reason);
    } else {
        logger()->warn("client error thread={} client={} error={} reason=\"{}\"", thread_name, client,
            rd_kafka_err2name(code), reason);
    }
}

class rdkafka_consumer final : public consumer_client {
public:
    rdkafka_consumer(const std::map<std::string, std::string>& settings, bool batch, std::string thread_name)
        : _name(std::move(thread_name)) {
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set_opaque(conf, this);
        rd_kafka_conf_set_rebalance_cb(conf, &rdkafka_consumer::on_rebalance);
        rd_kafka_conf_set_stats_cb(conf, &rdkafka_consumer::on_statistics);
        rd_kafka_conf_set_error_cb(conf, &rdkafka_consumer::on_error);
        _rk.reset(make_client(RD_KAFKA_CONSUMER, settings, conf));
        rd_kafka_poll_set_consumer(_rk.get());
        if (batch) {
            _queue.reset(rd_kafka_queue_get_consumer(_rk.get()));
            _batch.resize(512);
        }
    }

    rd_kafka_t* handle() const noexcept { return _rk.get(); }

    void set_listener(consumer_listener& records, client_events& events) override {
        _listener = &records;
        _events = &events;
    }

    void subscribe(const std::set<std::string>& topics) override {
        partition_list subscription;
        for (const auto& t : topics) {
            subscription.add(t, RD_KAFKA_PARTITION_UA, RD_KAFKA_OFFSET_INVALID);
        }
        if (auto err = rd_kafka_subscribe(_rk.get(), subscription.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw kafka_error(err, fmt::format("cannot subscribe: {}", rd_kafka_err2str(err)));
        }
    }

    void poll(std::chrono::milliseconds timeout, bool deliver) override {
        // Blocks for the first record (or the timeout), then, when batching,
        // takes whatever else is already fetched without waiting: a batch
        // never holds a record back to fill itself.
        message_ptr first(rd_kafka_consumer_poll(_rk.get(), as_ms(timeout)));
        if (_callback_error) {
            std::rethrow_exception(std::exchange(_callback_error, nullptr));
        }
        if (first == nullptr) {
            return;
        }
        // Owned until handled: librdkafka cannot destroy a consumer while a
        // message of its lives, so an exception must not leak one.
        _fetched.clear();
        _fetched.push_back(std::move(first));
        if (_queue != nullptr) {
            const auto n = rd_kafka_consume_batch_queue(_queue.get(), 0, _batch.data(), _batch.size());
            for (ssize_t i = 0; i < n; ++i) {
                _fetched.emplace_back(_batch[static_cast<std::size_t>(i)]);
            }
        }
        try {
            for (const auto& m : _fetched) {
                handle(m.get(), deliver);
            }
        } catch (...) {
            _fetched.clear();
            throw;
        }
        _fetched.clear();
    }

    void pause(const std::vector<topic_partition>& partitions) override {
        partition_list pl;
        for (const auto& [topic, partition] : partitions) {
            pl.add(topic, partition, RD_KAFKA_OFFSET_INVALID);
        }
        rd_kafka_pause_partitions(_rk.get(), pl.get());
    }

    void resume(const std::vector<topic_partition>& partitions) override {
        // A batch-consuming thread never pauses, and must not resume (see
        // make_rdkafka_consumer).
        if (_queue != nullptr) {
            return;
        }
        partition_list pl;
        for (const auto& [topic, partition] : partitions) {
            pl.add(topic, partition, RD_KAFKA_OFFSET_INVALID);
        }
        rd_kafka_resume_partitions(_rk.get(), pl.get());
    }

    rd_kafka_resp_err_t commit(const partition_offsets& offsets) override {
        if (offsets.empty()) {
            return RD_KAFKA_RESP_ERR_NO_ERROR;
        }
        partition_list pl(offsets);
        return rd_kafka_commit(_rk.get(), pl.get(), 0);
    }

    rd_kafka_resp_err_t committed(partition_offsets& offsets, std::chrono::milliseconds timeout) override {
        partition_list pl;
        for (const auto& [tp, offset] : offsets) {
            pl.add(tp.first, tp.second, RD_KAFKA_OFFSET_INVALID);
        }
        auto err = rd_kafka_committed(_rk.get(), pl.get(), as_ms(timeout));
        for (int i = 0; i < pl.size(); ++i) {
            const auto& e = pl.get()->elems[i];
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                err = e.err;
            }
            offsets[{e.topic, e.partition}] = e.offset;
        }
        return err;
    }

    void seek(const partition_offsets& offsets, std::chrono::milliseconds timeout) override {
        partition_list pl(offsets);
        if (auto* e = rd_kafka_seek_partitions(_rk.get(), pl.get(), as_ms(timeout))) {
            auto error = take_error(e);
            throw kafka_error(error->code, "cannot rewind after an aborted transaction: " + error->message)
                .set_retriable(error->retriable);
        }
    }

    void close() override { rd_kafka_consumer_close(_rk.get()); }

private:
    void handle(const rd_kafka_message_t* m, bool deliver) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (deliver) {
                _listener->on_record(message_view(m));
            }
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            std::string what = rd_kafka_message_errstr(m);
            // An unknown topic is not fatal: a topic just created may not be
            // in every broker's metadata yet.
            if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
                throw kafka_error(m->err, fmt::format("consumer failed: {}", what));
            }
            logger()->warn("consumer error thread={} error={}", _name, what);
        }
    }

    static void on_rebalance(
        rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
        auto* me = static_cast<rdkafka_consumer*>(opaque);
        // Nothing may throw through librdkafka: the error waits for poll().
        try {
            me->rebalance(rk, err, parts);
        } catch (...) {
            me->_callback_error = std::current_exception();
            rd_kafka_assign(rk, nullptr);
        }
    }

    void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
        const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
            _listener->on_assigned(partitions_of(parts));
            if (cooperative) {
                if (auto e = take_error(rd_kafka_incremental_assign(rk, parts))) {
                    logger()->error("incremental assign failed thread={} error={}", _name, e->message);
                }
            } else {
                rd_kafka_assign(rk, parts);
            }
        } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
            _listener->on_revoked(partitions_of(parts), rd_kafka_assignment_lost(rk) != 0);
            if (cooperative) {
                take_error(rd_kafka_incremental_unassign(rk, parts));
            } else {
                rd_kafka_assign(rk, nullptr);
            }
        } else {
            logger()->error("rebalance failed thread={} error={}", _name, rd_kafka_err2str(err));
            rd_kafka_assign(rk, nullptr);
        }
    }

    static int on_statistics(rd_kafka_t*, char* json, std::size_t json_len, void* opaque) {
        auto* me = static_cast<rdkafka_consumer*>(opaque);
        try {
            auto stats = nlohmann::json::parse(json, json + json_len);
            if (me->_events == nullptr) {
                return 0;
            }
            if (a_broker_is_up(stats)) {
                me->_events->on_broker_up("consumer");
            }
            std::map<std::string, std::int64_t> lag;
            if (stats.contains("topics")) {
                for (const auto& [topic, t] : stats["topics"].items()) {
                    for (const auto& [p, part] : t["partitions"].items()) {
                        if (p == "-1" || !part.contains("consumer_lag")) {
                            continue;
                        }
                        auto value = part["consumer_lag"].get<std::int64_t>();
                        if (value >= 0) {
                            lag[topic + "-" + p] = value;
                        }
                    }
                }
            }
            me->_events->on_lag(std::move(lag));
        } catch (const std::exception& e) {
            logger()->debug("statistics not parsed thread={} error={}", me->_name, e.what());
        }
        return 0;
    }

    static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
        auto* me = static_cast<rdkafka_consumer*>(opaque);
        report_client_error(me->_events, rk, err, reason, me->_name);
    }

    std::string _name;
    client_ptr _rk;
    // Declared after the client: they go first.
    queue_ptr _queue;
    std::vector<rd_kafka_message_t*> _batch;
    std::vector<message_ptr> _fetched;
    consumer_listener* _listener = nullptr;
    client_events* _events = nullptr;
    // An exception caught in a librdkafka callback, rethrown by poll().
    std::exception_ptr _callback_error;
};

// The partitioner's reading of a send_tag (the message's opaque).
constexpr std::array<send_tag, 4> tags{
    send_tag::plain, send_tag::changelog, send_tag::time_windowed, send_tag::session_windowed};

class rdkafka_producer final : public producer_client {
public:
    rdkafka_producer(std::map<std::string, std::string> settings, std::string thread_name)
        : _name(std::move(thread_name)) {
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set_opaque(conf, this);
        if (auto p = settings.find("partitioner"); p == settings.end() || p->second == "murmur2_random") {
            if (p != settings.end()) {
                settings.erase(p);
            }
            rd_kafka_topic_conf_t* tconf = rd_kafka_topic_conf_new();
            rd_kafka_topic_conf_set_partitioner_cb(tconf, &rdkafka_producer::partition);
            rd_kafka_conf_set_default_topic_conf(conf, tconf);
        }
        rd_kafka_conf_set_dr_msg_cb(conf, &rdkafka_producer::on_delivery);
        rd_kafka_conf_set_error_cb(conf, &rdkafka_producer::on_error);
        rd_kafka_conf_set_stats_cb(conf, &rdkafka_producer::on_statistics);
        _rk.reset(make_client(RD_KAFKA_PRODUCER, settings, conf));
    }

    void set_listener(producer_listener& deliveries, client_events& events) override {
        _listener = &deliveries;
        _events = &events;
    }

    rd_kafka_resp_err_t produce(const raw_record& r, send_tag tag) override {
        rdkafka_ptr<rd_kafka_headers_t> hdrs;
        if (!r.headers.empty()) {
            hdrs.reset(rd_kafka_headers_new(r.headers.size()));
            for (const auto& h : r.headers) {
                rd_kafka_header_add(hdrs.get(), h.key.data(), static_cast<ssize_t>(h.key.size()),
                    h.value ? h.value->data() : nullptr, h.value ? static_cast<ssize_t>(h.value->size()) : 0);
            }
        }
        const std::int32_t partition = r.partition < 0 ? RD_KAFKA_PARTITION_UA : r.partition;
        // The librdkafka macros cast their arguments without parentheses.
        const char* key = r.key ? r.key->data() : nullptr;
        const std::size_t key_size = r.key ? r.key->size() : 0;
        // RD_KAFKA_V_VALUE wants a void*; with RD_KAFKA_MSG_F_COPY the bytes
        // are only read.
        char* value = r.value ? const_cast<char*>(r.value->data()) : nullptr;
        const std::size_t value_size = r.value ? r.value->size() : 0;
        void* opaque = const_cast<send_tag*>(&tags[static_cast<std::size_t>(tag)]);
        rd_kafka_headers_t* headers = hdrs.get();
        auto err = rd_kafka_producev(_rk.get(), RD_KAFKA_V_TOPIC(r.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_KEY(key, key_size),
            RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_TIMESTAMP(r.timestamp), RD_KAFKA_V_HEADERS(headers),
            RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            // The message owns its headers now.
            static_cast<void>(hdrs.release());
        }
        return err;
    }

    void poll(std::chrono::milliseconds timeout) override { rd_kafka_poll(_rk.get(), as_ms(timeout)); }

    rd_kafka_resp_err_t flush(std::chrono::milliseconds timeout) override {
        return rd_kafka_flush(_rk.get(), as_ms(timeout));
    }

    std::int64_t outstanding() const override { return rd_kafka_outq_len(_rk.get()); }

    void warm_up(const std::set<std::string>& topics) override {
        for (const auto& name : topics) {
            const rdkafka_ptr<rd_kafka_topic_t> rkt(rd_kafka_topic_new(_rk.get(), name.c_str(), nullptr));
            const rd_kafka_metadata_t* md = nullptr;
            if (rd_kafka_metadata(_rk.get(), 0, rkt.get(), &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                const metadata_ptr owned(md);
            }
        }
    }

    std::optional<client_error> init_transactions(std::chrono::milliseconds timeout) override {
        return take_error(rd_kafka_init_transactions(_rk.get(), as_ms(timeout)));
    }

    std::optional<client_error> begin_transaction() override {
        return take_error(rd_kafka_begin_transaction(_rk.get()));
    }

    std::optional<client_error> send_offsets_to_transaction(
        const partition_offsets& offsets, consumer_client& consumer, std::chrono::milliseconds timeout) override {
        partition_list pl(offsets);
        const rdkafka_ptr<rd_kafka_consumer_group_metadata_t> group(
            rd_kafka_consumer_group_metadata(dynamic_cast<rdkafka_consumer&>(consumer).handle()));
        return take_error(rd_kafka_send_offsets_to_transaction(_rk.get(), pl.get(), group.get(), as_ms(timeout)));
    }

    std::optional<client_error> commit_transaction(std::chrono::milliseconds timeout) override {
        return take_error(rd_kafka_commit_transaction(_rk.get(), as_ms(timeout)));
    }

    std::optional<client_error> abort_transaction(std::chrono::milliseconds timeout) override {
        return take_error(rd_kafka_abort_transaction(_rk.get(), as_ms(timeout)));
    }

private:
    static send_tag tag_of(const void* opaque) {
        return opaque == nullptr ? send_tag::plain : *static_cast<const send_tag*>(opaque);
    }

    // murmur2 of the key as Java's default (a record without a key: a random
    // partition), of the plain key for a windowed one, as Kafka Streams'
    // WindowedStreamPartitioner.
    static std::int32_t partition(const rd_kafka_topic_t* rkt, const void* key, std::size_t key_size,
        std::int32_t partition_count, void* topic_opaque, void* message_opaque) {
        std::size_t window_bytes = 0;
        if (const auto tag = tag_of(message_opaque); tag == send_tag::time_windowed) {
            window_bytes = 8;
        } else if (tag == send_tag::session_windowed) {
            window_bytes = 16;
        }
        if (key != nullptr && key_size >= window_bytes) {
            key_size -= window_bytes;
        }
        return rd_kafka_msg_partitioner_murmur2_random(
            rkt, key, key_size, partition_count, topic_opaque, message_opaque);
    }

    static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
        auto* me = static_cast<rdkafka_producer*>(opaque);
        const message_view record(m);
        me->_listener->on_delivery(delivery_report{record, m->err, tag_of(m->_private), m->key_len + m->len});
    }

    static int on_statistics(rd_kafka_t*, char* json, std::size_t json_len, void* opaque) {
        auto* me = static_cast<rdkafka_producer*>(opaque);
        try {
            if (me->_events != nullptr && a_broker_is_up(nlohmann::json::parse(json, json + json_len))) {
                me->_events->on_broker_up("producer");
            }
        } catch (const std::exception& e) {
            logger()->debug("statistics not parsed thread={} error={}", me->_name, e.what());
        }
        return 0;
    }

    static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
        auto* me = static_cast<rdkafka_producer*>(opaque);
        report_client_error(me->_events, rk, err, reason, me->_name);
    }

    std::string _name;
    client_ptr _rk;
    producer_listener* _listener = nullptr;
    client_events* _events = nullptr;
};

} // namespace

const thread_clock& thread_clock::system() {
    static const system_clock clock;
    return clock;
}

void read_message(const rd_kafka_message_t* m, raw_record& r) {
    const char* topic = rd_kafka_topic_name(m->rkt);
    if (r.topic != topic) {
        r.topic.assign(topic);
    }
    r.partition = m->partition;
    r.offset = m->offset;
    rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    r.timestamp = rd_kafka_message_timestamp(m, &type);
    auto assign = [](std::optional<std::string>& to, const void* bytes, std::size_t size) {
        if (bytes == nullptr) {
            to.reset();
        } else if (to) {
            to->assign(static_cast<const char*>(bytes), size);
        } else {
            to.emplace(static_cast<const char*>(bytes), size);
        }
    };
    assign(r.key, m->key, m->key_len);
    assign(r.value, m->payload, m->len);
    r.headers = {};
    read_headers(m, r.headers);
}

void read_headers(const rd_kafka_message_t* m, eddy::headers& into) {
    // Returns NOENT without allocating when the message has no headers.
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        for (std::size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
            into.add(name,
                value == nullptr ? std::nullopt
                                 : std::optional<std::string>(std::string(static_cast<const char*>(value), size)));
        }
    }
}

std::unique_ptr<consumer_client> make_rdkafka_consumer(
    const std::map<std::string, std::string>& settings, bool batch, std::string thread_name) {
    return std::make_unique<rdkafka_consumer>(settings, batch, std::move(thread_name));
}

std::unique_ptr<producer_client> make_rdkafka_producer(
    std::map<std::string, std::string> settings, std::string thread_name) {
    return std::make_unique<rdkafka_producer>(std::move(settings), std::move(thread_name));
}

} // namespace eddy::runtime::internal
