#include "runtime/query_server.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <typeinfo>
#include <variant>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "runtime/internal/http_client.h"
#include "runtime/internal/log.h"
#include "runtime/kafka_error.h"
#include "serde/internal/json_io.h"
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

// JSON text that never throws: bytes that are not UTF-8 (a store name or
// a parameter a client sent) show as U+FFFD.
std::string safe_dump(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

answer error(http::status status, const std::string& message) {
    return {status, safe_dump(nlohmann::json{{"error", message}})};
}

std::string json_string(std::string_view s) {
    return safe_dump(nlohmann::json(std::string(s)));
}

// A key for a message: as it is when UTF-8, else base64:<its base64>.
std::string shown(std::string_view key) {
    return serdes::internal::is_valid_utf8(key) ? std::string(key) : "base64:" + serdes::internal::base64_encode(key);
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

struct query_server::impl {
    class session;

    explicit impl(query_server_limits l) : limits(l), workers(static_cast<std::size_t>(l.worker_threads)) {}
    ~impl() {
        // Sessions still held by handlers go with the I/O context.
        open.clear();
    }

    const query_server_limits limits;
    std::string host;
    std::uint16_t port = 0;

    mutable std::mutex mutex;
    kafka_streams* app = nullptr;
    std::map<std::string, runtime::internal::served_store> stores;

    // The open connections (I/O thread only), and how many (any thread).
    // Declared before the I/O context, whose handlers hold sessions: they
    // go with it, and find these still there.
    std::map<session*, std::weak_ptr<session>> open;
    std::atomic<int> connections = 0;
    std::atomic<bool> stopped = false;
    std::int64_t accept_errors = 0;
    // Connections past the cap answered 503 at once; past these too, closed.
    static constexpr int refusing = 64;

    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    net::steady_timer accept_retry{ioc};
    std::thread io_thread;
    // Where requests are answered, off the I/O thread.
    net::thread_pool workers;

    // Accepts connections until stopped (defined with the session).
    void accept();

    // Every answer, computed on a worker thread; never throws.
    answer respond(const http::request<http::string_body>& req) {
        try {
            return handle(req);
        } catch (const std::exception& e) {
            // A fault of ours, not of the request: the details go to the
            // log, not to the client.
            logger()->error("query failed target={} error_class={} error=\"{}\"", shown(std::string(req.target())),
                typeid(e).name(), e.what());
            return error(http::status::internal_server_error,
                fmt::format("the query could not be answered; the log of {} says why", self()));
        }
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
        // key_encoding=base64: the key (and from, to) are given in base64,
        // for binary keys (a path segment may also carry them
        // percent-encoded).
        bool base64_keys = false;
        if (auto it = params.find("key_encoding"); it != params.end()) {
            if (it->second != "base64" && it->second != "text") {
                return error(http::status::bad_request,
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
                        return error(http::status::bad_request,
                            fmt::format("{} is not base64 (key_encoding=base64): '{}'", bound, it->second));
                    }
                }
            }
            return range(*a, store, name, params, from, to, req.find(forwarded_header) != req.end());
        }
        const auto key_or_not = decoded(segments[3]);
        if (!key_or_not) {
            return error(http::status::bad_request,
                fmt::format("the key is not base64 (key_encoding=base64): '{}'", segments[3]));
        }
        const std::string& key = *key_or_not;
        std::string key_json;
        std::string key_bytes;
        try {
            key_json = store.key_json(key);
            key_bytes = store.key_bytes(key);
        } catch (const serde_error& e) {
            return error(
                http::status::bad_request, fmt::format("bad key '{}' for store {}: {}", shown(key), name, e.what()));
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
            return error(http::status::not_found, fmt::format("key {} not found in store {}", shown(key), name));
        }
        return {http::status::ok, head + "\"value\":" + *value + "," + tail};
    }

    // The store's entries in this instance's partitions, as JSON text, or
    // the error to answer.
    std::variant<std::string, answer> local_entries(const runtime::internal::served_store& store,
        const std::string& name, const std::map<std::string, std::string>& params, const std::optional<std::string>& from,
        const std::optional<std::string>& to) {
        if (store.windowed) {
            auto f = time_param(params, "from", 0);
            auto t = time_param(params, "to", std::numeric_limits<std::int64_t>::max());
            if (!f || !t) {
                return error(http::status::bad_request, "from and to must be times in milliseconds");
            }
            return store.all_windows(*f, *t);
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
        const std::map<std::string, std::string>& params, const std::optional<std::string>& from,
        const std::optional<std::string>& to, bool forwarded) {
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
        auto local = local_entries(store, name, params, from, to);
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
            entries += e.json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        }
        entries += "]";
        std::string out = fmt::format("{{\"store\":{},\"scope\":\"all\",\"host\":{},\"hosts\":{},", json_string(name),
            json_string(self()), safe_dump(nlohmann::json(asked)));
        if (partial) {
            out += fmt::format("\"missing\":{},", safe_dump(nlohmann::json(missing)));
        }
        return {http::status::ok, out + "\"entries\":" + entries + "}"};
    }

    // 200 {"status":"healthy"}, or 503 {"status":"degraded" or
    // "unhealthy","reasons":[...]} (what a load balancer or a liveness
    // probe reads).
    static answer health(kafka_streams& a) {
        const auto h = a.health();
        nlohmann::json body{{"status", std::string(to_string(h.status))}};
        if (h.status != health_status::healthy) {
            body["reasons"] = h.reasons;
            return {http::status::service_unavailable, safe_dump(body)};
        }
        return {http::status::ok, safe_dump(body)};
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
        return {http::status::ok, safe_dump(nlohmann::json{{"instances", out}})};
    }
};

// One client connection, served on the I/O thread: its request is read
// within read_timeout (a client that sends nothing, or too slowly, is let
// go: 408 if it sent part of a request), answered by a worker thread (an
// answer may wait on another instance), written within write_timeout, and
// the connection closed.
class query_server::impl::session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, impl& server);
    ~session();
    void start();
    // Past the connection cap: 503 at once, and closed.
    void refuse(std::string why);
    void close();

private:
    void on_read(beast::error_code ec);
    void reply(answer a, unsigned version);

    beast::tcp_stream _stream;
    // The request's read deadline. Not the stream's own expiry: that closes
    // the socket, and a partial request could not be answered 408.
    net::steady_timer _read_deadline;
    bool _read_timed_out = false;
    beast::flat_buffer _buffer;
    std::optional<http::request_parser<http::string_body>> _parser;
    http::response<http::string_body> _response;
    impl& _server;
};

query_server::impl::session::session(tcp::socket socket, impl& server)
    : _stream(std::move(socket)), _read_deadline(_stream.get_executor()), _server(server) {}

query_server::impl::session::~session() {
    _server.open.erase(this);
    --_server.connections;
}

void query_server::impl::session::close() {
    _read_deadline.cancel();
    beast::error_code ignored;
    _stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    _stream.socket().close(ignored);
    _server.open.erase(this);
}

void query_server::impl::session::start() {
    _parser.emplace();
    _parser->header_limit(16 * 1024);
    _parser->body_limit(64 * 1024);
    // One deadline for the whole request: a client that trickles bytes
    // (slowloris) is let go as one that sends none.
    _read_deadline.expires_after(_server.limits.read_timeout);
    _read_deadline.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) {
            // The read ends with operation_aborted; on_read answers.
            self->_read_timed_out = true;
            beast::error_code ignored;
            self->_stream.socket().cancel(ignored);
        }
    });
    http::async_read(_stream, _buffer, *_parser,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void query_server::impl::session::refuse(std::string why) {
    reply(error(http::status::service_unavailable, why), 11);
    // A refusal waits on its client for a second at most.
    _stream.expires_after(std::chrono::seconds(1));
}

void query_server::impl::session::on_read(beast::error_code ec) {
    if (_server.stopped) {
        close();
        return;
    }
    _read_deadline.cancel();
    if (_read_timed_out) {
        if (_parser->got_some()) {
            reply(error(http::status::request_timeout,
                      fmt::format("the request did not arrive whole within {} ms",
                          std::chrono::duration_cast<std::chrono::milliseconds>(_server.limits.read_timeout).count())),
                11);
        } else {
            close();
        }
        return;
    }
    if (ec == http::error::body_limit) {
        reply(error(http::status::payload_too_large, "a query has no body to speak of (64 KiB at most)"), 11);
        return;
    }
    if (ec == http::error::header_limit) {
        reply(error(http::status::request_header_fields_too_large, "the request's head is over 16 KiB"), 11);
        return;
    }
    if (ec && ec != http::error::end_of_stream && ec.category() == http::make_error_code(http::error::bad_method).category()) {
        reply(error(http::status::bad_request, fmt::format("not an HTTP request: {}", ec.message())), 11);
        return;
    }
    if (ec) {
        close();
        return;
    }
    // Answered on a worker: an answer may wait on another instance.
    _stream.expires_never();
    net::post(_server.workers, [self = shared_from_this()] {
        auto a = self->_server.respond(self->_parser->get());
        net::post(self->_stream.get_executor(), [self, a = std::move(a)]() mutable {
            self->reply(std::move(a), self->_parser->get().version());
        });
    });
}

void query_server::impl::session::reply(answer a, unsigned version) {
    if (_server.stopped) {
        close();
        return;
    }
    _response = http::response<http::string_body>{a.status, version};
    _response.set(http::field::content_type, "application/json");
    _response.keep_alive(false);
    _response.body() = std::move(a.body);
    _response.body() += '\n';
    _response.prepare_payload();
    _stream.expires_after(_server.limits.write_timeout);
    http::async_write(_stream, _response, [self = shared_from_this()](beast::error_code, std::size_t) { self->close(); });
}


void query_server::impl::accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
        if (stopped || ec == net::error::operation_aborted) {
            return;
        }
        if (ec) {
            // Out of file descriptors, most likely: the server goes on
            // accepting once some are free, rather than never again.
            if (accept_errors++ % 100 == 0) {
                logger()->warn("query server cannot accept, retrying in 100 ms address={} error=\"{}\" errors={}",
                    self(), ec.message(), accept_errors);
            }
            accept_retry.expires_after(std::chrono::milliseconds(100));
            accept_retry.async_wait([this](beast::error_code e) {
                if (!e && !stopped) {
                    accept();
                }
            });
            return;
        }
        const int n = ++connections;
        auto s = std::make_shared<session>(std::move(socket), *this);
        open.emplace(s.get(), s);
        if (n > limits.max_connections + refusing) {
            // A flood: not even a 503 (each would hold a descriptor).
            s->close();
        } else if (n > limits.max_connections) {
            s->refuse(fmt::format("the query server has {} connections open, its limit; try again",
                limits.max_connections));
        } else {
            s->start();
        }
        accept();
    });
}

query_server::query_server(const std::string& address, std::uint16_t port, query_server_limits limits) {
    if (limits.max_connections < 1 || limits.worker_threads < 1 || limits.read_timeout.count() <= 0
        || limits.write_timeout.count() <= 0) {
        throw std::invalid_argument(fmt::format("query_server: max_connections ({}) and worker_threads ({}) must be "
                                                "at least 1, the timeouts positive",
            limits.max_connections, limits.worker_threads));
    }
    _impl = std::make_unique<impl>(limits);
    const auto ip = net::ip::make_address(address);
    tcp::endpoint endpoint(ip, port);
    _impl->acceptor.open(endpoint.protocol());
    _impl->acceptor.set_option(net::socket_base::reuse_address(true));
    _impl->acceptor.bind(endpoint);
    _impl->acceptor.listen();
    _impl->host = address;
    _impl->port = _impl->acceptor.local_endpoint().port();
    _impl->accept();
    _impl->io_thread = std::thread([this] { _impl->ioc.run(); });
    logger()->info("query server listening address={} max_connections={} worker_threads={}", _impl->self(),
        limits.max_connections, limits.worker_threads);
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
    if (_impl->stopped.exchange(true)) {
        return;
    }
    // Nothing new is accepted and no connection waits for its client; the
    // answers under way finish (each within the forwarding timeout).
    net::post(_impl->ioc, [this] {
        beast::error_code ignored;
        _impl->acceptor.close(ignored);
        _impl->accept_retry.cancel();
        auto open = _impl->open;
        for (auto& [raw, weak] : open) {
            if (auto s = weak.lock()) {
                s->close();
            }
        }
    });
    _impl->workers.join();
    // The replies the workers posted find the server stopped and close.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (_impl->connections > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    _impl->ioc.stop();
    _impl->io_thread.join();
    logger()->info("query server stopped address={}", address());
}

} // namespace eddy
