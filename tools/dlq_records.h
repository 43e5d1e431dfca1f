#pragma once

// What eddy dlq inspect and eddy dlq replay share: a dead-letter topic read
// from its beginning (read_topic), its records with their dead-letter
// headers decoded (dlq_record), the selection (make_filter), and a record as
// a line of text or JSON.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/record.h"
#include "core/task.h"
#include "operators/error_handlers.h"
#include "tools/commands.h"
#include "tools/dlq_filter.h"

namespace eddy::tools {

// One record of a dead-letter topic, and what its headers say.
struct dlq_record : raw_record {
    // Null when the dead-letter headers are missing or unreadable; then
    // `not_dead_letter` says why.
    std::optional<dead_letter_info> info;
    std::string not_dead_letter;
};

// "topic/partition/offset".
std::string where(const std::string& topic, std::int32_t partition, std::int64_t offset);

// Reads every partition of `topic` from its first record to the end it has
// now (and on, with `follow`, until SIGINT/SIGTERM under stop_on_signals),
// handing each record to `on_record` until it returns false. No consumer
// group: the partitions are assigned directly and nothing is committed.
void read_topic(const connection_options& connection, const std::string& topic, bool follow,
    const std::function<bool(dlq_record&&)>& on_record);

// SIGINT and SIGTERM end read_topic's loop while one of these lives; the
// default handlers come back after.
class stop_on_signals {
public:
    stop_on_signals();
    ~stop_on_signals();
    stop_on_signals(const stop_on_signals&) = delete;
    stop_on_signals& operator=(const stop_on_signals&) = delete;
};

dlq_filter make_filter(const dlq_select_options& select);

// Bytes as human text: null for none, base64:... when not printable UTF-8.
std::string human_bytes(const std::optional<std::string>& bytes);
// Whether a header is one of the dead-letter ones (eddy.dlq.*).
bool is_dead_letter_header(std::string_view key);
// A record as one line of text, or as one JSON object.
std::string human_line(const std::string& topic, const dlq_record& r);
std::string json_line(const std::string& topic, const dlq_record& r);

} // namespace eddy::tools
