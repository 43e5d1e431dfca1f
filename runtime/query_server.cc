#include "runtime/query_server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

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

// GET http://host/target from another instance, within forward_timeout.
answer forward(const host_info& host, const std::string& target) {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host.to_string());
    req.set(forwarded_header, "1");
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    beast::error_code failure;
    stream.expires_after(forward_timeout);
    resolver.async_resolve(host.host, std::to_string(host.port), [&](beast::error_code ec, tcp::resolver::results_type r) {
        if (ec) {
            failure = ec;
            return;
        }
        stream.async_connect(r, [&](beast::error_code ec, const tcp::endpoint&) {
            if (ec) {
                failure = ec;
                return;
            }
            http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
                if (ec) {
                    failure = ec;
                    return;
                }
                http::async_read(stream, buffer, res, [&](beast::error_code ec, std::size_t) { failure = ec; });
            });
        });
    });
    ioc.run();
    if (failure) {
        return error(http::status::bad_gateway,
            fmt::format("the owning instance {} did not answer: {}", host.to_string(), failure.message()));
    }
    return {res.result(), std::move(res.body())};
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
        if (segments.empty() || segments[0] != "stores" || segments.size() == 1 || segments.size() == 3
            || segments.size() > 5 || (segments.size() >= 4 && segments[2] != "keys")
            || (segments.size() == 5 && segments[4] != "windows")) {
            return error(http::status::not_found,
                fmt::format("no endpoint {}; try /stores/{{store}}/keys/{{key}}, /stores/{{store}}?from=&to=, "
                            "/stores/{{store}}/keys/{{key}}/windows?from=&to= or /instances",
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
            return range(store, name, params);
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

    answer range(const runtime::internal::served_store& store, const std::string& name,
        const std::map<std::string, std::string>& params) {
        std::string entries;
        if (store.windowed) {
            auto f = time_param(params, "from", 0);
            auto t = time_param(params, "to", std::numeric_limits<std::int64_t>::max());
            if (!f || !t) {
                return error(http::status::bad_request, "from and to must be times in milliseconds");
            }
            entries = store.all_windows(*f, *t);
        } else {
            std::optional<std::string> from;
            std::optional<std::string> to;
            if (auto it = params.find("from"); it != params.end()) {
                from = it->second;
            }
            if (auto it = params.find("to"); it != params.end()) {
                to = it->second;
            }
            try {
                entries = store.range(from, to);
            } catch (const serde_error& e) {
                return error(http::status::bad_request, fmt::format("bad range bound for store {}: {}", name, e.what()));
            }
        }
        return {http::status::ok, fmt::format("{{\"store\":{},\"scope\":\"local\",\"host\":{},\"entries\":{}}}",
                                      json_string(name), json_string(self()), entries)};
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
