#include "operators/stream_stream_join.h"

#include <spdlog/logger.h>

#include "core/log.h"

namespace eddy::operators::internal {

void log_join_skip(const std::string& node, const char* why, const std::optional<record_metadata>& where,
    std::int64_t timestamp, std::int64_t expiration, std::int64_t observed) {
    static const auto logger = module_logger("eddy.operators");
    logger->warn("record skipped by a join node={} reason=\"{}\" topic={} partition={} offset={} timestamp={} "
                 "expiration={} observed={}",
        node, why, where ? where->topic : "", where ? where->partition : -1, where ? where->offset : -1, timestamp,
        expiration, observed);
}

} // namespace eddy::operators::internal
