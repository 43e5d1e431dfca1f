// eddy dlq inspect and eddy dlq replay: a dead-letter topic read from its
// beginning to the end it has when the command starts (inspect --follow
// goes on), its records selected by a dlq_filter, then printed with their
// dead-letter headers decoded, or re-published to where they came from.
//
// Replay keeps a record of what each replay id re-published in a compacted
// topic, <dlq>.replays by default, keyed "<replay id>/<dlq partition>/<dlq
// offset>" and written once the re-published record is delivered. A record
// with an entry there is skipped by a replay with the same id. A crash
// between the delivery and its entry leaves the record without one, so the
// next run with that id re-publishes it again: at least once, never lost
// (docs/adr/0014-dlq-replay-bookkeeping.md).
//
// The reading and printing both share are in tools/dlq_records.cc.

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "runtime/admin.h"
#include "runtime/internal/rdkafka_clients.h"
#include "runtime/streams_config.h"
#include "serde/internal/printable.h"
#include "tools/commands.h"
#include "tools/dlq_filter.h"
#include "tools/dlq_records.h"
#include "tools/kafka_client.h"

namespace eddy::tools {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

// --- replay -----------------------------------------------------------------

void check_replay_id(const std::string& id) {
    const bool legal = !id.empty() && id.size() <= 200 && std::all_of(id.begin(), id.end(), [](char c) {
        return static_cast<unsigned char>(c) > 0x20 && c != 0x7f && c != '/';
    });
    if (!legal) {
        throw tool_error(fmt::format(
            "--replay-id \"{}\": 1 to 200 characters, no '/', space or control character", id));
    }
}

std::string generated_replay_id() {
    const auto now = std::chrono::system_clock::now();
    const std::string t = format_time(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
    // 2026-12-02T07:05:09.123Z -> 20261202T070509Z
    std::string compact;
    for (char c : t.substr(0, 19)) {
        if (c != '-' && c != ':') {
            compact += c;
        }
    }
    std::random_device rd;
    return fmt::format("replay-{}Z-{:04x}", compact, rd() & 0xffff);
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct replay_item;

// A produced message's opaque: which item, and which of its two messages.
struct delivery_tag {
    replay_item* item = nullptr;
    bool bookkeeping = false;
};

struct replay_run {
    // Delivered re-publications whose bookkeeping entry is still to send.
    std::vector<replay_item*> newly_delivered;
};

struct replay_item {
    const dlq_record* record = nullptr;
    std::string target;
    std::int32_t partition = RD_KAFKA_PARTITION_UA;
    replay_run* run = nullptr;
    delivery_tag replay_tag;
    delivery_tag bookkeeping_tag;
    // Results.
    bool delivered = false;
    std::int32_t out_partition = -1;
    std::int64_t out_offset = -1;
    std::string error;
    bool recorded = false;
    std::string record_error;
};

void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* /*client_opaque*/) {
    auto* tag = static_cast<delivery_tag*>(m->_private);
    replay_item* item = tag->item;
    const bool ok = m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (tag->bookkeeping) {
        item->recorded = ok;
        if (!ok) {
            item->record_error = rd_kafka_err2str(m->err);
        }
        return;
    }
    if (!ok) {
        item->error = rd_kafka_err2str(m->err);
        return;
    }
    item->delivered = true;
    item->out_partition = m->partition;
    item->out_offset = m->offset;
    item->run->newly_delivered.push_back(item);
}

// Produces with librdkafka's copy semantics, serving delivery reports while
// the local queue is full. `hs` is owned by librdkafka once this returns
// without throwing.
void produce(kafka_client& producer, const std::string& topic, std::int32_t partition,
    const std::optional<std::string>& key, const std::optional<std::string>& value, std::int64_t timestamp,
    rd_kafka_headers_t* hs, delivery_tag* tag) {
    // A null key or value is no bytes at all (nullptr), not empty ones.
    const void* key_data = key ? static_cast<const void*>(key->data()) : nullptr;
    const std::size_t key_size = key ? key->size() : 0;
    void* value_data = value ? static_cast<void*>(const_cast<char*>(value->data())) : nullptr;
    const std::size_t value_size = value ? value->size() : 0;
    for (;;) {
        auto err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key_data, key_size), RD_KAFKA_V_VALUE(value_data, value_size),
            RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_HEADERS(hs), RD_KAFKA_V_OPAQUE(tag), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            return;
        }
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_headers_destroy(hs);
            throw tool_error(fmt::format("cannot produce to {}: {}", topic, rd_kafka_err2str(err)));
        }
        rd_kafka_poll(producer.get(), 100);
    }
}

rd_kafka_headers_t* replay_headers_of(const dlq_record& r, const std::string& id, const std::string& from,
    std::int64_t time) {
    rd_kafka_headers_t* hs = rd_kafka_headers_new(r.headers.size() + 3);
    for (const auto& h : r.headers) {
        // The original record's headers, less the dead-letter ones and the
        // marks of an earlier replay (this one sets its own).
        if (is_dead_letter_header(h.key) || h.key == replay_headers::id || h.key == replay_headers::replayed_from
            || h.key == replay_headers::time) {
            continue;
        }
        rd_kafka_header_add(hs, h.key.data(), static_cast<ssize_t>(h.key.size()), h.value ? h.value->data() : nullptr,
            h.value ? static_cast<ssize_t>(h.value->size()) : 0);
    }
    const std::string t = std::to_string(time);
    rd_kafka_header_add(hs, replay_headers::id.data(), static_cast<ssize_t>(replay_headers::id.size()), id.data(),
        static_cast<ssize_t>(id.size()));
    rd_kafka_header_add(hs, replay_headers::replayed_from.data(), static_cast<ssize_t>(replay_headers::replayed_from.size()),
        from.data(), static_cast<ssize_t>(from.size()));
    rd_kafka_header_add(hs, replay_headers::time.data(), static_cast<ssize_t>(replay_headers::time.size()), t.data(),
        static_cast<ssize_t>(t.size()));
    return hs;
}

// The DLQ positions `id` re-published already, from the bookkeeping topic.
// An entry's key is "<id>/<partition>/<offset>"; a tombstone forgets it.
std::set<std::pair<std::int32_t, std::int64_t>> already_replayed(const connection_options& connection,
    const std::string& replays_topic, const std::string& id) {
    std::set<std::pair<std::int32_t, std::int64_t>> done;
    const std::string prefix = id + "/";
    read_topic(connection, replays_topic, false, [&](dlq_record&& r) {
        if (!r.key || !r.key->starts_with(prefix)) {
            return true;
        }
        std::string_view rest = std::string_view(*r.key).substr(prefix.size());
        const auto slash = rest.find('/');
        if (slash == std::string_view::npos) {
            return true;
        }
        std::int32_t partition = 0;
        std::int64_t offset = 0;
        try {
            partition = std::stoi(std::string(rest.substr(0, slash)));
            offset = std::stoll(std::string(rest.substr(slash + 1)));
        } catch (const std::exception&) {
            logger()->warn("unreadable replay entry topic={} key={}", replays_topic, *r.key);
            return true;
        }
        if (r.value) {
            done.emplace(partition, offset);
        } else {
            done.erase({partition, offset});
        }
        return true;
    });
    return done;
}

// Creates the compacted bookkeeping topic on a real cluster; the embedded
// broker creates no topic on request, so there it must exist from the start.
void create_replays_topic(const connection_options& connection, kafka_client& client, const std::string& topic) {
    if (auto id = client.cluster_id(); id && id->starts_with("mockCluster")) {
        throw tool_error(fmt::format("the replay bookkeeping topic {} does not exist, and {} is an embedded broker, "
                                     "which creates no topic on request: start it with eddy broker --topic {}",
            topic, connection.bootstrap(), topic));
    }
    streams_config config;
    config.set(streams_config::bootstrap_servers, connection.bootstrap());
    if (!connection.verbose) {
        config.set("admin.log_level", "0");
    }
    for (const auto& [key, value] : connection.settings_map()) {
        config.set("admin." + key, value);
    }
    admin_client admin(config, connection.request_timeout());
    const int replicas = std::clamp(client.broker_count(), 1, 3);
    admin.create_topics({{topic, 1, replicas, {{"cleanup.policy", "compact"}}}});
    const auto deadline = std::chrono::steady_clock::now() + connection.request_timeout();
    while (!client.find_topic(topic)) {
        if (std::chrono::steady_clock::now() >= deadline) {
            throw tool_error(fmt::format("created the replay bookkeeping topic {}, but it is not in the metadata "
                                         "after {} ms",
                topic, connection.request_timeout_ms));
        }
        std::this_thread::sleep_for(100ms);
    }
    fmt::print(stderr, "created the replay bookkeeping topic {} (compacted)\n", topic);
}

// Serves delivery reports and sends the bookkeeping entry of every record
// delivered since the last call.
void serve(kafka_client& producer, replay_run& run, const std::string& dlq, const std::string& replays_topic,
    const std::string& id, int timeout_ms) {
    rd_kafka_poll(producer.get(), timeout_ms);
    while (!run.newly_delivered.empty()) {
        std::vector<replay_item*> delivered;
        delivered.swap(run.newly_delivered);
        for (replay_item* item : delivered) {
            const dlq_record& r = *item->record;
            json entry;
            entry["replay_id"] = id;
            entry["from"] = where(dlq, r.partition, r.offset);
            entry["to"] = where(item->target, item->out_partition, item->out_offset);
            entry["time"] = now_ms();
            const std::optional<std::string> key = fmt::format("{}/{}/{}", id, r.partition, r.offset);
            const std::optional<std::string> value = entry.dump();
            produce(producer, replays_topic, RD_KAFKA_PARTITION_UA, key, value, 0, rd_kafka_headers_new(0),
                &item->bookkeeping_tag);
        }
        rd_kafka_poll(producer.get(), 0);
    }
}

} // namespace

int run_dlq_inspect(const dlq_inspect_options& options) {
    check_topic_name(options.topic);
    const dlq_filter filter = make_filter(options.select);

    const stop_on_signals stop;
    long long read = 0;
    long long shown = 0;
    read_topic(options.connection, options.topic, options.follow, [&](dlq_record&& r) {
        ++read;
        if (!filter.matches(r.partition, r.offset, r.info ? &*r.info : nullptr)) {
            return true;
        }
        fmt::print("{}\n", options.json ? json_line(options.topic, r) : human_line(options.topic, r));
        std::fflush(stdout);
        ++shown;
        return options.select.limit == 0 || shown < options.select.limit;
    });
    logger()->info("dlq inspected topic={} read={} shown={}", options.topic, read, shown);
    return 0;
}

int run_dlq_replay(const dlq_replay_options& options) {
    check_topic_name(options.topic);
    if (options.to) {
        check_topic_name(*options.to);
    }
    const std::string replays_topic = options.replays_topic.empty() ? options.topic + ".replays" : options.replays_topic;
    check_topic_name(replays_topic);
    if (replays_topic == options.topic) {
        throw tool_error(fmt::format("--replays-topic {}: not the dead-letter topic itself", replays_topic));
    }
    if (options.to && (*options.to == options.topic || *options.to == replays_topic)) {
        throw tool_error(fmt::format("--to {}: not the dead-letter topic or its bookkeeping topic", *options.to));
    }
    const dlq_filter filter = make_filter(options.select);
    std::string id;
    if (options.replay_id) {
        check_replay_id(*options.replay_id);
        id = *options.replay_id;
    } else {
        id = generated_replay_id();
        fmt::print(stderr, "replay id {} (generated: pass --replay-id {} to run this replay again without "
                           "duplicates)\n",
            id, id);
    }

    // 1. What the filter selects, in partition-then-offset order.
    std::vector<dlq_record> selected;
    long long not_dead_letters = 0;
    read_topic(options.connection, options.topic, false, [&](dlq_record&& r) {
        if (!filter.matches(r.partition, r.offset, r.info ? &*r.info : nullptr)) {
            return true;
        }
        if (!r.info) {
            ++not_dead_letters;
            fmt::print(stderr, "skipped {}: not a dead letter ({})\n", where(options.topic, r.partition, r.offset),
                r.not_dead_letter);
            return true;
        }
        selected.push_back(std::move(r));
        return true;
    });
    std::stable_sort(selected.begin(), selected.end(),
        [](const dlq_record& a, const dlq_record& b) { return std::pair(a.partition, a.offset) < std::pair(b.partition, b.offset); });

    // 2. What this id re-published already.
    std::map<std::string, std::string> defaults = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        // Kafka's Java default partitioner for keyed records.
        {"partitioner", "murmur2_random"},
        {"message.timeout.ms", "30000"},
    };
    kafka_client producer(RD_KAFKA_PRODUCER, options.connection, defaults, on_delivery);
    const bool have_bookkeeping = producer.find_topic(replays_topic).has_value();
    std::set<std::pair<std::int32_t, std::int64_t>> done;
    if (have_bookkeeping) {
        done = already_replayed(options.connection, replays_topic, id);
    }

    // 3. The plan: every selected record not replayed yet with this id, up
    // to --limit, each to its source topic (its original partition when the
    // topic still has it) or to --to (partitioned by key).
    replay_run run;
    std::vector<replay_item> plan;
    plan.reserve(selected.size());
    long long skipped = 0;
    long long unreplayable = 0;
    std::map<std::string, int> target_partitions;
    for (const auto& r : selected) {
        if (done.contains({r.partition, r.offset})) {
            ++skipped;
            continue;
        }
        // A dead letter that names no topic to go back to (a punctuation's
        // failure has no source record) or no partition of it: skipped with
        // a line of its own, and the others replayed (--to sends it anyway).
        if (!options.to) {
            std::string why;
            try {
                check_topic_name(r.info->source_topic);
            } catch (const tool_error& e) {
                why = fmt::format("its source topic {}: replay it with --to TOPIC", e.what());
            }
            if (why.empty() && r.info->source_partition < 0) {
                why = fmt::format("its source partition {} is not a partition: replay it with --to TOPIC",
                    r.info->source_partition);
            }
            if (!why.empty()) {
                ++unreplayable;
                fmt::print(stderr, "skipped {}: {}\n", where(options.topic, r.partition, r.offset),
                    serdes::internal::printable_text(why));
                continue;
            }
        }
        if (options.select.limit > 0 && static_cast<long long>(plan.size()) >= options.select.limit) {
            continue;
        }
        replay_item item;
        item.record = &r;
        item.target = options.to ? *options.to : r.info->source_topic;
        item.run = &run;
        plan.push_back(std::move(item));
    }
    // Every target must exist before anything is sent, so that a typo in
    // --to or a deleted source topic publishes nothing.
    for (auto& item : plan) {
        if (!target_partitions.contains(item.target)) {
            try {
                check_topic_name(item.target);
            } catch (const tool_error& e) {
                throw tool_error(fmt::format("{}: source topic: {}; nothing replayed",
                    where(options.topic, item.record->partition, item.record->offset), e.what()));
            }
            auto partitions = producer.find_topic(item.target);
            if (!partitions) {
                throw tool_error(fmt::format("topic {} (the target of {}) does not exist on {}; nothing replayed",
                    item.target, where(options.topic, item.record->partition, item.record->offset),
                    options.connection.bootstrap()));
            }
            target_partitions[item.target] = *partitions;
        }
        if (!options.to && item.record->info->source_partition < target_partitions[item.target]) {
            item.partition = item.record->info->source_partition;
        }
        item.replay_tag = {&item, false};
        item.bookkeeping_tag = {&item, true};
    }

    std::string not_dead_text =
        not_dead_letters > 0 ? fmt::format(", {} not dead letters", not_dead_letters) : std::string();
    if (unreplayable > 0) {
        not_dead_text += fmt::format(", {} without a source to replay to", unreplayable);
    }
    if (options.dry_run) {
        for (const auto& item : plan) {
            const dlq_record& r = *item.record;
            fmt::print("would replay {} -> {}/{} key={} value={}\n", where(options.topic, r.partition, r.offset),
                item.target, item.partition == RD_KAFKA_PARTITION_UA ? std::string("(by key)") : std::to_string(item.partition),
                human_bytes(r.key), human_bytes(r.value));
        }
        fmt::print("dry run: would replay {}, skipped {} already replayed with {}{}\n", plan.size(), skipped, id,
            not_dead_text);
        return 0;
    }
    if (!plan.empty() && !have_bookkeeping) {
        create_replays_topic(options.connection, producer, replays_topic);
    }

    // 4. Publish, and book each delivery as it is reported.
    const std::int64_t time = now_ms();
    for (auto& item : plan) {
        const dlq_record& r = *item.record;
        const std::string from = where(options.topic, r.partition, r.offset);
        produce(producer, item.target, item.partition, r.key, r.value, r.timestamp > 0 ? r.timestamp : 0,
            replay_headers_of(r, id, from, time), &item.replay_tag);
        serve(producer, run, options.topic, replays_topic, id, 0);
    }
    // Every message has a report within message.timeout.ms.
    while (rd_kafka_outq_len(producer.get()) > 0 || !run.newly_delivered.empty()) {
        serve(producer, run, options.topic, replays_topic, id, 100);
    }

    long long replayed = 0;
    std::vector<std::string> failures;
    for (const auto& item : plan) {
        const std::string from = where(options.topic, item.record->partition, item.record->offset);
        if (!item.delivered) {
            failures.push_back(fmt::format("{} -> {}: {}", from, item.target, item.error));
            continue;
        }
        ++replayed;
        fmt::print("replayed {} -> {}\n", from, where(item.target, item.out_partition, item.out_offset));
        if (!item.recorded) {
            failures.push_back(fmt::format("{} was replayed but not booked in {} ({}): a rerun with {} replays it "
                                           "again",
                from, replays_topic, item.record_error, id));
        }
    }
    fmt::print("replayed {}, skipped {} already replayed with {}{}\n", replayed, skipped, id, not_dead_text);
    std::fflush(stdout);
    if (!failures.empty()) {
        std::string text;
        for (const auto& f : failures) {
            text += "; " + f;
        }
        throw tool_error(fmt::format("{} of {} records failed: {}", failures.size(), plan.size(), text.substr(2)));
    }
    return 0;
}

} // namespace eddy::tools
