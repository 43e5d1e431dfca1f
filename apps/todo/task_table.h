#pragma once

// The task table of the todo backbone: todo.task-events folded into the
// current state of each task (event sourcing). Two stores answer queries:
// todo.tasks (task id -> Task) and todo.tasks-by-owner (a secondary index,
// "<owner>\x1f<task id>" -> task id). Each change goes on to the compacted
// topic todo.tasks; a deleted task is a tombstone there and leaves both
// stores.
//
//   auto events = eddy::todo::read_task_events(builder);
//   eddy::todo::add_audit(events);
//   eddy::todo::add_task_table(builder, events);
//   ...
//   auto task = eddy::todo::find_task(app, "t-1");
//   auto mine = eddy::todo::tasks_of(app, "alice");

#include <optional>
#include <string>
#include <vector>

#include "apps/todo/audit_topology.h"
#include "apps/todo/proto/task_events.pb.h"
#include "runtime/kafka_streams.h"
#include "topology/kstream.h"
#include "topology/streams_builder.h"

namespace eddy::todo {

struct task_table_names {
    std::string tasks_store = "todo.tasks";
    std::string owner_index_store = "todo.tasks-by-owner";
    std::string tasks_topic = "todo.tasks";
};

// Applies one event to a task's state (none: the task does not exist);
// returns the new state, none when the event deletes the task.
std::optional<Task> apply_event(const std::optional<Task>& current, const TaskEvent& e);

// The index key of a task in todo.tasks-by-owner.
std::string owner_index_key(const std::string& owner, const std::string& task_id);

// Returns the table's changes (task id -> the task, none when deleted), as
// they go to names.tasks_topic: the reminder stream's input.
kstream<std::string, std::optional<Task>> add_task_table(
    streams_builder& builder, const kstream<std::string, TaskEvent>& events, const task_table_names& names = {});

// Queries against a running app (the partitions this instance owns).
std::optional<Task> find_task(const kafka_streams& app, const std::string& task_id, const task_table_names& names = {});
std::vector<Task> tasks_of(const kafka_streams& app, const std::string& owner, const task_table_names& names = {});

} // namespace eddy::todo
