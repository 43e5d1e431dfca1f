#include "core/log.h"

#include <cstdlib>
#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace eddy {

std::shared_ptr<spdlog::logger> module_logger(const std::string& name) {
    static std::mutex mutex;
    std::scoped_lock lock(mutex);
    if (auto existing = spdlog::get(name)) {
        return existing;
    }
    auto logger = spdlog::stderr_color_mt(name);
    // EDDY_LOG_LEVEL=debug (trace, info, warn, err, off) for every module.
    const char* level = std::getenv("EDDY_LOG_LEVEL");
    logger->set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::get_level());
    return logger;
}

} // namespace eddy
