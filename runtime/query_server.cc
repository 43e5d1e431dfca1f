#include "runtime/query_server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "runtime/internal/http_client.h"
#include "runtime/internal/log.h"
#include "runtime/kafka_error.h"
#include "statestore/store_error.h"

namespace eddy {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using runtime::internal::logger;

// Marks a query one instance sent another: answered from the local stores,
// never forwarded again.
constexpr const char* forwarded_header = "X-Eddy-Forwarded";
constexpr auto forward_timeout = std::chrono::seconds(5);

struct answer {
    http::status status = http::status::ok;
    std::string body;
};

answer error(http::status status, const std::string& message) {
    return {status, nlohmann::json{{"error", message}}.dump()};
}

std::string json_string(std::string_view s) {
    return nlohmann::json(std::string(s)).dump();
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
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
            const int hi = hex_digit(in[i + 1]);
            const int lo = hex_digit(in[i + 2]);
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
runtime::internal::http_response ask(const host_info& host, const std::string& target) {
    return runtime::internal::http_get(host, target, forward_timeout, {{forwarded_header, "1"}});
}

answer forward(const host_info& host, const std::string& target) {
    auto res = ask(host, target);
    if (!res.answered()) {
        return error(http::status::bad_gateway,
            fmt::format("the owning instance {} did not answer: {}", host.to_string(), res.failure));
    }
    return {static_cast<http::status>(res.status), std::move(res.body)};
}

// The key text a range entry's JSON key stands for (what parse_key_text
// reads): a string's contents, a number as written.
std::string key_text(const nlohmann::ordered_json& key) {
    return key.is_string() ? key.get<std::string>() : key.dump();
}

} // namespace

struct query_server::impl {
    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::thread accept_thread;
    std::string host;
    std::uint16_t port = 0;

    mutable std::mutex mutex;
    kafka_streams* app = nullptr;
    std::map<std::string, runtime::internal::served_store> stores;

    std::mutex connections_mutex;
    std::condition_variable connections_done;
    int connections = 0;
    bool stopped = false;

    void accept() {
        acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec) {
                return; // closed
            }
            {
                std::scoped_lock lock(connections_mutex);
                ++connections;
            }
            std::thread([this, s = std::move(socket)]() mutable {
                serve(std::move(s));
                std::scoped_lock lock(connections_mutex);
                --connections;
                connections_done.notify_all();
            }).detach();
            accept();
        });
    }

    void serve(tcp::socket socket) {
        // A client that sends nothing does not hold the thread for ever.
        timeval tv{10, 0};
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        beast::error_code ec;
        http::read(socket, buffer, req, ec);
        if (ec) {
            return;
        }
        answer a;
        try {
            a = handle(req);
        } catch (const std::exception& e) {
            a = error(http::status::internal_server_error, e.what());
        }
        http::response<http::string_body> res{a.status, req.version()};
        res.set(http::field::content_type, "application/json");
        res.keep_alive(false);
        res.body() = std::move(a.body);
        res.body() += '\n';
        res.prepare_payload();
        logger()->debug("query target={} status={}", std::string(req.target()), static_cast<int>(a.status));
        http::write(socket, res, ec);
        socket.shutdown(tcp::socket::shutdown_both, ec);
    }

    std::string self() const { return fmt::format("{}:{}", host, port); }

    answer handle(const http::request<http::string_body>& req) {
        if (req.method() != http::verb::get) {
            return error(http::status::method_not_allowed, "only GET is served");
        }
        const std::string target(req.target());
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
                    return error(http::status::bad_request, fmt::format("malformed query parameter '{}'", part));
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
                return error(http::status::bad_request, fmt::format("malformed path segment '{}'", seg));
            }
            segments.push_back(std::move(*decoded));
        }
        kafka_streams* a = nullptr;
        {
            std::scoped_lock lock(mutex);
            a = app;
        }
        if (segments.size() == 1 && segments[0] == "instances") {
            if (a == nullptr) {
                return error(http::status::service_unavailable, "no app attached to this query server yet");
            }
            return instances(*a);
        }
        if (segments.size() == 1 && segments[0] == "health") {
            if (a == nullptr) {
                return error(http::status::service_unavailable, "no app attached to this query server yet");
            }
            return health(*a);
        }
        if (segments.empty() || segments[0] != "stores" || segments.size() == 1 || segments.size() == 3
            || segments.size() > 5 || (segments.size() >= 4 && segments[2] != "keys")
            || (segments.size() == 5 && segments[4] != "windows")) {
            return error(http::status::not_found,
                fmt::format("no endpoint {}; try /stores/{{store}}/keys/{{key}}, /stores/{{store}}?from=&to=, "
                            "/stores/{{store}}/keys/{{key}}/windows?from=&to=, /instances or /health",
                    std::string(path)));
        }
        const std::string& name = segments[1];
        runtime::internal::served_store store;
        {
            std::scoped_lock lock(mutex);
            auto it = stores.find(name);
            if (it == stores.end() || a == nullptr) {
                std::vector<std::string> names;
                for (const auto& [n, s] : stores) {
                    names.push_back(n);
                }
                return error(http::status::not_found,
                    fmt::format("no store named {} is served here (served: {})", name, fmt::join(names, ", ")));
            }
            store = it->second;
        }
        if (segments.size() == 2) {
            return range(*a, store, name, params, req.find(forwarded_header) != req.end());
        }
        const std::string& key = segments[3];
        std::string key_json;
        std::string key_bytes;
        try {
            key_json = store.key_json(key);
            key_bytes = store.key_bytes(key);
        } catch (const serde_error& e) {
            return error(http::status::bad_request, fmt::format("bad key '{}' for store {}: {}", key, name, e.what()));
        }
        const bool windows = segments.size() == 5;
        if (windows != store.windowed) {
            return error(http::status::bad_request,
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
                return error(http::status::bad_request, "from and to must be times in milliseconds");
            }
            from = *f;
            to = *t;
        }
        // Where the key lives; a forwarded query is answered here.
        if (auto me = a->application_server(); me && req.find(forwarded_header) == req.end()) {
            auto where = a->query_metadata_for_serialized_key(name, key_bytes);
            if (!where.available()) {
                return error(http::status::service_unavailable,
                    fmt::format("no instance owns partition {} of store {} at the moment (rebalancing?); try again",
                        where.partition, name));
            }
            if (*where.active_host != *me) {
                return forward(*where.active_host, target);
            }
        }
        const std::string head = fmt::format("{{\"store\":{},\"key\":{},", json_string(name), key_json);
        const std::string tail = fmt::format("\"host\":{}}}", json_string(self()));
        if (windows) {
            return {http::status::ok, head + "\"windows\":" + store.windows(key, from, to) + "," + tail};
        }
        auto value = store.get(key);
        if (!value) {
            return error(http::status::not_found, fmt::format("key {} not found in store {}", key, name));
        }
        return {http::status::ok, head + "\"value\":" + *value + "," + tail};
    }

    // The store's entries in this instance's partitions, as JSON text, or
    // the error to answer.
    std::variant<std::string, answer> local_entries(const runtime::internal::served_store& store,
        const std::string& name, const std::map<std::string, std::string>& params) {
        if (store.windowed) {
            auto f = time_param(params, "from", 0);
            auto t = time_param(params, "to", std::numeric_limits<std::int64_t>::max());
            if (!f || !t) {
                return error(http::status::bad_request, "from and to must be times in milliseconds");
            }
            return store.all_windows(*f, *t);
        }
        std::optional<std::string> from;
        std::optional<std::string> to;
        if (auto it = params.find("from"); it != params.end()) {
            from = it->second;
        }
        if (auto it = params.find("to"); it != params.end()) {
            to = it->second;
        }
        try {
            return store.range(from, to);
        } catch (const serde_error& e) {
            return error(http::status::bad_request, fmt::format("bad range bound for store {}: {}", name, e.what()));
        }
    }

    // A key range (or every key's windows) of the whole application: this
    // instance's entries merged with those of every other instance holding
    // partitions of the store, each asked once with scope=local. Answered
    // from the local partitions alone for scope=local, for a query another
    // instance sent, and without application.server (no other instance is
    // known).
    answer range(kafka_streams& a, const runtime::internal::served_store& store, const std::string& name,
        const std::map<std::string, std::string>& params, bool forwarded) {
        std::string scope = "all";
        if (auto it = params.find("scope"); it != params.end()) {
            scope = it->second;
        }
        if (scope != "all" && scope != "local") {
            return error(http::status::bad_request, fmt::format("scope must be all or local, not '{}'", scope));
        }
        bool partial = false;
        if (auto it = params.find("partial"); it != params.end()) {
            if (it->second != "true" && it->second != "false") {
                return error(http::status::bad_request, fmt::format("partial must be true or false, not '{}'", it->second));
            }
            partial = it->second == "true";
        }
        auto local = local_entries(store, name, params);
        if (auto* failed = std::get_if<answer>(&local)) {
            return std::move(*failed);
        }
        auto& mine = std::get<std::string>(local);
        const auto me = a.application_server();
        if (scope == "local" || forwarded || !me) {
            return {http::status::ok, fmt::format("{{\"store\":{},\"scope\":\"local\",\"host\":{},\"entries\":{}}}",
                                          json_string(name), json_string(self()), mine)};
        }
        // Every partition must have an owner, or the answer would lack it.
        for (const auto& p : a.query_metadata_for_store_partitions(name)) {
            if (!p.available()) {
                return error(http::status::service_unavailable,
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
        std::string target = "/stores/" + runtime::internal::url_encode(name) + "?scope=local";
        for (const auto& [k, v] : params) {
            if (k != "scope" && k != "partial") {
                target += "&" + runtime::internal::url_encode(k) + "=" + runtime::internal::url_encode(v);
            }
        }
        // One request per other instance, all at once.
        std::vector<runtime::internal::http_response> answers(hosts.size());
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
            return error(http::status::bad_gateway,
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
            entries += e.json.dump();
        }
        entries += "]";
        std::string out = fmt::format("{{\"store\":{},\"scope\":\"all\",\"host\":{},\"hosts\":{},", json_string(name),
            json_string(self()), nlohmann::json(asked).dump());
        if (partial) {
            out += fmt::format("\"missing\":{},", nlohmann::json(missing).dump());
        }
        return {http::status::ok, out + "\"entries\":" + entries + "}"};
    }

    // 200 {"status":"healthy"}, or 503 {"status":"degraded","reasons":[...]}
    // (what a load balancer or a liveness probe reads).
    static answer health(kafka_streams& a) {
        const auto h = a.health();
        nlohmann::json body{{"status", std::string(to_string(h.status))}};
        if (h.status == health_status::degraded) {
            body["reasons"] = h.reasons;
            return {http::status::service_unavailable, body.dump()};
        }
        return {http::status::ok, body.dump()};
    }

    answer instances(kafka_streams& a) {
        if (!a.application_server()) {
            return error(http::status::not_found, "this app has no application.server: it knows no other instances");
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
        return {http::status::ok, nlohmann::json{{"instances", out}}.dump()};
    }
};

query_server::query_server(const std::string& address, std::uint16_t port) : _impl(std::make_unique<impl>()) {
    const auto ip = net::ip::make_address(address);
    tcp::endpoint endpoint(ip, port);
    _impl->acceptor.open(endpoint.protocol());
    _impl->acceptor.set_option(net::socket_base::reuse_address(true));
    _impl->acceptor.bind(endpoint);
    _impl->acceptor.listen();
    _impl->host = address;
    _impl->port = _impl->acceptor.local_endpoint().port();
    _impl->accept();
    _impl->accept_thread = std::thread([this] { _impl->ioc.run(); });
    logger()->info("query server listening address={}", _impl->self());
}

query_server::~query_server() {
    stop();
}

std::uint16_t query_server::port() const {
    return _impl->port;
}

std::string query_server::address() const {
    return _impl->self();
}

query_server& query_server::attach(kafka_streams& app) {
    std::scoped_lock lock(_impl->mutex);
    _impl->app = &app;
    return *this;
}

kafka_streams& query_server::need_app() const {
    std::scoped_lock lock(_impl->mutex);
    if (_impl->app == nullptr) {
        throw std::logic_error("query_server: attach(app) before serving its stores");
    }
    return *_impl->app;
}

void query_server::add(const std::string& name, runtime::internal::served_store s) {
    std::scoped_lock lock(_impl->mutex);
    _impl->stores[name] = std::move(s);
}

void query_server::stop() {
    {
        std::scoped_lock lock(_impl->connections_mutex);
        if (_impl->stopped) {
            return;
        }
        _impl->stopped = true;
    }
    net::post(_impl->ioc, [this] {
        beast::error_code ignored;
        _impl->acceptor.close(ignored);
    });
    _impl->accept_thread.join();
    std::unique_lock lock(_impl->connections_mutex);
    _impl->connections_done.wait(lock, [this] { return _impl->connections == 0; });
    logger()->info("query server stopped address={}", address());
}

} // namespace eddy
