#include "runtime/internal/health_monitor.h"

#include <fmt/format.h>

#include "runtime/streams_config.h"

namespace eddy {

std::string_view to_string(health_status s) noexcept {
    switch (s) {
    case health_status::healthy:
        return "healthy";
    case health_status::degraded:
        return "degraded";
    case health_status::unhealthy:
        return "unhealthy";
    }
    return "unknown";
}

namespace runtime::internal {

namespace {

std::int64_t second_of(std::int64_t ms) {
    // Floor, so that times before the epoch (a test clock) bucket as well.
    return ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
}

std::size_t bucket_of(std::int64_t second) {
    return static_cast<std::size_t>(((second % 60) + 60) % 60);
}

} // namespace

void health_monitor::set(const std::string& key, std::string reason) {
    std::scoped_lock lock(_mutex);
    _reasons.insert_or_assign(key, std::move(reason));
}

void health_monitor::clear(std::string_view key) {
    std::scoped_lock lock(_mutex);
    if (auto it = _reasons.find(key); it != _reasons.end()) {
        _reasons.erase(it);
    }
}

void health_monitor::record_dead_letter(std::int64_t now_ms) {
    const auto second = second_of(now_ms);
    const auto i = bucket_of(second);
    std::scoped_lock lock(_mutex);
    if (_seconds[i] != second) {
        // The bucket held a second a minute (or more) ago: it starts over.
        _seconds[i] = second;
        _counts[i] = 0;
    }
    ++_counts[i];
}

std::int64_t health_monitor::count_locked(std::int64_t now_ms) const {
    const auto now = second_of(now_ms);
    std::int64_t n = 0;
    for (std::size_t i = 0; i < _counts.size(); ++i) {
        // The current second and the 59 before it: a sliding minute.
        if (_counts[i] > 0 && _seconds[i] <= now && _seconds[i] > now - window_ms / 1000) {
            n += _counts[i];
        }
    }
    return n;
}

std::int64_t health_monitor::dead_letters_last_minute(std::int64_t now_ms) const {
    std::scoped_lock lock(_mutex);
    return count_locked(now_ms);
}

health_report health_monitor::report(std::int64_t now_ms) const {
    health_report out;
    std::scoped_lock lock(_mutex);
    if (_degraded_rate > 0) {
        if (const auto n = count_locked(now_ms); n > _degraded_rate) {
            out.reasons.push_back(fmt::format("{} records dead-lettered in the last minute, above {}={}", n,
                streams_config::dead_letter_degraded_rate, _degraded_rate));
        }
    }
    for (const auto& [key, reason] : _reasons) {
        out.reasons.push_back(reason);
    }
    out.status = out.reasons.empty() ? health_status::healthy : health_status::degraded;
    return out;
}

} // namespace runtime::internal
} // namespace eddy
