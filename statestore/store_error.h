#pragma once

#include <stdexcept>

namespace eddy {

// A store could not be opened, read or written, or was asked for with the
// wrong types.
class store_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A persistent store's files cannot be read as a store (a damaged CURRENT
// or MANIFEST, a missing table file): what it holds is lost, and a store
// with a changelog is wiped and restored from it.
class store_corrupted : public store_error {
public:
    using store_error::store_error;
};

} // namespace eddy
