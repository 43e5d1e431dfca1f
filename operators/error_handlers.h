#pragma once

// What happens to a record that fails: Kafka Streams' three exception
// handlers (KIP-1033, KIP-1034), each with eddy's dead-letter built-in.
//   - deserialization: its bytes do not deserialize at a source;
//   - processing: a processor (a user lambda in filter, map_values, process,
//     aggregate...) throws, or a punctuation does;
//   - production: a sink cannot serialize it, or the producer refuses it
//     (too large, invalid), not a broker outage.
//
//   config.set(eddy::streams_config::deserialization_exception_handler, "dead_letter");
//   config.set(eddy::streams_config::processing_exception_handler, "dead_letter");
//   config.set(eddy::streams_config::production_exception_handler, "log_and_continue");
//   config.set(eddy::streams_config::dead_letter_topic, "todo.dlq");
// or, in code (a handler of your own, say):
//   config.set_processing_exception_handler(std::make_shared<my_handler>());
// or, for one source only:
//   builder.stream<K, V>("in", eddy::consumed<K, V>::with(ks, vs)
//       .with_deserialization_handler(eddy::handlers::dead_letter("todo.dlq")));
// or, for the failures of one branch (kstream::with_dead_letter_topic):
//   stream.with_dead_letter_topic("payments.dlq").map_values(charge).to("charged");

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "internal/task_context.h"
#include "../core/record.h"

namespace eddy {

enum class handler_response { continue_processing, fail };

// Which handler a failure went to.
enum class error_kind { deserialization, processing, production };
std::string_view to_string(error_kind k) noexcept;

// What the handler is told about the failure.
struct error_context {
    std::string_view application_id;
    std::string_view node;
    std::string_view error_class;
    std::string_view message;
    // The source record the task was processing, as it was read: what a
    // dead letter keeps. has_source_record is false where there is none:
    // inside a punctuation, an empty record (no key, value or topic;
    // partition and offset -1); for a record the broker refused after the
    // fact (a delivery report, node "producer"), the refused record itself
    // (its topic and partition, offset -1).
    const raw_record& record;
    std::int64_t wall_clock_ms;
    error_kind kind = error_kind::deserialization;
    bool has_source_record = true;
    // Where this node's failures are dead-lettered: its branch's topic
    // (kstream::with_dead_letter_topic), else
    // errors.dead.letter.queue.topic.name; empty when neither is set.
    std::string_view dead_letter_topic = {};
};

// The three handlers share one shape: handle() says go on or fail, and may
// send records through `collector` (a dead-letter topic does). A handler of
// your own subclasses the one it serves (or any_exception_handler for all).
class deserialization_exception_handler {
public:
    virtual ~deserialization_exception_handler() = default;
    virtual handler_response handle(const error_context& ctx, record_collector& collector) = 0;
    virtual std::string_view name() const noexcept = 0;
};

class processing_exception_handler {
public:
    virtual ~processing_exception_handler() = default;
    virtual handler_response handle(const error_context& ctx, record_collector& collector) = 0;
    virtual std::string_view name() const noexcept = 0;
};

class production_exception_handler {
public:
    virtual ~production_exception_handler() = default;
    virtual handler_response handle(const error_context& ctx, record_collector& collector) = 0;
    virtual std::string_view name() const noexcept = 0;
};

// A handler for every kind (the built-ins are): one handle() overrides all
// three, so it converts to whichever handler a setting wants.
class any_exception_handler : public deserialization_exception_handler,
                              public processing_exception_handler,
                              public production_exception_handler {
public:
    handler_response handle(const error_context& ctx, record_collector& collector) override = 0;
    std::string_view name() const noexcept override = 0;
};

// An error past handling: its handler said fail, or it is the runtime's own
// (a broker outage). Processor nodes let it through to the task, so a
// failure is handled once, by the innermost node, and a parent does not
// take its child's failure for its own.
class handled_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A record that could not be deserialized, with where it came from. Thrown
// when the handler says fail.
class deserialization_error : public handled_error {
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

// A processor (or a punctuation) failed and the processing handler said
// fail; the message names the node and the source record (if any).
class processing_error : public handled_error {
public:
    processing_error(std::string node, const std::string& message) : handled_error(message), _node(std::move(node)) {}
    const std::string& node() const noexcept { return _node; }

private:
    std::string _node;
};

// A sink could not write a record and the production handler said fail.
class production_error : public handled_error {
public:
    production_error(std::string node, const std::string& message) : handled_error(message), _node(std::move(node)) {}
    const std::string& node() const noexcept { return _node; }

private:
    std::string _node;
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
// deserialization, processing or production (error_kind). Not part of
// dead_letter_info: records dead-lettered before it existed lack it; read
// it with headers::last_header.
inline constexpr std::string_view kind = "eddy.error.kind";
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

// Each built-in serves every kind: pass it where any handler goes.
namespace handlers {
// Logs and stops processing (Kafka Streams' default).
std::shared_ptr<any_exception_handler> log_and_fail();
// Logs and skips the record.
std::shared_ptr<any_exception_handler> log_and_continue();
// Logs, writes the record to `topic` with dead-letter headers, and goes on.
std::shared_ptr<any_exception_handler> dead_letter(std::string topic);
} // namespace handlers

} // namespace eddy
