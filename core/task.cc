#include "core/task.h"

#include <fmt/format.h>

namespace eddy {

std::string task_id::to_string() const {
    return fmt::format("{}_{}", subtopology, partition);
}

} // namespace eddy
