// eddy query: asks an instance's query_server (runtime/query_server.h) over
// HTTP and prints its JSON answer; the server forwards a key's query to the
// instance that owns the key.

#include <chrono>
#include <cstdio>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/streams_metadata.h"
#include "tools/commands.h"
#include "tools/kafka_client.h"

namespace eddy::tools {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string encode(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
            || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

struct http_answer {
    int status = 0;
    std::string body;
};

http_answer get(const host_info& server, const std::string& target, std::chrono::milliseconds timeout) {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, server.to_string());
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    beast::error_code failure;
    stream.expires_after(timeout);
    resolver.async_resolve(server.host, std::to_string(server.port), [&](beast::error_code ec, tcp::resolver::results_type r) {
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
        throw tool_error(fmt::format("cannot reach the query server at {}: {}", server.to_string(), failure.message()));
    }
    return {static_cast<int>(res.result_int()), std::move(res.body())};
}

} // namespace

int run_query(const query_options& options) {
    auto server = host_info::parse(options.server);
    if (!server) {
        throw tool_error(options.server.empty()
                ? std::string("no query server: pass --server host:port or set EDDY_QUERY_SERVER")
                : fmt::format("--server {}: expected host:port", options.server));
    }
    std::string target;
    std::string params;
    auto param = [&](const char* name, const std::string& value) {
        if (!value.empty()) {
            params += (params.empty() ? "?" : "&") + std::string(name) + "=" + encode(value);
        }
    };
    if (options.instances) {
        target = "/instances";
    } else {
        if (options.store.empty()) {
            throw tool_error("a store to query: eddy query <store> [key]");
        }
        target = "/stores/" + encode(options.store);
        if (options.key) {
            target += "/keys/" + encode(*options.key);
            if (options.windows) {
                target += "/windows";
            }
        } else if (options.windows) {
            throw tool_error("--windows needs a key: eddy query <store> <key> --windows [--from T] [--to T]");
        }
        param("from", options.from);
        param("to", options.to);
    }
    auto answer = get(*server, target + params, std::chrono::milliseconds(options.timeout_ms));
    if (answer.status >= 200 && answer.status < 300) {
        std::fputs(answer.body.c_str(), stdout);
        if (!answer.body.ends_with('\n')) {
            std::fputc('\n', stdout);
        }
        return 0;
    }
    std::string message = answer.body;
    try {
        message = nlohmann::json::parse(answer.body).at("error").get<std::string>();
    } catch (const std::exception&) {
        // Not eddy's JSON error: the body as it came.
    }
    throw tool_error(fmt::format("{} (HTTP {})", message, answer.status));
}

} // namespace eddy::tools
