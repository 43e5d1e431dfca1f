#include "runtime/internal/http_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>

namespace eddy::runtime::internal {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

} // namespace

http_response http_get(const host_info& host, const std::string& target, std::chrono::milliseconds timeout,
    const std::vector<std::pair<std::string, std::string>>& headers) {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host.to_string());
    for (const auto& [name, value] : headers) {
        req.set(name, value);
    }
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    beast::error_code failure;
    // The deadline covers resolve, connect, write and read alike.
    stream.expires_after(timeout);
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
        return {0, {}, failure.message()};
    }
    return {static_cast<int>(res.result_int()), std::move(res.body()), {}};
}

std::string url_encode(std::string_view text) {
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

} // namespace eddy::runtime::internal
