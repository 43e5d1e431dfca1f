#pragma once

#include <stdexcept>

namespace eddy {

// A store could not be opened, read or written, or was asked for with the
// wrong types.
class store_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace eddy
