#pragma once

// A circuit breaker around calls to another system: while that system
// fails (or answers too slowly) the breaker opens and callers stop calling
// it, then, after the probe interval, lets a few probe calls through and
// closes again when they succeed. Thread-safe: one breaker per external
// system, shared by every step, task and thread that calls it.
//
//   auto email = std::make_shared<eddy::circuit_breaker>("email",
//       eddy::circuit_breaker_config{.failure_rate_threshold = 0.5, .probe_interval = 30s});
//   stream.foreach_with_retry(send_email, eddy::retry_policy().with_circuit_breaker(email));
//
// closed -> open: among the last `window_size` calls (at least
// `minimum_calls` of them), the share of failures reaches
// failure_rate_threshold, or the share of calls that took at least
// slow_call_duration reaches slow_call_rate_threshold.
// open -> half_open: probe_interval after it opened.
// half_open: at most half_open_calls calls at a time; a failure (or a slow
// call) opens it again, half_open_calls successes close it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace eddy {

enum class circuit_state { closed, open, half_open };

std::string_view to_string(circuit_state s) noexcept;

struct circuit_breaker_config {
    std::size_t window_size = 20;
    std::size_t minimum_calls = 10;
    double failure_rate_threshold = 0.5;
    // 0 ms: calls are never slow.
    std::chrono::milliseconds slow_call_duration{0};
    double slow_call_rate_threshold = 1.0;
    std::chrono::milliseconds probe_interval{30'000};
    std::size_t half_open_calls = 1;
};

// Counters since the breaker was made.
struct circuit_breaker_metrics {
    std::int64_t successful_calls = 0;
    std::int64_t failed_calls = 0;
    std::int64_t slow_calls = 0;
    // Calls the breaker refused (open, or half-open with every probe out).
    std::int64_t rejected_calls = 0;
    std::int64_t opened = 0;
    std::int64_t half_opened = 0;
    std::int64_t closed = 0;
};

class circuit_breaker {
public:
    // Milliseconds of a monotonic clock; tests inject their own.
    using clock_fn = std::function<std::int64_t()>;
    using listener = std::function<void(circuit_state from, circuit_state to)>;

    explicit circuit_breaker(std::string name, circuit_breaker_config config = {}, clock_fn clock = {});

    const std::string& name() const noexcept { return _name; }
    const circuit_breaker_config& config() const noexcept { return _config; }
    // The state now. An open breaker whose probe interval has passed reads
    // half_open; it becomes so (listener, log line) at the next try_acquire.
    circuit_state state() const;
    circuit_breaker_metrics metrics() const;
    // Called on every state change, outside the breaker's lock.
    void on_state_change(listener l);

    // Whether a call may go out now; when it returns true the caller must
    // report the call's outcome with exactly one of the three below.
    bool try_acquire();
    void on_success(std::chrono::nanoseconds duration);
    void on_failure(std::chrono::nanoseconds duration);
    // The call failed for a reason that says nothing of the other system
    // (a bad record): frees its probe slot, counts nothing.
    void on_ignored();
    // How long until an open breaker lets a probe through (0 when it is not
    // open).
    std::chrono::milliseconds remaining_open_time() const;

private:
    struct transition {
        circuit_state from;
        circuit_state to;
    };
    // The lock is held by the callers of these.
    void advance_locked(std::int64_t now, std::vector<transition>& changes);
    void move_locked(circuit_state to, std::int64_t now, std::vector<transition>& changes);
    void record_locked(bool failed, bool slow, std::vector<transition>& changes);
    void notify(const std::vector<transition>& changes);
    std::int64_t now() const;

    std::string _name;
    circuit_breaker_config _config;
    clock_fn _clock;
    mutable std::mutex _mutex;
    circuit_state _state = circuit_state::closed;
    std::int64_t _opened_at = 0;
    // The last calls of the closed state: bit 0 failed, bit 1 slow.
    std::deque<unsigned char> _window;
    std::size_t _failures_in_window = 0;
    std::size_t _slow_in_window = 0;
    std::size_t _probes_out = 0;
    std::size_t _probe_successes = 0;
    circuit_breaker_metrics _metrics;
    listener _listener;
};

} // namespace eddy
