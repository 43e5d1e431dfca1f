#pragma once

// state_restore_listener: told when a store starts catching up from its
// changelog partition, after each batch, and when it is done, as Kafka
// Streams' StateRestoreListener. Set one with
// kafka_streams::set_global_state_restore_listener before start(); it is
// called on the stream thread that restores.

#include <cstdint>
#include <string>

namespace eddy {

class state_restore_listener {
public:
    virtual ~state_restore_listener() = default;
    // Restoring `store` from `topic`/`partition`, offsets [start, end).
    virtual void on_restore_start(const std::string& /*topic*/, std::int32_t /*partition*/,
        const std::string& /*store*/, std::int64_t /*start_offset*/, std::int64_t /*end_offset*/) {}
    // A batch was written into the store; `batch_end_offset` is the last
    // offset it held.
    virtual void on_batch_restored(const std::string& /*topic*/, std::int32_t /*partition*/,
        const std::string& /*store*/, std::int64_t /*batch_end_offset*/, std::int64_t /*restored*/) {}
    virtual void on_restore_end(const std::string& /*topic*/, std::int32_t /*partition*/,
        const std::string& /*store*/, std::int64_t /*total_restored*/) {}
};

} // namespace eddy
