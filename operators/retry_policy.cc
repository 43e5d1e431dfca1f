#include "operators/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "operators/circuit_breaker.h"

namespace eddy {

retry_policy retry_policy::with_initial_backoff(std::chrono::milliseconds d) const {
    if (d.count() < 1) {
        throw std::invalid_argument(fmt::format("retry_policy: initial backoff must be at least 1 ms, got {} ms", d.count()));
    }
    auto p = *this;
    p._initial = d;
    return p;
}

retry_policy retry_policy::with_multiplier(double m) const {
    if (!(m >= 1.0)) {
        throw std::invalid_argument(fmt::format("retry_policy: multiplier must be at least 1, got {}", m));
    }
    auto p = *this;
    p._multiplier = m;
    return p;
}

retry_policy retry_policy::with_max_backoff(std::chrono::milliseconds d) const {
    if (d.count() < 1) {
        throw std::invalid_argument(fmt::format("retry_policy: max backoff must be at least 1 ms, got {} ms", d.count()));
    }
    auto p = *this;
    p._max = d;
    return p;
}

retry_policy retry_policy::with_jitter(double fraction) const {
    if (!(fraction >= 0.0 && fraction <= 1.0)) {
        throw std::invalid_argument(fmt::format("retry_policy: jitter must be within [0, 1], got {}", fraction));
    }
    auto p = *this;
    p._jitter = fraction;
    return p;
}

retry_policy retry_policy::with_max_attempts(int n) const {
    if (n < 1) {
        throw std::invalid_argument(fmt::format("retry_policy: max attempts must be at least 1, got {}", n));
    }
    auto p = *this;
    p._max_attempts = n;
    return p;
}

retry_policy retry_policy::retry_on(retriable_predicate pred) const {
    auto p = *this;
    p._retriable = std::move(pred);
    return p;
}

retry_policy retry_policy::with_dead_letter_topic(std::string topic) const {
    auto p = *this;
    p._dead_letter_topic = std::move(topic);
    return p;
}

retry_policy retry_policy::with_circuit_breaker(std::shared_ptr<circuit_breaker> b) const {
    auto p = *this;
    p._breaker = std::move(b);
    return p;
}

std::chrono::milliseconds retry_policy::nominal_backoff(int failed_attempts) const {
    const int n = std::max(failed_attempts, 1);
    // In doubles: multiplier^n overflows any integer long before max_backoff
    // stops it.
    const double ms = static_cast<double>(_initial.count()) * std::pow(_multiplier, n - 1);
    const double capped = std::min(ms, static_cast<double>(_max.count()));
    return std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(capped)));
}

std::chrono::milliseconds retry_policy::backoff(int failed_attempts, double unit) const {
    const double nominal = static_cast<double>(nominal_backoff(failed_attempts).count());
    const double u = std::clamp(unit, 0.0, 1.0);
    const double jittered = nominal * (1.0 + _jitter * (2.0 * u - 1.0));
    const double capped = std::min(jittered, static_cast<double>(_max.count()));
    return std::chrono::milliseconds(std::max<std::int64_t>(1, std::llround(capped)));
}

retries_exhausted_error::retries_exhausted_error(std::string node, int attempts, const std::string& what)
    : handled_error(what), _node(std::move(node)), _attempts(attempts) {}

} // namespace eddy
