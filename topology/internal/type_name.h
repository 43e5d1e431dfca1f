#pragma once

// Readable C++ type names for error messages ("std::string", "todo::TaskEvent").

#include <string>
#include <typeinfo>

namespace eddy::dsl::internal {

std::string demangle(const char* mangled);

template<typename T>
std::string type_name() {
    return demangle(typeid(T).name());
}

} // namespace eddy::dsl::internal
