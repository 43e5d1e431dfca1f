#pragma once

// The applications `eddy describe` knows: a name and a function that builds
// the application's topology. An application is added by one entry in
// app_registry.cc (and its library in tools/meson.build).
//
//   for (const auto& [name, build] : eddy::tools::registered_apps()) {
//       fmt::print("{}\n{}", name, build().describe().to_string());
//   }

#include <functional>
#include <map>
#include <string>

#include "topology/topology.h"

namespace eddy::tools {

using topology_factory = std::function<eddy::topology()>;

// Every registered application by name, in name order.
const std::map<std::string, topology_factory>& registered_apps();

} // namespace eddy::tools
