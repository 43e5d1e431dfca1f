#include "runtime/internal/changelog_reader.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "core/window.h"
#include "runtime/internal/log.h"
#include "runtime/internal/rdkafka_clients.h"
#include "runtime/kafka_error.h"
#include "statestore/internal/bytes_store.h"

namespace eddy::runtime::internal {

namespace {

using clock = std::chrono::steady_clock;

// Updates written into a store at once.
constexpr std::size_t batch_size = 10'000;
// A read that gets no record and no end of partition for this long has
// lost its broker.
constexpr auto stall_limit = std::chrono::seconds(60);

struct pending {
    const changelog_range* range;
    std::int64_t restored = 0;
    bool done = false;
    // The consumed records of the batch, owned until it is written.
    std::vector<message_ptr> messages;
    std::vector<statestore::internal::bytes_update> batch;
    std::vector<std::unique_ptr<std::string>> stamped;
};

// Reads until every range is done; the consumer is assigned.
void read_assigned(rd_kafka_t* consumer, std::vector<pending>& work, const changelog_read_events& events,
    const std::string& what) {
    auto flush = [&](pending& p, std::int64_t last_offset) {
        if (p.batch.empty()) {
            return;
        }
        p.range->store->engine().write_batch(p.batch);
        p.restored += static_cast<std::int64_t>(p.batch.size());
        p.batch.clear();
        p.messages.clear();
        p.stamped.clear();
        if (events.on_batch) {
            events.on_batch(*p.range, last_offset, p.restored);
        }
    };
    std::size_t remaining = work.size();
    auto finish = [&](pending& p, std::int64_t up_to) {
        p.done = true;
        --remaining;
        if (events.on_end) {
            events.on_end(*p.range, up_to, p.restored);
        }
    };
    auto last_progress = clock::now();
    while (remaining > 0) {
        message_ptr m(rd_kafka_consumer_poll(consumer, 200));
        const auto now = clock::now();
        if (m == nullptr) {
            if (now - last_progress > stall_limit) {
                throw kafka_error(RD_KAFKA_RESP_ERR__TIMED_OUT,
                    fmt::format("{} made no progress for {} s", what,
                        std::chrono::duration_cast<std::chrono::seconds>(stall_limit).count()));
            }
            continue;
        }
        pending* p = nullptr;
        if (m->rkt != nullptr) {
            const std::string_view topic = rd_kafka_topic_name(m->rkt);
            for (auto& w : work) {
                if (!w.done && w.range->partition == m->partition && w.range->topic == topic) {
                    p = &w;
                    break;
                }
            }
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (p != nullptr) {
                flush(*p, m->offset - 1);
                finish(*p, m->offset);
            }
            last_progress = now;
            continue;
        }
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            std::string error = rd_kafka_message_errstr(m.get());
            if (m->err == RD_KAFKA_RESP_ERR__FATAL || m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
                throw kafka_error(m->err, fmt::format("{} failed: {}", what, error));
            }
            logger()->warn("changelog consumer error while {} error={}", what, error);
            continue;
        }
        if (p == nullptr || m->offset >= p->range->end) {
            continue;
        }
        last_progress = now;
        std::string_view key = m->key != nullptr ? std::string_view(static_cast<const char*>(m->key), m->key_len)
                                                 : std::string_view();
        std::optional<std::string_view> value;
        if (m->payload != nullptr) {
            value.emplace(static_cast<const char*>(m->payload), m->len);
        }
        if (value && p->range->stamp_timestamps) {
            auto& stamped = *p->stamped.emplace_back(std::make_unique<std::string>());
            serdes::internal::put_int64(stamped, rd_kafka_message_timestamp(m.get(), nullptr));
            stamped += *value;
            value = stamped;
        }
        p->batch.emplace_back(key, value);
        const auto offset = m->offset;
        p->messages.push_back(std::move(m));
        if (p->batch.size() >= batch_size) {
            flush(*p, offset);
        }
        if (offset + 1 >= p->range->end) {
            // Up to the end asked for (a source topic's committed offset, or
            // the high watermark read at the start).
            flush(*p, offset);
            finish(*p, offset + 1);
        }
    }
}

} // namespace

void read_changelogs(rd_kafka_t* consumer, const std::vector<changelog_range>& ranges,
    const changelog_read_events& events, const std::string& what) {
    if (ranges.empty()) {
        return;
    }
    std::vector<pending> work;
    work.reserve(ranges.size());
    partition_list assignment;
    for (const auto& range : ranges) {
        work.push_back({&range, 0, false, {}, {}, {}});
        assignment.add(range.topic, range.partition, range.start);
    }
    if (auto err = rd_kafka_assign(consumer, assignment.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw kafka_error(err, fmt::format("{}: cannot assign the partitions: {}", what, rd_kafka_err2str(err)));
    }
    try {
        read_assigned(consumer, work, events, what);
    } catch (...) {
        rd_kafka_assign(consumer, nullptr);
        throw;
    }
    rd_kafka_assign(consumer, nullptr);
}

} // namespace eddy::runtime::internal
