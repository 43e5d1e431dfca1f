#pragma once

// Where state lives across the instances of one application, as Kafka
// Streams' HostInfo, KeyQueryMetadata and StreamsMetadata: each instance
// names itself with application.server (host:port, the address its
// query_server listens on) and publishes the tasks it owns (see
// docs/adr/0008-instance-discovery.md).
//
//   auto where = app.query_metadata_for_key<std::string>("counts", "alice");
//   if (where.available()) { ask where.active_host->to_string() ... }

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy {

// host:port of an instance, as given in its application.server.
struct host_info {
    std::string host;
    std::uint16_t port = 0;

    std::string to_string() const { return host + ":" + std::to_string(port); }
    // Parses "host:port"; std::nullopt when it is not one.
    static std::optional<host_info> parse(std::string_view text);

    friend bool operator==(const host_info&, const host_info&) = default;
    friend auto operator<=>(const host_info&, const host_info&) = default;
};

// The instance that owns a key of a store, and the partition the key is in.
// active_host is empty while no instance has claimed that partition (during
// a rebalance, or before the instances have published).
struct key_query_metadata {
    std::optional<host_info> active_host;
    // The instances keeping standby copies of the key's partition
    // (num.standby.replicas), as they last published.
    std::vector<host_info> standby_hosts;
    int partition = -1;

    bool available() const noexcept { return active_host.has_value(); }
};

// One instance: its address, the stores it holds partitions of, and the
// source partitions of its tasks.
struct streams_metadata {
    host_info host;
    std::set<std::string> state_store_names;
    std::set<std::pair<std::string, int>> topic_partitions;
    // The tasks ("<sub-topology>_<partition>") it owns.
    std::set<std::string> tasks;
    // What it keeps standby copies of (num.standby.replicas).
    std::set<std::string> standby_tasks;
    std::set<std::string> standby_state_store_names;
    std::set<std::pair<std::string, int>> standby_topic_partitions;
};

} // namespace eddy
