#include "operators/retry.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "operators/error_handlers.h"
#include "core/log.h"

namespace eddy::operators::retry_internal {
namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto log = module_logger("eddy.operators");
    return log;
}

struct where {
    std::string topic;
    std::int32_t partition = -1;
    std::int64_t offset = -1;
};

where source_of(const operators::internal::task_context& task) {
    if (task.metadata) {
        return {task.metadata->topic, task.metadata->partition, task.metadata->offset};
    }
    return {};
}

} // namespace

failure describe(const std::exception& e) {
    const char* mangled = typeid(e).name();
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
    return {status == 0 && demangled ? std::string(demangled.get()) : std::string(mangled), e.what()};
}

void dead_letter(operators::internal::task_context& task, const std::string& node, const retry_policy& policy,
    const failure& why, int attempts) {
    const auto at = source_of(task);
    const std::string& topic = policy.dead_letter_topic().empty() ? task.dead_letter_topic : policy.dead_letter_topic();
    if (topic.empty()) {
        logger()->error("retries exhausted, no dead-letter topic node={} task={} topic={} partition={} offset={} "
                        "attempts={} error=\"{}\"",
            node, task.id.to_string(), at.topic, at.partition, at.offset, attempts, why.message);
        throw retries_exhausted_error(node, attempts,
            fmt::format("node {}: record at topic={} partition={} offset={} failed after {} attempt(s) and there is no "
                        "dead-letter topic (set the retry policy's or {}): {}: {}",
                node, at.topic, at.partition, at.offset, attempts, "errors.dead.letter.queue.topic.name",
                why.error_class, why.message));
    }
    // A record a punctuation made has no source bytes: its dead letter
    // carries where it failed, with null key and value.
    raw_record none;
    none.topic = at.topic;
    none.partition = at.partition;
    none.offset = at.offset;
    none.timestamp = task.record_timestamp_ms;
    const raw_record& source = task.raw != nullptr ? *task.raw : none;
    const error_context ctx{task.application_id, node, why.error_class, why.message, source, task.wall_clock_ms()};
    task.collector->send(make_dead_letter(ctx, topic, attempts));
    logger()->warn("record dead-lettered node={} task={} topic={} partition={} offset={} attempts={} dlq={} "
                   "error_class={} error=\"{}\"",
        node, task.id.to_string(), source.topic, source.partition, source.offset, attempts, topic, why.error_class,
        why.message);
}

void log_retry(const operators::internal::task_context& task, const std::string& node, int attempts,
    std::chrono::milliseconds wait, const failure& why) {
    const auto at = source_of(task);
    logger()->info("call failed, will retry node={} task={} topic={} partition={} offset={} attempt={} retry_in_ms={} "
                   "error_class={} error=\"{}\"",
        node, task.id.to_string(), at.topic, at.partition, at.offset, attempts, wait.count(), why.error_class,
        why.message);
}

void log_held(const operators::internal::task_context& task, const std::string& node, bool held) {
    logger()->info("task {} node={} task={} holds={}", held ? "held" : "released", node, task.id.to_string(),
        task.holds);
}

void log_dropped(const operators::internal::task_context& task, const std::string& node, std::size_t records) {
    logger()->info("retry queue dropped on rewind node={} task={} records={} (they are read again from the "
                   "committed offset)",
        node, task.id.to_string(), records);
}

void log_breaker_wait(const operators::internal::task_context& task, const std::string& node,
    const circuit_breaker& breaker, std::chrono::milliseconds wait) {
    const auto at = source_of(task);
    logger()->debug("circuit breaker refuses the call node={} task={} breaker={} topic={} partition={} offset={} "
                    "look_again_in_ms={}",
        node, task.id.to_string(), breaker.name(), at.topic, at.partition, at.offset, wait.count());
}

} // namespace eddy::operators::retry_internal
