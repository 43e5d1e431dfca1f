#include "apps/todo/task_table.h"

#include <memory>

#include "operators/processor.h"
#include "serde/protobuf.h"
#include "serde/serdes.h"
#include "statestore/stores.h"

namespace eddy::todo {
namespace {

constexpr char index_separator = '\x1f';

// Folds each event into its task, keeps both stores, and forwards the new
// state (none: deleted).
class task_state final : public fixed_key_processor<std::string, TaskEvent, std::optional<Task>> {
public:
    explicit task_state(task_table_names names) : _names(std::move(names)) {}

    void init(fixed_key_processor_context<std::string, std::optional<Task>>& context) override {
        fixed_key_processor::init(context);
        _tasks.emplace(context.get_key_value_store<std::string, Task>(_names.tasks_store));
        _by_owner.emplace(context.get_key_value_store<std::string, std::string>(_names.owner_index_store));
    }

    void process(const fixed_key_record<std::string, TaskEvent>& r) override {
        const auto current = _tasks->get(r.key());
        auto next = apply_event(current, r.value());
        if (current && (!next || next->owner_id() != current->owner_id())) {
            _by_owner->remove(owner_index_key(current->owner_id(), r.key()));
        }
        if (next) {
            _tasks->put(r.key(), *next);
            _by_owner->put(owner_index_key(next->owner_id(), r.key()), r.key());
        } else if (current) {
            _tasks->remove(r.key());
        } else {
            return; // deleting a task never seen changes nothing
        }
        context().forward(r.with_value(std::move(next)));
    }

private:
    task_table_names _names;
    std::optional<key_value_store<std::string, Task>> _tasks;
    std::optional<key_value_store<std::string, std::string>> _by_owner;
};

} // namespace

std::string owner_index_key(const std::string& owner, const std::string& task_id) {
    return owner + index_separator + task_id;
}

std::optional<Task> apply_event(const std::optional<Task>& current, const TaskEvent& e) {
    if (e.type() == TASK_DELETED) {
        return std::nullopt;
    }
    Task t = current.value_or(Task{});
    if (!current) {
        // The first event seen (a created one, or a later one whose create
        // was lost): the task starts open, owned by whoever acted.
        t.set_task_id(e.task_id());
        t.set_owner_id(e.user_id());
        t.set_status(TASK_OPEN);
        *t.mutable_created_at() = e.occurred_at();
    }
    switch (e.type()) {
    case TASK_CREATED:
    case TASK_UPDATED:
        if (!e.title().empty()) {
            t.set_title(e.title());
        }
        if (!e.description().empty()) {
            t.set_description(e.description());
        }
        if (e.has_due_at()) {
            *t.mutable_due_at() = e.due_at();
        }
        if (e.has_reminder_offset()) {
            *t.mutable_reminder_offset() = e.reminder_offset();
        }
        if (e.priority() != PRIORITY_UNSPECIFIED) {
            t.set_priority(e.priority());
        }
        if (!e.tags().empty()) {
            *t.mutable_tags() = e.tags();
        }
        break;
    case TASK_COMPLETED:
        t.set_status(TASK_DONE);
        break;
    default:
        break; // a reminder changes nothing
    }
    *t.mutable_updated_at() = e.occurred_at();
    t.set_version(t.version() + 1);
    t.set_last_event_id(e.event_id());
    return t;
}

kstream<std::string, std::optional<Task>> add_task_table(
    streams_builder& builder, const kstream<std::string, TaskEvent>& events, const task_table_names& names) {
    builder.add_state_store(stores::key_value_store_builder(
        stores::persistent_key_value_store(names.tasks_store), serdes::string{}, serdes::protobuf<Task>{}));
    builder.add_state_store(stores::key_value_store_builder(
        stores::persistent_key_value_store(names.owner_index_store), serdes::string{}, serdes::string{}));
    auto changes = events.process_values([names] { return std::make_unique<task_state>(names); },
        named::as("todo-task-state"), {names.tasks_store, names.owner_index_store});
    changes.to(names.tasks_topic,
        produced<>::with(serdes::string{}, serdes::nullable<serdes::protobuf<Task>>{}).with_name("todo-tasks-sink"));
    return changes;
}

std::optional<Task> find_task(const kafka_streams& app, const std::string& task_id, const task_table_names& names) {
    return app.store<std::string, Task>(names.tasks_store).get(task_id);
}

std::vector<Task> tasks_of(const kafka_streams& app, const std::string& owner, const task_table_names& names) {
    auto index = app.store<std::string, std::string>(names.owner_index_store);
    auto tasks = app.store<std::string, Task>(names.tasks_store);
    std::vector<Task> out;
    // Every key "<owner>\x1f...": from the separator to the next byte up.
    for (const auto& [key, task_id] : index.range(owner + index_separator, owner + char(index_separator + 1))) {
        if (auto t = tasks.get(task_id)) {
            out.push_back(std::move(*t));
        }
    }
    return out;
}

} // namespace eddy::todo
