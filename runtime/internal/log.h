#pragma once

// The runtime module's logger, "eddy.runtime".

#include <memory>

#include <spdlog/logger.h>

namespace eddy::runtime::internal {

const std::shared_ptr<spdlog::logger>& logger();

} // namespace eddy::runtime::internal
