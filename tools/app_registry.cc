#include "tools/app_registry.h"

#include "apps/todo/audit_topology.h"
#include "topology/streams_builder.h"

namespace eddy::tools {

const std::map<std::string, topology_factory>& registered_apps() {
    static const std::map<std::string, topology_factory> apps = {
        {"todo-audit",
            [] {
                streams_builder builder;
                todo::add_audit_topology(builder);
                return builder.build();
            }},
    };
    return apps;
}

} // namespace eddy::tools
