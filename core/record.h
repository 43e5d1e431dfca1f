#pragma once

// Records as operators see them: a typed key and value, a timestamp in
// milliseconds since the epoch, and Kafka headers. Records move between
// operators as these C++ objects; bytes exist only at sources and sinks.
//
//   eddy::record<std::string, int> r{"task-1", 3, 1700000000000};
//   auto doubled = r.with_value(r.value * 2);

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy {

// One Kafka header: a key and optional (nullable) bytes.
struct header {
    std::string key;
    std::optional<std::string> value;

    friend bool operator==(const header&, const header&) = default;
};

// Kafka record headers: ordered, keys may repeat. Copies share one list
// until one of them changes it (copy on write), so a record passing
// through operators does not copy its headers.
class headers {
public:
    headers() = default;
    headers(std::initializer_list<header> hs) {
        if (hs.size() != 0) {
            _list = std::make_shared<std::vector<header>>(hs);
        }
    }

    headers& add(std::string key, std::optional<std::string> value) {
        own().push_back({std::move(key), std::move(value)});
        return *this;
    }
    // Removes every header with this key.
    headers& remove(std::string_view key);
    // The value of the last header with this key, as Kafka's lastHeader().
    const header* last_header(std::string_view key) const;

    auto begin() const { return list().begin(); }
    auto end() const { return list().end(); }
    std::size_t size() const { return _list ? _list->size() : 0; }
    bool empty() const { return size() == 0; }

    friend bool operator==(const headers& a, const headers& b) { return a.list() == b.list(); }

private:
    static const std::vector<header>& none();
    const std::vector<header>& list() const { return _list ? *_list : none(); }
    // The list, this object's own before it changes.
    std::vector<header>& own();

    std::shared_ptr<std::vector<header>> _list;
};

// A key and a value, what map() and flat_map() return.
template<typename K, typename V>
struct key_value {
    K key;
    V value;

    friend bool operator==(const key_value&, const key_value&) = default;
};
template<typename K, typename V>
key_value(K, V) -> key_value<K, V>;

template<typename K, typename V>
struct record {
    using key_type = K;
    using value_type = V;

    K key;
    V value;
    std::int64_t timestamp = 0;
    eddy::headers headers;

    template<typename K2>
    record<K2, V> with_key(K2 k) const {
        return {std::move(k), value, timestamp, headers};
    }
    template<typename V2>
    record<K, V2> with_value(V2 v) const {
        return {key, std::move(v), timestamp, headers};
    }
    record with_timestamp(std::int64_t ts) const { return {key, value, ts, headers}; }
    record with_headers(eddy::headers hs) const { return {key, value, timestamp, std::move(hs)}; }

    friend bool operator==(const record&, const record&) = default;
};

// Where the record being processed came from. Absent for records a
// punctuator creates.
struct record_metadata {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
};

} // namespace eddy
