// The todo event backbone's main. For now it runs the audit topology on the
// topology test driver (no broker yet): it describes the topology, pipes a
// day of task events and one unreadable record through it, and prints the
// audit trail and the dead letters.

#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "apps/todo/audit_topology.h"
#include "operators/error_handlers.h"
#include "runtime/topology_test_driver.h"
#include "serde/protobuf.h"
#include "serde/serdes.h"

namespace {

eddy::todo::TaskEvent event(std::string id, eddy::todo::TaskEventType type, std::string task, std::string title,
    std::int64_t seconds) {
    eddy::todo::TaskEvent e;
    e.set_event_id(std::move(id));
    e.set_type(type);
    e.set_task_id(std::move(task));
    e.set_user_id("alice");
    e.set_title(std::move(title));
    e.set_schema_version(eddy::todo::task_event_schema_version);
    e.mutable_occurred_at()->set_seconds(seconds);
    return e;
}

} // namespace

int main() {
    using eddy::todo::TaskEvent;
    eddy::streams_builder builder;
    eddy::todo::add_audit_topology(builder);
    auto topology = builder.build();
    fmt::print("{}", topology.describe().to_string());

    eddy::topology_test_driver driver(topology);
    auto events = driver.create_input_topic<std::string, TaskEvent>(
        "todo.task-events", eddy::serdes::string{}, eddy::todo::task_event_serde{});
    auto audit = driver.create_output_topic<std::string, eddy::todo::AuditRecord>(
        "todo.audit", eddy::serdes::string{}, eddy::serdes::protobuf<eddy::todo::AuditRecord>{});

    const std::int64_t day = 1'795'000'000;
    events.pipe_input("t-1", event("e-1", eddy::todo::TASK_CREATED, "t-1", "Buy milk", day));
    auto update = event("e-2", eddy::todo::TASK_UPDATED, "t-1", "Buy oat milk", day + 60);
    auto* change = update.add_changes();
    change->set_field("title");
    change->set_from("Buy milk");
    change->set_to("Buy oat milk");
    events.pipe_input("t-1", update);
    events.pipe_input("t-1", event("e-3", eddy::todo::TASK_COMPLETED, "t-1", "", day + 3600));
    events.pipe_input("t-2", event("e-4", eddy::todo::TASK_DELETED, "t-2", "", day + 7200));
    driver.pipe_raw({"todo.task-events", 0, 0, day * 1000, std::string("t-3"), std::string("\xff\x01garbage"), {}});

    fmt::print("\naudit trail (todo.audit):\n");
    for (const auto& r : audit.read_records_to_list()) {
        fmt::print("  {} | {} | offset {}\n", r.key, r.value.summary(), r.value.source_offset());
    }
    fmt::print("\ndead letters (todo.dlq):\n");
    while (driver.queue_size("todo.dlq") > 0) {
        auto dead = driver.read_raw("todo.dlq");
        const auto* reason = dead.headers.last_header(eddy::dead_letter_headers::error_message);
        const auto* offset = dead.headers.last_header(eddy::dead_letter_headers::source_offset);
        fmt::print("  key {} | offset {} | {}\n", dead.key.value_or("(null)"),
            offset && offset->value ? *offset->value : "?", reason && reason->value ? *reason->value : "?");
    }
    return 0;
}
