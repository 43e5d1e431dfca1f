#include "runtime/internal/query_routes.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "runtime/internal/http_client.h"
#include "runtime/internal/log.h"
#include "runtime/kafka_streams.h"
#include "serde/internal/json_io.h"
#include "serde/internal/printable.h"
#include "statestore/store_error.h"

namespace eddy::runtime::internal {
namespace {

constexpr auto forward_timeout = std::chrono::seconds(5);

// JSON text that never throws: bytes that are not UTF-8 (a store name or
// a parameter a client sent) show as U+FFFD.
std::string safe_dump(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}


std::string json_string(std::string_view s) {
    return safe_dump(nlohmann::json(std::string(s)));
}

// A key for a message: as it is when UTF-8, else base64:<its base64>.
std::string shown(std::string_view key) {
    return serdes::internal::is_valid_utf8(key) ? std::string(key) : "base64:" + serdes::internal::base64_encode(key);
}

// Percent-decoding; std::nullopt on a malformed escape. In a query string
// '+' is a space too.
std::optional<std::string> url_decode(std::string_view in, bool query) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%') {
            if (i + 2 >= in.size()) {
                return std::nullopt;
            }
            const int hi = serdes::internal::hex_value(in[i + 1]);
            const int lo = serdes::internal::hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (query && in[i] == '+') {
            out += ' ';
        } else {
            out += in[i];
        }
    }
    return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        auto at = s.find(sep, start);
        out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        if (at == std::string_view::npos) {
            return out;
        }
        start = at + 1;
    }
}

// A time bound in ms; the default when absent, std::nullopt when not a number.
std::optional<std::int64_t> time_param(const std::map<std::string, std::string>& params, const std::string& name,
    std::int64_t otherwise) {
    auto it = params.find(name);
    if (it == params.end()) {
        return otherwise;
    }
    std::int64_t v = 0;
    const auto& text = it->second;
    auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || err != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return v;
}

// GET http://host/target from another instance, within forward_timeout;
// it answers from its local stores.
http_response ask(const host_info& host, const std::string& target) {
    return http_get(host, target, forward_timeout, {{forwarded_header, "1"}});
}

query_answer forward(const host_info& host, const std::string& target) {
    auto res = ask(host, target);
    if (!res.answered()) {
        return query_error(query_status::bad_gateway,
            fmt::format("the owning instance {} did not answer: {}", host.to_string(), res.failure));
    }
    return {static_cast<query_status>(res.status), std::move(res.body)};
}

// The key text a range entry's JSON key stands for (what parse_key_text
// reads): a string's contents, a binary key's bytes ({"base64":...}), a
// number as written.
std::string key_text(const nlohmann::ordered_json& key) {
    if (key.is_string()) {
        return key.get<std::string>();
    }
    if (key.is_object() && key.contains("base64") && key["base64"].is_string()) {
        if (auto bytes = serdes::internal::base64_decode(key["base64"].get<std::string>())) {
            return *bytes;
        }
        throw serde_error("a key's base64 does not decode");
    }
    return key.dump();
}

} // namespace

query_answer query_error(query_status status, const std::string& message) {
    return {status, safe_dump(nlohmann::json{{"error", message}})};
}

void query_routes::attach(kafka_streams& app) {
    std::scoped_lock lock(_mutex);
    _app = &app;
}

kafka_streams& query_routes::need_app() const {
    std::scoped_lock lock(_mutex);
    if (_app == nullptr) {
        throw std::logic_error("query_server: attach(app) before serving its stores");
    }
    return *_app;
}

void query_routes::add(const std::string& name, served_store s) {
    std::scoped_lock lock(_mutex);
    _stores[name] = std::move(s);
}

query_answer query_routes::respond(const query_request& req) const {
    try {
        return handle(req);
    } catch (const std::exception& e) {
        // A fault of ours, not of the request: the details go to the
        // log, not to the client.
        logger()->error("query failed target={} error_class={} error=\"{}\"", shown(req.target),
            typeid(e).name(), e.what());
        return query_error(query_status::internal_server_error,
            fmt::format("the query could not be answered; the log of {} says why", _self));
    }
}

query_answer query_routes::handle(const query_request& req) const {
    if (!req.get) {
        return query_error(query_status::method_not_allowed, "only GET is served");
    }
    const std::string& target = req.target;
    const auto q = target.find('?');
    const std::string_view path = std::string_view(target).substr(0, q);
    std::map<std::string, std::string> params;
    if (q != std::string::npos) {
        for (auto part : split(std::string_view(target).substr(q + 1), '&')) {
            if (part.empty()) {
                continue;
            }
            auto eq = part.find('=');
            auto name = url_decode(part.substr(0, eq), true);
            auto value = url_decode(eq == std::string_view::npos ? "" : part.substr(eq + 1), true);
            if (!name || !value) {
                return query_error(query_status::bad_request, fmt::format("malformed query parameter '{}'", part));
            }
            params[*name] = *value;
        }
    }
    std::vector<std::string> segments;
    for (auto seg : split(path, '/')) {
        if (seg.empty()) {
            continue;
        }
        auto decoded = url_decode(seg, false);
        if (!decoded) {
            return query_error(query_status::bad_request, fmt::format("malformed path segment '{}'", seg));
        }
        segments.push_back(std::move(*decoded));
    }
    kafka_streams* a = nullptr;
    {
        std::scoped_lock lock(_mutex);
        a = _app;
    }
    if (segments.size() == 1 && segments[0] == "instances") {
        if (a == nullptr) {
            return query_error(query_status::service_unavailable, "no app attached to this query server yet");
        }
        return instances(*a);
    }
    if (segments.size() == 1 && segments[0] == "health") {
        if (a == nullptr) {
            return query_error(query_status::service_unavailable, "no app attached to this query server yet");
        }
        return health(*a);
    }
    if (segments.empty() || segments[0] != "stores" || segments.size() == 1 || segments.size() == 3
        || segments.size() > 5 || (segments.size() >= 4 && segments[2] != "keys")
        || (segments.size() == 5 && segments[4] != "windows")) {
        return query_error(query_status::not_found,
            fmt::format("no endpoint {}; try /stores/{{store}}/keys/{{key}}, /stores/{{store}}?from=&to=, "
                        "/stores/{{store}}/keys/{{key}}/windows?from=&to=, /instances or /health",
                std::string(path)));
    }
    const std::string& name = segments[1];
    served_store store;
    {
        std::scoped_lock lock(_mutex);
        auto it = _stores.find(name);
        if (it == _stores.end() || a == nullptr) {
            std::vector<std::string> names;
            for (const auto& [n, s] : _stores) {
                names.push_back(n);
            }
            return query_error(query_status::not_found,
                fmt::format("no store named {} is served here (served: {})", name, fmt::join(names, ", ")));
        }
        store = it->second;
    }
    // key_encoding=base64: the key (and from, to) are given in base64,
    // for binary keys (a path segment may also carry them
    // percent-encoded).
    bool base64_keys = false;
    if (auto it = params.find("key_encoding"); it != params.end()) {
        if (it->second != "base64" && it->second != "text") {
            return query_error(query_status::bad_request,
                fmt::format("key_encoding must be text or base64, not '{}'", it->second));
        }
        base64_keys = it->second == "base64";
    }
    auto decoded = [&](const std::string& text) { return base64_keys ? serdes::internal::base64_decode(text) : text; };
    if (segments.size() == 2) {
        std::optional<std::string> from;
        std::optional<std::string> to;
        for (auto [bound, out] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
            if (auto it = params.find(bound); it != params.end()) {
                *out = decoded(it->second);
                if (!*out) {
                    return query_error(query_status::bad_request,
                        fmt::format("{} is not base64 (key_encoding=base64): '{}'", bound, it->second));
                }
            }
        }
        return range(*a, store, name, params, from, to, req.forwarded);
    }
    const auto key_or_not = decoded(segments[3]);
    if (!key_or_not) {
        return query_error(query_status::bad_request,
            fmt::format("the key is not base64 (key_encoding=base64): '{}'", segments[3]));
    }
    const std::string& key = *key_or_not;
    std::string key_json;
    std::string key_bytes;
    try {
        key_json = store.key_json(key);
        key_bytes = store.key_bytes(key);
    } catch (const serde_error& e) {
        return query_error(
            query_status::bad_request, fmt::format("bad key '{}' for store {}: {}", shown(key), name, e.what()));
    }
    const bool windows = segments.size() == 5;
    if (windows != store.windowed) {
        return query_error(query_status::bad_request,
            windows ? fmt::format("store {} is not a window store: ask /stores/{}/keys/{{key}}", name, name)
                    : fmt::format("store {} is a window store: ask /stores/{}/keys/{{key}}/windows?from=&to=",
                          name, name));
    }
    std::int64_t from = 0;
    std::int64_t to = std::numeric_limits<std::int64_t>::max();
    if (windows) {
        auto f = time_param(params, "from", 0);
        auto t = time_param(params, "to", std::numeric_limits<std::int64_t>::max());
        if (!f || !t) {
            return query_error(query_status::bad_request, "from and to must be times in milliseconds");
        }
        from = *f;
        to = *t;
    }
    // Where the key lives; a forwarded query is answered here.
    if (auto me = a->application_server(); me && !req.forwarded) {
        auto where = a->query_metadata_for_serialized_key(name, key_bytes);
        if (!where.available()) {
            return query_error(query_status::service_unavailable,
                fmt::format("no instance owns partition {} of store {} at the moment (rebalancing?); try again",
                    where.partition, name));
        }
        if (*where.active_host != *me) {
            return forward(*where.active_host, target);
        }
    }
    const std::string head = fmt::format("{{\"store\":{},\"key\":{},", json_string(name), key_json);
    const std::string tail = fmt::format("\"host\":{}}}", json_string(_self));
    if (windows) {
        return {query_status::ok, head + "\"windows\":" + store.windows(key, from, to) + "," + tail};
    }
    auto value = store.get(key);
    if (!value) {
        return query_error(query_status::not_found, fmt::format("key {} not found in store {}", shown(key), name));
    }
    return {query_status::ok, head + "\"value\":" + *value + "," + tail};
}

// The store's entries in this instance's partitions, as JSON text, or
// the error to answer.
std::variant<std::string, query_answer> query_routes::local_entries(const served_store& store,
    const std::string& name, const std::map<std::string, std::string>& params, const std::optional<std::string>& from,
    const std::optional<std::string>& to) const {
    if (store.windowed) {
        auto f = time_param(params, "from", 0);
        auto t = time_param(params, "to", std::numeric_limits<std::int64_t>::max());
        if (!f || !t) {
            return query_error(query_status::bad_request, "from and to must be times in milliseconds");
        }
        return store.all_windows(*f, *t);
    }
    try {
        return store.range(from, to);
    } catch (const serde_error& e) {
        return query_error(query_status::bad_request, fmt::format("bad range bound for store {}: {}", name, e.what()));
    }
}

// A key range (or every key's windows) of the whole application: this
// instance's entries merged with those of every other instance holding
// partitions of the store, each asked once with scope=local. Answered
// from the local partitions alone for scope=local, for a query another
// instance sent, and without application.server (no other instance is
// known).
query_answer query_routes::range(kafka_streams& a, const served_store& store, const std::string& name,
    const std::map<std::string, std::string>& params, const std::optional<std::string>& from,
    const std::optional<std::string>& to, bool forwarded) const {
    std::string scope = "all";
    if (auto it = params.find("scope"); it != params.end()) {
        scope = it->second;
    }
    if (scope != "all" && scope != "local") {
        return query_error(query_status::bad_request, fmt::format("scope must be all or local, not '{}'", scope));
    }
    bool partial = false;
    if (auto it = params.find("partial"); it != params.end()) {
        if (it->second != "true" && it->second != "false") {
            return query_error(query_status::bad_request, fmt::format("partial must be true or false, not '{}'", it->second));
        }
        partial = it->second == "true";
    }
    auto local = local_entries(store, name, params, from, to);
    if (auto* failed = std::get_if<query_answer>(&local)) {
        return std::move(*failed);
    }
    auto& mine = std::get<std::string>(local);
    const auto me = a.application_server();
    if (scope == "local" || forwarded || !me) {
        return {query_status::ok, fmt::format("{{\"store\":{},\"scope\":\"local\",\"host\":{},\"entries\":{}}}",
                                      json_string(name), json_string(_self), mine)};
    }
    // Every partition must have an owner, or the answer would lack it.
    for (const auto& p : a.query_metadata_for_store_partitions(name)) {
        if (!p.available()) {
            return query_error(query_status::service_unavailable,
                fmt::format("no instance owns partition {} of store {} at the moment (rebalancing?); try again",
                    p.partition, name));
        }
    }
    std::vector<host_info> hosts;
    for (const auto& m : a.all_metadata_for_store(name)) {
        hosts.push_back(m.host);
    }
    if (std::find(hosts.begin(), hosts.end(), *me) == hosts.end()) {
        hosts.push_back(*me);
        std::sort(hosts.begin(), hosts.end());
    }
    std::string target = "/stores/" + url_encode(name) + "?scope=local";
    for (const auto& [k, v] : params) {
        if (k != "scope" && k != "partial") {
            target += "&" + url_encode(k) + "=" + url_encode(v);
        }
    }
    // One request per other instance, all at once.
    std::vector<http_response> answers(hosts.size());
    {
        std::vector<std::jthread> askers;
        for (std::size_t i = 0; i < hosts.size(); ++i) {
            if (hosts[i] != *me) {
                askers.emplace_back([&, i] { answers[i] = ask(hosts[i], target); });
            }
        }
    }
    struct entry {
        nlohmann::ordered_json json;
        const host_info* from = nullptr;
    };
    // Serialised key bytes, then window start: a store's own order.
    std::map<std::pair<std::string, std::int64_t>, entry> merged;
    std::vector<std::string> missing;
    std::vector<std::string> failures;
    auto merge = [&](const nlohmann::ordered_json& entries, const host_info& from) {
        for (const auto& e : entries) {
            const auto key_bytes = store.key_bytes(key_text(e.at("key")));
            const std::int64_t start = store.windowed ? e.at("window").at("start").get<std::int64_t>() : 0;
            auto [it, added] = merged.try_emplace({key_bytes, start}, entry{e, &from});
            if (!added) {
                // Two instances hold the key (a stale copy during a
                // rebalance): the owner's is the answer.
                auto owner = a.query_metadata_for_serialized_key(name, key_bytes).active_host;
                if (owner && *owner == from) {
                    it->second = entry{e, &from};
                }
            }
        }
    };
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        const auto& host = hosts[i];
        if (host == *me) {
            merge(nlohmann::ordered_json::parse(mine), host);
            continue;
        }
        auto& res = answers[i];
        std::string why;
        nlohmann::ordered_json body;
        if (!res.answered()) {
            why = res.failure;
        } else {
            try {
                body = nlohmann::ordered_json::parse(res.body);
                if (res.status != 200) {
                    why = fmt::format("HTTP {}: {}", res.status, body.value("error", res.body));
                } else if (!body.contains("entries") || !body["entries"].is_array()) {
                    why = "an answer without entries";
                }
            } catch (const std::exception& e) {
                why = fmt::format("HTTP {}, not JSON: {}", res.status, e.what());
            }
        }
        if (!why.empty()) {
            logger()->warn("range fan-out failed store={} host={} reason={}", name, host.to_string(), why);
            missing.push_back(host.to_string());
            failures.push_back(fmt::format("instance {} did not answer: {}", host.to_string(), why));
            continue;
        }
        try {
            merge(body["entries"], host);
        } catch (const std::exception& e) {
            missing.push_back(host.to_string());
            failures.push_back(fmt::format("instance {} answered entries this store cannot read: {}",
                host.to_string(), e.what()));
        }
    }
    if (!failures.empty() && !partial) {
        return query_error(query_status::bad_gateway,
            fmt::format("{}; the range would lack its partitions (ask with partial=true for the rest)",
                fmt::join(failures, "; ")));
    }
    std::vector<std::string> asked;
    for (const auto& h : hosts) {
        asked.push_back(h.to_string());
    }
    std::string entries = "[";
    for (const auto& [k, e] : merged) {
        if (entries.size() > 1) {
            entries += ',';
        }
        entries += e.json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    }
    entries += "]";
    std::string out = fmt::format("{{\"store\":{},\"scope\":\"all\",\"host\":{},\"hosts\":{},", json_string(name),
        json_string(_self), safe_dump(nlohmann::json(asked)));
    if (partial) {
        out += fmt::format("\"missing\":{},", safe_dump(nlohmann::json(missing)));
    }
    return {query_status::ok, out + "\"entries\":" + entries + "}"};
}

// 200 {"status":"healthy"}, or 503 {"status":"degraded" or
// "unhealthy","reasons":[...]} (what a load balancer or a liveness
// probe reads).
query_answer query_routes::health(kafka_streams& a) {
    const auto h = a.health();
    nlohmann::json body{{"status", std::string(to_string(h.status))}};
    if (h.status != health_status::healthy) {
        body["reasons"] = h.reasons;
        return {query_status::service_unavailable, safe_dump(body)};
    }
    return {query_status::ok, safe_dump(body)};
}

query_answer query_routes::instances(kafka_streams& a) const {
    if (!a.application_server()) {
        return query_error(query_status::not_found, "this app has no application.server: it knows no other instances");
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : a.all_metadata()) {
        nlohmann::json parts = nlohmann::json::array();
        for (const auto& [topic, p] : m.topic_partitions) {
            parts.push_back({{"topic", topic}, {"partition", p}});
        }
        out.push_back({{"host", m.host.to_string()}, {"stores", m.state_store_names}, {"partitions", parts},
            {"tasks", m.tasks}, {"standby_tasks", m.standby_tasks}});
    }
    return {query_status::ok, safe_dump(nlohmann::json{{"instances", out}})};
}

} // namespace eddy::runtime::internal
