#include "operators/circuit_breaker.h"

#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/log.h"

namespace eddy {
namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto log = module_logger("eddy.operators");
    return log;
}

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

constexpr unsigned char failed_bit = 1;
constexpr unsigned char slow_bit = 2;

} // namespace

std::string_view to_string(circuit_state s) noexcept {
    switch (s) {
    case circuit_state::closed:
        return "closed";
    case circuit_state::open:
        return "open";
    case circuit_state::half_open:
        return "half_open";
    }
    return "unknown";
}

circuit_breaker::circuit_breaker(std::string name, circuit_breaker_config config, clock_fn clock)
    : _name(std::move(name)), _config(config), _clock(clock ? std::move(clock) : clock_fn(steady_ms)) {
    auto bad = [&](const std::string& why) {
        throw std::invalid_argument(fmt::format("circuit breaker {}: {}", _name, why));
    };
    if (_config.window_size < 1) {
        bad("window_size must be at least 1");
    }
    if (_config.minimum_calls < 1 || _config.minimum_calls > _config.window_size) {
        bad(fmt::format("minimum_calls must be within [1, window_size={}], got {}", _config.window_size,
            _config.minimum_calls));
    }
    if (!(_config.failure_rate_threshold > 0.0 && _config.failure_rate_threshold <= 1.0)) {
        bad(fmt::format("failure_rate_threshold must be within (0, 1], got {}", _config.failure_rate_threshold));
    }
    if (!(_config.slow_call_rate_threshold > 0.0 && _config.slow_call_rate_threshold <= 1.0)) {
        bad(fmt::format("slow_call_rate_threshold must be within (0, 1], got {}", _config.slow_call_rate_threshold));
    }
    if (_config.probe_interval.count() < 1) {
        bad("probe_interval must be at least 1 ms");
    }
    if (_config.half_open_calls < 1) {
        bad("half_open_calls must be at least 1");
    }
}

std::int64_t circuit_breaker::now() const {
    return _clock();
}

circuit_state circuit_breaker::state() const {
    std::scoped_lock lock(_mutex);
    if (_state == circuit_state::open && now() - _opened_at >= _config.probe_interval.count()) {
        return circuit_state::half_open;
    }
    return _state;
}

circuit_breaker_metrics circuit_breaker::metrics() const {
    std::scoped_lock lock(_mutex);
    return _metrics;
}

void circuit_breaker::on_state_change(listener l) {
    std::scoped_lock lock(_mutex);
    _listener = std::move(l);
}

std::chrono::milliseconds circuit_breaker::remaining_open_time() const {
    std::scoped_lock lock(_mutex);
    if (_state != circuit_state::open) {
        return std::chrono::milliseconds(0);
    }
    return std::chrono::milliseconds(std::max<std::int64_t>(0, _opened_at + _config.probe_interval.count() - now()));
}

void circuit_breaker::move_locked(circuit_state to, std::int64_t t, std::vector<transition>& changes) {
    const auto from = _state;
    _state = to;
    _window.clear();
    _failures_in_window = 0;
    _slow_in_window = 0;
    _probes_out = 0;
    _probe_successes = 0;
    switch (to) {
    case circuit_state::open:
        _opened_at = t;
        ++_metrics.opened;
        break;
    case circuit_state::half_open:
        ++_metrics.half_opened;
        break;
    case circuit_state::closed:
        ++_metrics.closed;
        break;
    }
    changes.push_back({from, to});
}

void circuit_breaker::advance_locked(std::int64_t t, std::vector<transition>& changes) {
    if (_state == circuit_state::open && t - _opened_at >= _config.probe_interval.count()) {
        move_locked(circuit_state::half_open, t, changes);
    }
}

bool circuit_breaker::try_acquire() {
    std::vector<transition> changes;
    bool permitted = false;
    {
        std::scoped_lock lock(_mutex);
        advance_locked(now(), changes);
        switch (_state) {
        case circuit_state::closed:
            permitted = true;
            break;
        case circuit_state::open:
            permitted = false;
            break;
        case circuit_state::half_open:
            permitted = _probes_out < _config.half_open_calls;
            if (permitted) {
                ++_probes_out;
            }
            break;
        }
        if (!permitted) {
            ++_metrics.rejected_calls;
        }
    }
    notify(changes);
    return permitted;
}

void circuit_breaker::record_locked(bool failed, bool slow, std::vector<transition>& changes) {
    failed ? ++_metrics.failed_calls : ++_metrics.successful_calls;
    if (slow) {
        ++_metrics.slow_calls;
    }
    const auto t = now();
    switch (_state) {
    case circuit_state::half_open:
        if (_probes_out > 0) {
            --_probes_out;
        }
        if (failed || slow) {
            move_locked(circuit_state::open, t, changes);
        } else if (++_probe_successes >= _config.half_open_calls) {
            move_locked(circuit_state::closed, t, changes);
        }
        return;
    case circuit_state::open:
        // A call let through before the breaker opened, ending now: the
        // window that opened it already counted enough.
        return;
    case circuit_state::closed:
        break;
    }
    const unsigned char entry = (failed ? failed_bit : 0) | (slow ? slow_bit : 0);
    _window.push_back(entry);
    _failures_in_window += failed ? 1 : 0;
    _slow_in_window += slow ? 1 : 0;
    if (_window.size() > _config.window_size) {
        const auto old = _window.front();
        _window.pop_front();
        _failures_in_window -= (old & failed_bit) != 0 ? 1 : 0;
        _slow_in_window -= (old & slow_bit) != 0 ? 1 : 0;
    }
    if (_window.size() < _config.minimum_calls) {
        return;
    }
    const double n = static_cast<double>(_window.size());
    const double failure_rate = static_cast<double>(_failures_in_window) / n;
    const double slow_rate = static_cast<double>(_slow_in_window) / n;
    if (failure_rate >= _config.failure_rate_threshold
        || (_config.slow_call_duration.count() > 0 && slow_rate >= _config.slow_call_rate_threshold)) {
        logger()->warn("circuit breaker trips breaker={} calls={} failure_rate={:.2f} slow_call_rate={:.2f}", _name,
            _window.size(), failure_rate, slow_rate);
        move_locked(circuit_state::open, t, changes);
    }
}

void circuit_breaker::on_success(std::chrono::nanoseconds duration) {
    std::vector<transition> changes;
    {
        std::scoped_lock lock(_mutex);
        const bool slow = _config.slow_call_duration.count() > 0 && duration >= _config.slow_call_duration;
        record_locked(false, slow, changes);
    }
    notify(changes);
}

void circuit_breaker::on_failure(std::chrono::nanoseconds duration) {
    std::vector<transition> changes;
    {
        std::scoped_lock lock(_mutex);
        const bool slow = _config.slow_call_duration.count() > 0 && duration >= _config.slow_call_duration;
        record_locked(true, slow, changes);
    }
    notify(changes);
}

void circuit_breaker::on_ignored() {
    std::scoped_lock lock(_mutex);
    if (_state == circuit_state::half_open && _probes_out > 0) {
        --_probes_out;
    }
}

void circuit_breaker::notify(const std::vector<transition>& changes) {
    if (changes.empty()) {
        return;
    }
    listener l;
    {
        std::scoped_lock lock(_mutex);
        l = _listener;
    }
    for (const auto& c : changes) {
        logger()->info("circuit breaker state change breaker={} from={} to={}", _name, to_string(c.from), to_string(c.to));
        if (l) {
            l(c.from, c.to);
        }
    }
}

} // namespace eddy
