#pragma once

// An application's health, as kafka_streams::health() and the query
// server's GET /health report it: healthy; degraded with the reasons, a
// warning while the app still processes; or unhealthy, when it does not
// (not started, failed in ERROR, or shutting down), with the reason.
//
//   const eddy::health_report h = app.health();
//   if (h.status == eddy::health_status::degraded) {
//       for (const auto& why : h.reasons) { alert(why); }
//   }
//
// Reasons today: the dead-letter rate over the last minute above
// errors.dead.letter.degraded.rate; no broker answering
// (kafka_streams::broker_unreachable()); what the app sets itself
// (kafka_streams::set_health_reason).

#include <string>
#include <string_view>
#include <vector>

namespace eddy {

enum class health_status { healthy, degraded, unhealthy };
std::string_view to_string(health_status s) noexcept;

struct health_report {
    health_status status = health_status::healthy;
    // Why it is degraded or unhealthy, one sentence each; empty when
    // healthy.
    std::vector<std::string> reasons;
};

} // namespace eddy
