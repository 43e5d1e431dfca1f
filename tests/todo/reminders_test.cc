// The todo app's reminder stream on the test driver, advancing its wall
// clock: reminders fire at due_at - reminder_offset, move with the due date,
// are cancelled by completion and deletion, fire at once (overdue) when the
// due date has passed, wait out quiet hours, and fire once per occurrence.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "apps/todo/reminders.h"
#include "apps/todo/task_table.h"
#include "runtime/topology_test_driver.h"
#include "serde/protobuf.h"
#include "serde/serdes.h"

namespace {

using namespace eddy::todo;
using namespace std::chrono_literals;

constexpr std::int64_t minute = 60'000;
constexpr std::int64_t hour = 60 * minute;
// 2023-11-14 08:00:00 UTC.
constexpr std::int64_t t0 = 1'699'920'000'000 + 8 * hour;

std::int64_t ms(const google::protobuf::Timestamp& t) {
    return t.seconds() * 1000 + t.nanos() / 1'000'000;
}

TaskEvent event(const std::string& id, TaskEventType type, const std::string& task, std::int64_t at_ms) {
    TaskEvent e;
    e.set_event_id(id);
    e.set_type(type);
    e.set_task_id(task);
    e.set_user_id("alice");
    e.set_schema_version(task_event_schema_version);
    e.mutable_occurred_at()->set_seconds(at_ms / 1000);
    return e;
}

TaskEvent due(TaskEvent e, std::int64_t due_ms, std::int64_t offset_ms) {
    e.mutable_due_at()->set_seconds(due_ms / 1000);
    e.mutable_reminder_offset()->set_seconds(offset_ms / 1000);
    return e;
}

class ReminderTest : public testing::Test {
protected:
    ReminderTest() : driver(make(), {}, t0) {}

    static eddy::topology make() {
        eddy::streams_builder builder;
        auto tasks = add_task_table(builder, read_task_events(builder));
        add_reminders(builder, tasks);
        return builder.build();
    }

    void pipe(const TaskEvent& e) {
        driver.create_input_topic<std::string, TaskEvent>("todo.task-events", eddy::serdes::string{}, task_event_serde{})
            .pipe_input(e.task_id(), e);
    }

    void prefer(const UserPreferences& p) {
        driver
            .create_input_topic<std::string, UserPreferences>(
                "todo.user-preferences", eddy::serdes::string{}, eddy::serdes::protobuf<UserPreferences>{})
            .pipe_input(p.user_id(), p);
    }

    std::vector<eddy::record<std::string, TaskReminder>> reminders() {
        return driver
            .create_output_topic<std::string, TaskReminder>(
                "todo.reminders", eddy::serdes::string{}, eddy::serdes::protobuf<TaskReminder>{})
            .read_records_to_list();
    }

    // Moves the wall clock to `at` in steps of a second, as the punctuator runs.
    void run_until(std::int64_t at) {
        while (driver.wall_clock_ms() < at) {
            driver.advance_wall_clock_time(std::min<std::int64_t>(1000, at - driver.wall_clock_ms()) * 1ms);
        }
    }

    eddy::key_value_store<std::string, TaskReminder> schedule() {
        return driver.get_key_value_store<std::string, TaskReminder>("todo.reminder-schedule");
    }
    eddy::key_value_store<std::string, ReminderState> by_task() {
        return driver.get_key_value_store<std::string, ReminderState>("todo.reminders-by-task");
    }

    eddy::topology_test_driver driver;
};

TEST_F(ReminderTest, FiresAtDueDateMinusOffsetOnce) {
    pipe(due(event("e1", TASK_CREATED, "t-1", t0), t0 + 30 * minute, 10 * minute));

    // The schedule holds one entry keyed by its fire time, the by-task store
    // points at it.
    auto entries = schedule().all().to_vector();
    ASSERT_EQ(entries.size(), 1U);
    EXPECT_EQ(entries[0].key, schedule_key(t0 + 20 * minute, "t-1"));
    EXPECT_EQ(ms(entries[0].value.fire_at()), t0 + 20 * minute);
    auto state = by_task().get("t-1");
    ASSERT_TRUE(state.has_value());
    EXPECT_EQ(state->fire_at_ms(), t0 + 20 * minute);
    EXPECT_FALSE(state->fired());

    run_until(t0 + 20 * minute - 1000);
    EXPECT_TRUE(reminders().empty());

    run_until(t0 + 20 * minute);
    auto out = reminders();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].key, "t-1");
    EXPECT_EQ(out[0].timestamp, t0 + 20 * minute);
    const auto& r = out[0].value;
    EXPECT_EQ(r.type(), TASK_REMINDER);
    EXPECT_EQ(r.task_id(), "t-1");
    EXPECT_EQ(r.owner_id(), "alice");
    EXPECT_EQ(ms(r.due_at()), t0 + 30 * minute);
    EXPECT_EQ(ms(r.remind_at()), t0 + 20 * minute);
    EXPECT_EQ(ms(r.fire_at()), t0 + 20 * minute);
    EXPECT_EQ(ms(r.emitted_at()), t0 + 20 * minute);
    EXPECT_FALSE(r.overdue());
    EXPECT_FALSE(r.deferred());
    EXPECT_EQ(r.reminder_id(), "t-1@" + std::to_string(t0 + 30 * minute) + "/" + std::to_string(10 * minute));

    // Deleted from the schedule with the output; the occurrence is marked fired.
    EXPECT_TRUE(schedule().all().empty());
    ASSERT_TRUE(by_task().get("t-1").has_value());
    EXPECT_TRUE(by_task().get("t-1")->fired());

    run_until(t0 + 2 * hour);
    EXPECT_TRUE(reminders().empty());
}

TEST_F(ReminderTest, MovingTheDueDateMovesTheReminder) {
    pipe(due(event("e1", TASK_CREATED, "t-1", t0), t0 + 30 * minute, 10 * minute));
    run_until(t0 + 5 * minute);
    pipe(due(event("e2", TASK_UPDATED, "t-1", t0 + 5 * minute), t0 + 60 * minute, 10 * minute));

    auto entries = schedule().all().to_vector();
    ASSERT_EQ(entries.size(), 1U);
    EXPECT_EQ(entries[0].key, schedule_key(t0 + 50 * minute, "t-1"));
    EXPECT_EQ(by_task().get("t-1")->fire_at_ms(), t0 + 50 * minute);

    run_until(t0 + 49 * minute);
    EXPECT_TRUE(reminders().empty()); // nothing at the old time

    run_until(t0 + 51 * minute);
    auto out = reminders();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].timestamp, t0 + 50 * minute);
    EXPECT_EQ(ms(out[0].value.due_at()), t0 + 60 * minute);
}

TEST_F(ReminderTest, ChangingTheOffsetMovesTheReminder) {
    pipe(due(event("e1", TASK_CREATED, "t-1", t0), t0 + 30 * minute, 10 * minute));
    pipe(due(event("e2", TASK_UPDATED, "t-1", t0), t0 + 30 * minute, 25 * minute));
    run_until(t0 + 6 * minute);
    auto out = reminders();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].timestamp, t0 + 5 * minute);
    run_until(t0 + hour);
    EXPECT_TRUE(reminders().empty());
}

TEST_F(ReminderTest, CompletingTheTaskCancelsItsReminder) {
    pipe(due(event("e1", TASK_CREATED, "t-1", t0), t0 + 30 * minute, 10 * minute));
    pipe(event("e2", TASK_COMPLETED, "t-1", t0 + minute));
    EXPECT_TRUE(schedule().all().empty());
    EXPECT_FALSE(by_task().get("t-1").has_value());
    run_until(t0 + hour);
    EXPECT_TRUE(reminders().empty());
}

TEST_F(ReminderTest, DeletingTheTaskCancelsItsReminder) {
    pipe(due(event("e1", TASK_CREATED, "t-1", t0), t0 + 30 * minute, 10 * minute));
    pipe(due(event("e2", TASK_CREATED, "t-2", t0), t0 + 30 * minute, 10 * minute));
    pipe(event("e3", TASK_DELETED, "t-1", t0 + minute));
    auto entries = schedule().all().to_vector();
    ASSERT_EQ(entries.size(), 1U);
    EXPECT_EQ(entries[0].key, schedule_key(t0 + 20 * minute, "t-2"));
    EXPECT_FALSE(by_task().get("t-1").has_value());
    run_until(t0 + hour);
    auto out = reminders();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].key, "t-2");
}

TEST_F(ReminderTest, ATaskWithoutDueDateOrOffsetGetsNoReminder) {
    pipe(event("e1", TASK_CREATED, "t-1", t0));
    auto no_offset = event("e2", TASK_CREATED, "t-2", t0);
    no_offset.mutable_due_at()->set_seconds((t0 + 10 * minute) / 1000);
    pipe(no_offset);
    EXPECT_TRUE(schedule().all().empty());
    EXPECT_TRUE(by_task().all().empty());
    run_until(t0 + hour);
    EXPECT_TRUE(reminders().empty());
}

TEST_F(ReminderTest, ADueDateInThePastFiresAtOnceFlaggedOverdue) {
    pipe(due(event("e1", TASK_CREATED, "t-1", t0), t0 - hour, 10 * minute));
    auto out = reminders(); // no wall-clock advance needed
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].timestamp, t0);
    EXPECT_TRUE(out[0].value.overdue());
    EXPECT_EQ(ms(out[0].value.fire_at()), t0);
    EXPECT_EQ(ms(out[0].value.remind_at()), t0 - hour - 10 * minute);
    EXPECT_TRUE(schedule().all().empty());
    EXPECT_TRUE(by_task().get("t-1")->fired());
    run_until(t0 + hour);
    EXPECT_TRUE(reminders().empty());
}

TEST_F(ReminderTest, ARemindTimeInThePastBeforeTheDueDateFiresAtOnceNotOverdue) {
    pipe(due(event("e1", TASK_CREATED, "t-1", t0), t0 + 5 * minute, 15 * minute));
    auto out = reminders();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_FALSE(out[0].value.overdue());
}

TEST_F(ReminderTest, QuietHoursDeferTheReminderToTheirEnd) {
    // alice is at UTC+1, quiet from 22:00 to 07:00 local. t0 is 09:00 local.
    UserPreferences p;
    p.set_user_id("alice");
    p.add_channels("email");
    p.add_channels("push");
    p.set_quiet_start_minute(22 * 60);
    p.set_quiet_end_minute(7 * 60);
    p.set_utc_offset_minutes(60);
    prefer(p);
    // Remind at 23:30 local (22:30 UTC): deferred to 07:00 local next day
    // (06:00 UTC), 22 hours after t0.
    pipe(due(event("e1", TASK_CREATED, "t-1", t0), t0 + 14 * hour + 40 * minute, 10 * minute));
    // Remind at 10:00 local: outside quiet hours.
    pipe(due(event("e2", TASK_CREATED, "t-2", t0), t0 + hour + 10 * minute, 10 * minute));

    EXPECT_EQ(by_task().get("t-1")->fire_at_ms(), t0 + 22 * hour);
    run_until(t0 + 2 * hour);
    auto out = reminders();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].key, "t-2");
    EXPECT_FALSE(out[0].value.deferred());
    EXPECT_EQ(out[0].value.channels().size(), 2);
    EXPECT_EQ(out[0].value.channels(0), "email");

    run_until(t0 + 22 * hour - 1000);
    EXPECT_TRUE(reminders().empty());
    run_until(t0 + 22 * hour);
    out = reminders();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].key, "t-1");
    EXPECT_TRUE(out[0].value.deferred());
    EXPECT_EQ(ms(out[0].value.remind_at()), t0 + 14 * hour + 30 * minute);
    EXPECT_EQ(ms(out[0].value.fire_at()), t0 + 22 * hour);
    EXPECT_EQ(out[0].timestamp, t0 + 22 * hour);
}

TEST_F(ReminderTest, WithoutPreferencesTheDefaultsApply) {
    pipe(due(event("e1", TASK_CREATED, "t-1", t0), t0 + 16 * hour, 10 * minute)); // 23:50 UTC
    EXPECT_EQ(by_task().get("t-1")->fire_at_ms(), t0 + 16 * hour - 10 * minute);
    run_until(t0 + 16 * hour);
    auto out = reminders();
    ASSERT_EQ(out.size(), 1U);
    ASSERT_EQ(out[0].value.channels().size(), 1);
    EXPECT_EQ(out[0].value.channels(0), "push");
    EXPECT_FALSE(out[0].value.deferred());
}

TEST_F(ReminderTest, EachOccurrenceFiresExactlyOnce) {
    pipe(due(event("e1", TASK_CREATED, "t-1", t0), t0 + 30 * minute, 10 * minute));
    run_until(t0 + 21 * minute);
    ASSERT_EQ(reminders().size(), 1U);
    // An edit that keeps the due date does not fire it again.
    auto retitle = event("e2", TASK_UPDATED, "t-1", t0 + 21 * minute);
    retitle.set_title("renamed");
    pipe(retitle);
    EXPECT_TRUE(schedule().all().empty());
    run_until(t0 + hour);
    EXPECT_TRUE(reminders().empty());
    // A new due date is a new occurrence: it fires once more.
    pipe(due(event("e3", TASK_UPDATED, "t-1", t0 + hour), t0 + 2 * hour, 10 * minute));
    run_until(t0 + 3 * hour);
    auto out = reminders();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].timestamp, t0 + 2 * hour - 10 * minute);
    EXPECT_EQ(out[0].value.title(), "renamed");
}

TEST_F(ReminderTest, RemindersDueTogetherFireInTheSamePunctuation) {
    for (int i = 0; i < 50; ++i) {
        pipe(due(event("e" + std::to_string(i), TASK_CREATED, "t-" + std::to_string(i), t0), t0 + 10 * minute + 1000,
            10 * minute - 500 * (i % 2)));
    }
    EXPECT_EQ(schedule().all().to_vector().size(), 50U);
    run_until(t0 + 1000);
    EXPECT_EQ(reminders().size(), 25U);
    run_until(t0 + 2000);
    EXPECT_EQ(reminders().size(), 25U);
    EXPECT_TRUE(schedule().all().empty());
    EXPECT_EQ(by_task().all().to_vector().size(), 50U);
}

TEST(DeferPastQuietHoursTest, FollowsTheLocalDay) {
    UserPreferences p;
    EXPECT_EQ(defer_past_quiet_hours(t0, p), t0); // no quiet hours
    p.set_quiet_start_minute(12 * 60);
    p.set_quiet_end_minute(14 * 60); // noon to 2 pm, UTC
    EXPECT_EQ(defer_past_quiet_hours(t0, p), t0);
    EXPECT_EQ(defer_past_quiet_hours(t0 + 4 * hour, p), t0 + 6 * hour);
    EXPECT_EQ(defer_past_quiet_hours(t0 + 6 * hour, p), t0 + 6 * hour); // the end is not quiet
    p.set_utc_offset_minutes(-5 * 60); // 08:00 UTC is 03:00 local
    EXPECT_EQ(defer_past_quiet_hours(t0 + 9 * hour, p), t0 + 11 * hour);
    p.set_quiet_start_minute(23 * 60);
    p.set_quiet_end_minute(6 * 60); // over midnight
    EXPECT_EQ(defer_past_quiet_hours(t0, p), t0 + 3 * hour); // 03:00 local -> 06:00
    EXPECT_EQ(defer_past_quiet_hours(t0 + 20 * hour, p), t0 + 27 * hour); // 23:00 local -> 06:00 next day
    EXPECT_EQ(defer_past_quiet_hours(t0 + 4 * hour, p), t0 + 4 * hour);
}

TEST(ScheduleKeyTest, OrdersByFireTimeThenTask) {
    EXPECT_LT(schedule_key(255, "z"), schedule_key(256, "a"));
    EXPECT_LT(schedule_key(t0, "a"), schedule_key(t0, "b"));
    EXPECT_EQ(schedule_key(1, "t").size(), 9U);
    EXPECT_EQ(schedule_key(1, "t").substr(0, 8), std::string("\0\0\0\0\0\0\0\x01", 8));
}

} // namespace
