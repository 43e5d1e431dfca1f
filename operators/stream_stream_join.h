#pragma once

// The processors of a windowed stream-stream join, as Kafka Streams'
// KStreamJoinWindow and KStreamKStreamJoin (3.x, with the fix for spurious
// left/outer results, KAFKA-10847):
//
// - Each side's records go through a join_window_processor, which forwards
//   the record, then keeps it in that side's window store (key, timestamp,
//   sequence number: duplicates are kept). A record older than the store's
//   retention (before + after + grace behind the newest record of that
//   side) is not kept: logged and counted as dropped.
// - The record then reaches that side's stream_join_processor, which looks
//   up the other side's store for the key in [ts - before, ts + after] (as
//   seen from this side) and emits one joined result per match at once,
//   stamped max(this ts, other ts).
// - In a left or outer join, a record of an outer side with no match is not
//   emitted at once: it waits in the shared "outer" store until stream time
//   (the newest record of either side) passes its window end plus the grace
//   period; a later match removes it. Only then is the unmatched result
//   (the joiner with the missing side empty) emitted, stamped with the
//   record's own time. A record whose window already ended when it arrives
//   is emitted unmatched at once.
//
// The two join processors of one task share a stream_join_state: stream
// time across both sides, the earliest time waiting in the outer store, and
// each window store's newest timestamp.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aggregate.h"
#include "processor.h"
#include "../core/window.h"
#include "../serde/serde.h"

namespace eddy {

// A key of a join window store: the record's key, its timestamp and a
// sequence number, so that records of one key and time are all kept
// (Kafka Streams' window store with retainDuplicates).
template<typename K>
struct join_window_key {
    K key;
    std::int64_t timestamp_ms = 0;
    std::uint32_t seq = 0;
    friend bool operator==(const join_window_key&, const join_window_key&) = default;
};

// Which side a record waiting in the outer store came from.
enum class join_side : std::uint8_t { right = 0, left = 1 };

// A key of the outer store, as Kafka Streams' TimestampedKeyAndJoinSide,
// plus a sequence number (Kafka keeps a list of values per key): ordered by
// time first, so the records whose windows close first come first.
template<typename K>
struct timestamped_key_and_join_side {
    std::int64_t timestamp_ms = 0;
    join_side side = join_side::left;
    K key;
    std::uint32_t seq = 0;
    friend bool operator==(const timestamped_key_and_join_side&, const timestamped_key_and_join_side&) = default;
};

// A value of the outer store: the left or the right record's value (Kafka
// Streams' LeftOrRightValue).
template<typename V1, typename V2>
struct left_or_right_value {
    std::optional<V1> left;
    std::optional<V2> right;
    friend bool operator==(const left_or_right_value&, const left_or_right_value&) = default;
};

namespace serdes {

namespace internal {
inline void put_uint32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((v >> shift) & 0xff));
    }
}
inline std::uint32_t get_uint32(std::string_view bytes) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
    }
    return v;
}
} // namespace internal

// The key's bytes, the timestamp (8 bytes) and the sequence number (4
// bytes), big-endian (Kafka Streams' WindowKeySchema with a sequence
// number): a key's records in a time range are one range scan.
template<typename K>
struct join_window_key_serde {
    using value_type = join_window_key<K>;
    static constexpr std::string_view name = "join_window_key";
    serde_ref<K> inner;

    std::string serialize(const join_window_key<K>& k) const {
        std::string out = inner.serialize(k.key);
        internal::put_int64(out, k.timestamp_ms);
        internal::put_uint32(out, k.seq);
        return out;
    }
    join_window_key<K> deserialize(std::string_view bytes) const {
        if (bytes.size() < 12) {
            throw serde_error("join_window_key: expected at least 12 bytes, got " + std::to_string(bytes.size()));
        }
        const auto n = bytes.size() - 12;
        return {inner.deserialize(bytes.substr(0, n)), internal::get_int64(bytes.substr(n, 8)),
            internal::get_uint32(bytes.substr(n + 8))};
    }
};

// The timestamp (8 bytes), the side (1 for left, 0 for right), the key's
// bytes, the sequence number (4 bytes): Kafka Streams'
// TimestampedKeyAndJoinSideSerializer with the sequence number after.
template<typename K>
struct timestamped_key_and_join_side_serde {
    using value_type = timestamped_key_and_join_side<K>;
    static constexpr std::string_view name = "timestamped_key_and_join_side";
    serde_ref<K> inner;

    std::string serialize(const timestamped_key_and_join_side<K>& k) const {
        std::string out;
        internal::put_int64(out, k.timestamp_ms);
        out.push_back(static_cast<char>(k.side));
        out += inner.serialize(k.key);
        internal::put_uint32(out, k.seq);
        return out;
    }
    timestamped_key_and_join_side<K> deserialize(std::string_view bytes) const {
        if (bytes.size() < 13) {
            throw serde_error(
                "timestamped_key_and_join_side: expected at least 13 bytes, got " + std::to_string(bytes.size()));
        }
        const auto n = bytes.size() - 13;
        return {internal::get_int64(bytes.substr(0, 8)), bytes[8] == 1 ? join_side::left : join_side::right,
            inner.deserialize(bytes.substr(9, n)), internal::get_uint32(bytes.substr(9 + n))};
    }
};

// One byte (1: left, 0: right), then the value's bytes (Kafka Streams'
// LeftOrRightValueSerializer).
template<typename V1, typename V2>
struct left_or_right_value_serde {
    using value_type = left_or_right_value<V1, V2>;
    static constexpr std::string_view name = "left_or_right_value";
    serde_ref<V1> left;
    serde_ref<V2> right;

    std::string serialize(const left_or_right_value<V1, V2>& v) const {
        if (v.left) {
            return std::string(1, '\1') + left.serialize(*v.left);
        }
        if (!v.right) {
            throw serde_error("left_or_right_value: neither side has a value");
        }
        return std::string(1, '\0') + right.serialize(*v.right);
    }
    left_or_right_value<V1, V2> deserialize(std::string_view bytes) const {
        if (bytes.empty()) {
            throw serde_error("left_or_right_value: expected at least 1 byte, got 0");
        }
        left_or_right_value<V1, V2> out;
        if (bytes[0] == 1) {
            out.left = left.deserialize(bytes.substr(1));
        } else {
            out.right = right.deserialize(bytes.substr(1));
        }
        return out;
    }
};

} // namespace serdes

namespace operators {

namespace internal {
void log_join_skip(const std::string& node, const char* why, const std::optional<record_metadata>& where,
    std::int64_t timestamp, std::int64_t expiration, std::int64_t observed);

// What the join processors of one task share (Kafka Streams' TimeTracker
// plus each window store's observed time).
struct stream_join_state {
    // The newest timestamp either side has seen.
    std::int64_t stream_time = -1;
    // The earliest timestamp that may wait in the outer store (max: unknown,
    // as after a restart: then the store is scanned).
    std::int64_t min_time = std::numeric_limits<std::int64_t>::max();
    // The newest timestamp put into each side's window store (index: left 0,
    // right 1); records older than it minus the retention are gone.
    std::int64_t observed[2] = {-1, -1};
};

// Hands the nodes of one task the same state: keyed by the task's context,
// held while any of the task's join nodes lives.
class stream_join_state_supplier {
public:
    std::shared_ptr<stream_join_state> get(const task_context* task) {
        std::lock_guard lock(_mutex);
        for (auto it = _states.begin(); it != _states.end();) {
            it = it->second.expired() ? _states.erase(it) : std::next(it);
        }
        auto& weak = _states[task];
        auto state = weak.lock();
        if (!state) {
            state = std::make_shared<stream_join_state>();
            weak = state;
        }
        return state;
    }

private:
    std::mutex _mutex;
    std::map<const task_context*, std::weak_ptr<stream_join_state>> _states;
};
} // namespace internal

// Forwards each record, then keeps it in its side's window store until it is
// older than the retention (Kafka Streams' KStreamJoinWindow). `side`: 0 for
// the left stream, 1 for the right.
template<typename K, typename V>
class join_window_processor final : public processor<K, V, K, V> {
public:
    join_window_processor(std::string store, std::int64_t retention_ms, int side,
        std::shared_ptr<internal::stream_join_state_supplier> states)
        : _store_name(std::move(store)), _retention(retention_ms), _side(side), _states(std::move(states)) {}

    void init(processor_context<K, V>& context) override {
        processor<K, V, K, V>::init(context);
        _store.emplace(context.template get_key_value_store<join_window_key<K>, V>(_store_name));
        _state = _states->get(&internal::context_access::task(context));
        // After a restart: the newest record restored, as the segmented
        // store of Kafka Streams finds it.
        _store->for_each(std::nullopt, std::nullopt, [&](const join_window_key<K>& k, const V&) {
            _state->observed[_side] = std::max(_state->observed[_side], k.timestamp_ms);
            return true;
        });
    }

    void process(const record<K, V>& r) override {
        auto& ctx = this->context();
        ctx.forward(r);
        if constexpr (is_optional_v<K>) {
            if (!r.key) {
                return; // never joins; the join processor logs and counts it
            }
        }
        if constexpr (is_optional_v<V>) {
            if (!r.value) {
                return;
            }
        }
        auto& observed = _state->observed[_side];
        observed = std::max(observed, r.timestamp);
        // Kept while at most the retention behind the side's newest record,
        // that bound included (ADR 0017: the window [t - before, t + after]
        // holds at both ends, even when after + grace is 0).
        if (r.timestamp < observed - _retention) {
            internal::log_join_skip(ctx.node_name(), "expired window store", ctx.record_metadata(), r.timestamp,
                r.timestamp + _retention, observed);
            ctx.record_dropped();
            return;
        }
        join_window_key<K> key{r.key, r.timestamp, _seq++};
        // A restart starts the counter again: skip numbers in use.
        while (_store->get(key)) {
            key.seq = _seq++;
        }
        _store->put(key, r.value);
        expire(observed);
    }

private:
    // Removes records older than the retention, once per retention period
    // of stream time (reads skip them before that).
    void expire(std::int64_t observed) {
        if (observed - _last_expiry < std::max<std::int64_t>(_retention, 1)) {
            return;
        }
        _last_expiry = observed;
        std::vector<join_window_key<K>> gone;
        _store->for_each(std::nullopt, std::nullopt, [&](const join_window_key<K>& k, const V&) {
            if (k.timestamp_ms < observed - _retention) {
                gone.push_back(k);
            }
            return true;
        });
        for (const auto& k : gone) {
            _store->remove(k);
        }
    }

    std::string _store_name;
    std::int64_t _retention;
    int _side;
    std::shared_ptr<internal::stream_join_state_supplier> _states;
    std::shared_ptr<internal::stream_join_state> _state;
    std::optional<key_value_store<join_window_key<K>, V>> _store;
    std::uint32_t _seq = 0;
    std::int64_t _last_expiry = 0;
};

// The windows of a join as one side's processor sees them.
struct stream_join_params {
    std::string other_store;
    // Empty for an inner join.
    std::string outer_store;
    // This side's look-up range: [ts - before, ts + after].
    std::int64_t join_before_ms = 0;
    std::int64_t join_after_ms = 0;
    // The join_windows' own before and after, which say how long a waiting
    // record of each side stays open.
    std::int64_t windows_before_ms = 0;
    std::int64_t windows_after_ms = 0;
    std::int64_t grace_ms = 0;
    // The other store's retention (before + after + grace).
    std::int64_t retention_ms = 0;
    // This side's records are emitted unmatched (left side of a left join,
    // both sides of an outer join).
    bool outer = false;
};

// One side of the join (Kafka Streams' KStreamKStreamJoinLeftSide and
// RightSide). Left: this side is the join's left stream. Joiner(const K&,
// const V1*, const V2*) -> VR, a null pointer for a missing side.
template<typename K, typename V1, typename V2, typename VR, typename Joiner, bool Left>
class stream_join_processor final
    : public processor<K, std::conditional_t<Left, V1, V2>, K, VR> {
public:
    using this_value = std::conditional_t<Left, V1, V2>;
    using other_value = std::conditional_t<Left, V2, V1>;

    stream_join_processor(stream_join_params params, Joiner joiner,
        std::shared_ptr<internal::stream_join_state_supplier> states)
        : _params(std::move(params)), _joiner(std::move(joiner)), _states(std::move(states)) {}

    void init(processor_context<K, VR>& context) override {
        processor<K, this_value, K, VR>::init(context);
        _other.emplace(context.template get_key_value_store<join_window_key<K>, other_value>(_params.other_store));
        if (!_params.outer_store.empty()) {
            _outer.emplace(context.template get_key_value_store<timestamped_key_and_join_side<K>,
                left_or_right_value<V1, V2>>(_params.outer_store));
        }
        _state = _states->get(&internal::context_access::task(context));
    }

    void process(const record<K, this_value>& r) override {
        auto& ctx = this->context();
        const std::int64_t ts = r.timestamp;
        _state->stream_time = std::max(_state->stream_time, ts);
        if constexpr (is_optional_v<K>) {
            // A null key never matches: a left/outer join emits it at once.
            if (_params.outer && !r.key && has_value(r.value)) {
                ctx.forward(record<K, VR>{r.key, join(r.key, &r.value, nullptr), ts, r.headers});
                return;
            }
        }
        if (internal::drop_if_null(r, ctx)) {
            return;
        }
        if (_outer && ts == _state->stream_time) {
            emit_non_joined(r);
        }
        const std::int64_t from = std::max<std::int64_t>(
            {0, ts - _params.join_before_ms, _state->observed[Left ? 1 : 0] - _params.retention_ms});
        const std::int64_t to = std::max<std::int64_t>(0, ts + _params.join_after_ms);
        bool matched = false;
        if (from <= to) {
            std::vector<key_value<join_window_key<K>, other_value>> matches;
            _other->for_each(join_window_key<K>{r.key, from, 0},
                join_window_key<K>{r.key, to, std::numeric_limits<std::uint32_t>::max()},
                [&](const join_window_key<K>& k, const other_value& v) {
                    if (k.key == r.key && k.timestamp_ms >= from && k.timestamp_ms <= to) {
                        matches.push_back({k, v});
                    }
                    return true;
                });
            for (const auto& [k, v] : matches) {
                matched = true;
                if (_outer) {
                    // The other record found a match: it will not be emitted
                    // unmatched.
                    remove_waiting(Left ? join_side::right : join_side::left, r.key, k.timestamp_ms);
                }
                ctx.forward(record<K, VR>{r.key, join(r.key, &r.value, &v), std::max(ts, k.timestamp_ms), r.headers});
            }
        }
        if (_params.outer && !matched) {
            // Out of order beyond the window: no later record can match it.
            if (!_outer || to < _state->stream_time) {
                ctx.forward(record<K, VR>{r.key, join(r.key, &r.value, nullptr), ts, r.headers});
            } else {
                _state->min_time = std::min(_state->min_time, ts);
                timestamped_key_and_join_side<K> key{ts, Left ? join_side::left : join_side::right, r.key, _seq++};
                while (_outer->get(key)) {
                    key.seq = _seq++;
                }
                left_or_right_value<V1, V2> value;
                if constexpr (Left) {
                    value.left = r.value;
                } else {
                    value.right = r.value;
                }
                _outer->put(key, value);
            }
        }
    }

private:
    template<typename T>
    static bool has_value(const T& v) {
        if constexpr (is_optional_v<T>) {
            return v.has_value();
        } else {
            return true;
        }
    }

    VR join(const K& key, const this_value* mine, const other_value* theirs) {
        if constexpr (Left) {
            return _joiner(key, mine, theirs);
        } else {
            return _joiner(key, theirs, mine);
        }
    }

    void remove_waiting(join_side side, const K& key, std::int64_t ts) {
        std::vector<timestamped_key_and_join_side<K>> gone;
        _outer->for_each(timestamped_key_and_join_side<K>{ts, side, key, 0},
            timestamped_key_and_join_side<K>{ts, side, key, std::numeric_limits<std::uint32_t>::max()},
            [&](const timestamped_key_and_join_side<K>& k, const left_or_right_value<V1, V2>&) {
                if (k.timestamp_ms == ts && k.side == side && k.key == key) {
                    gone.push_back(k);
                }
                return true;
            });
        for (const auto& k : gone) {
            _outer->remove(k);
        }
    }

    // Emits the waiting records whose windows have closed (Kafka Streams'
    // emitNonJoinedOuterRecords), in the outer store's order: by time, then
    // right before left, then key.
    void emit_non_joined(const record<K, this_value>& r) {
        auto& st = *_state;
        constexpr auto unknown = std::numeric_limits<std::int64_t>::max();
        if (st.min_time != unknown && st.min_time + _params.join_after_ms + _params.grace_ms >= st.stream_time) {
            return;
        }
        st.min_time = unknown;
        bool left_open = false;
        bool right_open = false;
        std::vector<key_value<timestamped_key_and_join_side<K>, left_or_right_value<V1, V2>>> closed;
        _outer->for_each(std::nullopt, std::nullopt,
            [&](const timestamped_key_and_join_side<K>& k, const left_or_right_value<V1, V2>& v) {
                st.min_time = k.timestamp_ms;
                if (left_open && right_open) {
                    return false;
                }
                // A left record waits for right records up to `after` later,
                // a right one for left records up to `before` later.
                const bool left = k.side == join_side::left;
                const std::int64_t look_back = left ? _params.windows_after_ms : _params.windows_before_ms;
                if (st.min_time + look_back + _params.grace_ms >= st.stream_time) {
                    (left ? left_open : right_open) = true;
                    return true;
                }
                closed.push_back({k, v});
                return true;
            });
        for (const auto& [k, v] : closed) {
            VR out = v.left ? _joiner(k.key, &*v.left, static_cast<const V2*>(nullptr))
                            : _joiner(k.key, static_cast<const V1*>(nullptr), &*v.right);
            this->context().forward(record<K, VR>{k.key, std::move(out), k.timestamp_ms, r.headers});
            _outer->remove(k);
        }
    }

    stream_join_params _params;
    Joiner _joiner;
    std::shared_ptr<internal::stream_join_state_supplier> _states;
    std::shared_ptr<internal::stream_join_state> _state;
    std::optional<key_value_store<join_window_key<K>, other_value>> _other;
    std::optional<key_value_store<timestamped_key_and_join_side<K>, left_or_right_value<V1, V2>>> _outer;
    std::uint32_t _seq = 0;
};

} // namespace operators
} // namespace eddy
