#pragma once

// The error build() throws for a topology that cannot run; its message names
// the node (or nodes) at fault.

#include <stdexcept>

namespace eddy {

class topology_error : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

} // namespace eddy
