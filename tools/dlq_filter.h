#pragma once

// What `eddy dlq inspect` and `eddy dlq replay` share besides Kafka: the
// selection of dead-letter records (by error, source topic, processor node,
// error time, and the dead-letter topic's own partition and offset), the
// times they take (epoch milliseconds or ISO-8601) and print, and how key,
// value and header bytes become text.
//
//   dlq_filter f;
//   apply_where(f, "error=serde_error");
//   f.since_ms = parse_time("2026-12-01T00:00:00Z", "--since");
//   if (f.matches(partition, offset, &info)) { ... }

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "operators/error_handlers.h"

namespace eddy::tools {

// The headers `eddy dlq replay` puts on a record it re-publishes, beside the
// original record's own (the dead-letter headers are dropped).
namespace replay_headers {
// The replay's id (--replay-id).
inline constexpr std::string_view id = "eddy.replay.id";
// Where the dead-letter copy was: "<dlq topic>/<partition>/<offset>".
inline constexpr std::string_view replayed_from = "eddy.replayed.from";
// When it was re-published, epoch milliseconds.
inline constexpr std::string_view time = "eddy.replay.time";
} // namespace replay_headers

// Which records of a dead-letter topic a command looks at. Every condition
// that is set must hold. A record without dead-letter headers has no error,
// source, node or time, so it matches only a filter on partition and offset.
struct dlq_filter {
    // A substring of eddy.error.class or eddy.error.message.
    std::optional<std::string> error;
    // eddy.source.topic, exactly.
    std::optional<std::string> source_topic;
    // eddy.processor.node, exactly.
    std::optional<std::string> node;
    // eddy.error.time in [since_ms, until_ms).
    std::optional<std::int64_t> since_ms;
    std::optional<std::int64_t> until_ms;
    // The dead-letter record's own partition and offsets (inclusive).
    std::optional<std::int32_t> partition;
    std::optional<std::int64_t> min_offset;
    std::optional<std::int64_t> max_offset;

    // Whether a condition on the dead-letter headers is set.
    bool on_headers() const noexcept;

    // `info` is null for a record without (readable) dead-letter headers.
    bool matches(std::int32_t record_partition, std::int64_t record_offset, const dead_letter_info* info) const;
};

// Adds one `--where` condition, KEY=VALUE with KEY one of error,
// source-topic, node, since, until, partition, offset (N or FIRST-LAST).
// Throws tool_error naming the condition when it cannot be read.
void apply_where(dlq_filter& filter, std::string_view condition);

// Throws tool_error when the filter can match nothing for a reason the user
// should hear about (--since after --until, an offset range backwards).
void check_filter(const dlq_filter& filter);

// Milliseconds since the epoch from "1700000000000" (epoch ms) or ISO-8601:
// "2026-12-01", "2026-12-01T08:30", "2026-12-01T08:30:00", with a fraction
// ".123", and a zone "Z", "+01:00" or "-0500" (none: UTC); ' ' may stand for
// 'T'. Throws tool_error naming `what` (the option) otherwise.
std::int64_t parse_time(std::string_view text, std::string_view what);

// "2026-12-01T08:30:00.000Z" (UTC, milliseconds).
std::string format_time(std::int64_t epoch_ms);

// Bytes as text: "utf8" when they are valid UTF-8 without control
// characters other than tab, newline and carriage return, else "base64"
// (RFC 4648, with padding: serdes::internal::base64_encode).
struct rendered_bytes {
    std::string text;
    std::string_view encoding; // "utf8" or "base64"
};
bool is_printable_utf8(std::string_view bytes);
rendered_bytes render_bytes(std::string_view bytes);

} // namespace eddy::tools
