#pragma once

// Plain librdkafka clients for integration tests: produce records and read a
// topic back, independent of the runtime under test.

#include <chrono>
#include <cstdint>
#include <functional>
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
    std::int64_t timestamp = 0;
    // The broker stamped it (LogAppendTime), not its producer.
    bool log_append_time = false;
};

// Produces every record (partition < 0: by key, murmur2 as Java) and waits
// until all are acknowledged; throws on any failure. Each record states
// `timestamp_ms` as its time when given (> 0), the producer's clock if not.
void produce(const std::string& bootstrap, const std::string& topic,
    const std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>& records,
    std::int32_t partition = -1, std::int64_t timestamp_ms = 0);

// Reads `topic` from the beginning until `expected` records arrived or
// `timeout` passed; returns what it read. read_committed when asked.
std::vector<kafka_record> consume(const std::string& bootstrap, const std::string& topic, std::size_t expected,
    std::chrono::milliseconds timeout, bool read_committed = false);

// Reads `topic` from the beginning until `done(records so far)` or `timeout`.
std::vector<kafka_record> consume_until(const std::string& bootstrap, const std::string& topic,
    const std::function<bool(const std::vector<kafka_record>&)>& done, std::chrono::milliseconds timeout,
    bool read_committed = false);

// Records of `topic` after the group's committed offsets, summed over its
// `partitions` partitions (high watermark minus committed offset): what may
// be processed again after a member of `group` dies.
std::int64_t uncommitted(const std::string& bootstrap, const std::string& group, const std::string& topic,
    int partitions);

// The high watermark of each of the topic's `partitions` partitions.
std::vector<std::int64_t> end_offsets(const std::string& bootstrap, const std::string& topic, int partitions);

// Runs a shell command; returns its standard output.
std::string run(const std::string& command);

// A unique name for topics and groups of one test.
std::string unique(const std::string& prefix);

} // namespace eddy::test

namespace eddy::test {

// A child process whose standard output the test reads.
class child_process {
public:
    explicit child_process(const std::vector<std::string>& argv);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    // Waits for a line equal to `line` on the child's stdout.
    bool wait_for_line(const std::string& line, std::chrono::milliseconds timeout);
    void signal(int sig);
    // Waits for the child to end; returns its exit status (128 + signal when
    // killed).
    int wait();
    bool alive() const noexcept { return _pid > 0; }

private:
    int _pid = -1;
    int _stdout = -1;
    std::string _pending;
};

} // namespace eddy::test
