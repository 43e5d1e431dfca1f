#include "runtime/internal/log.h"

#include "core/log.h"

namespace eddy::runtime::internal {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto log = module_logger("eddy.runtime");
    return log;
}

} // namespace eddy::runtime::internal
