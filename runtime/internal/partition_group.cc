#include "runtime/internal/partition_group.h"

namespace eddy::runtime::internal {

partition_state& partition_group::add(const topic_partition& tp, operators::internal::raw_node& source) {
    auto& state = _partitions[tp];
    state.source = &source;
    return state;
}

bool partition_group::remove(const topic_partition& tp) {
    _partitions.erase(tp);
    return _partitions.empty();
}

partition_state* partition_group::find(const topic_partition& tp) {
    auto it = _partitions.find(tp);
    return it == _partitions.end() ? nullptr : &it->second;
}

std::pair<const topic_partition*, partition_state*> partition_group::next(
    const thread_clock& clock, std::chrono::milliseconds max_idle) {
    partition_state* next = nullptr;
    const topic_partition* next_key = nullptr;
    bool some_empty = false;
    for (auto& [tp, state] : _partitions) {
        if (state.buffer.empty()) {
            some_empty = true;
        } else if (next == nullptr || state.buffer.front().timestamp < next->buffer.front().timestamp) {
            next = &state;
            next_key = &tp;
        }
    }
    if (next == nullptr) {
        // Keep waiting_since: once max.task.idle.ms has passed, the task
        // goes on without the empty partition until it has records again
        // (Kafka Streams' enforced processing).
        return {nullptr, nullptr};
    }
    if (!some_empty) {
        _waiting_since.reset();
    } else if (max_idle.count() > 0) {
        // A partition ran dry: wait for it up to max.task.idle.ms, then go
        // on without it until it has records again.
        const auto now = clock.now();
        if (!_waiting_since) {
            _waiting_since = now;
        }
        if (now - *_waiting_since < max_idle) {
            return {nullptr, nullptr};
        }
    }
    return {next_key, next};
}

void partition_group::offsets(partition_offsets& into) const {
    for (const auto& [tp, state] : _partitions) {
        if (state.next_offset >= 0) {
            into[tp] = state.next_offset;
        }
    }
}

std::vector<topic_partition> partition_group::rewind() {
    std::vector<topic_partition> paused;
    for (auto& [tp, state] : _partitions) {
        state.buffer.clear();
        state.next_offset = -1;
        // Paused for a full buffer that is now empty: nothing else would
        // resume it.
        if (state.paused) {
            paused.push_back(tp);
            state.paused = false;
        }
    }
    return paused;
}

} // namespace eddy::runtime::internal
