#pragma once

// The one loop that reads changelog partitions into stores: a stream task's
// restore, a standby's catch-up (state_restorer) and the global tables'
// bootstrap (global_stream_thread) all hand it ranges of offsets.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "../../statestore/internal/store_handle.h"

namespace eddy::runtime::internal {

// One partition to read into `store`: from `start` up to `end` (not
// included).
struct changelog_range {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t start = 0;
    std::int64_t end = 0;
    statestore::internal::store_handle* store = nullptr;
    // Values get the record's timestamp in front (a table store that keeps
    // them, restored from its source topic).
    bool stamp_timestamps = false;
};

struct changelog_read_events {
    // A batch was written; `last_offset` is its last record's offset,
    // `restored` the records of the range written so far.
    std::function<void(const changelog_range&, std::int64_t last_offset, std::int64_t restored)> on_batch;
    // The range is read: the store holds everything before `up_to`.
    std::function<void(const changelog_range&, std::int64_t up_to, std::int64_t restored)> on_end;
};

// Reads every range with `consumer` (assigned here, unassigned on the way
// out), writing updates in batches of 10,000. Throws kafka_error when the
// consumer fails, an offset is out of range, or nothing arrives for 60 s;
// `what` names the read in those messages ("restoring 3 tasks").
void read_changelogs(rd_kafka_t* consumer, const std::vector<changelog_range>& ranges,
    const changelog_read_events& events, const std::string& what);

} // namespace eddy::runtime::internal
