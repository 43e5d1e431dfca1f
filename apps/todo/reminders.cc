#include "apps/todo/reminders.h"

#include <memory>
#include <vector>

#include <fmt/format.h>

#include "core/log.h"
#include "operators/processor.h"
#include "serde/protobuf.h"
#include "serde/serdes.h"
#include "statestore/stores.h"

namespace eddy::todo {
namespace {

constexpr std::int64_t minute_ms = 60'000;
constexpr std::int64_t day_ms = 24 * 60 * minute_ms;

// A task change joined with its owner's preferences (none: the user has
// none, or the task was deleted).
struct reminder_input {
    std::string task_id;
    std::optional<Task> task;
    std::optional<UserPreferences> preferences;
};

std::int64_t to_ms(const google::protobuf::Timestamp& t) {
    return t.seconds() * 1000 + t.nanos() / 1'000'000;
}

std::int64_t to_ms(const google::protobuf::Duration& d) {
    return d.seconds() * 1000 + d.nanos() / 1'000'000;
}

google::protobuf::Timestamp timestamp_of(std::int64_t ms) {
    google::protobuf::Timestamp t;
    std::int64_t seconds = ms / 1000;
    std::int64_t rest = ms % 1000;
    if (rest < 0) {
        rest += 1000;
        --seconds;
    }
    t.set_seconds(seconds);
    t.set_nanos(static_cast<std::int32_t>(rest * 1'000'000));
    return t;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
    const std::int64_t r = a % b;
    return r < 0 ? r + b : r;
}

std::int64_t fire_time_of(const std::string& key) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8 && i < key.size(); ++i) {
        v = (v << 8) | static_cast<unsigned char>(key[i]);
    }
    return static_cast<std::int64_t>(v);
}

// Keeps the schedule of one task's reminders and fires what falls due:
// process() schedules, moves and cancels; the wall-clock punctuation emits
// each due entry and deletes it (and marks its occurrence fired) in the
// same commit as the output.
class reminder_scheduler final : public fixed_key_processor<std::string, reminder_input, TaskReminder> {
public:
    explicit reminder_scheduler(reminder_names names) : _names(std::move(names)) {}

    void init(fixed_key_processor_context<std::string, TaskReminder>& context) override {
        fixed_key_processor::init(context);
        _schedule.emplace(context.get_key_value_store<std::string, TaskReminder>(_names.schedule_store));
        _by_task.emplace(context.get_key_value_store<std::string, ReminderState>(_names.by_task_store));
        context.schedule(_names.punctuation_interval, punctuation_type::wall_clock_time,
            [this](std::int64_t now) { fire_due(now); });
    }

    void process(const fixed_key_record<std::string, reminder_input>& r) override {
        const std::string& task_id = r.key();
        const auto& task = r.value().task;
        const auto state = _by_task->get(task_id);
        if (!task || task->status() == TASK_DONE || !task->has_due_at() || !task->has_reminder_offset()) {
            cancel(task_id, state);
            return;
        }
        const std::int64_t due = to_ms(task->due_at());
        const std::int64_t offset = to_ms(task->reminder_offset());
        if (state && state->due_at_ms() == due && state->offset_ms() == offset && state->fired()) {
            return; // this occurrence has fired: an edit of the title or tags does not repeat it
        }
        if (state && !state->fired()) {
            _schedule->remove(schedule_key(state->fire_at_ms(), task_id));
        }
        const auto prefs = r.value().preferences.value_or(default_preferences(task->owner_id()));
        const std::int64_t now = context().current_system_time_ms();
        const std::int64_t remind_at = due - offset;
        const std::int64_t earliest = std::max(remind_at, now);
        const std::int64_t fire_at = defer_past_quiet_hours(earliest, prefs);

        TaskReminder reminder;
        reminder.set_reminder_id(fmt::format("{}@{}/{}", task_id, due, offset));
        reminder.set_task_id(task_id);
        reminder.set_owner_id(task->owner_id());
        reminder.set_title(task->title());
        *reminder.mutable_due_at() = task->due_at();
        *reminder.mutable_remind_at() = timestamp_of(remind_at);
        *reminder.mutable_fire_at() = timestamp_of(fire_at);
        reminder.set_deferred(fire_at != earliest);
        reminder.set_type(TASK_REMINDER);
        if (prefs.channels().empty()) {
            reminder.add_channels("push");
        } else {
            *reminder.mutable_channels() = prefs.channels();
        }
        ReminderState next;
        next.set_fire_at_ms(fire_at);
        next.set_due_at_ms(due);
        next.set_offset_ms(offset);
        if (fire_at <= now) {
            // Already due (the remind time, or the due date, has passed):
            // fires at once.
            next.set_fired(true);
            _by_task->put(task_id, next);
            emit(std::move(reminder), now);
            return;
        }
        _schedule->put(schedule_key(fire_at, task_id), reminder);
        _by_task->put(task_id, next);
        logger()->debug("reminder=scheduled task={} fire_at_ms={}", task_id, fire_at);
    }

private:
    static const std::shared_ptr<spdlog::logger>& logger() {
        static const auto log = module_logger("eddy.todo");
        return log;
    }

    void cancel(const std::string& task_id, const std::optional<ReminderState>& state) {
        if (!state) {
            return;
        }
        if (!state->fired()) {
            _schedule->remove(schedule_key(state->fire_at_ms(), task_id));
            logger()->debug("reminder=cancelled task={} fire_at_ms={}", task_id, state->fire_at_ms());
        }
        _by_task->remove(task_id);
    }

    void fire_due(std::int64_t now) {
        if (now < 0) {
            return;
        }
        // Every key whose fire time is <= now: up to the next millisecond's
        // first key (an empty task id, which no entry has).
        // Read lazily: removing the key just visited does not disturb it.
        for (const auto& [key, reminder] : _schedule->range(schedule_key(0, ""), schedule_key(now + 1, ""))) {
            if (fire_time_of(key) > now) {
                continue;
            }
            _schedule->remove(key);
            if (auto state = _by_task->get(reminder.task_id()); state && !state->fired()) {
                state->set_fired(true);
                _by_task->put(reminder.task_id(), *state);
            }
            emit(reminder, now);
        }
    }

    void emit(TaskReminder reminder, std::int64_t now) {
        reminder.set_overdue(to_ms(reminder.due_at()) <= now);
        *reminder.mutable_emitted_at() = timestamp_of(now);
        logger()->debug("reminder=fired task={} fire_at_ms={} now_ms={}", reminder.task_id(),
            to_ms(reminder.fire_at()), now);
        std::string key = reminder.task_id();
        context().forward(fixed_key_record<std::string, TaskReminder>(
            record<std::string, TaskReminder>{std::move(key), std::move(reminder), now, {}}));
    }

    reminder_names _names;
    std::optional<key_value_store<std::string, TaskReminder>> _schedule;
    std::optional<key_value_store<std::string, ReminderState>> _by_task;
};

} // namespace

UserPreferences default_preferences(const std::string& user_id) {
    UserPreferences p;
    p.set_user_id(user_id);
    p.add_channels("push");
    return p;
}

std::int64_t defer_past_quiet_hours(std::int64_t at_ms, const UserPreferences& prefs) {
    const std::int64_t start = floor_mod(prefs.quiet_start_minute(), 24 * 60) * minute_ms;
    const std::int64_t end = floor_mod(prefs.quiet_end_minute(), 24 * 60) * minute_ms;
    if (start == end) {
        return at_ms;
    }
    const std::int64_t offset = static_cast<std::int64_t>(prefs.utc_offset_minutes()) * minute_ms;
    const std::int64_t local = at_ms + offset;
    const std::int64_t of_day = floor_mod(local, day_ms);
    const std::int64_t midnight = local - of_day;
    std::int64_t end_local = 0;
    if (start < end) {
        if (of_day < start || of_day >= end) {
            return at_ms;
        }
        end_local = midnight + end;
    } else if (of_day >= start) {
        end_local = midnight + day_ms + end; // the hours span midnight: they end tomorrow
    } else if (of_day < end) {
        end_local = midnight + end;
    } else {
        return at_ms;
    }
    return end_local - offset;
}

std::string schedule_key(std::int64_t fire_at_ms, const std::string& task_id) {
    const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(fire_at_ms, 0));
    std::string key(8, '\0');
    for (int i = 0; i < 8; ++i) {
        key[static_cast<std::size_t>(i)] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
    }
    return key + task_id;
}

void add_reminders(
    streams_builder& builder, const kstream<std::string, std::optional<Task>>& tasks, const reminder_names& names) {
    auto preferences = builder.global_table(names.preferences_topic,
        consumed<>::with(serdes::string{}, serdes::protobuf<UserPreferences>{}).with_name("todo-user-preferences-source"),
        materialized<>::as(names.preferences_store));
    builder.add_state_store(stores::key_value_store_builder(stores::persistent_key_value_store(names.schedule_store),
        serdes::string{}, serdes::protobuf<TaskReminder>{}));
    builder.add_state_store(stores::key_value_store_builder(stores::persistent_key_value_store(names.by_task_store),
        serdes::string{}, serdes::protobuf<ReminderState>{}));

    // A join drops null values: live tasks meet their owner's preferences,
    // deleted ones go around the join, and both meet again in the scheduler.
    auto live = tasks
                    .filter([](const std::string&, const std::optional<Task>& t) { return t.has_value(); },
                        named::as("todo-reminders-live"))
                    .map_values([](const std::optional<Task>& t) { return *t; }, named::as("todo-reminders-task"))
                    .left_join(
                        preferences, [](const std::string&, const Task& t) { return t.owner_id(); },
                        [](const std::string& id, const Task& t, const std::optional<UserPreferences>& p) {
                            return reminder_input{id, t, p};
                        },
                        named::as("todo-reminders-preferences-join"));
    auto deleted = tasks
                       .filter_not([](const std::string&, const std::optional<Task>& t) { return t.has_value(); },
                           named::as("todo-reminders-deleted"))
                       .map_values([](const std::string& id, const std::optional<Task>&) {
                           return reminder_input{id, std::nullopt, std::nullopt};
                       },
                           named::as("todo-reminders-deletion"));
    live.merge(deleted, named::as("todo-reminders-merge"))
        .process_values([names] { return std::make_unique<reminder_scheduler>(names); },
            named::as("todo-reminder-scheduler"), {names.schedule_store, names.by_task_store})
        .to(names.reminders_topic,
            produced<>::with(serdes::string{}, serdes::protobuf<TaskReminder>{}).with_name("todo-reminders-sink"));
}

} // namespace eddy::todo
