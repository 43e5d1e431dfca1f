#pragma once

// One spdlog logger per eddy module ("eddy.operators", "eddy.runtime", ...),
// created on first use with the default sink, so an application can set each
// module's level: eddy::module_logger("eddy.runtime")->set_level(...), or
// all of them with the environment variable EDDY_LOG_LEVEL=debug.

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace eddy {

std::shared_ptr<spdlog::logger> module_logger(const std::string& name);

} // namespace eddy
