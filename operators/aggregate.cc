#include "operators/aggregate.h"
#include "operators/window_aggregate.h"

#include <spdlog/logger.h>

namespace eddy::operators::internal {

void log_aggregate_skip(const std::string& node, const char* why, const std::optional<record_metadata>& where) {
    static const auto logger = module_logger("eddy.operators");
    if (where) {
        logger->debug("record skipped node={} reason=\"{}\" topic={} partition={} offset={}", node, why, where->topic,
            where->partition, where->offset);
    } else {
        logger->debug("record skipped node={} reason=\"{}\"", node, why);
    }
}

void log_expired_window(const std::string& node, const std::optional<record_metadata>& where, std::int64_t timestamp,
    const window& w, std::int64_t expiration, std::int64_t stream_time, bool end_inclusive) {
    static const auto logger = module_logger("eddy.operators");
    logger->warn("record skipped for an expired window node={} topic={} partition={} offset={} timestamp={} "
                 "window=[{},{}{} expiration={} stream_time={}",
        node, where ? where->topic : "", where ? where->partition : -1, where ? where->offset : -1, timestamp,
        w.start_ms, w.end_ms, end_inclusive ? "]" : ")", expiration, stream_time);
}

} // namespace eddy::operators::internal
