#pragma once

// The topic configs a store's changelog is created with. A key-value store's
// changelog is compacted (the latest value per key is the store). A window
// store's is compact,delete, as Kafka Streams makes it: its windows expire
// from the store, so their changelog records may go too, once older than the
// store's retention plus windowstore.changelog.additional.retention.ms (a
// margin for clock drift between brokers and stream time; 1 day by default).

#include <cstdint>
#include <map>
#include <string>

namespace eddy::runtime::internal {

inline std::map<std::string, std::string> changelog_configs(std::int64_t window_retention_ms, std::int64_t additional_ms) {
    if (window_retention_ms < 0) {
        return {{"cleanup.policy", "compact"}};
    }
    return {{"cleanup.policy", "compact,delete"}, {"retention.ms", std::to_string(window_retention_ms + additional_ms)}};
}

} // namespace eddy::runtime::internal
