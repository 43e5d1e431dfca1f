#pragma once

// What happens to a record whose bytes cannot be deserialized: Kafka Streams'
// deserialization exception handler, with eddy's dead-letter built-in.
//
//   config.set(eddy::streams_config::deserialization_exception_handler, "dead_letter");
//   config.set(eddy::streams_config::dead_letter_topic, "todo.dlq");
// or, for one source only:
//   builder.stream<K, V>("in", eddy::consumed<K, V>::with(ks, vs)
//       .with_deserialization_handler(eddy::handlers::dead_letter("todo.dlq")));

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "operators/internal/task_context.h"
#include "operators/record.h"

namespace eddy {

enum class handler_response { continue_processing, fail };

// What the handler is told about the failure.
struct error_context {
    std::string_view application_id;
    std::string_view node;
    std::string_view error_class;
    std::string_view message;
    const raw_record& record;
    std::int64_t wall_clock_ms;
};

class deserialization_exception_handler {
public:
    virtual ~deserialization_exception_handler() = default;
    // May send records through `collector` (a dead-letter topic does).
    virtual handler_response handle(const error_context& ctx, record_collector& collector) = 0;
    virtual std::string_view name() const noexcept = 0;
};

// A record that could not be deserialized, with where it came from. Thrown
// when the handler says fail.
class deserialization_error : public std::runtime_error {
public:
    deserialization_error(std::string node, const raw_record& r, std::string reason);

    const std::string& node() const noexcept { return _node; }
    const std::string& topic() const noexcept { return _topic; }
    std::int32_t partition() const noexcept { return _partition; }
    std::int64_t offset() const noexcept { return _offset; }
    const std::string& reason() const noexcept { return _reason; }

private:
    std::string _node;
    std::string _topic;
    std::int32_t _partition;
    std::int64_t _offset;
    std::string _reason;
};

// The headers a dead-letter record carries, beside the original headers.
namespace dead_letter_headers {
inline constexpr std::string_view error_class = "eddy.error.class";
inline constexpr std::string_view error_message = "eddy.error.message";
inline constexpr std::string_view source_topic = "eddy.source.topic";
inline constexpr std::string_view source_partition = "eddy.source.partition";
inline constexpr std::string_view source_offset = "eddy.source.offset";
inline constexpr std::string_view processor_node = "eddy.processor.node";
inline constexpr std::string_view attempts = "eddy.attempts";
inline constexpr std::string_view application_id = "eddy.application.id";
inline constexpr std::string_view time = "eddy.error.time";
} // namespace dead_letter_headers

// Builds the dead-letter copy of `ctx.record` for `topic`: the original key
// and value bytes and headers, plus the dead_letter_headers.
raw_record make_dead_letter(const error_context& ctx, std::string topic, int attempts);

// What the dead_letter_headers of a dead-letter record say: why and where
// the original record failed. The reader's half of make_dead_letter.
//
//   const eddy::dead_letter_info why = eddy::decode_dead_letter_headers(r.headers);
//   // why.source_topic, why.source_offset, why.error_message, ...
struct dead_letter_info {
    std::string error_class;
    std::string error_message;
    std::string source_topic;
    std::int32_t source_partition = 0;
    std::int64_t source_offset = 0;
    std::string processor_node;
    std::int32_t attempts = 0;
    std::string application_id;
    std::int64_t time_ms = 0;

    friend bool operator==(const dead_letter_info&, const dead_letter_info&) = default;
};

// Reads the dead_letter_headers of `hs`, the last of each where a key repeats
// (a record dead-lettered twice keeps both sets; the last is the newest, as
// Kafka's lastHeader()). Throws serde_error naming the header when one is
// missing or null, or a number is not a decimal integer of its type's range.
dead_letter_info decode_dead_letter_headers(const headers& hs);

namespace handlers {
// Logs and stops processing (Kafka Streams' default).
std::shared_ptr<deserialization_exception_handler> log_and_fail();
// Logs and skips the record.
std::shared_ptr<deserialization_exception_handler> log_and_continue();
// Logs, writes the record to `topic` with dead-letter headers, and goes on.
std::shared_ptr<deserialization_exception_handler> dead_letter(std::string topic);
} // namespace handlers

} // namespace eddy
