#include "operators/error_handlers.h"

#include <charconv>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/log.h"
#include "serde/internal/error_text.h"
#include "serde/serde.h"

namespace eddy {
namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto log = module_logger("eddy.operators");
    return log;
}

void log_failure(const error_context& ctx, std::string_view action) {
    logger()->warn("{} failed action={} node={} topic={} partition={} offset={} error={}", to_string(ctx.kind), action,
        ctx.node, ctx.record.topic, ctx.record.partition, ctx.record.offset, ctx.message);
}

class log_and_fail_handler final : public any_exception_handler {
public:
    handler_response handle(const error_context& ctx, record_collector&) override {
        log_failure(ctx, "fail");
        return handler_response::fail;
    }
    std::string_view name() const noexcept override { return "log_and_fail"; }
};

class log_and_continue_handler final : public any_exception_handler {
public:
    handler_response handle(const error_context& ctx, record_collector&) override {
        log_failure(ctx, "continue");
        return handler_response::continue_processing;
    }
    std::string_view name() const noexcept override { return "log_and_continue"; }
};

// The warn line of each dead letter is the task's (it logs whoever sent it:
// this handler or one of the user's).
class dead_letter_handler final : public any_exception_handler {
public:
    explicit dead_letter_handler(std::string topic) : _topic(std::move(topic)) {}
    handler_response handle(const error_context& ctx, record_collector& collector) override {
        collector.send(make_dead_letter(ctx, _topic, 1));
        return handler_response::continue_processing;
    }
    std::string_view name() const noexcept override { return "dead_letter"; }

private:
    std::string _topic;
};

const header& required_header(const headers& hs, std::string_view key) {
    const header* h = hs.last_header(key);
    if (h == nullptr) {
        throw serde_error(fmt::format("dead letter: no header {}", key));
    }
    if (!h->value) {
        throw serde_error(fmt::format("dead letter: header {} is null", key));
    }
    return *h;
}

std::string text_header(const headers& hs, std::string_view key) { return *required_header(hs, key).value; }

// The decimal integer std::to_string wrote: an optional '-' and digits, the
// whole value, within T's range.
template<typename T>
T integer_header(const headers& hs, std::string_view key) {
    const std::string& text = *required_header(hs, key).value;
    T v{};
    const char* const last = text.data() + text.size();
    const auto [end, ec] = std::from_chars(text.data(), last, v);
    if (ec == std::errc::result_out_of_range) {
        throw serde_error(fmt::format("dead letter: header {}: {} is out of range",
            key, serdes::internal::quoted_excerpt(text)));
    }
    if (ec != std::errc{} || end != last) {
        throw serde_error(fmt::format("dead letter: header {}: expected a decimal integer, got {}",
            key, serdes::internal::quoted_excerpt(text)));
    }
    return v;
}

} // namespace

std::string_view to_string(error_kind k) noexcept {
    switch (k) {
    case error_kind::deserialization:
        return "deserialization";
    case error_kind::processing:
        return "processing";
    case error_kind::production:
        break;
    }
    return "production";
}

deserialization_error::deserialization_error(std::string node, const raw_record& r, std::string reason)
    : handled_error(fmt::format("cannot deserialize record at topic={} partition={} offset={} node={}: {}",
          r.topic, r.partition, r.offset, node, reason))
    , _node(std::move(node))
    , _topic(r.topic)
    , _partition(r.partition)
    , _offset(r.offset)
    , _reason(std::move(reason)) {}

raw_record make_dead_letter(const error_context& ctx, std::string topic, int attempts) {
    namespace h = dead_letter_headers;
    raw_record out;
    out.topic = std::move(topic);
    out.partition = -1;
    // A punctuation's failure has no source record: stamped with the time
    // it failed.
    out.timestamp = ctx.has_source_record ? ctx.record.timestamp : ctx.wall_clock_ms;
    out.key = ctx.record.key;
    out.value = ctx.record.value;
    out.headers = ctx.record.headers;
    out.headers.add(std::string(h::error_class), std::string(ctx.error_class))
        .add(std::string(h::error_message), std::string(ctx.message))
        .add(std::string(h::source_topic), ctx.record.topic)
        .add(std::string(h::source_partition), std::to_string(ctx.record.partition))
        .add(std::string(h::source_offset), std::to_string(ctx.record.offset))
        .add(std::string(h::processor_node), std::string(ctx.node))
        .add(std::string(h::attempts), std::to_string(attempts))
        .add(std::string(h::application_id), std::string(ctx.application_id))
        .add(std::string(h::time), std::to_string(ctx.wall_clock_ms))
        .add(std::string(h::kind), std::string(to_string(ctx.kind)));
    return out;
}

dead_letter_info decode_dead_letter_headers(const headers& hs) {
    namespace h = dead_letter_headers;
    dead_letter_info info;
    info.error_class = text_header(hs, h::error_class);
    info.error_message = text_header(hs, h::error_message);
    info.source_topic = text_header(hs, h::source_topic);
    info.source_partition = integer_header<std::int32_t>(hs, h::source_partition);
    info.source_offset = integer_header<std::int64_t>(hs, h::source_offset);
    info.processor_node = text_header(hs, h::processor_node);
    info.attempts = integer_header<std::int32_t>(hs, h::attempts);
    info.application_id = text_header(hs, h::application_id);
    info.time_ms = integer_header<std::int64_t>(hs, h::time);
    return info;
}

namespace handlers {
std::shared_ptr<any_exception_handler> log_and_fail() {
    return std::make_shared<log_and_fail_handler>();
}
std::shared_ptr<any_exception_handler> log_and_continue() {
    return std::make_shared<log_and_continue_handler>();
}
std::shared_ptr<any_exception_handler> dead_letter(std::string topic) {
    return std::make_shared<dead_letter_handler>(std::move(topic));
}
} // namespace handlers

} // namespace eddy
