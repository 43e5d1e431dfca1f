#pragma once

// What the chaos suite's tests share: clients that read records with their
// headers and produce with extra settings (a 1 MiB value), the tally of an
// output against its known input, and the parseable line each test prints
// for docs/faults.md:
//
//   chaos: fault=broker-down-10s guarantee=at_least_once in=20000 out=20412
//          duplicates=412 dead_lettered=0 lost=0 recovery_ms=1830

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/record.h"

namespace eddy::chaos {

struct record {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::optional<std::string> key;
    std::optional<std::string> value;
    eddy::headers headers;
};

struct to_send {
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::int32_t partition = -1; // by key (murmur2, as Java)
};

// One producer client for many batches (a new client per batch costs a
// connection and a producer id, seconds after an outage).
class producer {
public:
    explicit producer(const std::string& bootstrap, const std::map<std::string, std::string>& settings = {});
    ~producer();
    producer(const producer&) = delete;
    producer& operator=(const producer&) = delete;
    // Sends the records in order and waits until all are acknowledged
    // (while the broker is down, until it is back); throws on a failure.
    void send(const std::string& topic, const std::vector<to_send>& records);

private:
    void* _rk;
};

// Produces every record, in order, and waits until all are acknowledged;
// throws on any failure. `settings` add to or override the client's.
void produce(const std::string& bootstrap, const std::string& topic, const std::vector<to_send>& records,
    const std::map<std::string, std::string>& settings = {});

// Reads `topic` from the beginning, headers too, until `done(records so
// far)` or `timeout`.
std::vector<record> read(const std::string& bootstrap, const std::string& topic,
    const std::function<bool(const std::vector<record>&)>& done, std::chrono::milliseconds timeout,
    bool read_committed = false);

// How an output compares with the values it must hold once each.
struct tally {
    std::size_t in = 0;
    std::size_t out = 0;
    std::size_t duplicates = 0; // records beyond the first of their value
    std::size_t lost = 0;       // expected values missing
    std::size_t unexpected = 0; // values no input explains
};
tally count(const std::set<std::string>& expected, const std::vector<record>& out);

// Reads `topic` until every expected value is there (or `timeout`), then a
// little longer, for duplicates on their way.
std::vector<record> read_expected(const std::string& bootstrap, const std::string& topic,
    const std::set<std::string>& expected, std::chrono::milliseconds timeout, bool read_committed);

// Prints the parseable line: "chaos: fault=<fault> k=v ...".
void report(const std::string& fault, const std::vector<std::pair<std::string, std::string>>& figures);
void report(const std::string& fault, const std::string& guarantee, const tally& t, std::size_t dead_lettered,
    std::int64_t recovery_ms, const std::vector<std::pair<std::string, std::string>>& more = {});

} // namespace eddy::chaos
