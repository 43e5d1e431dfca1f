#include "operators/internal/node.h"

#include <cxxabi.h>

#include <cstdlib>
#include <new>
#include <system_error>
#include <typeinfo>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "core/log.h"

#include "operators/internal/noting_collector.h"
#include "operators/internal/sink_node.h"
#include "operators/internal/source_node.h"
#include "statestore/store_error.h"

namespace eddy::operators::internal {
namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto log = module_logger("eddy.operators");
    return log;
}

// What a failure inside a punctuation carries for the source record: none.
const raw_record& no_source_record() {
    static const raw_record none{"", -1, -1, 0, std::nullopt, std::nullopt, {}};
    return none;
}

// Runs the handler on a failure of `node` and, when it dead-lettered the
// record, counts it and logs it. A node with a dead-letter topic of its
// own (its branch's) dead-letters there, whatever handler is configured.
template<typename Handler>
handler_response dispatch(task_context& task, Handler* handler, const std::string& node,
    const std::string& node_dead_letter_topic, error_kind kind, std::string_view error_class,
    std::string_view message) {
    const raw_record& source = task.raw != nullptr ? *task.raw : no_source_record();
    const std::string& dlq = node_dead_letter_topic.empty() ? task.dead_letter_topic : node_dead_letter_topic;
    const auto now = task.wall_clock_ms();
    error_context ctx{task.application_id, node, error_class, message, source, now, kind, task.raw != nullptr, dlq};
    noting_collector collector(*task.collector);
    handler_response response;
    std::string_view handler_name;
    if (!node_dead_letter_topic.empty()) {
        const auto own = handlers::dead_letter(node_dead_letter_topic);
        response = own->handle(ctx, collector);
        handler_name = "dead_letter";
    } else if (handler != nullptr) {
        response = handler->handle(ctx, collector);
        handler_name = handler->name();
    } else {
        // No handler set (a task outside the runtime): Kafka Streams' default.
        static const auto fallback = handlers::log_and_fail();
        response = fallback->handle(ctx, collector);
        handler_name = fallback->name();
    }
    if (collector.sent() > 0) {
        logger()->warn("record dead-lettered kind={} handler={} node={} dlq={} topic={} partition={} offset={} "
                       "error_class={} error=\"{}\"",
            to_string(kind), handler_name, node, collector.topic(), source.topic, source.partition, source.offset,
            error_class, message);
        if (task.dead_letters) {
            auto& counter = task.dead_letters->by_kind[static_cast<std::size_t>(kind)];
            counter.fetch_add(1, std::memory_order_relaxed);
            if (task.dead_letters->on_dead_letter) {
                task.dead_letters->on_dead_letter(now);
            }
        }
    }
    return response;
}

std::string where(const task_context& task) {
    if (task.raw == nullptr) {
        return "in a punctuation";
    }
    return fmt::format("topic={} partition={} offset={}", task.raw->topic, task.raw->partition, task.raw->offset);
}

} // namespace

void throw_type_mismatch(std::string_view parent, std::string_view child) {
    throw std::logic_error(fmt::format(
        "node {} cannot be a child of node {}: it does not take the records that node emits", child, parent));
}

void throw_unknown_child(std::string_view node, std::string_view child) {
    throw std::invalid_argument(fmt::format("node {} has no child named {}", node, child));
}

std::string sink_error_message(const std::string& node, const std::string& topic, std::string_view what) {
    return fmt::format("sink {} cannot write to topic {}: {}", node, topic, what);
}

std::string exception_class_name(const std::exception& e) {
    const char* mangled = typeid(e).name();
    int status = 0;
    char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    std::string out = status == 0 && demangled != nullptr ? demangled : mangled;
    std::free(demangled);
    return out;
}

void log_invalid_timestamp(const std::string& node, const raw_record& r, std::int64_t timestamp) {
    logger()->warn("record dropped for a negative timestamp node={} topic={} partition={} offset={} timestamp={}", node,
        r.topic, r.partition, r.offset, timestamp);
}

void handle_deserialization_failure(task_context& task, deserialization_exception_handler& handler,
    const std::string& node, const raw_record& r, std::string_view error_class, std::string_view message) {
    // The source's record is the one in flight (the task set it), unless a
    // caller drives the source directly.
    const source_bytes before = task.raw;
    task.raw = &r;
    handler_response response;
    try {
        response = dispatch(task, &handler, node, {}, error_kind::deserialization, error_class, message);
    } catch (...) {
        task.raw = before;
        throw;
    }
    task.raw = before;
    if (response == handler_response::fail) {
        throw deserialization_error(node, r, std::string(message));
    }
}

void handle_processing_failure(task_context& task, const std::string& node, const std::string& dead_letter_topic,
    std::exception_ptr error) {
    std::string error_class;
    std::string message;
    try {
        std::rethrow_exception(error);
    } catch (const handled_error&) {
        // A child's failure, handled there (it said fail), or the runtime's.
        throw;
    } catch (const record_rejected&) {
        // A changelog record the producer refuses: the store and its
        // changelog would differ.
        throw;
    } catch (const std::system_error&) {
        // The runtime's (kafka_error): not the record's fault.
        throw;
    } catch (const store_error&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        error_class = exception_class_name(e);
        message = e.what();
    } catch (...) {
        error_class = "unknown";
        message = "an exception that is not a std::exception";
    }
    if (task.raw == nullptr) {
        message += " (in a punctuation: no source record)";
    }
    const auto response = dispatch(task, task.processing_handler.get(), node, dead_letter_topic,
        error_kind::processing, error_class, message);
    if (response == handler_response::fail) {
        throw processing_error(node,
            fmt::format("processing failed at node {} {}: {}: {}", node, where(task), error_class, message));
    }
}

void handle_processing_failure(task_context& task, const node_instance& node, std::exception_ptr error) {
    handle_processing_failure(task, node.name(), node.dead_letter_topic(), std::move(error));
}

void handle_production_failure(task_context& task, const node_instance& node, std::string_view error_class,
    std::string_view message) {
    const auto response = dispatch(task, task.production_handler.get(), node.name(), node.dead_letter_topic(),
        error_kind::production, error_class, message);
    if (response == handler_response::fail) {
        throw production_error(node.name(), fmt::format("{} ({})", message, where(task)));
    }
}

} // namespace eddy::operators::internal
