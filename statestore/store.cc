#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "statestore/key_value_store.h"

namespace eddy::statestore::internal {
namespace {
std::string readable(std::string_view mangled) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(
        abi::__cxa_demangle(std::string(mangled).c_str(), nullptr, nullptr, &status), std::free);
    return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}
} // namespace

void throw_store_type_mismatch(const std::string& store, std::string_view key_type, std::string_view value_type) {
    throw store_error(fmt::format("store {} was asked for as a key-value store of <{}, {}>, which are not the types "
                                  "it was declared with",
        store, readable(key_type), readable(value_type)));
}

} // namespace eddy::statestore::internal
