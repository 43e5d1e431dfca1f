#pragma once

// health_monitor: what kafka_streams::health() and the test driver's
// health() report. It keeps the dead-letter rate over a sliding minute
// (60 one-second buckets, fed by every stream thread's dead letters) and a
// set of other reasons by key, which whoever notices one sets and clears
// (set("broker", "broker unreachable for 12 s"), clear("broker")).

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "../health.h"

namespace eddy::runtime::internal {

class health_monitor {
public:
    static constexpr std::int64_t window_ms = 60'000;

    // `degraded_rate`: dead letters per minute above which the app is
    // degraded; 0 never.
    explicit health_monitor(std::int64_t degraded_rate) : _degraded_rate(degraded_rate) {}

    void set(const std::string& key, std::string reason);
    void clear(std::string_view key);

    // One dead letter at wall-clock time `now_ms` (any thread).
    void record_dead_letter(std::int64_t now_ms);
    // Dead letters in the minute up to `now_ms`.
    std::int64_t dead_letters_last_minute(std::int64_t now_ms) const;

    health_report report(std::int64_t now_ms) const;

private:
    std::int64_t count_locked(std::int64_t now_ms) const;

    const std::int64_t _degraded_rate;
    mutable std::mutex _mutex;
    std::map<std::string, std::string, std::less<>> _reasons;
    // Bucket i holds the dead letters of second _seconds[i] (i = second % 60).
    std::array<std::int64_t, 60> _counts{};
    std::array<std::int64_t, 60> _seconds{};
};

} // namespace eddy::runtime::internal
