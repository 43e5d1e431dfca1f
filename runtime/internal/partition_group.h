#pragma once

// The input partitions of one task (Kafka Streams' PartitionGroup): their
// buffered records, which comes next in timestamp order, how long the task
// waits for an empty partition (max.task.idle.ms), whether a partition is
// paused for a full buffer, and the offset to commit for each.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "kafka_clients.h"

namespace eddy::operators::internal {
class raw_node;
}

namespace eddy::runtime::internal {

struct partition_state {
    // The task's source node reading this partition's topic.
    operators::internal::raw_node* source = nullptr;
    std::deque<raw_record> buffer;
    // The offset to commit: the last processed one plus one; -1 before.
    std::int64_t next_offset = -1;
    bool paused = false;
};

class partition_group {
public:
    using time_point = std::chrono::steady_clock::time_point;

    partition_state& add(const topic_partition& tp, operators::internal::raw_node& source);
    // Whether the task has no partitions left.
    bool remove(const topic_partition& tp);
    partition_state* find(const topic_partition& tp);
    std::size_t size() const noexcept { return _partitions.size(); }

    // The partition whose first buffered record comes next: the oldest
    // timestamp across the partitions, once every partition has a record
    // or `max_idle` has passed since one ran dry (0: never wait). Null
    // while there is none or the task waits. Reads `clock` only when a
    // partition is empty and the task may wait for it: not per record.
    std::pair<const topic_partition*, partition_state*> next(
        const thread_clock& clock, std::chrono::milliseconds max_idle);
    // Whether the task waits for an empty partition (next() said so).
    bool waiting() const noexcept { return _waiting_since.has_value(); }

    // The offsets to commit (partitions with something processed).
    void offsets(partition_offsets& into) const;
    // Forgets every buffered record and processed offset (the input goes
    // back to its committed offsets); returns the partitions that were
    // paused, resumed here.
    std::vector<topic_partition> rewind();

    std::map<topic_partition, partition_state>& partitions() noexcept { return _partitions; }

private:
    std::map<topic_partition, partition_state> _partitions;
    std::optional<time_point> _waiting_since;
};

} // namespace eddy::runtime::internal
