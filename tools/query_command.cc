// eddy query: asks an instance's query_server (runtime/query_server.h) over
// HTTP and prints its JSON answer; the server forwards a key's query to the
// instance that owns the key, and merges a range from every instance.

#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/internal/http_client.h"
#include "runtime/streams_metadata.h"
#include "tools/commands.h"
#include "tools/kafka_client.h"

namespace eddy::tools {

using runtime::internal::url_encode;

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
            params += (params.empty() ? "?" : "&") + std::string(name) + "=" + url_encode(value);
        }
    };
    if (options.instances) {
        target = "/instances";
    } else {
        if (options.store.empty()) {
            throw tool_error("a store to query: eddy query <store> [key]");
        }
        target = "/stores/" + url_encode(options.store);
        if (options.key) {
            target += "/keys/" + url_encode(*options.key);
            if (options.windows) {
                target += "/windows";
            }
        } else if (options.windows) {
            throw tool_error("--windows needs a key: eddy query <store> <key> --windows [--from T] [--to T]");
        }
        param("from", options.from);
        param("to", options.to);
        if ((options.local || options.partial) && (options.key || options.windows)) {
            throw tool_error("--local and --partial are for a range: eddy query <store> [--from K] [--to K]");
        }
        param("scope", options.local ? "local" : "");
        param("partial", options.partial ? "true" : "");
    }
    auto answer = runtime::internal::http_get(*server, target + params, std::chrono::milliseconds(options.timeout_ms));
    if (!answer.answered()) {
        throw tool_error(fmt::format("cannot reach the query server at {}: {}", server->to_string(), answer.failure));
    }
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
