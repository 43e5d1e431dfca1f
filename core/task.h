#pragma once

// What every module knows of a task: its id, and a record as bytes, as it
// is read from or written to a topic.

#include <cstdint>
#include <optional>
#include <string>

#include "record.h"

namespace eddy {

// A task is one sub-topology working on one partition, as Kafka Streams'
// "0_1".
struct task_id {
    int subtopology = 0;
    std::int32_t partition = 0;

    std::string to_string() const;
    friend bool operator==(const task_id&, const task_id&) = default;
    friend auto operator<=>(const task_id&, const task_id&) = default;
};

// A record as bytes, as it is read from or written to a topic.
struct raw_record {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::int64_t timestamp = 0;
    std::optional<std::string> key;
    std::optional<std::string> value;
    eddy::headers headers;
    // A windowed key's window bytes at its end (8: a time window's start,
    // 16: a session's end and start): with no partition given, the
    // collector partitions by the key without them, so every window of a
    // key lands where the plain key does (Kafka Streams'
    // WindowedStreamPartitioner). 0: by the whole key.
    std::uint8_t key_window_bytes = 0;
    // A store's change, for its changelog: marked by the task's change
    // listener, so the collector tells its delivery apart without looking
    // the topic up.
    bool changelog = false;
};

} // namespace eddy
