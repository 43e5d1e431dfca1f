#include "operators/deduplicate.h"

#include <spdlog/logger.h>

#include "core/log.h"

namespace eddy::operators::internal {

void log_duplicate(const std::string& node, const std::optional<record_metadata>& where, std::int64_t timestamp,
    std::int64_t first_seen, std::int64_t stream_time) {
    static const auto logger = module_logger("eddy.operators");
    logger->debug("duplicate dropped node={} topic={} partition={} offset={} timestamp={} first_seen={} stream_time={}",
        node, where ? where->topic : "", where ? where->partition : -1, where ? where->offset : -1, timestamp,
        first_seen, stream_time);
}

void log_deduplicate_purge(const std::string& node, std::size_t purged, std::int64_t stream_time) {
    static const auto logger = module_logger("eddy.operators");
    logger->debug("expired ids purged node={} purged={} stream_time={}", node, purged, stream_time);
}

} // namespace eddy::operators::internal
