#pragma once

// http_client: the one HTTP/1.1 GET eddy sends, to another instance's
// query_server (forwarded key queries, a range's fan-out) and from `eddy
// query`. Boost.Beast stays in http_client.cc.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../streams_metadata.h"

namespace eddy::runtime::internal {

// What came back: the status and body, or why nothing did.
struct http_response {
    int status = 0;
    std::string body;
    // Empty when an answer came; else what failed (resolve, connect, the
    // timeout, ...).
    std::string failure;

    bool answered() const noexcept { return failure.empty(); }
};

// GET http://host/target within `timeout` (the whole exchange), with the
// extra request headers given. Never throws for the network: see failure.
http_response http_get(const host_info& host, const std::string& target, std::chrono::milliseconds timeout,
    const std::vector<std::pair<std::string, std::string>>& headers = {});

// Percent-encodes everything but RFC 3986's unreserved characters (a path
// segment or a query parameter's name or value).
std::string url_encode(std::string_view text);

} // namespace eddy::runtime::internal
