#include "operators/stream_table_join.h"

#include <spdlog/logger.h>

#include "core/log.h"

namespace eddy::operators::internal {

void log_join_skip(const std::string& node, const std::optional<record_metadata>& where) {
    static const auto logger = module_logger("eddy.operators");
    if (where) {
        logger->warn("record skipped node={} reason=\"null join key or value\" topic={} partition={} offset={}", node,
            where->topic, where->partition, where->offset);
    } else {
        logger->warn("record skipped node={} reason=\"null join key or value\"", node);
    }
}

} // namespace eddy::operators::internal
