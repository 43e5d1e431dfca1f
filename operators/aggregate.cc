#include "operators/aggregate.h"

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

} // namespace eddy::operators::internal
