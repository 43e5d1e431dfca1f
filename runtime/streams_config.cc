#include "runtime/streams_config.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "operators/error_handlers.h"

namespace eddy {

streams_config& streams_config::set(std::string_view key, std::string value) {
    _settings.insert_or_assign(std::string(key), std::move(value));
    return *this;
}

std::optional<std::string> streams_config::get(std::string_view key) const {
    auto it = _settings.find(key);
    return it == _settings.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::string streams_config::get_or(std::string_view key, std::string fallback) const {
    auto v = get(key);
    return v ? *v : std::move(fallback);
}

std::string streams_config::required(std::string_view key) const {
    auto v = get(key);
    if (!v || v->empty()) {
        throw config_error(fmt::format("missing required setting {}", key));
    }
    return *v;
}

std::string streams_config::application_id_checked() const {
    auto id = required(application_id);
    const bool legal = std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
            || c == '-';
    });
    if (!legal || id.size() > 200 || id == "." || id == "..") {
        throw config_error(fmt::format("setting {}={} is not a valid id: 1 to 200 letters, digits, '.', '_' or '-', "
                                       "not \".\" or \"..\" (it names topics, the consumer group and a folder under "
                                       "state.dir)",
            application_id, id));
    }
    return id;
}

const std::vector<std::string_view>& streams_config::known_settings() {
    static const std::vector<std::string_view> known = {application_id, bootstrap_servers, "processing.guarantee",
        "num.stream.threads", "num.standby.replicas", "commit.interval.ms", "max.task.idle.ms",
        "buffered.records.per.partition", "poll.ms", "transaction.timeout.ms", "startup.timeout.ms",
        "replication.factor", "process.id", deserialization_exception_handler, processing_exception_handler,
        production_exception_handler, dead_letter_topic, dead_letter_degraded_rate, "state.dir",
        "rocksdb.memory.max.bytes", "windowstore.changelog.additional.retention.ms", "statestore.cache.max.bytes",
        "application.server", "embedded.brokers"};
    return known;
}

bool streams_config::is_shared_client_setting(std::string_view key) {
    static const std::vector<std::string_view> exact = {"client.id", "security.protocol", "socket.timeout.ms",
        "reconnect.backoff.ms", "reconnect.backoff.max.ms", "broker.address.family", "statistics.interval.ms", "debug",
        "topic.metadata.refresh.interval.ms"};
    return key == bootstrap_servers || std::find(exact.begin(), exact.end(), key) != exact.end()
        || key.starts_with("sasl.") || key.starts_with("ssl.") || key.starts_with("ssl_")
        || key.starts_with("enable.ssl");
}

namespace {

// Edits (insert, delete, replace) from a to b.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

} // namespace

void streams_config::check_known() const {
    const auto& known = known_settings();
    for (const auto& [key, value] : _settings) {
        if (std::find(known.begin(), known.end(), key) != known.end() || is_shared_client_setting(key)) {
            continue;
        }
        if (key.starts_with("consumer.") || key.starts_with("producer.") || key.starts_with("admin.")) {
            // The client refuses a name it does not know when it is made.
            continue;
        }
        std::string_view nearest;
        std::size_t best = 4; // at most 3 edits away
        for (auto k : known) {
            if (auto d = edit_distance(key, k); d < best) {
                best = d;
                nearest = k;
            }
        }
        // The value is not shown: a misspelt password setting must not
        // reach a log line.
        throw config_error(fmt::format("unknown setting {}{}; eddy's settings are listed in docs/running.md, a "
                                       "Kafka client's own go with the consumer., producer. or admin. prefix",
            key, nearest.empty() ? "" : fmt::format(" (did you mean {}?)", nearest)));
    }
}

std::int64_t streams_config::get_int(std::string_view key, std::int64_t fallback) const {
    auto v = get(key);
    if (!v) {
        return fallback;
    }
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc() || end != v->data() + v->size()) {
        throw config_error(fmt::format("setting {}={} is not an integer", key, *v));
    }
    return out;
}

namespace {

// The built-in handler the setting `key` names.
std::shared_ptr<any_exception_handler> builtin_handler(const streams_config& config, std::string_view key) {
    auto name = config.get_or(key, "log_and_fail");
    if (name == "log_and_fail") {
        return handlers::log_and_fail();
    }
    if (name == "log_and_continue") {
        return handlers::log_and_continue();
    }
    if (name == "dead_letter") {
        auto topic = config.get(streams_config::dead_letter_topic);
        if (!topic || topic->empty()) {
            throw config_error(fmt::format(
                "setting {}=dead_letter needs {} (the dead-letter topic)", key, streams_config::dead_letter_topic));
        }
        return handlers::dead_letter(*topic);
    }
    throw config_error(fmt::format("setting {}={} is not one of log_and_fail, log_and_continue, dead_letter", key, name));
}

} // namespace

streams_config& streams_config::set_deserialization_exception_handler(
    std::shared_ptr<eddy::deserialization_exception_handler> h) {
    _deserialization_handler = std::move(h);
    return *this;
}

streams_config& streams_config::set_processing_exception_handler(std::shared_ptr<eddy::processing_exception_handler> h) {
    _processing_handler = std::move(h);
    return *this;
}

streams_config& streams_config::set_production_exception_handler(std::shared_ptr<eddy::production_exception_handler> h) {
    _production_handler = std::move(h);
    return *this;
}

std::shared_ptr<eddy::deserialization_exception_handler> streams_config::make_deserialization_handler() const {
    if (_deserialization_handler) {
        return _deserialization_handler;
    }
    return builtin_handler(*this, deserialization_exception_handler);
}

std::shared_ptr<eddy::processing_exception_handler> streams_config::make_processing_handler() const {
    if (_processing_handler) {
        return _processing_handler;
    }
    return builtin_handler(*this, processing_exception_handler);
}

std::shared_ptr<eddy::production_exception_handler> streams_config::make_production_handler() const {
    if (_production_handler) {
        return _production_handler;
    }
    return builtin_handler(*this, production_exception_handler);
}

} // namespace eddy
