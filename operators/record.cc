#include "operators/record.h"

#include <algorithm>

namespace eddy {

headers& headers::remove(std::string_view key) {
    std::erase_if(_headers, [key](const header& h) { return h.key == key; });
    return *this;
}

const header* headers::last_header(std::string_view key) const {
    auto it = std::find_if(
        _headers.rbegin(), _headers.rend(), [key](const header& h) { return h.key == key; });
    return it == _headers.rend() ? nullptr : &*it;
}

} // namespace eddy
