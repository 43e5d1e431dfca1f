#pragma once

// How a processing step that calls out (another service, a sender) retries
// a record whose call threw: exponential backoff with jitter, a bounded
// number of attempts, which errors are worth another try, where the record
// goes after the last one, and optionally a circuit breaker shared with
// other steps.
//
//   auto policy = eddy::retry_policy()
//                     .with_initial_backoff(200ms)
//                     .with_max_attempts(5)
//                     .with_dead_letter_topic("todo.notify.dlq")
//                     .with_circuit_breaker(email_breaker);
//   reminders.foreach_with_retry([&](const auto& k, const auto& v) { email.send(k, v); }, policy);

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "error_handlers.h"

namespace eddy {

class circuit_breaker;

class retry_policy {
public:
    using retriable_predicate = std::function<bool(const std::exception&)>;

    // 100 ms, doubling up to 10 s, ±20 % jitter, 5 attempts, every
    // std::exception retriable, the application's dead-letter topic.
    retry_policy() = default;

    // The wait after the first failed attempt (at least 1 ms).
    retry_policy with_initial_backoff(std::chrono::milliseconds d) const;
    // Each further wait is the previous one times `m` (at least 1).
    retry_policy with_multiplier(double m) const;
    // No wait is longer than this.
    retry_policy with_max_backoff(std::chrono::milliseconds d) const;
    // Each wait is drawn uniformly from nominal * [1 - f, 1 + f] (0 <= f <= 1),
    // so that tasks failing together do not retry together.
    retry_policy with_jitter(double fraction) const;
    // Calls of the step per record, the first included (at least 1).
    retry_policy with_max_attempts(int n) const;
    // Which errors are retried; the others dead-letter the record at once.
    retry_policy retry_on(retriable_predicate p) const;
    // Where a record goes after its last attempt; empty (the default): the
    // application's errors.dead.letter.queue.topic.name. With neither, the
    // step fails the application as log_and_fail does.
    retry_policy with_dead_letter_topic(std::string topic) const;
    // While `b` is open the step neither calls nor spends attempts: the
    // record (and its task) waits until the breaker lets a call through.
    retry_policy with_circuit_breaker(std::shared_ptr<circuit_breaker> b) const;

    std::chrono::milliseconds initial_backoff() const noexcept { return _initial; }
    double multiplier() const noexcept { return _multiplier; }
    std::chrono::milliseconds max_backoff() const noexcept { return _max; }
    double jitter() const noexcept { return _jitter; }
    int max_attempts() const noexcept { return _max_attempts; }
    const std::string& dead_letter_topic() const noexcept { return _dead_letter_topic; }
    const std::shared_ptr<circuit_breaker>& breaker() const noexcept { return _breaker; }
    bool retriable(const std::exception& e) const { return !_retriable || _retriable(e); }

    // The wait after `failed_attempts` (>= 1) failed calls, before jitter:
    // min(max_backoff, initial_backoff * multiplier^(failed_attempts - 1)).
    std::chrono::milliseconds nominal_backoff(int failed_attempts) const;
    // The wait with jitter, `unit` a uniform draw from [0, 1): within
    // nominal * [1 - jitter, 1 + jitter], never above max_backoff nor below
    // 1 ms.
    std::chrono::milliseconds backoff(int failed_attempts, double unit) const;

private:
    std::chrono::milliseconds _initial{100};
    double _multiplier = 2.0;
    std::chrono::milliseconds _max{10'000};
    double _jitter = 0.2;
    int _max_attempts = 5;
    retriable_predicate _retriable;
    std::string _dead_letter_topic;
    std::shared_ptr<circuit_breaker> _breaker;
};

// A record a retry step gave up on, with no dead-letter topic to send it to
// (neither the policy's nor the application's): the step fails, as
// log_and_fail does. A handled_error: the step has decided, so the
// processing handler lets it through rather than handling it again.
class retries_exhausted_error : public handled_error {
public:
    retries_exhausted_error(std::string node, int attempts, const std::string& what);

    const std::string& node() const noexcept { return _node; }
    int attempts() const noexcept { return _attempts; }

private:
    std::string _node;
    int _attempts;
};

} // namespace eddy
