#include "topology/internal/type_name.h"

#include <cstdlib>
#include <memory>

#include <cxxabi.h>

namespace eddy::dsl::internal {

std::string demangle(const char* mangled) {
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> out(
        abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
    if (status != 0 || !out) {
        return mangled;
    }
    std::string name = out.get();
    // The one alias everybody writes.
    const std::string long_string = "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >";
    for (auto pos = name.find(long_string); pos != std::string::npos; pos = name.find(long_string)) {
        name.replace(pos, long_string.size(), "std::string");
    }
    return name;
}

} // namespace eddy::dsl::internal
