#include "operators/internal/task_context.h"

#include <fmt/format.h>

#include "operators/internal/node.h"
#include "statestore/store_error.h"

namespace eddy {

namespace operators::internal {

statestore::internal::store_handle& task_context::store(std::string_view node, std::string_view name) const {
    auto it = stores.find(name);
    if (it == stores.end() && global_stores) {
        if (auto global = global_stores->find(name); global != global_stores->end()) {
            return *global->second;
        }
    }
    if (it == stores.end()) {
        throw store_error(fmt::format("node {} asked for store {}, which task {} does not have (declare it with "
                                      "add_state_store and name it where the processor is added)",
            node, name, id.to_string()));
    }
    return *it->second;
}

void task_context::rewind() {
    for (const auto& f : on_rewind) {
        f();
    }
    holds = 0;
}

cancellable task_context::schedule(std::string node, std::chrono::milliseconds interval, punctuation_type type,
    std::function<void(std::int64_t)> fn) {
    if (interval.count() < 1) {
        throw std::invalid_argument(fmt::format(
            "node {}: a punctuation interval must be at least 1 ms, got {} ms", node, interval.count()));
    }
    // Stream-time punctuations are aligned to the epoch, so the first fires
    // with the first record; wall-clock ones fire one interval from now.
    std::int64_t next = type == punctuation_type::stream_time ? 0 : wall_clock_ms() + interval.count();
    auto cancelled = std::make_shared<bool>(false);
    _punctuations.push_back({std::move(node), interval, type, std::move(fn), next, cancelled});
    return cancellable(cancelled);
}

int task_context::punctuate(punctuation_type type, std::int64_t now_ms) {
    if (_punctuations.empty()) {
        return 0;
    }
    std::erase_if(_punctuations, [](const punctuation& p) { return *p.cancelled; });
    int ran = 0;
    // Index loop: a punctuation may schedule another.
    for (std::size_t i = 0; i < _punctuations.size(); ++i) {
        if (_punctuations[i].type != type || *_punctuations[i].cancelled || now_ms < _punctuations[i].next_ms) {
            continue;
        }
        // Missed intervals are skipped, not replayed: one call per catch-up.
        const auto interval = _punctuations[i].interval.count();
        _punctuations[i].next_ms += interval * ((now_ms - _punctuations[i].next_ms) / interval + 1);
        auto fn = _punctuations[i].fn;
        metadata.reset();
        raw = nullptr;
        try {
            fn(now_ms);
        } catch (...) {
            // The punctuator's own failure (a child's was handled by the
            // child): the processing handler, under the scheduling node.
            handle_processing_failure(*this, _punctuations[i].node, {}, std::current_exception());
        }
        ++ran;
    }
    return ran;
}

} // namespace operators::internal
} // namespace eddy
