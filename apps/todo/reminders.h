#pragma once

// The due-date reminder stream of the todo backbone. Each task with a due
// date and a reminder offset gets one reminder per occurrence (per due date
// and offset), fired at due_at - reminder_offset as a task.reminder event
// (TaskReminder) on todo.reminders, keyed by task id. The task is joined
// (stream-global-table left join on its owner) with the owner's
// preferences from todo.user-preferences: channels, quiet hours and time
// zone (a fixed UTC offset); without preferences the defaults apply (push,
// no quiet hours, UTC).
//
// Two logged stores hold the schedule: todo.reminder-schedule, keyed by
// fire time (8 bytes big-endian ms) + task id, so a range scan finds what
// is due; todo.reminders-by-task, task id -> ReminderState, so a move or a
// cancel finds the old entry, and a fired occurrence does not fire again.
// A wall-clock punctuator twice a second emits what is due and deletes its
// schedule entry in the same commit (with exactly_once_v2, one transaction).
//
//   auto events = eddy::todo::read_task_events(builder);
//   auto tasks = eddy::todo::add_task_table(builder, events);
//   eddy::todo::add_reminders(builder, tasks);

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "apps/todo/proto/task_events.pb.h"
#include "topology/kstream.h"
#include "topology/streams_builder.h"

namespace eddy::todo {

struct reminder_names {
    std::string preferences_topic = "todo.user-preferences";
    std::string preferences_store = "todo.user-preferences";
    std::string schedule_store = "todo.reminder-schedule";
    std::string by_task_store = "todo.reminders-by-task";
    std::string reminders_topic = "todo.reminders";
    // How often the scheduler looks for due reminders: a reminder waits up
    // to one interval, so the 1 s target needs less than 1 s.
    std::chrono::milliseconds punctuation_interval{500};
};

// The preferences used when a user has none.
UserPreferences default_preferences(const std::string& user_id);

// When a reminder due at `at_ms` (UTC) fires under `prefs`' quiet hours:
// at_ms itself outside them, else the end of the quiet hours it falls in
// (local time = UTC + utc_offset_minutes; hours spanning midnight end on
// the next local day).
std::int64_t defer_past_quiet_hours(std::int64_t at_ms, const UserPreferences& prefs);

// The schedule store's key: fire time big-endian, then the task id.
std::string schedule_key(std::int64_t fire_at_ms, const std::string& task_id);

// Adds the reminder topology, fed by the task table's changes (task id ->
// the task, none when deleted; add_task_table's result).
void add_reminders(streams_builder& builder, const kstream<std::string, std::optional<Task>>& tasks,
    const reminder_names& names = {});

} // namespace eddy::todo
