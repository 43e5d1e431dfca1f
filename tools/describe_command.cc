// eddy describe: the topology of a registered application, as Kafka Streams'
// TopologyDescription text or as a Mermaid flowchart.

#include <fmt/format.h>

#include "tools/app_registry.h"
#include "tools/commands.h"

namespace eddy::tools {

int run_describe(const describe_options& options) {
    const auto& apps = registered_apps();
    auto it = apps.find(options.app);
    if (it == apps.end()) {
        std::string known;
        for (const auto& [name, build] : apps) {
            known += known.empty() ? name : ", " + name;
        }
        throw tool_error(fmt::format("unknown application {}: known ones are {}", options.app, known));
    }
    auto description = it->second().describe();
    fmt::print("{}", options.mermaid ? description.to_mermaid() : description.to_string());
    return 0;
}

} // namespace eddy::tools
