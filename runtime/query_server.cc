#include "runtime/query_server.h"

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>

#include "runtime/internal/log.h"
#include "runtime/internal/query_routes.h"

namespace eddy {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using runtime::internal::logger;
using runtime::internal::query_error;
using runtime::internal::query_status;

} // namespace

struct query_server::impl {
    class session;

    explicit impl(query_server_limits l) : limits(l), workers(static_cast<std::size_t>(l.worker_threads)) {}
    ~impl() {
        // Sessions still held by handlers go with the I/O context.
        open.clear();
    }

    const query_server_limits limits;
    std::uint16_t port = 0;
    // What each request is answered (and the app and stores that answer).
    runtime::internal::query_routes routes;

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

    // Answered on a worker thread; never throws.
    runtime::internal::query_answer respond(const http::request<http::string_body>& req) const {
        return routes.respond({req.method() == http::verb::get, std::string(req.target()),
            req.find(runtime::internal::forwarded_header) != req.end()});
    }

    const std::string& self() const noexcept { return routes.self(); }
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
    void reply(runtime::internal::query_answer a, unsigned version);

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
    reply(query_error(query_status::service_unavailable, why), 11);
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
            reply(query_error(query_status::request_timeout,
                      fmt::format("the request did not arrive whole within {} ms",
                          std::chrono::duration_cast<std::chrono::milliseconds>(_server.limits.read_timeout).count())),
                11);
        } else {
            close();
        }
        return;
    }
    if (ec == http::error::body_limit) {
        reply(query_error(query_status::payload_too_large, "a query has no body to speak of (64 KiB at most)"), 11);
        return;
    }
    if (ec == http::error::header_limit) {
        reply(query_error(query_status::request_header_fields_too_large, "the request's head is over 16 KiB"), 11);
        return;
    }
    if (ec && ec != http::error::end_of_stream && ec.category() == http::make_error_code(http::error::bad_method).category()) {
        reply(query_error(query_status::bad_request, fmt::format("not an HTTP request: {}", ec.message())), 11);
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

void query_server::impl::session::reply(runtime::internal::query_answer a, unsigned version) {
    if (_server.stopped) {
        close();
        return;
    }
    _response = http::response<http::string_body>{static_cast<http::status>(a.status), version};
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
    _impl->port = _impl->acceptor.local_endpoint().port();
    _impl->routes.set_self(fmt::format("{}:{}", address, _impl->port));
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
    _impl->routes.attach(app);
    return *this;
}

kafka_streams& query_server::need_app() const {
    return _impl->routes.need_app();
}

void query_server::add(const std::string& name, runtime::internal::served_store s) {
    _impl->routes.add(name, std::move(s));
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
