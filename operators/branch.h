#pragma once

// branch: the node split() makes. Each record goes to the first branch whose
// predicate holds, or to the default branch, or nowhere.

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "processor.h"

namespace eddy::operators {

template<typename K, typename V>
class branch_processor final : public processor<K, V, K, V> {
public:
    using predicate = std::function<bool(const K&, const V&)>;

    // One (predicate, child node) per branch, in order; `default_child`
    // names the default branch's node, if any.
    branch_processor(std::vector<std::pair<predicate, std::string>> branches, std::optional<std::string> default_child)
        : _branches(std::move(branches)), _default_child(std::move(default_child)) {}

    void process(const record<K, V>& r) override {
        for (const auto& [matches, child] : _branches) {
            if (matches(r.key, r.value)) {
                this->context().forward(r, child);
                return;
            }
        }
        if (_default_child) {
            this->context().forward(r, *_default_child);
        }
    }

private:
    std::vector<std::pair<predicate, std::string>> _branches;
    std::optional<std::string> _default_child;
};

} // namespace eddy::operators
