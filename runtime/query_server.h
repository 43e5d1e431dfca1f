#pragma once

// query_server: interactive queries over HTTP, for analysts and for the
// `eddy query` command. Each instance of an application runs one next to its
// kafka_streams; it answers from the local stores and forwards a key's query
// to the instance that owns the key (application.server, see
// kafka_streams::query_metadata_for_key). Boost.Beast stays in
// query_server.cc.
//
//   eddy::query_server server("127.0.0.1", 0);      // binds now: 0 = any free port
//   config.set("application.server", server.address());  // "127.0.0.1:40123"
//   eddy::kafka_streams app(builder.build(), config);
//   server.attach(app)
//       .serve_store<std::string, std::int64_t>("counts")
//       .serve_window_store<std::string, std::int64_t>("counts-per-minute");
//   app.start();
//   // curl 127.0.0.1:40123/stores/counts/keys/alice
//   //   {"store":"counts","key":"alice","value":3,"host":"127.0.0.1:40123"}
//
// Endpoints (GET; every answer is JSON, errors as {"error":"..."}):
//   /stores/{store}/keys/{key}                    one key, from its owner
//   /stores/{store}/keys/{key}/windows?from=&to=  a window store's windows of a key starting in [from, to] (ms)
//   /stores/{store}?from=&to=                     a key range (either bound may go) of the whole app,
//                                                 "scope":"all": this instance's entries merged, in
//                                                 serialised-key order, with every other instance's
//                                                 (asked once each); of a window store: every key's
//                                                 windows starting in [from, to]
//     &scope=local                                only this instance's partitions, "scope":"local"
//     &partial=true                               an instance that does not answer is listed in
//                                                 "missing" rather than failing the query (502)
//   /instances                                    every instance, its stores and partitions
//   /health                                       200 {"status":"healthy"}, or 503
//                                                 {"status":"degraded" or "unhealthy","reasons":[...]} (kafka_streams::health)
// 400 bad key or parameter, 404 unknown store or key, 502 owner (or, for a
// range, any instance) unreachable, 503 no owner (rebalancing) or too many
// connections (query_server_limits), 408 a request that did not arrive in
// time. A 500 says only that the server's log has the reason.
//
// Binary keys: a key (or a value) that is not UTF-8 is shown as
// {"base64":"..."}; ask for it percent-encoded in the path
// (/stores/s/keys/%FF%FE) or with key_encoding=base64, which also applies
// to from and to (/stores/s/keys/__4%3D?key_encoding=base64).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "internal/query_codec.h"
#include "kafka_streams.h"

namespace eddy {

// How much a query server takes on. Connections past max_connections are
// answered 503 at once and closed; a request must arrive whole within
// read_timeout (or the connection is closed, 408 if part of it came) and its
// answer be taken within write_timeout; worker_threads answer requests (an
// answer may wait up to 5 s on another instance), one more thread does the
// I/O for every connection.
struct query_server_limits {
    int max_connections = 256;
    int worker_threads = 4;
    std::chrono::milliseconds read_timeout{10'000};
    std::chrono::milliseconds write_timeout{10'000};
};

class query_server {
public:
    // Binds address:port (port 0: any free one) and starts serving; stores
    // answer once attached and registered. Throws std::system_error when
    // the address cannot be bound, std::invalid_argument for limits below 1.
    query_server(const std::string& address, std::uint16_t port, query_server_limits limits = {});
    ~query_server();
    query_server(const query_server&) = delete;
    query_server& operator=(const query_server&) = delete;

    // The port bound, and "address:port" (what application.server should say).
    std::uint16_t port() const;
    std::string address() const;

    // The app whose stores this serves; it must outlive the server (or stop()).
    query_server& attach(kafka_streams& app);

    // Serves the key-value store `name` (store_error when the app has no
    // such store). Keys in URLs are parsed as K and serialised with its
    // default serde, or `key_serde`, to find their partition.
    template<typename K, typename V>
        requires has_default_serde<K>
    query_server& serve_store(const std::string& name) {
        return serve_store<K, V>(name, serde_ref<K>(typename default_serde<K>::type{}));
    }
    template<typename K, typename V>
    query_server& serve_store(const std::string& name, serde_ref<K> key_serde) {
        auto& app = need_app();
        auto view = app.store<K, V>(name);
        runtime::internal::served_store s;
        s.key_bytes = [key_serde](std::string_view text) {
            return key_serde.serialize(runtime::internal::parse_key_text<K>(text));
        };
        s.key_json = [](std::string_view text) {
            return runtime::internal::to_json_text(runtime::internal::parse_key_text<K>(text));
        };
        s.get = [view](std::string_view text) -> std::optional<std::string> {
            auto v = view.get(runtime::internal::parse_key_text<K>(text));
            if (!v) {
                return std::nullopt;
            }
            return runtime::internal::to_json_text(*v);
        };
        s.range = [view](const std::optional<std::string>& from, const std::optional<std::string>& to) {
            std::optional<K> lo, hi;
            if (from) {
                lo = runtime::internal::parse_key_text<K>(*from);
            }
            if (to) {
                hi = runtime::internal::parse_key_text<K>(*to);
            }
            std::vector<key_value<K, V>> entries;
            if (lo && hi) {
                entries = view.range(*lo, *hi);
            } else {
                // An open bound: the whole, in store order, cut by K's own
                // order on the bound given.
                entries = view.all();
                std::erase_if(entries,
                    [&](const key_value<K, V>& e) { return (lo && e.key < *lo) || (hi && *hi < e.key); });
            }
            std::string out = "[";
            for (const auto& e : entries) {
                if (out.size() > 1) {
                    out += ',';
                }
                out += "{\"key\":" + runtime::internal::to_json_text(e.key)
                    + ",\"value\":" + runtime::internal::to_json_text(e.value) + "}";
            }
            return out + "]";
        };
        add(name, std::move(s));
        return *this;
    }

    // Serves the window store `name` of a windowed aggregation.
    template<typename K, typename V>
        requires has_default_serde<K>
    query_server& serve_window_store(const std::string& name) {
        auto& app = need_app();
        auto view = app.window_store<K, V>(name);
        serde_ref<K> key_serde(typename default_serde<K>::type{});
        runtime::internal::served_store s;
        s.windowed = true;
        s.key_bytes = [key_serde](std::string_view text) {
            return key_serde.serialize(runtime::internal::parse_key_text<K>(text));
        };
        s.key_json = [](std::string_view text) {
            return runtime::internal::to_json_text(runtime::internal::parse_key_text<K>(text));
        };
        s.windows = [view](std::string_view text, std::int64_t from, std::int64_t to) {
            std::string out = "[";
            for (const auto& [w, v] : view.fetch(runtime::internal::parse_key_text<K>(text), from, to)) {
                if (out.size() > 1) {
                    out += ',';
                }
                out += "{\"window\":" + runtime::internal::window_json(w.start_ms, w.end_ms)
                    + ",\"value\":" + runtime::internal::to_json_text(v) + "}";
            }
            return out + "]";
        };
        s.all_windows = [view](std::int64_t from, std::int64_t to) {
            std::string out = "[";
            for (const auto& [k, v] : view.fetch_all(from, to)) {
                if (out.size() > 1) {
                    out += ',';
                }
                out += "{\"key\":" + runtime::internal::to_json_text(k.key)
                    + ",\"window\":" + runtime::internal::window_json(k.window.start_ms, k.window.end_ms)
                    + ",\"value\":" + runtime::internal::to_json_text(v) + "}";
            }
            return out + "]";
        };
        add(name, std::move(s));
        return *this;
    }

    // Stops accepting, closes the connections that wait on their clients,
    // finishes the answers under way. Also on destruction.
    void stop();

private:
    kafka_streams& need_app() const;
    void add(const std::string& name, runtime::internal::served_store s);

    struct impl;
    std::unique_ptr<impl> _impl;
};

} // namespace eddy
