#include "runtime/streams_config.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <stdexcept>

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

const std::vector<setting_spec>& streams_config::specs() {
    static const std::vector<setting_spec> all = {
        {.name = application_id,
            .default_text = "(required)",
            .meaning = "the consumer group, the prefix of internal topics and transactional ids; 1 to 200 letters, "
                       "digits, `.`, `_` or `-`, not `.` or `..` (it names a folder under `state.dir`)"},
        {.name = bootstrap_servers,
            .default_text = "(required)",
            .meaning = "`host:port,...` of the cluster, or `embedded` to start an embedded broker in this process "
                       "(`app.embedded()` returns it, to create topics)"},
        {.name = "processing.guarantee",
            .default_text = "`at_least_once`",
            .meaning = "or `exactly_once_v2`; anything else is refused at construction"},
        {.name = "num.stream.threads",
            .integer = true,
            .least = 1,
            .most = 256,
            .default_value = 1,
            .default_text = "`1`",
            .meaning = "stream threads of this instance"},
        {.name = "num.standby.replicas",
            .integer = true,
            .most = 1'000,
            .default_text = "`0`",
            .meaning = "warm copies of each task's persistent stores kept on that many other instances (`state.md`, "
                       "\"Standby replicas\")"},
        {.name = "commit.interval.ms",
            .integer = true,
            .default_text = "`30000` (at-least-once), `100` (exactly-once)",
            .meaning = "how often progress is committed"},
        {.name = "max.task.idle.ms",
            .integer = true,
            .default_text = "`0`",
            .meaning = "how long a task with several inputs waits for an empty one before processing the others (then "
                       "it goes on until every input has records again)"},
        {.name = "buffered.records.per.partition",
            .integer = true,
            .least = 2,
            .default_value = 1000,
            .default_text = "`1000`",
            .meaning = "a partition whose task buffers more is paused until half of it is processed"},
        {.name = "poll.ms",
            .integer = true,
            .default_value = 100,
            .default_text = "`100`",
            .meaning = "the longest a thread blocks in one poll"},
        {.name = "transaction.timeout.ms",
            .integer = true,
            .least = 1,
            .default_value = 10'000,
            .default_text = "`10000`",
            .meaning = "exactly-once: the producer's transaction timeout, and how long commit and abort may take"},
        {.name = "startup.timeout.ms",
            .integer = true,
            .least = 1,
            .default_value = 10'000,
            .default_text = "`10000`",
            .meaning = "how long `start()` waits for the cluster before failing"},
        {.name = "replication.factor",
            .integer = true,
            .least = 1,
            .most = 32'767,
            .default_value = 1,
            .default_text = "`1`",
            .meaning = "of the internal topics eddy creates"},
        {.name = "process.id",
            .default_text = "random",
            .meaning = "part of the transactional id (`<application.id>-<process.id>-<thread>`); set it to a stable "
                       "value per instance so a restarted instance fences its predecessor at once"},
        {.name = deserialization_exception_handler,
            .default_text = "`log_and_fail`",
            .meaning = "or `log_and_continue`, `dead_letter` (see the user guide)"},
        {.name = processing_exception_handler,
            .default_text = "`log_and_fail`",
            .meaning = "or `log_and_continue`, `dead_letter`: a processor or punctuation that throws (see the user "
                       "guide)"},
        {.name = production_exception_handler,
            .default_text = "`log_and_fail`",
            .meaning = "or `log_and_continue`, `dead_letter`: a record a sink cannot serialize or the producer "
                       "refuses as too large"},
        {.name = dead_letter_topic,
            .default_text = "",
            .meaning = "the dead-letter topic; created on start (so are the branches' own, `with_dead_letter_topic`)"},
        {.name = dead_letter_degraded_rate,
            .integer = true,
            .default_value = 60,
            .default_text = "`60`",
            .meaning = "dead letters per minute above which `health()` is degraded; `0`: never"},
        {.name = "state.dir",
            .default_text = "`$TMPDIR/eddy-streams`",
            .meaning = "where tasks keep their stores: `<state.dir>/<application.id>/<task>/` (RocksDB files and the "
                       "`.checkpoint`); see `state.md`"},
        {.name = "rocksdb.memory.max.bytes",
            .integer = true,
            .default_value = 128LL << 20,
            .default_text = "`134217728` (128 MiB)",
            .meaning = "the memory every RocksDB store of this instance shares: one block cache, half of it for "
                       "memtables (writers stall at the bound); see `state.md`"},
        {.name = "windowstore.changelog.additional.retention.ms",
            .integer = true,
            .default_value = 86'400'000,
            .default_text = "`86400000` (1 day)",
            .meaning = "window stores' changelogs (time, sliding, session windows) are created `compact,delete` with "
                       "`retention.ms` = the store's retention + this; see `state.md`"},
        {.name = "statestore.cache.max.bytes",
            .integer = true,
            .default_value = 10LL << 20,
            .default_text = "`10485760` (10 MiB)",
            .meaning = "the record caches in front of every store of this instance, split evenly across the stream "
                       "threads: repeated updates of a key between commits reach the store, its changelog and (for "
                       "an aggregation) the downstream once per commit, the latest; `0` turns caching off, so every "
                       "update is logged and forwarded (`materialized::with_caching_disabled()` does it for one "
                       "store); see `state.md`"},
        {.name = "application.server",
            .default_text = "",
            .meaning = "`host:port` where this instance's `query_server` listens; set, the instance publishes it with "
                       "its tasks to `<application.id>-instances` so that `query_metadata_for_key`, `all_metadata` "
                       "and key queries forwarded between instances work (see `state.md`, \"Queries\", and "
                       "`adr/0008`)"},
        {.name = "embedded.brokers",
            .integer = true,
            .least = 1,
            .most = 32,
            .default_value = 1,
            .default_text = "`1`",
            .meaning = "with `bootstrap.servers=embedded`: how many mock brokers"},
    };
    return all;
}

const setting_spec& streams_config::spec(std::string_view name) {
    for (const auto& s : specs()) {
        if (s.name == name) {
            return s;
        }
    }
    throw std::out_of_range(fmt::format("no setting spec for {}", name));
}

std::string streams_config::reference_markdown() {
    std::string out = "| setting | default | meaning |\n|---|---|---|\n";
    for (const auto& s : specs()) {
        std::string range;
        if (s.integer) {
            range = s.most == std::numeric_limits<std::int64_t>::max() ? fmt::format(" (at least {})", s.least)
                                                                        : fmt::format(" ({} to {})", s.least, s.most);
        }
        out += fmt::format("| `{}` | {} | {}{} |\n", s.name, s.default_text, s.meaning, range);
    }
    out += "| `consumer.*`, `producer.*`, `admin.*` | | passed to that client without the prefix "
           "(`consumer.session.timeout.ms`, `producer.linger.ms`, ...) |\n";
    out += "| `security.protocol`, `sasl.*`, `ssl.*`, `client.id`, `statistics.interval.ms`, `debug`, "
           "`socket.timeout.ms`, `reconnect.backoff.ms`, `reconnect.backoff.max.ms`, `broker.address.family`, "
           "`topic.metadata.refresh.interval.ms` | | passed to every client |\n";
    return out;
}

std::int64_t streams_config::integer(std::string_view name) const {
    return integer(name, spec(name).default_value);
}

std::int64_t streams_config::integer(std::string_view name, std::int64_t fallback) const {
    const auto& s = spec(name);
    const auto v = get_int(name, fallback);
    if (v < s.least || v > s.most) {
        throw config_error(s.most == std::numeric_limits<std::int64_t>::max()
                ? fmt::format("setting {}={} must be at least {}", name, v, s.least)
                : fmt::format("setting {}={} must be from {} to {}", name, v, s.least, s.most));
    }
    return v;
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
    const auto& known = specs();
    for (const auto& [key, value] : _settings) {
        const auto spec = std::find_if(known.begin(), known.end(), [&](const setting_spec& s) { return s.name == key; });
        if (spec != known.end()) {
            if (spec->integer) {
                // Every integer given is checked now, also one read only
                // later (replication.factor at start()) or only sometimes.
                (void)integer(key);
            }
            continue;
        }
        if (is_shared_client_setting(key)) {
            continue;
        }
        if (key.starts_with("consumer.") || key.starts_with("producer.") || key.starts_with("admin.")) {
            // The client refuses a name it does not know when it is made.
            continue;
        }
        std::string_view nearest;
        std::size_t best = 4; // at most 3 edits away
        for (const auto& k : known) {
            if (auto d = edit_distance(key, k.name); d < best) {
                best = d;
                nearest = k.name;
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
