// The retry policy's backoff (exponential, capped, jittered within bounds)
// and the circuit breaker's state machine, on a clock the test moves.

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operators/circuit_breaker.h"
#include "operators/retry_policy.h"

namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RetryPolicyTest, DefaultsAreFiveAttemptsFrom100msDoublingWithJitter) {
    eddy::retry_policy p;
    EXPECT_EQ(p.max_attempts(), 5);
    EXPECT_EQ(p.initial_backoff(), 100ms);
    EXPECT_EQ(p.multiplier(), 2.0);
    EXPECT_EQ(p.max_backoff(), 10'000ms);
    EXPECT_EQ(p.jitter(), 0.2);
    EXPECT_TRUE(p.retriable(std::runtime_error("any")));
    EXPECT_TRUE(p.dead_letter_topic().empty());
    EXPECT_EQ(p.breaker(), nullptr);
}

TEST(RetryPolicyTest, NominalBackoffGrowsByTheMultiplierUpToTheMax) {
    auto p = eddy::retry_policy().with_initial_backoff(100ms).with_multiplier(3).with_max_backoff(2'000ms);
    std::vector<std::int64_t> waits;
    for (int n = 1; n <= 6; ++n) {
        waits.push_back(p.nominal_backoff(n).count());
    }
    EXPECT_THAT(waits, ElementsAre(100, 300, 900, 2'000, 2'000, 2'000));
    // A huge attempt count must not overflow past the cap.
    EXPECT_EQ(p.nominal_backoff(10'000).count(), 2'000);
}

TEST(RetryPolicyTest, JitteredBackoffStaysWithinItsBoundsAndSpreads) {
    const auto p = eddy::retry_policy().with_initial_backoff(1'000ms).with_jitter(0.25).with_max_backoff(3'000ms);
    std::mt19937 gen(7);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int n = 1; n <= 4; ++n) {
        const double nominal = static_cast<double>(p.nominal_backoff(n).count());
        std::int64_t lo = INT64_MAX;
        std::int64_t hi = 0;
        for (int i = 0; i < 2'000; ++i) {
            const auto w = p.backoff(n, unit(gen)).count();
            ASSERT_GE(w, static_cast<std::int64_t>(std::floor(nominal * 0.75))) << "attempt " << n;
            ASSERT_LE(w, static_cast<std::int64_t>(std::ceil(nominal * 1.25))) << "attempt " << n;
            ASSERT_LE(w, 3'000) << "attempt " << n;
            lo = std::min(lo, w);
            hi = std::max(hi, w);
        }
        // The draws spread over the range (not one fixed value).
        EXPECT_GT(hi - lo, static_cast<std::int64_t>(nominal * 0.1)) << "attempt " << n;
    }
    EXPECT_EQ(p.backoff(1, 0.0).count(), 750);
    EXPECT_EQ(p.backoff(1, 1.0).count(), 1'250);
    EXPECT_EQ(p.backoff(1, 0.5).count(), 1'000);
    // Capped at max_backoff even when the jitter would go above it.
    EXPECT_EQ(p.backoff(3, 1.0).count(), 3'000);
    EXPECT_EQ(eddy::retry_policy().with_jitter(0).backoff(2, 0.9).count(), 200);
}

TEST(RetryPolicyTest, ThePredicateSaysWhatIsRetriable) {
    auto p = eddy::retry_policy().retry_on([](const std::exception& e) {
        return dynamic_cast<const std::invalid_argument*>(&e) == nullptr;
    });
    EXPECT_TRUE(p.retriable(std::runtime_error("timeout")));
    EXPECT_FALSE(p.retriable(std::invalid_argument("bad record")));
}

TEST(RetryPolicyTest, BadSettingsAreRejectedWithTheirValue) {
    EXPECT_THAT([] { (void)eddy::retry_policy().with_max_attempts(0); },
        ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("max attempts must be at least 1, got 0")));
    EXPECT_THROW((void)eddy::retry_policy().with_jitter(1.5), std::invalid_argument);
    EXPECT_THROW((void)eddy::retry_policy().with_multiplier(0.5), std::invalid_argument);
    EXPECT_THROW((void)eddy::retry_policy().with_initial_backoff(0ms), std::invalid_argument);
}

// A breaker on a clock the test moves.
struct breaker_fixture : ::testing::Test {
    std::int64_t now = 1'000;
    std::vector<std::pair<eddy::circuit_state, eddy::circuit_state>> changes;

    std::shared_ptr<eddy::circuit_breaker> make(eddy::circuit_breaker_config c) {
        auto b = std::make_shared<eddy::circuit_breaker>("svc", c, [this] { return now; });
        b->on_state_change([this](eddy::circuit_state from, eddy::circuit_state to) { changes.emplace_back(from, to); });
        return b;
    }
    static void fail(eddy::circuit_breaker& b, std::chrono::nanoseconds took = 1ms) {
        ASSERT_TRUE(b.try_acquire());
        b.on_failure(took);
    }
    static void succeed(eddy::circuit_breaker& b, std::chrono::nanoseconds took = 1ms) {
        ASSERT_TRUE(b.try_acquire());
        b.on_success(took);
    }
};

using CircuitBreakerTest = breaker_fixture;
using eddy::circuit_state;

TEST_F(CircuitBreakerTest, OpensWhenTheFailureRateOfTheWindowReachesTheThreshold) {
    auto b = make({.window_size = 4, .minimum_calls = 4, .failure_rate_threshold = 0.5});
    fail(*b);
    fail(*b);
    fail(*b);
    // Three calls: below minimum_calls, whatever the rate.
    EXPECT_EQ(b->state(), circuit_state::closed);
    succeed(*b);
    // 3 of 4 failed >= 50 %.
    EXPECT_EQ(b->state(), circuit_state::open);
    EXPECT_FALSE(b->try_acquire());
    EXPECT_THAT(changes, ElementsAre(std::pair{circuit_state::closed, circuit_state::open}));
    EXPECT_EQ(b->metrics().rejected_calls, 1);
    EXPECT_EQ(b->metrics().failed_calls, 3);
    EXPECT_EQ(b->metrics().successful_calls, 1);
}

TEST_F(CircuitBreakerTest, TheWindowSlidesOverTheLastCallsOnly) {
    auto b = make({.window_size = 4, .minimum_calls = 4, .failure_rate_threshold = 0.75});
    fail(*b);
    fail(*b);
    succeed(*b);
    succeed(*b); // f f s s: 2/4
    succeed(*b); // f s s s: 1/4
    fail(*b);    // s s s f: 1/4
    fail(*b);    // s s f f: 2/4
    EXPECT_EQ(b->state(), circuit_state::closed);
    fail(*b); // s f f f: 3/4
    EXPECT_EQ(b->state(), circuit_state::open);
}

TEST_F(CircuitBreakerTest, SlowCallsOpenItToo) {
    auto b = make({.window_size = 3,
        .minimum_calls = 3,
        .failure_rate_threshold = 1.0,
        .slow_call_duration = 500ms,
        .slow_call_rate_threshold = 0.6});
    succeed(*b, 600ms);
    succeed(*b, 10ms);
    EXPECT_EQ(b->state(), circuit_state::closed);
    succeed(*b, 499ms); // 1/3 slow
    EXPECT_EQ(b->state(), circuit_state::closed);
    succeed(*b, 900ms); // window: 10, 499, 900: 1/3
    EXPECT_EQ(b->state(), circuit_state::closed);
    succeed(*b, 500ms); // 499, 900, 500: 2/3 >= 0.6
    EXPECT_EQ(b->state(), circuit_state::open);
    EXPECT_EQ(b->metrics().slow_calls, 3);
}

TEST_F(CircuitBreakerTest, HalfOpensAfterTheProbeIntervalAndClosesOnProbeSuccesses) {
    auto b = make({.window_size = 2, .minimum_calls = 2, .failure_rate_threshold = 1.0,
        .probe_interval = 5'000ms, .half_open_calls = 2});
    fail(*b);
    fail(*b);
    ASSERT_EQ(b->state(), circuit_state::open);
    EXPECT_EQ(b->remaining_open_time(), 5'000ms);
    now += 4'999;
    EXPECT_FALSE(b->try_acquire());
    EXPECT_EQ(b->remaining_open_time(), 1ms);
    now += 1;
    EXPECT_EQ(b->state(), circuit_state::half_open);
    // Two probes at a time, no third.
    EXPECT_TRUE(b->try_acquire());
    EXPECT_TRUE(b->try_acquire());
    EXPECT_FALSE(b->try_acquire());
    b->on_success(1ms);
    EXPECT_EQ(b->state(), circuit_state::half_open);
    b->on_success(1ms);
    EXPECT_EQ(b->state(), circuit_state::closed);
    EXPECT_THAT(changes, ElementsAre(std::pair{circuit_state::closed, circuit_state::open},
                             std::pair{circuit_state::open, circuit_state::half_open},
                             std::pair{circuit_state::half_open, circuit_state::closed}));
    // Closed again with a fresh window: one failure does not reopen it.
    fail(*b);
    EXPECT_EQ(b->state(), circuit_state::closed);
    const auto m = b->metrics();
    EXPECT_EQ(m.opened, 1);
    EXPECT_EQ(m.half_opened, 1);
    EXPECT_EQ(m.closed, 1);
}

TEST_F(CircuitBreakerTest, AFailedProbeOpensItAgainForAnotherInterval) {
    auto b = make({.window_size = 1, .minimum_calls = 1, .probe_interval = 1'000ms});
    fail(*b);
    now += 1'000;
    fail(*b); // the probe
    EXPECT_EQ(b->state(), circuit_state::open);
    EXPECT_EQ(b->remaining_open_time(), 1'000ms);
    now += 999;
    EXPECT_FALSE(b->try_acquire());
    now += 1;
    succeed(*b);
    EXPECT_EQ(b->state(), circuit_state::closed);
}

TEST_F(CircuitBreakerTest, AnIgnoredProbeFreesItsSlot) {
    auto b = make({.window_size = 1, .minimum_calls = 1, .probe_interval = 10ms});
    fail(*b);
    now += 10;
    ASSERT_TRUE(b->try_acquire());
    EXPECT_FALSE(b->try_acquire());
    b->on_ignored();
    EXPECT_EQ(b->state(), circuit_state::half_open);
    EXPECT_TRUE(b->try_acquire());
}

TEST_F(CircuitBreakerTest, ThreadsSharingItCountEveryCall) {
    auto b = std::make_shared<eddy::circuit_breaker>(
        "shared", eddy::circuit_breaker_config{.window_size = 100, .minimum_calls = 100, .failure_rate_threshold = 1.0});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&b] {
            for (int i = 0; i < 10'000; ++i) {
                if (b->try_acquire()) {
                    b->on_success(1us);
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(b->metrics().successful_calls, 40'000);
    EXPECT_EQ(b->state(), circuit_state::closed);
}

TEST(CircuitBreakerConfigTest, BadSettingsAreRejected) {
    EXPECT_THAT([] { eddy::circuit_breaker("x", {.window_size = 5, .minimum_calls = 6}); },
        ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("circuit breaker x: minimum_calls")));
    EXPECT_THROW(eddy::circuit_breaker("x", {.failure_rate_threshold = 0}), std::invalid_argument);
}

} // namespace
