#pragma once

// Windows for windowed aggregations, as Kafka Streams': a window is
// [start, end) in milliseconds of event time; windowed<K> is a key in one
// window; time_windows are fixed-size windows, tumbling (advance = size) or
// hopping (advance < size), with a grace period after which a window takes
// no more records.
//
//   auto windows = eddy::time_windows::of_size_and_grace(10s, 2s).advance_by(5s);

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../serde/serde.h"

namespace eddy {

struct window {
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
    friend bool operator==(const window&, const window&) = default;
};

template<typename K>
struct windowed {
    using key_type = K;
    K key;
    eddy::window window;
    friend bool operator==(const windowed&, const windowed&) = default;
};

template<typename T>
inline constexpr bool is_windowed_v = false;
template<typename K>
inline constexpr bool is_windowed_v<windowed<K>> = true;

// How many bytes of window a windowed key's serde (by its name) puts after
// the plain key's bytes: 8 (serdes::time_windowed: the start), 16
// (serdes::session_windowed: end and start), 0 for any other serde.
inline std::size_t window_suffix_bytes(std::string_view serde_name) noexcept {
    return serde_name == "time_windowed" ? 8 : serde_name == "session_windowed" ? 16 : 0;
}

// "[key@start/end]", as Kafka Streams prints a Windowed<String>.
inline std::string to_string(const windowed<std::string>& w) {
    return "[" + w.key + "@" + std::to_string(w.window.start_ms) + "/" + std::to_string(w.window.end_ms) + "]";
}

class time_windows {
public:
    // Tumbling windows of `size`; no record is taken once stream time has
    // passed a window's end.
    static time_windows of_size_with_no_grace(std::chrono::milliseconds size) {
        return time_windows(size.count(), size.count(), 0);
    }
    // ... or once it has passed the window's end plus `grace`.
    static time_windows of_size_and_grace(std::chrono::milliseconds size, std::chrono::milliseconds grace) {
        if (grace.count() < 0) {
            throw std::invalid_argument("time_windows: the grace period cannot be negative");
        }
        return time_windows(size.count(), size.count(), grace.count());
    }
    // Hopping windows: a new window every `advance` (0 < advance <= size).
    time_windows advance_by(std::chrono::milliseconds advance) const {
        if (advance.count() <= 0 || advance.count() > _size) {
            throw std::invalid_argument("time_windows: advance_by must be more than 0 and at most the window size, got "
                + std::to_string(advance.count()) + " ms for a " + std::to_string(_size) + " ms window");
        }
        return time_windows(_size, advance.count(), _grace);
    }

    std::int64_t size_ms() const noexcept { return _size; }
    std::int64_t advance_ms() const noexcept { return _advance; }
    std::int64_t grace_ms() const noexcept { return _grace; }

    // The windows a record at `timestamp_ms` falls into, earliest first.
    std::vector<window> windows_for(std::int64_t timestamp_ms) const {
        std::vector<window> out;
        std::int64_t start = std::max<std::int64_t>(0, timestamp_ms - _size + _advance);
        start -= start % _advance;
        for (; start <= timestamp_ms; start += _advance) {
            out.push_back({start, start + _size});
        }
        return out;
    }

private:
    time_windows(std::int64_t size, std::int64_t advance, std::int64_t grace)
        : _size(size), _advance(advance), _grace(grace) {
        if (_size <= 0) {
            throw std::invalid_argument("time_windows: the window size must be positive");
        }
    }

    std::int64_t _size;
    std::int64_t _advance;
    std::int64_t _grace;
};

// Sliding windows, as Kafka Streams' SlidingWindows: windows of a fixed time
// difference [start, start + difference], both ends inclusive, that exist
// only where records are: each record makes the window that ends at it (its
// left window) and, when a later record is within the difference, the one
// that starts just after it (its right window), so every distinct set of
// records within the difference has one window.
//
//   auto windows = eddy::sliding_windows::of_time_difference_and_grace(10s, 2s);
class sliding_windows {
public:
    static sliding_windows of_time_difference_with_no_grace(std::chrono::milliseconds difference) {
        return sliding_windows(difference.count(), 0);
    }
    static sliding_windows of_time_difference_and_grace(
        std::chrono::milliseconds difference, std::chrono::milliseconds grace) {
        return sliding_windows(difference.count(), grace.count());
    }

    std::int64_t time_difference_ms() const noexcept { return _difference; }
    std::int64_t grace_ms() const noexcept { return _grace; }

private:
    sliding_windows(std::int64_t difference, std::int64_t grace) : _difference(difference), _grace(grace) {
        if (_difference <= 0) {
            throw std::invalid_argument("sliding_windows: the time difference must be positive, got "
                + std::to_string(_difference) + " ms");
        }
        if (_grace < 0) {
            throw std::invalid_argument("sliding_windows: the grace period cannot be negative");
        }
    }

    std::int64_t _difference;
    std::int64_t _grace;
};

// Session windows, as Kafka Streams' SessionWindows: a key's records closer
// than the inactivity gap form one session [first, last] (both inclusive);
// a record that falls within the gap of two sessions merges them.
//
//   auto sessions = eddy::session_windows::of_inactivity_gap_and_grace(5min, 30s);
class session_windows {
public:
    static session_windows of_inactivity_gap_with_no_grace(std::chrono::milliseconds gap) {
        return session_windows(gap.count(), 0);
    }
    static session_windows of_inactivity_gap_and_grace(std::chrono::milliseconds gap, std::chrono::milliseconds grace) {
        return session_windows(gap.count(), grace.count());
    }

    std::int64_t inactivity_gap_ms() const noexcept { return _gap; }
    std::int64_t grace_ms() const noexcept { return _grace; }

private:
    session_windows(std::int64_t gap, std::int64_t grace) : _gap(gap), _grace(grace) {
        if (_gap <= 0) {
            throw std::invalid_argument(
                "session_windows: the inactivity gap must be positive, got " + std::to_string(_gap) + " ms");
        }
        if (_grace < 0) {
            throw std::invalid_argument("session_windows: the grace period cannot be negative");
        }
    }

    std::int64_t _gap;
    std::int64_t _grace;
};

// A value with the timestamp of its latest update, as Kafka Streams keeps
// aggregates (an update's output carries the larger of the record's and the
// aggregate's timestamps).
template<typename V>
struct timestamped {
    V value;
    std::int64_t timestamp_ms = 0;
    friend bool operator==(const timestamped&, const timestamped&) = default;
};

namespace serdes {

namespace internal {
inline void put_int64(std::string& out, std::int64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> shift) & 0xff));
    }
}
inline std::int64_t get_int64(std::string_view bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
        v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
    }
    return static_cast<std::int64_t>(v);
}
} // namespace internal

// Kafka Streams' TimeWindowedSerde: the key's bytes, then the window start
// as 8 big-endian bytes; the end is start + size.
template<typename K>
struct time_windowed {
    using value_type = windowed<K>;
    static constexpr std::string_view name = "time_windowed";
    serde_ref<K> inner;
    std::int64_t window_size_ms = 0;

    std::string serialize(const windowed<K>& w) const {
        std::string out = inner.serialize(w.key);
        internal::put_int64(out, w.window.start_ms);
        return out;
    }
    windowed<K> deserialize(std::string_view bytes) const {
        if (bytes.size() < 8) {
            throw serde_error("time_windowed: expected at least 8 bytes, got " + std::to_string(bytes.size()));
        }
        const auto start = internal::get_int64(bytes.substr(bytes.size() - 8));
        // A start within a window of the largest time ends there, as Kafka
        // Streams' WindowKeySchema caps it (start + size would overflow).
        const auto end = start > std::numeric_limits<std::int64_t>::max() - window_size_ms
            ? std::numeric_limits<std::int64_t>::max()
            : start + window_size_ms;
        return {inner.deserialize(bytes.substr(0, bytes.size() - 8)), {start, end}};
    }
};

// Kafka Streams' SessionWindowedSerde (SessionKeySchema): the key's bytes,
// then the session's end and its start, 8 big-endian bytes each. A store
// keyed this way keeps a key's sessions in order of their end, so the
// sessions ending at or after a time are one range scan.
template<typename K>
struct session_windowed {
    using value_type = windowed<K>;
    static constexpr std::string_view name = "session_windowed";
    serde_ref<K> inner;

    std::string serialize(const windowed<K>& w) const {
        std::string out = inner.serialize(w.key);
        internal::put_int64(out, w.window.end_ms);
        internal::put_int64(out, w.window.start_ms);
        return out;
    }
    windowed<K> deserialize(std::string_view bytes) const {
        if (bytes.size() < 16) {
            throw serde_error("session_windowed: expected at least 16 bytes, got " + std::to_string(bytes.size()));
        }
        const auto n = bytes.size() - 16;
        const auto end = internal::get_int64(bytes.substr(n, 8));
        const auto start = internal::get_int64(bytes.substr(n + 8));
        return {inner.deserialize(bytes.substr(0, n)), {start, end}};
    }
};

// Kafka Streams' ValueAndTimestamp layout: 8 big-endian bytes of timestamp,
// then the value's bytes.
template<typename V>
struct value_and_timestamp {
    using value_type = timestamped<V>;
    static constexpr std::string_view name = "value_and_timestamp";
    serde_ref<V> inner;

    std::string serialize(const timestamped<V>& v) const {
        std::string out;
        internal::put_int64(out, v.timestamp_ms);
        out += inner.serialize(v.value);
        return out;
    }
    timestamped<V> deserialize(std::string_view bytes) const {
        if (bytes.size() < 8) {
            throw serde_error("value_and_timestamp: expected at least 8 bytes, got " + std::to_string(bytes.size()));
        }
        return {inner.deserialize(bytes.substr(8)), internal::get_int64(bytes.substr(0, 8))};
    }
};

// The plain value of a ValueAndTimestamp layout: reads skip the 8 bytes of
// timestamp; writes (a test or a processor putting a plain value into an
// aggregation's store) stamp it 0, which any record's timestamp outranks.
template<typename V>
struct value_without_timestamp {
    using value_type = V;
    static constexpr std::string_view name = "value_without_timestamp";
    serde_ref<V> inner;

    std::string serialize(const V& v) const {
        std::string out;
        internal::put_int64(out, 0);
        out += inner.serialize(v);
        return out;
    }
    V deserialize(std::string_view bytes) const {
        if (bytes.size() < 8) {
            throw serde_error("value_and_timestamp: expected at least 8 bytes, got " + std::to_string(bytes.size()));
        }
        return inner.deserialize(bytes.substr(8));
    }
};

} // namespace serdes
} // namespace eddy
