#pragma once

// Restores a task's stores from their changelog partitions before the task
// processes, and keeps the local checkpoint (the changelog offset each store
// is known to hold up to) that lets a clean restart restore only the tail.
//
// Checkpoint rules (as Kafka Streams'):
//  - a persistent store with a checkpoint restores from its offset; without
//    one, or with one outside the log's [low, high] watermarks, it is wiped
//    and rebuilt from the beginning;
//  - an in-memory store always restores from the beginning;
//  - under exactly-once the checkpoint is deleted once the task runs and
//    written again only on a clean close, so a crash means a full restore
//    of the committed changelog: the store then agrees with the output.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "rdkafka_handles.h"
#include "stream_task.h"
#include "../state_restore_listener.h"

namespace eddy::runtime::internal {

using changelog_offsets = std::map<std::pair<std::string, std::int32_t>, std::int64_t>;

changelog_offsets read_checkpoint(const std::filesystem::path& task_dir);
// Writes atomically (a temporary file renamed over the old one).
void write_checkpoint(const std::filesystem::path& task_dir, const changelog_offsets& offsets);
void delete_checkpoint(const std::filesystem::path& task_dir);

class state_restorer {
public:
    // `consumer_settings`: the stream thread's consumer settings (the group
    // settings are dropped: the restore consumer assigns partitions itself).
    state_restorer(std::map<std::string, std::string> consumer_settings, std::string client_id,
        std::shared_ptr<state_restore_listener> listener);
    ~state_restorer();
    state_restorer(const state_restorer&) = delete;
    state_restorer& operator=(const state_restorer&) = delete;

    // Brings every logged store of `tasks` up to the end of its changelog
    // partition (a source-topic changelog up to its offset in `committed`,
    // none: nothing to restore), reading all their partitions together;
    // returns, per changelog partition, the offset restored up to (the next
    // offset to read).
    changelog_offsets restore(const std::vector<stream_task*>& tasks, const changelog_offsets& committed = {},
        std::int64_t* restored_records = nullptr);

    // One round of a standby: brings the stores of `tasks` up to the current
    // end of their changelog partitions, each from where `positions` says
    // the previous round ended (one it does not name: from the checkpoint,
    // as restore()), and moves `positions` on. Source-topic changelogs are
    // left alone (the active task's committed offset bounds them). Returns
    // the records written.
    std::int64_t catch_up(const std::vector<stream_task*>& tasks, changelog_offsets& positions);

private:
    rd_kafka_t* consumer();
    changelog_offsets run(const std::vector<stream_task*>& tasks, const changelog_offsets& committed,
        const changelog_offsets* positions, std::int64_t* restored_records);

    std::map<std::string, std::string> _settings;
    std::shared_ptr<state_restore_listener> _listener;
    client_ptr _consumer;
};

} // namespace eddy::runtime::internal
