#pragma once

// The audit slice of the todo backbone: every task event on
// todo.task-events becomes an AuditRecord on todo.audit; events that cannot
// be read (bad bytes, an unknown schema version, no task id) go to todo.dlq
// with headers naming the reason and where they came from.
//
//   eddy::streams_builder builder;
//   eddy::todo::add_audit_topology(builder);
//   auto topology = builder.build();

#include <string>
#include <string_view>

#include "apps/todo/proto/task_events.pb.h"
#include "topology/streams_builder.h"

namespace eddy::todo {

struct audit_topics {
    std::string task_events = "todo.task-events";
    std::string audit = "todo.audit";
    std::string dead_letters = "todo.dlq";
};

// The newest TaskEvent schema this code reads.
inline constexpr std::uint32_t task_event_schema_version = 1;

// The serde of task events: Protobuf, plus the checks that make an event
// usable (a known type, an event and task id, a schema version this code
// reads), so a record that fails them is a deserialization failure with a
// reason, not a default-valued event.
struct task_event_serde {
    using value_type = TaskEvent;
    static constexpr std::string_view name = "todo.TaskEvent";

    std::string serialize(const TaskEvent& e) const;
    TaskEvent deserialize(std::string_view bytes) const;
};

// The audit record of one event.
AuditRecord to_audit_record(const TaskEvent& e);

// A one-line description: "user u-1 completed task t-1 \"Buy milk\"".
std::string summarize(const TaskEvent& e);

// The task events, read once (a topic has one source): unreadable ones go
// to the dead-letter topic.
kstream<std::string, TaskEvent> read_task_events(streams_builder& builder, const audit_topics& topics = {});
// Audit records of `events` on topics.audit.
void add_audit(const kstream<std::string, TaskEvent>& events, const audit_topics& topics = {});
// Both: read_task_events, then add_audit.
void add_audit_topology(streams_builder& builder, const audit_topics& topics = {});

} // namespace eddy::todo
