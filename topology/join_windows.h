#pragma once

// join_windows: how far apart in event time two records of a stream-stream
// join may be, as Kafka Streams' JoinWindows (KIP-633): a left record at t
// joins the right records in [t - before, t + after]; records are kept for
// the grace period after that window ends, for late matches. A left or
// outer join emits a record without a match only once stream time has
// passed its window end plus the grace period.
//
//   auto windows = eddy::join_windows::of_time_difference_and_grace(5min, 30s);
//   auto only_later = eddy::join_windows::of_time_difference_with_no_grace(10s).before(0ms);

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace eddy {

class join_windows {
public:
    // Records at most `difference` apart, either way, join; `grace` after a
    // window ends it still takes records.
    static join_windows of_time_difference_and_grace(
        std::chrono::milliseconds difference, std::chrono::milliseconds grace) {
        return join_windows(difference.count(), difference.count(), grace.count());
    }
    static join_windows of_time_difference_with_no_grace(std::chrono::milliseconds difference) {
        return join_windows(difference.count(), difference.count(), 0);
    }

    // Asymmetric windows: a left record at t joins right records from
    // t - `before` (before may be negative, as long as before + after >= 0).
    join_windows before(std::chrono::milliseconds before) const {
        return join_windows(before.count(), _after, _grace);
    }
    // ... up to t + `after`.
    join_windows after(std::chrono::milliseconds after) const {
        return join_windows(_before, after.count(), _grace);
    }

    std::int64_t before_ms() const noexcept { return _before; }
    std::int64_t after_ms() const noexcept { return _after; }
    std::int64_t grace_ms() const noexcept { return _grace; }
    // before + after, the span of one record's window.
    std::int64_t size_ms() const noexcept { return _before + _after; }

    friend bool operator==(const join_windows&, const join_windows&) = default;

private:
    join_windows(std::int64_t before, std::int64_t after, std::int64_t grace)
        : _before(before), _after(after), _grace(grace) {
        if (_before + _after < 0) {
            throw std::invalid_argument("join_windows: the window interval (before + after) cannot be negative, got "
                + std::to_string(_before) + " + " + std::to_string(_after) + " ms");
        }
        if (_grace < 0) {
            throw std::invalid_argument("join_windows: the grace period cannot be negative");
        }
    }

    std::int64_t _before;
    std::int64_t _after;
    std::int64_t _grace;
};

} // namespace eddy
