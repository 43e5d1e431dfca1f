#include "operators/internal/node.h"

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "operators/log.h"

#include "operators/internal/sink_node.h"
#include "operators/internal/source_node.h"

namespace eddy::operators::internal {

void throw_type_mismatch(std::string_view parent, std::string_view child) {
    throw std::logic_error(fmt::format(
        "node {} cannot be a child of node {}: it does not take the records that node emits", child, parent));
}

void throw_unknown_child(std::string_view node, std::string_view child) {
    throw std::invalid_argument(fmt::format("node {} has no child named {}", node, child));
}

void throw_sink_error(const std::string& node, const std::string& topic, std::string_view what) {
    throw std::runtime_error(fmt::format("sink {} cannot write to topic {}: {}", node, topic, what));
}

void log_invalid_timestamp(const std::string& node, const raw_record& r, std::int64_t timestamp) {
    static const auto logger = module_logger("eddy.operators");
    logger->warn("record dropped for a negative timestamp node={} topic={} partition={} offset={} timestamp={}", node,
        r.topic, r.partition, r.offset, timestamp);
}

void handle_deserialization_failure(task_context& task, deserialization_exception_handler& handler,
    const std::string& node, const raw_record& r, std::string_view error_class, std::string_view message) {
    error_context ctx{task.application_id, node, error_class, message, r, task.wall_clock_ms()};
    if (handler.handle(ctx, *task.collector) == handler_response::fail) {
        throw deserialization_error(node, r, std::string(message));
    }
}

} // namespace eddy::operators::internal
