#pragma once

// Plain librdkafka clients for integration tests: produce records and read a
// topic back, independent of the runtime under test.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eddy::test {

struct kafka_record {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::optional<std::string> key;
    std::optional<std::string> value;
};

// Produces every record (partition < 0: by key, murmur2 as Java) and waits
// until all are acknowledged; throws on any failure.
void produce(const std::string& bootstrap, const std::string& topic,
    const std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>& records,
    std::int32_t partition = -1);

// Reads `topic` from the beginning until `expected` records arrived or
// `timeout` passed; returns what it read. read_committed when asked.
std::vector<kafka_record> consume(const std::string& bootstrap, const std::string& topic, std::size_t expected,
    std::chrono::milliseconds timeout, bool read_committed = false);

// Runs a shell command; returns its standard output.
std::string run(const std::string& command);

// A unique name for topics and groups of one test.
std::string unique(const std::string& prefix);

} // namespace eddy::test
