#include "core/record.h"

#include <algorithm>

namespace eddy {

const std::vector<header>& headers::none() {
    static const std::vector<header> empty;
    return empty;
}

std::vector<header>& headers::own() {
    if (!_list) {
        _list = std::make_shared<std::vector<header>>();
    } else if (_list.use_count() > 1) {
        _list = std::make_shared<std::vector<header>>(*_list);
    }
    return *_list;
}

headers& headers::remove(std::string_view key) {
    if (!empty()) {
        std::erase_if(own(), [key](const header& h) { return h.key == key; });
    }
    return *this;
}

const header* headers::last_header(std::string_view key) const {
    const auto& hs = list();
    auto it = std::find_if(hs.rbegin(), hs.rend(), [key](const header& h) { return h.key == key; });
    return it == hs.rend() ? nullptr : &*it;
}

} // namespace eddy
