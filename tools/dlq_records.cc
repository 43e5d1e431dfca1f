// The dead-letter topic reading and printing that eddy dlq inspect and eddy
// dlq replay share (tools/dlq_records.h).

#include "tools/dlq_records.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "runtime/internal/rdkafka_clients.h"
#include "serde/internal/printable.h"
#include "tools/kafka_client.h"

namespace eddy::tools {

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {
volatile std::sig_atomic_t stop_requested = 0;

extern "C" void request_dlq_stop(int /*signal*/) {
    stop_requested = 1;
}
} // namespace

stop_on_signals::stop_on_signals() {
    stop_requested = 0;
    std::signal(SIGINT, request_dlq_stop);
    std::signal(SIGTERM, request_dlq_stop);
}

stop_on_signals::~stop_on_signals() {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
}


std::string where(const std::string& topic, std::int32_t partition, std::int64_t offset) {
    return fmt::format("{}/{}/{}", topic, partition, offset);
}

static bool ends_consumption(rd_kafka_resp_err_t err) {
    return err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED
        || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
}

static dlq_record to_record(const rd_kafka_message_t* m) {
    dlq_record r;
    eddy::runtime::internal::read_message(m, r);
    try {
        r.info = decode_dead_letter_headers(r.headers);
    } catch (const std::exception& e) {
        std::string_view why = e.what();
        if (why.starts_with("dead letter: ")) {
            why.remove_prefix(13);
        }
        r.not_dead_letter = std::string(why);
    }
    return r;
}

// Reads every partition of `topic` from its first record to the end it has
// now (and on, with `follow`, until SIGINT/SIGTERM), handing each record to
// `on_record` until it returns false. No consumer group: the partitions are
// assigned directly and nothing is committed.
void read_topic(const connection_options& connection, const std::string& topic, bool follow,
    const std::function<bool(dlq_record&&)>& on_record) {
    std::map<std::string, std::string> defaults = {
        {"group.id", "eddy-cli"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {"fetch.wait.max.ms", "100"},
    };
    kafka_client consumer(RD_KAFKA_CONSUMER, connection, defaults);
    const int partitions = consumer.require_topic(topic);

    // The end of each partition now: what "to its current end" means.
    std::map<std::int32_t, std::int64_t> end;
    std::set<std::int32_t> remaining;
    for (std::int32_t p = 0; p < partitions; ++p) {
        std::int64_t low = 0;
        std::int64_t high = 0;
        auto e = rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), p, &low, &high,
            static_cast<int>(connection.request_timeout_ms));
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            throw tool_error(fmt::format("cannot read the offsets of {} partition {}: {}", topic, p, rd_kafka_err2str(e)));
        }
        end[p] = high;
        if (high > low) {
            remaining.insert(p);
        }
    }

    rd_kafka_poll_set_consumer(consumer.get());
    runtime::internal::partition_list assignment;
    for (std::int32_t p = 0; p < partitions; ++p) {
        assignment.add(topic, p, RD_KAFKA_OFFSET_BEGINNING);
    }
    auto assigned = rd_kafka_assign(consumer.get(), assignment.get());
    if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw tool_error(fmt::format("cannot read {}: {}", topic, rd_kafka_err2str(assigned)));
    }

    // Without --follow, a read that stops making progress fails rather than
    // hangs (a broker gone halfway, a partition without a leader).
    const auto stall_limit = std::max<std::chrono::milliseconds>(connection.request_timeout(), 10s);
    auto last_progress = std::chrono::steady_clock::now();
    std::string failure;
    while (stop_requested == 0 && (follow || !remaining.empty())) {
        const runtime::internal::message_ptr owned(rd_kafka_consumer_poll(consumer.get(), 100));
        const rd_kafka_message_t* m = owned.get();
        if (m == nullptr) {
            if (!follow && std::chrono::steady_clock::now() - last_progress > stall_limit) {
                failure = fmt::format("reading {} made no progress for {} ms ({} partitions not read to their end)",
                    topic, stall_limit.count(), remaining.size());
                break;
            }
            continue;
        }
        last_progress = std::chrono::steady_clock::now();
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            // Also short of the high watermark: a transaction still open
            // holds read_committed back at its first record, and waiting for
            // it could take as long as the transaction timeout.
            if (m->offset < end[m->partition]) {
                logger()->info("partition read to its last stable offset topic={} partition={} offset={} "
                               "high_watermark={}",
                    topic, m->partition, m->offset, end[m->partition]);
            }
            remaining.erase(m->partition);
            continue;
        }
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            std::string reason = rd_kafka_message_errstr(m);
            const bool fatal = ends_consumption(m->err);
            if (fatal) {
                failure = fmt::format("cannot read {}: {}", topic, reason);
                break;
            }
            logger()->warn("consume error topic={} reason={}", topic, reason);
            continue;
        }
        const std::int64_t partition_end = end[m->partition];
        if (!follow && m->offset >= partition_end) {
            // Written since the command started: past the end it reads to.
            continue;
        }
        if (m->offset + 1 >= partition_end) {
            remaining.erase(m->partition);
        }
        dlq_record r = to_record(m);
        if (!on_record(std::move(r))) {
            break;
        }
    }
    rd_kafka_consumer_close(consumer.get());
    if (!failure.empty()) {
        throw tool_error(failure);
    }
}

dlq_filter make_filter(const dlq_select_options& select) {
    if (select.limit < 0) {
        throw tool_error(fmt::format("--limit {}: at least 0", select.limit));
    }
    dlq_filter f;
    f.error = select.error;
    f.source_topic = select.source_topic;
    f.node = select.node;
    if (select.since) {
        f.since_ms = parse_time(*select.since, "--since");
    }
    if (select.until) {
        f.until_ms = parse_time(*select.until, "--until");
    }
    for (const auto& condition : select.where) {
        apply_where(f, condition);
    }
    check_filter(f);
    return f;
}

// Human text: bare when it is a plain word, else a JSON string (quoted,
// escaped), so that a line splits unambiguously at its spaces.
static std::string human_text(const std::string& text) {
    const bool bare = !text.empty() && text != "null" && !text.starts_with("base64:")
        && std::all_of(text.begin(), text.end(), [](char c) {
               return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != ',' && c != '[' && c != ']';
           });
    // Header text is not checked for UTF-8: invalid bytes print as U+FFFD.
    return bare ? text : json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

// Bytes as human text: null for none, base64:... when not printable UTF-8.
std::string human_bytes(const std::optional<std::string>& bytes) {
    if (!bytes) {
        return "null";
    }
    auto r = render_bytes(*bytes);
    return r.encoding == "utf8" ? human_text(r.text) : "base64:" + r.text;
}

bool is_dead_letter_header(std::string_view key) {
    namespace h = dead_letter_headers;
    for (auto k : {h::error_class, h::error_message, h::source_topic, h::source_partition, h::source_offset,
             h::processor_node, h::attempts, h::application_id, h::time, h::kind}) {
        if (key == k) {
            return true;
        }
    }
    return false;
}

// The record's headers other than the dead-letter ones: the original
// record's own.
static std::vector<const header*> other_headers(const dlq_record& r) {
    std::vector<const header*> out;
    for (const auto& h : r.headers) {
        if (!r.info || !is_dead_letter_header(h.key)) {
            out.push_back(&h);
        }
    }
    return out;
}

std::string human_line(const std::string& topic, const dlq_record& r) {
    std::string line = where(topic, r.partition, r.offset);
    if (r.info) {
        const auto& i = *r.info;
        line += fmt::format(" time={} class={} source={} node={} attempts={} app={} message={}", format_time(i.time_ms),
            human_text(i.error_class), human_text(where(i.source_topic, i.source_partition, i.source_offset)),
            human_text(i.processor_node), i.attempts, human_text(i.application_id), human_text(i.error_message));
    } else {
        line += fmt::format(" not a dead letter ({})", r.not_dead_letter);
    }
    line += fmt::format(" key={} value={}", human_bytes(r.key), human_bytes(r.value));
    auto others = other_headers(r);
    if (!others.empty()) {
        line += " headers=[";
        for (std::size_t n = 0; n < others.size(); ++n) {
            line += fmt::format("{}{}={}", n == 0 ? "" : ",", others[n]->key, human_bytes(others[n]->value));
        }
        line += ']';
    }
    return line;
}

static void put_bytes(json& j, const std::string& field, const std::optional<std::string>& bytes) {
    if (!bytes) {
        j[field] = nullptr;
        j[field + "_encoding"] = nullptr;
        return;
    }
    auto r = render_bytes(*bytes);
    j[field] = r.text;
    j[field + "_encoding"] = std::string(r.encoding);
}

std::string json_line(const std::string& topic, const dlq_record& r) {
    json j;
    j["topic"] = topic;
    j["partition"] = r.partition;
    j["offset"] = r.offset;
    j["timestamp"] = r.timestamp;
    j["dead_letter"] = r.info.has_value();
    if (r.info) {
        const auto& i = *r.info;
        j["error_class"] = i.error_class;
        j["error_message"] = i.error_message;
        j["source_topic"] = i.source_topic;
        j["source_partition"] = i.source_partition;
        j["source_offset"] = i.source_offset;
        j["processor_node"] = i.processor_node;
        j["attempts"] = i.attempts;
        j["application_id"] = i.application_id;
        j["error_time"] = i.time_ms;
        j["error_time_iso"] = format_time(i.time_ms);
    } else {
        j["not_dead_letter"] = r.not_dead_letter;
    }
    put_bytes(j, "key", r.key);
    put_bytes(j, "value", r.value);
    json hs = json::array();
    for (const header* h : other_headers(r)) {
        json e;
        e["key"] = h->key;
        put_bytes(e, "value", h->value);
        hs.push_back(std::move(e));
    }
    j["headers"] = std::move(hs);
    // Header names are the one field not checked for UTF-8.
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace eddy::tools
