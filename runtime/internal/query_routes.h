#pragma once

// What a query server answers, apart from the connections it answers on
// (query_server.cc): a request's target to a status and a JSON body, from
// the attached app's local stores, or from the instance that owns a key
// (forwarded there), or, for a range, from every instance. No Beast here:
// a status is its number.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "query_codec.h"

namespace eddy {
class kafka_streams;
}

namespace eddy::runtime::internal {

// The statuses a query is answered with (HTTP's numbers).
enum class query_status : unsigned {
    ok = 200,
    bad_request = 400,
    not_found = 404,
    method_not_allowed = 405,
    request_timeout = 408,
    payload_too_large = 413,
    request_header_fields_too_large = 431,
    internal_server_error = 500,
    bad_gateway = 502,
    service_unavailable = 503,
};

struct query_answer {
    query_status status = query_status::ok;
    std::string body;
};

// {"error": message}; bytes that are not UTF-8 show as U+FFFD.
query_answer query_error(query_status status, const std::string& message);

// A request as the routes read it.
struct query_request {
    bool get = true;         // its method is GET (nothing else is served)
    std::string target;      // path and query string, as sent
    bool forwarded = false;  // another instance sent it (X-Eddy-Forwarded): answer from the local stores
};

// The header that marks a forwarded query.
inline constexpr const char* forwarded_header = "X-Eddy-Forwarded";

// The endpoints of query_server.h. Thread-safe: requests are answered on
// several worker threads while stores are added.
class query_routes {
public:
    // "host:port" of this server: set once, before the first request.
    void set_self(std::string self) { _self = std::move(self); }
    const std::string& self() const noexcept { return _self; }

    void attach(kafka_streams& app);
    // The attached app; std::logic_error before attach().
    kafka_streams& need_app() const;
    void add(const std::string& name, served_store s);

    // Every answer; never throws (a fault of ours is a 500 whose body
    // points at the log, never the exception's text).
    query_answer respond(const query_request& req) const;

private:
    query_answer handle(const query_request& req) const;
    std::variant<std::string, query_answer> local_entries(const served_store& store, const std::string& name,
        const std::map<std::string, std::string>& params, const std::optional<std::string>& from,
        const std::optional<std::string>& to) const;
    query_answer range(kafka_streams& a, const served_store& store, const std::string& name,
        const std::map<std::string, std::string>& params, const std::optional<std::string>& from,
        const std::optional<std::string>& to, bool forwarded) const;
    static query_answer health(kafka_streams& a);
    query_answer instances(kafka_streams& a) const;

    std::string _self;
    mutable std::mutex _mutex;
    kafka_streams* _app = nullptr;
    std::map<std::string, served_store> _stores;
};

} // namespace eddy::runtime::internal
